"""The engine's loan-level cash flows of a commercial book under its default/recovery vectors.

Per loan and month t = 1..N: MDR from the term-default PD evaluated at the start of the month on
the scheduled DSCR and LTV path (or the loan's constant `pd_annual`), 1 in the maturity month of
a loan that fails its refinance test; SMM from `prepayment_cpr` once the lockout has passed
(loan age > prepayment_lockout_months), times `yield_maintenance_factor` for loans under yield
maintenance. `app.engine.projection.project_with_rates` runs them (SIFMA rules, DOMAIN.md §3)
with defaulted loans liquidated after their property type's liquidation months and servicer
advances off. The engine takes one severity and one lag per run: loans are grouped by lag, and
each loan's balance is split into severity x balance run at severity 1 and the rest at
severity 0 — exact because, without advancing, loss = severity x defaulted balance and every
flow is linear in the balance.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np

from app.assets.commercial.credit import MaturityResult, PDModel
from app.assets.commercial.loans import CommercialLoans
from app.assets.commercial.metrics import monthly_paths
from app.engine.projection import project_with_rates
from app.engine.projection_reference import LOAN_TOTAL_COLUMNS
from app.engine.speeds import annual_to_monthly
from app.engine.types import CASHFLOW_COLUMNS, Assumptions

MAX_PERIODS = 1200


@dataclass(frozen=True)
class Drivers:
    """Stress and behaviour of one cash-flow run (annual decimals; haircut a fraction of NOI)."""

    noi_growth: float = 0.0
    noi_haircut: float = 0.0
    cap_rate_shift: float = 0.0
    prepayment_cpr: float = 0.0
    yield_maintenance_factor: float = 0.0


@dataclass(frozen=True, eq=False)
class CommercialCashflows:
    """Pool columns (CASHFLOW_COLUMNS over periods 1..N) and per-loan totals (LOAN_TOTAL_COLUMNS)."""

    columns: dict[str, np.ndarray]
    loan_totals: dict[str, np.ndarray]
    n_periods: int
    mdr: np.ndarray
    smm: np.ndarray


def horizon_months(maturity: MaturityResult, lag: np.ndarray) -> int:
    """Longest maturity (after extensions) plus the longest liquidation lag, in months."""
    return int(max(1, int(maturity.term_months.max(initial=1)) + int(lag.max(initial=0))))


def default_rates(
    loans: CommercialLoans, maturity: MaturityResult, model: PDModel, d: Drivers, n_periods: int
) -> np.ndarray:
    """MDR per (loan, month) (module docstring), shape (n, n_periods)."""
    ext = replace(loans, pool=maturity.pool)
    paths = monthly_paths(
        ext,
        np.arange(n_periods),
        noi_growth=d.noi_growth,
        noi_haircut=d.noi_haircut,
        cap_shift=d.cap_rate_shift,
        sched=maturity.schedule,
    )
    pd_t = model.annual_pd(paths.dscr, paths.ltv)
    pd_t = np.where(np.isnan(loans.pd_annual)[:, None], pd_t, loans.pd_annual[:, None] + 0.0 * pd_t)
    alive = np.arange(n_periods)[None, :] < maturity.term_months[:, None]
    mdr = np.where(alive, annual_to_monthly(pd_t), 0.0)
    rows = np.flatnonzero(maturity.defaults)
    mdr[rows, maturity.default_month[rows] - 1] = 1.0
    return mdr


def prepayment_rates(loans: CommercialLoans, d: Drivers, n_periods: int) -> np.ndarray:
    """SMM per (loan, month): 0 while loan age <= lockout, else SMM(prepayment_cpr) (x the
    yield-maintenance factor for loans under yield maintenance)."""
    smm = float(annual_to_monthly(d.prepayment_cpr))
    age = loans.pool.age_months[:, None] + np.arange(1, n_periods + 1)[None, :]
    factor = np.where(loans.yield_maintenance, d.yield_maintenance_factor, 1.0)[:, None]
    return np.where(age > loans.lockout_months[:, None], smm * factor, 0.0)


def project(
    loans: CommercialLoans,
    maturity: MaturityResult,
    severity: np.ndarray,
    lag: np.ndarray,
    mdr: np.ndarray,
    smm: np.ndarray,
    index_paths: Mapping[str, np.ndarray] | None = None,
) -> CommercialCashflows:
    """Run the engine per lag group and severity split; sum to pool columns and loan totals.
    index_paths: annual index rate per month by name, for floating-rate loans (as the engine's
    `Assumptions.index_paths`)."""
    pool = maturity.pool
    n, n_periods = mdr.shape
    cols = {k: np.zeros(n_periods) for k in CASHFLOW_COLUMNS}
    totals = {k: np.zeros(n) for k in LOAN_TOTAL_COLUMNS}
    for lg in np.unique(lag).tolist():
        for sev_value, share in ((1.0, severity), (0.0, 1.0 - severity)):
            idx = np.flatnonzero((lag == lg) & (share > 0))
            if idx.size == 0:
                continue
            sub = pool.take(idx)
            sub = replace(sub, balance=sub.balance * share[idx])
            a = Assumptions(
                severity=sev_value,
                recovery_lag_months=int(lg),
                advancing=False,
                index_paths=dict(index_paths or {}),
            )
            proj = project_with_rates(sub, smm[idx], mdr[idx], a, loan_level=True)
            for k in CASHFLOW_COLUMNS:
                if k != "period":
                    cols[k] += proj.columns[k]
            assert proj.loan_level is not None
            for k in LOAN_TOTAL_COLUMNS:
                np.add.at(totals[k], idx, proj.loan_level.totals[k])
    cols["period"] = np.arange(1, n_periods + 1, dtype=np.float64)
    return CommercialCashflows(
        columns=cols, loan_totals=totals, n_periods=n_periods, mdr=mdr, smm=smm
    )
