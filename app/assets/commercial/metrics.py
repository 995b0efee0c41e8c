"""DSCR, LTV and debt yield per loan, today and along the scheduled amortisation.

dscr = NOI / annual debt service (the debt service in force: interest only during an IO period,
the level payment x 12/f when amortising; `dscr_amortizing` always on the amortising payment);
ltv = balance / value; debt_yield = NOI / balance. Through time NOI grows at `noi_growth`
(annual decimal, compounded: NOI_t = NOI (1+g)^(t/12)) and value_t = NOI_t / cap_rate x
value_factor (value_factor = 1 when property_value = NOI / cap_rate); balances are scheduled
(no defaults, no prepayments), measured at the start of each loan year.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.assets.commercial.loans import CommercialLoans
from app.assets.commercial.schedule import Schedule, schedule_of


@dataclass(frozen=True, eq=False)
class LoanMetrics:
    """Per-loan metrics today (arrays of length n)."""

    annual_debt_service: np.ndarray
    interest_only: np.ndarray
    dscr: np.ndarray
    dscr_amortizing: np.ndarray
    ltv: np.ndarray
    debt_yield: np.ndarray
    balloon: np.ndarray
    maturity_months: np.ndarray


def stressed_value(
    loans: CommercialLoans, noi: np.ndarray, cap_shift: float | np.ndarray = 0.0
) -> np.ndarray:
    """Value of the property at NOI `noi` and cap rate cap_rate + cap_shift (currency)."""
    return noi / (loans.cap_rate + cap_shift) * loans.value_factor


def loan_metrics(loans: CommercialLoans, sched: Schedule | None = None) -> LoanMetrics:
    """DSCR, LTV, debt yield today (module docstring for conventions)."""
    s = sched or schedule_of(loans.pool)
    ds, io = s.annual_debt_service()
    bal = s.balance
    return LoanMetrics(
        annual_debt_service=ds,
        interest_only=io,
        dscr=loans.noi / ds,
        dscr_amortizing=loans.noi / s.amortizing_debt_service(),
        ltv=bal / loans.property_value,
        debt_yield=loans.noi / bal,
        balloon=s.balloon(),
        maturity_months=s.maturity_months,
    )


@dataclass(frozen=True, eq=False)
class MetricPaths:
    """Per-loan metrics at months 0, 12, 24, ... (shape (n, Y)); NaN after maturity."""

    months: np.ndarray
    balance: np.ndarray
    noi: np.ndarray
    value: np.ndarray
    dscr: np.ndarray
    ltv: np.ndarray
    debt_yield: np.ndarray


def monthly_paths(
    loans: CommercialLoans,
    months: np.ndarray,
    *,
    noi_growth: float = 0.0,
    noi_haircut: float = 0.0,
    cap_shift: float = 0.0,
    sched: Schedule | None = None,
) -> MetricPaths:
    """Metrics at the given months from now (1-D, >= 0), for every loan: shape (n, len(months)).

    NOI_t = NOI (1 - noi_haircut)(1 + noi_growth)^(t/12); value_t at cap_rate + cap_shift;
    balance_t the scheduled balance after floor(t / f) payments; NaN from maturity on.
    """
    s = sched or schedule_of(loans.pool)
    t = np.asarray(months, dtype=np.float64)[None, :]
    q = np.floor(t / s.f[:, None]) + 0.0 * s.balance[:, None]
    bal = s.balance_after(q)
    ds, _ = s.annual_debt_service(q)
    noi = loans.noi[:, None] * (1.0 - noi_haircut) * np.power(1.0 + noi_growth, t / 12.0)
    value = noi / (loans.cap_rate[:, None] + cap_shift) * loans.value_factor[:, None]
    alive = q < s.remaining[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        dscr = np.where(alive, noi / ds, np.nan)
        ltv = np.where(alive, bal / value, np.nan)
        dy = np.where(alive, noi / bal, np.nan)
    return MetricPaths(
        months=np.asarray(months),
        balance=np.where(alive, bal, 0.0),
        noi=noi,
        value=value,
        dscr=dscr,
        ltv=ltv,
        debt_yield=dy,
    )


def yearly_summary(paths: MetricPaths) -> list[dict[str, float | int | None]]:
    """Balance-weighted pool averages per measured month (loans still outstanding only)."""
    out: list[dict[str, float | int | None]] = []
    w = paths.balance
    for k, month in enumerate(paths.months.tolist()):
        wk = w[:, k]
        tot = float(wk.sum())
        if tot <= 0:
            break
        alive = wk > 0

        def avg(
            x: np.ndarray,
            k: int = k,
            wk: np.ndarray = wk,
            alive: np.ndarray = alive,
            tot: float = tot,
        ) -> float:
            return float(np.sum(np.where(alive, x[:, k], 0.0) * wk) / tot)

        out.append(
            {
                "month": int(month),
                "balance": tot,
                "noi": float(paths.noi[alive, k].sum()),
                "dscr": avg(paths.dscr),
                "ltv": avg(paths.ltv),
                "debt_yield": avg(paths.debt_yield),
                "balance_dscr_below_1": float(wk[alive & (paths.dscr[:, k] < 1.0)].sum()),
                "balance_ltv_above_100": float(wk[alive & (paths.ltv[:, k] > 1.0)].sum()),
            }
        )
    return out
