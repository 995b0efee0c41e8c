"""Monte Carlo requests: the route body (or the engine-level job payload) as an engine
MonteCarloRequest, engine errors as 422s naming the body field, and the size of a run."""

from __future__ import annotations

from typing import Any

import numpy as np

from app.core.errors import ValidationFailed
from app.engine.analytics.curves import ZeroCurve
from app.engine.errors import EngineError, InvalidInput
from app.engine.montecarlo import MacroFactor, MonteCarloRequest, RepLines
from app.engine.prepayment_model import RefiPrepaymentModel
from app.engine.rates import CIR, HullWhite, MortgageRateProxy, Vasicek
from app.engine.rates.curve import FlatCurve
from app.models.montecarlo import CIRIn, MonteCarloIn, VasicekIn

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
        price=body.price_money(float(np.sum(p.balance))),
        pv_spread=body.pv_spread,
        duration_bump=body.duration_bump,
    )


def work_cells(req: MonteCarloRequest) -> int:
    """Paths × months × rep-lines × projections (3 with effective duration, else 1)."""
    passes = 3 if (req.price is not None and req.duration_bump is not None) else 1
    return req.n_paths * req.horizon * len(req.pool) * passes


def engine_request(payload: dict[str, Any]) -> MonteCarloRequest:
    """A MonteCarloRequest from the engine-level job payload `{"format": "engine", ...}`:
    `pool` columns of RepLines (balance, note_rate, net_rate, remaining_term, age), `curve`
    {"flat": rate} (continuously compounded, decimal), `rate_model` {"type": "hull_white",
    "mean_reversion", "volatility"}, and the request's scalar fields (n_paths, seed, block_size,
    n_months, price, antithetic, percentiles, default_cdr, severity, recovery_lag_months,
    duration_bump, histogram_bins). Used by clients of the engine directly."""
    model = dict(payload.get("rate_model") or {})
    model.pop("type", None)
    scalars: dict[str, Any] = {
        k: payload[k]
        for k in (
            "n_paths",
            "seed",
            "block_size",
            "n_months",
            "price",
            "antithetic",
            "default_cdr",
            "severity",
            "recovery_lag_months",
            "duration_bump",
            "histogram_bins",
        )
        if k in payload
    }
    if "percentiles" in payload:
        scalars["percentiles"] = tuple(float(q) for q in payload["percentiles"])
    return MonteCarloRequest(
        pool=RepLines.from_columns(**payload["pool"]),
        curve=FlatCurve(float(payload["curve"]["flat"])),
        rate_model=HullWhite(**model),
        **scalars,
    )


def job_request(payload: dict[str, Any]) -> MonteCarloRequest:
    """The engine request of a `monte_carlo` job payload: the route's body, or the engine-level
    form when `payload["format"] == "engine"`."""
    if payload.get("format") == "engine":
        return engine_request(payload)
    return build_request(payload)
