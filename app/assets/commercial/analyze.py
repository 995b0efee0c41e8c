"""One analysis of a commercial book: metrics, stress, maturity, concentration, cash flows,
analytics and correlated-default losses, as plain JSON-ready dicts.

The Monte Carlo part is separable (`copula_portfolio` + `portfolio_loss_json`) so that a job can
simulate paths in chunks and merge them into the same answer as one run.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from app.assets.commercial.cashflows import (
    MAX_PERIODS,
    Drivers,
    default_rates,
    horizon_months,
    prepayment_rates,
    project,
)
from app.assets.commercial.concentration import concentration
from app.assets.commercial.credit import (
    MaturityResult,
    PDModel,
    RefiTerms,
    SeverityTerms,
    liquidation_months,
    maturity_test,
    severities,
)
from app.assets.commercial.loans import CommercialLoans
from app.assets.commercial.metrics import (
    LoanMetrics,
    MetricPaths,
    loan_metrics,
    monthly_paths,
    yearly_summary,
)
from app.assets.commercial.property_types import PROPERTY_TYPES
from app.assets.commercial.stress import grid_json, stress_grid
from app.engine.credit.copula import CopulaPortfolio, loss_summary
from app.engine.credit.vasicek import large_pool_distribution
from app.engine.errors import FieldProblem, InvalidInput
from app.engine.types import CASHFLOW_COLUMNS

PRINCIPAL_COLUMNS = ("scheduled_principal", "prepayment", "defaulted_amortization", "recovery")


@dataclass(frozen=True)
class NamedStress:
    """A named stress: NOI haircut (fraction), cap-rate shift and refinance-rate shift (annual
    decimals); `source` says where it comes from (inline, or scenario:<id> of a saved one)."""

    name: str
    noi_haircut: float = 0.0
    cap_rate_shift: float = 0.0
    refi_rate_shift: float = 0.0
    source: str = "inline"


@dataclass(frozen=True)
class PortfolioLossOptions:
    """Copula Monte Carlo: `correlation` (global factor; None = each loan's `correlation` or its
    property type's), `sector_correlation` (property-type sector factor loading^2; 0 = none),
    horizon in years, paths, seed, histogram bins."""

    correlation: float | None = None
    sector_correlation: float = 0.0
    horizon_years: float = 1.0
    n_paths: int = 20_000
    seed: int = 0
    histogram_bins: int = 50


@dataclass(frozen=True)
class AnalyzeOptions:
    drivers: Drivers = field(default_factory=Drivers)
    pd_model: PDModel = field(default_factory=PDModel)
    refi: RefiTerms = field(default_factory=RefiTerms)
    severity: SeverityTerms = field(default_factory=SeverityTerms)
    noi_haircuts: Sequence[float] = (0.0, 0.1, 0.2, 0.3)
    cap_rate_shifts: Sequence[float] = (0.0, 0.005, 0.01, 0.02)
    scenarios: Sequence[NamedStress] = ()
    portfolio_loss: PortfolioLossOptions | None = None
    discount_rate: float | None = None
    index_paths: dict[str, np.ndarray] = field(default_factory=dict)
    loan_paths: bool = False  # per-loan yearly dscr/ltv/debt_yield paths in `loans`


def _num(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def _nums(a: np.ndarray) -> list[float | None]:
    return [v if math.isfinite(v) else None for v in np.asarray(a, dtype=np.float64).tolist()]


def _rows_of(a: np.ndarray) -> list[list[float | None]]:
    """A 2-D float array as one list per row, non-finite values as None."""
    obj = a.astype(object)
    obj[~np.isfinite(a)] = None
    return obj.tolist()


@dataclass(frozen=True, eq=False)
class _Core:
    """The deterministic part shared by the direct run and the job merge."""

    metrics: LoanMetrics
    maturity: MaturityResult
    severity: np.ndarray
    ltv_liquidation: np.ndarray
    lag: np.ndarray
    pd_annual: np.ndarray


def _core(loans: CommercialLoans, o: AnalyzeOptions) -> _Core:
    d = o.drivers
    m = loan_metrics(loans)
    mat = maturity_test(
        loans,
        o.refi,
        noi_growth=d.noi_growth,
        noi_haircut=d.noi_haircut,
        cap_shift=d.cap_rate_shift,
    )
    sev, ltv_liq = severities(
        loans,
        o.severity,
        mat,
        noi_growth=d.noi_growth,
        noi_haircut=d.noi_haircut,
        cap_shift=d.cap_rate_shift,
    )
    # today's PD under the run's stress: NOI haircut and cap shift applied to today's metrics
    keep = 1.0 - d.noi_haircut
    ltv_now = m.ltv * (1.0 + d.cap_rate_shift / loans.cap_rate) / keep
    pd_model = o.pd_model.annual_pd(m.dscr * keep, ltv_now)
    pd_annual = np.where(np.isnan(loans.pd_annual), pd_model, loans.pd_annual)
    return _Core(m, mat, sev, ltv_liq, liquidation_months(loans, o.severity), pd_annual)


def copula_portfolio(
    loans: CommercialLoans, o: AnalyzeOptions, core: _Core | None = None
) -> CopulaPortfolio:
    """EAD = balance, LGD = the loan's severity, PD over the horizon = 1 - (1 - pd_annual)^H;
    correlations from the options, the loan or its property type; sectors = property types."""
    p = o.portfolio_loss or PortfolioLossOptions()
    c = core or _core(loans, o)
    if p.correlation is not None:
        rho = np.full(len(loans), float(p.correlation))
    else:
        rho = np.where(
            np.isnan(loans.correlation), loans.type_default("correlation"), loans.correlation
        )
    pd_h = 1.0 - np.power(1.0 - c.pd_annual, p.horizon_years)
    try:
        return CopulaPortfolio.build(
            loans.pool.balance, c.severity, pd_h, rho, loans.property_type, p.sector_correlation
        )
    except InvalidInput as exc:  # name the option the caller set, not the engine's column
        raise InvalidInput(
            [
                FieldProblem(
                    None if p.correlation is not None else q.row,
                    _PL_FIELDS.get(q.column, q.column),
                    q.reason,
                )
                for q in exc.problems
            ]
        ) from exc


_PL_FIELDS = {
    "correlation": "portfolio_loss.correlation",
    "sector_correlation": "portfolio_loss.sector_correlation",
    "pd": "pd_annual",
    "lgd": "severity",
}


def portfolio_loss_json(
    portfolio: CopulaPortfolio, losses: np.ndarray, o: AnalyzeOptions
) -> dict[str, Any]:
    """Simulation summary with the `vasicek` large-pool block (same keys, same histogram edges;
    with sector factors the closed form uses each loan's total correlation rho + sector)."""
    p = o.portfolio_loss or PortfolioLossOptions()
    out = loss_summary(losses, bins=p.histogram_bins)
    edges = np.asarray(out["histogram"]["edges"])
    rho_total = portfolio.rho + np.where(portfolio.sector >= 0, portfolio.sector_rho, 0.0)
    vas = large_pool_distribution(
        portfolio.ead, portfolio.lgd, portfolio.pd, rho_total, edges=edges
    )
    out.update(
        {
            "horizon_years": p.horizon_years,
            "seed": p.seed,
            "total_exposure": float(portfolio.ead.sum()),
            "vasicek": vas,
        }
    )
    return out


def _loans_json(
    loans: CommercialLoans, c: _Core, el: np.ndarray | None, paths: MetricPaths | None = None
) -> list[dict[str, Any]]:
    m, mat = c.metrics, c.maturity
    names = [p.value for p in PROPERTY_TYPES]
    cols: dict[str, list[Any]] = {
        "loan_id": [str(x) for x in loans.pool.loan_id.tolist()],
        "property_type": [names[k] for k in loans.property_type.tolist()],
        "state": loans.state.tolist(),
        "msa": loans.msa.tolist(),
        "sponsor": loans.sponsor.tolist(),
        "balance": loans.pool.balance.tolist(),
        "noi": loans.noi.tolist(),
        "property_value": loans.property_value.tolist(),
        "cap_rate": loans.cap_rate.tolist(),
        "annual_debt_service": m.annual_debt_service.tolist(),
        "debt_service_type": [
            "interest_only" if x else "amortizing" for x in m.interest_only.tolist()
        ],
        "dscr": _nums(m.dscr),
        "dscr_amortizing": _nums(m.dscr_amortizing),
        "ltv": _nums(m.ltv),
        "debt_yield": _nums(m.debt_yield),
        "pd_annual": c.pd_annual.tolist(),
        "severity": c.severity.tolist(),
        "balloon": m.balloon.tolist(),
        "maturity_months": mat.term_months.tolist(),
        "maturity_default": mat.defaults.tolist(),
    }
    if el is not None:
        cols["expected_loss"] = el.tolist()
    if paths is not None:  # yearly, months 0, 12, ...; null once the loan has matured
        cols["dscr_path"] = _rows_of(paths.dscr)
        cols["ltv_path"] = _rows_of(paths.ltv)
        cols["debt_yield_path"] = _rows_of(paths.debt_yield)
    return _rows(cols)


def _maturity_json(loans: CommercialLoans, c: _Core, o: AnalyzeOptions) -> dict[str, Any]:
    mat = c.maturity
    has = np.flatnonzero(mat.has_balloon)
    bal = loans.pool.balance
    return {
        "refi_terms": {
            "rate": o.refi.rate,
            "amortization_months": o.refi.amortization_months,
            "max_ltv": o.refi.max_ltv,
            "min_dscr": o.refi.min_dscr,
        },
        "n_balloon_loans": int(has.size),
        "n_defaults": int(mat.defaults.sum()),
        "n_extended": int(mat.extended.sum()),
        "balloon_balance": float(mat.balloon[has].sum()),
        "default_balloon_balance": float(mat.balloon[mat.defaults].sum()),
        "default_share_of_balance": float(bal[mat.defaults].sum() / bal.sum()),
        "loans": _rows(
            {
                "loan_id": [str(x) for x in loans.pool.loan_id[has].tolist()],
                "test_month": mat.test_month[has].tolist(),
                "balloon": mat.balloon[has].tolist(),
                "noi": mat.noi[has].tolist(),
                "value": mat.value[has].tolist(),
                "refi_ltv": _nums(mat.refi_ltv[has]),
                "refi_dscr": _nums(mat.refi_dscr[has]),
                "extended": mat.extended[has].tolist(),
                "refinances": mat.refinances[has].tolist(),
                "defaults": mat.defaults[has].tolist(),
            }
        ),
    }


def _rows(cols: dict[str, list[Any]]) -> list[dict[str, Any]]:
    keys = list(cols)
    return [dict(zip(keys, row, strict=True)) for row in zip(*(cols[k] for k in keys), strict=True)]


def _analytics(cols: dict[str, np.ndarray], o: AnalyzeOptions, total: float) -> dict[str, Any]:
    from app.engine.analytics.summary import cashflow_measures

    times = cols["period"] / 12.0
    principal = np.sum([cols[k] for k in PRINCIPAL_COLUMNS], axis=0)
    measures = cashflow_measures(
        cols["total_cashflow"],
        times,
        principal=principal,
        frequency=12,
        discount_rate=o.discount_rate,
    )
    out: dict[str, Any] = {k: (None if v is None else _num(float(v))) for k, v in measures.items()}
    out.update(
        {
            "total_default": float(cols["default"].sum()),
            "total_loss": float(cols["loss"].sum()),
            "loss_share_of_balance": float(cols["loss"].sum()) / total,
            "total_interest": float(cols["interest"].sum()),
            "total_principal": float(principal.sum()),
        }
    )
    return out


def analyze(
    loans: CommercialLoans,
    o: AnalyzeOptions,
    *,
    losses: np.ndarray | None = None,
) -> dict[str, Any]:
    """The whole analysis. `losses`: simulated path losses already computed (a merged job);
    otherwise they are simulated here when `o.portfolio_loss` is set."""
    warnings: list[str] = []
    c = _core(loans, o)
    d = o.drivers
    m = c.metrics
    zero_ds = np.flatnonzero(~np.isfinite(m.dscr))
    if zero_ds.size:
        warnings.append(
            f"dscr is null for {zero_ds.size} loan(s) with zero debt service (e.g. loan {loans.pool.loan_id[zero_ds[0]]!s})"
        )

    n_periods = horizon_months(c.maturity, c.lag)
    if n_periods > MAX_PERIODS:
        raise InvalidInput(
            [
                FieldProblem(
                    None,
                    "original_term_months",
                    f"horizon {n_periods} months exceeds {MAX_PERIODS}",
                )
            ]
        )
    mdr = default_rates(loans, c.maturity, o.pd_model, d, n_periods)
    smm = prepayment_rates(loans, d, n_periods)
    cf = project(loans, c.maturity, c.severity, c.lag, mdr, smm, o.index_paths)

    grid = stress_grid(
        loans.pool.balance, m.dscr, m.ltv, loans.cap_rate, o.noi_haircuts, o.cap_rate_shifts
    )
    named = []
    for s in o.scenarios:
        g1 = stress_grid(
            loans.pool.balance, m.dscr, m.ltv, loans.cap_rate, [s.noi_haircut], [s.cap_rate_shift]
        )
        cell = grid_json(g1)["cells"][0]  # type: ignore[index]
        refi = replace(o.refi, rate=o.refi.rate + s.refi_rate_shift)
        ms = maturity_test(
            loans,
            refi,
            noi_growth=d.noi_growth,
            noi_haircut=s.noi_haircut,
            cap_shift=s.cap_rate_shift,
        )
        named.append(
            {
                "name": s.name,
                "source": s.source,
                "refi_rate": refi.rate,
                **cell,
                "maturity_defaults": int(ms.defaults.sum()),
                "maturity_default_balance": float(ms.balloon[ms.defaults].sum()),
            }
        )

    months = np.arange(0, int(c.maturity.term_months.max(initial=0)) + 1, 12)
    paths = monthly_paths(
        loans,
        months,
        noi_growth=d.noi_growth,
        noi_haircut=d.noi_haircut,
        cap_shift=d.cap_rate_shift,
    )

    pl: dict[str, Any] | None = None
    if o.portfolio_loss is not None:
        from app.engine.credit.copula import simulate_losses

        port = copula_portfolio(loans, o, c)
        if losses is None:
            losses, _ = simulate_losses(port, o.portfolio_loss.n_paths, o.portfolio_loss.seed)
        pl = portfolio_loss_json(port, losses, o)

    total = loans.pool.total_balance
    return {
        "n_loans": len(loans),
        "total_balance": total,
        "loans": _loans_json(loans, c, cf.loan_totals["loss"], paths if o.loan_paths else None),
        "metrics_through_time": yearly_summary(paths),
        "stress": {**grid_json(grid), "scenarios": named},
        "maturity": _maturity_json(loans, c, o),
        "concentration": concentration(loans),
        "portfolio_loss": pl,
        "cashflows": {
            "n_periods": cf.n_periods,
            "columns": {k: cf.columns[k].tolist() for k in CASHFLOW_COLUMNS},
        },
        "analytics": _analytics(cf.columns, o, total),
        "warnings": warnings,
    }
