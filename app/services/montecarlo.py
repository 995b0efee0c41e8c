"""Monte Carlo use cases: turn the API body into an engine request, run small runs directly,
and shape results as JSON (also used by the jobs runner for large runs)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from app.core.config import Settings
from app.core.errors import ValidationFailed
from app.core.metrics import observe_monte_carlo_paths
from app.engine.analytics.curves import ZeroCurve
from app.engine.errors import EngineError, InvalidInput
from app.engine.montecarlo import (
    Distribution,
    MacroFactor,
    MonteCarloRequest,
    MonteCarloResult,
    RepLines,
    run_monte_carlo,
)
from app.engine.prepayment_model import RefiPrepaymentModel
from app.engine.rates import CIR, HullWhite, MortgageRateProxy, Vasicek
from app.models.montecarlo import CIRIn, MonteCarloIn, VasicekIn
from app.services.result_cache import cached_result

# engine field names -> the body's field path
_FIELD_PATHS = {
    "default_cdr": ("default", "cdr"),
    "severity": ("default", "severity"),
    "recovery_lag_months": ("default", "recovery_lag_months"),
    "advancing": ("default", "advancing"),
    "macro": ("default", "macro"),
    "mortgage_rate": ("mortgage_rate",),
    "curve": ("curve",),
}
_POOL_COLUMNS = {"balance", "note_rate", "net_rate", "remaining_term", "age"}


def _loc(column: str, row: int | None) -> list[Any]:
    head, _, rest = column.partition(".")
    if column in _POOL_COLUMNS:
        return ["body", "pool", column] + ([row] if row is not None else [])
    path = list(_FIELD_PATHS.get(head, (head,)))
    if rest:
        path += rest.split(".")
    return ["body", *path] + ([row] if row is not None else [])


def engine_error(exc: EngineError) -> ValidationFailed:
    """A 422 naming the body field of each engine problem."""
    if isinstance(exc, InvalidInput) and exc.problems:
        items = [
            {"loc": _loc(p.column, p.row), "msg": p.reason, "type": "invalid_value"}
            for p in exc.problems
        ]
    else:
        items = [
            {"loc": _loc(exc.field or "body", None), "msg": exc.message, "type": type(exc).__name__}
        ]
    return ValidationFailed(items)


def build_request(payload: dict[str, Any] | MonteCarloIn) -> MonteCarloRequest:
    """The engine request of a route body (a dict is validated against MonteCarloIn first)."""
    body = payload if isinstance(payload, MonteCarloIn) else MonteCarloIn.model_validate(payload)
    p = body.pool
    try:
        pool = RepLines.from_columns(
            balance=p.balance,
            note_rate=p.note_rate,
            net_rate=p.net_rate,
            remaining_term=p.remaining_term,
            age=p.age,
        )
        curve = ZeroCurve(body.curve.times, body.curve.rates, body.curve.interpolation)
    except EngineError as exc:
        raise engine_error(exc) from exc
    rm = body.rate_model
    model: HullWhite | Vasicek | CIR
    if isinstance(rm, VasicekIn):
        model = Vasicek(rm.mean_reversion, rm.long_term_rate, rm.volatility, rm.initial_rate)
    elif isinstance(rm, CIRIn):
        model = CIR(rm.mean_reversion, rm.long_term_rate, rm.volatility, rm.initial_rate)
    else:
        model = HullWhite(rm.mean_reversion, rm.volatility)
    pm = body.prepayment_model
    d = body.default
    cdr = np.asarray(d.cdr, dtype=np.float64) if isinstance(d.cdr, list) else float(d.cdr)
    return MonteCarloRequest(
        pool=pool,
        curve=curve,
        rate_model=model,
        mortgage_rate=MortgageRateProxy(body.mortgage_rate.spread, body.mortgage_rate.tenor_years),
        prepayment=RefiPrepaymentModel(
            turnover_cpr=pm.turnover_cpr,
            refi_cpr_max=pm.refi_cpr_max,
            refi_midpoint=pm.refi_midpoint,
            refi_steepness=pm.refi_steepness,
            seasoning_months=pm.seasoning_months,
            burnout=pm.burnout,
        ),
        default_cdr=cdr,
        severity=d.severity,
        recovery_lag_months=d.recovery_lag_months,
        advancing=d.advancing,
        macro=None if d.macro is None else MacroFactor(d.macro.volatility, d.macro.persistence),
        n_paths=body.n_paths,
        n_months=body.n_months,
        seed=body.seed,
        antithetic=body.antithetic,
        block_size=body.block_size,
        percentiles=tuple(body.percentiles),
        histogram_bins=body.histogram_bins,
        price=body.price,
        pv_spread=body.pv_spread,
        duration_bump=body.duration_bump,
    )


def work_cells(req: MonteCarloRequest) -> int:
    """Paths × months × rep-lines × projections (3 with effective duration, else 1)."""
    passes = 3 if (req.price is not None and req.duration_bump is not None) else 1
    return req.n_paths * req.horizon * len(req.pool) * passes


def _num(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def _dist(d: Distribution | None) -> dict[str, Any] | None:
    if d is None:
        return None
    return {
        "mean": _num(d.mean),
        "standard_error": _num(d.standard_error),
        "std": _num(d.std),
        "percentiles": {f"{q:g}": _num(v) for q, v in d.percentiles.items()},
        "histogram": {
            "counts": [int(c) for c in d.histogram_counts],
            "edges": [_num(float(e)) for e in d.histogram_edges],
        },
    }


def result_json(req: MonteCarloRequest, res: MonteCarloResult) -> dict[str, Any]:
    """The route's response body (NaN/inf never appear: they become null)."""
    return {
        "n_paths": res.n_paths,
        "n_months": res.n_months,
        "pv": _dist(res.pv),
        "wal": _dist(res.wal),
        "loss": _dist(res.loss),
        "yield": _dist(res.yield_),
        "oas": _num(res.oas),
        "z_spread": _num(res.z_spread),
        "option_cost": _num(res.option_cost),
        "effective_duration": _num(res.effective_duration),
        "effective_convexity": _num(res.effective_convexity),
        "mean_discounted_cashflow": [_num(float(v)) for v in res.mean_discounted_cashflow],
    }


def _run(req: MonteCarloRequest) -> MonteCarloResult:
    return run_monte_carlo(req)


def _counted(result: dict[str, Any]) -> dict[str, Any]:
    """Count a fresh direct run's paths (cache hits simulate none)."""
    observe_monte_carlo_paths(int(result.get("n_paths") or 0), "direct")
    return result


async def run_direct(*, body: MonteCarloIn, settings: Settings) -> dict[str, Any]:
    """Run a small Monte Carlo request in a worker thread and return its JSON result.

    Runs larger than `monte_carlo_sync_max_cells` are refused with 422 on n_paths (they are
    for the jobs API); engine errors become 422 naming the body field.
    """
    req = build_request(body)
    try:
        req.validate()
    except EngineError as exc:
        raise engine_error(exc) from exc
    cells = work_cells(req)
    if cells > settings.monte_carlo_sync_max_cells:
        raise ValidationFailed.single(
            ("body", "n_paths"),
            f"{cells} path-month-line cells exceed the direct-run limit "
            f"{settings.monte_carlo_sync_max_cells}; submit the run as a monte_carlo job",
        )
    try:  # seeded, hence deterministic: cached by the full request body
        return await cached_result(
            "montecarlo", body, lambda: _counted(result_json(req, _run(req))), work_cells=cells
        )
    except EngineError as exc:
        raise engine_error(exc) from exc
