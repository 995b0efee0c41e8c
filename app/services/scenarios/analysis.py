"""Scenario analysis on a pool: sensitivity grids, stress tests and break-even solving
(cached by their full input; the numerics live in app.engine.sensitivity)."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.errors import Loc, ValidationFailed
from app.engine.errors import EngineError
from app.engine.pool import LoanPool
from app.engine.sensitivity import (
    BreakEvenVariable,
    CreditShock,
    GridAxis,
    GridVariable,
    Measure,
    StressShock,
    Valuation,
    break_even,
    sensitivity_grid,
    standard_stresses,
    stress_test,
)
from app.models.forecasts import (
    AssumptionsIn,
)
from app.models.scenarios import (
    BreakEvenRequest,
    GridRequest,
    StressRequest,
)
from app.services import forecasts
from app.services.result_cache import cached_result
from app.services.scenarios.crud import read_scenario
from app.services.scenarios.mapping import engine_error, engine_valuation, load_pool, rate_shock_of


async def _base(
    session: AsyncSession, owner_id: str, body: Any, settings: Settings
) -> tuple[LoanPool, Any, Valuation | None, Loc]:
    """Pool, engine base assumptions, engine valuation, and where the assumptions came from."""
    if body.scenario_id is not None:
        _, resolved = await read_scenario(session, owner_id=owner_id, scenario_id=body.scenario_id)
        a_in, loc = resolved.assumptions, ("body", "scenario_id")
    else:
        a_in, loc = body.assumptions or AssumptionsIn.model_validate({}), ("body", "assumptions")
    pool = await load_pool(session, owner_id=owner_id, ref=body.pool, settings=settings)
    if a_in.n_periods is not None and a_in.n_periods > settings.max_periods:
        raise ValidationFailed.single(
            [*loc, "n_periods"], f"must be at most {settings.max_periods}"
        )
    return (
        pool,
        forecasts.to_assumptions(a_in),
        engine_valuation(body.valuation, pool.total_balance),
        loc,
    )


def _finite(x: float | None) -> float | None:
    return None if x is None or not np.isfinite(x) else float(x)


async def grid(
    session: AsyncSession, *, owner_id: str, body: GridRequest, settings: Settings
) -> dict[str, Any]:
    pool, base, val, loc = await _base(session, owner_id, body, settings)
    x = GridAxis(GridVariable(body.x.variable), tuple(body.x.values))
    y = None if body.y is None else GridAxis(GridVariable(body.y.variable), tuple(body.y.values))
    measures = [Measure(m) for m in body.measures]
    t0 = time.perf_counter()

    def compute() -> dict[str, Any]:
        res = sensitivity_grid(pool, base, x, y, measures, val)
        return {
            "x": body.x.model_dump(),
            "y": None if body.y is None else body.y.model_dump(),
            "measures": {
                k: [[_finite(v) for v in row] for row in arr.tolist()]
                for k, arr in res.measures.items()
            },
            "projections": res.projections,
        }

    try:  # cached by the full input: pool content, request, resolved base
        out = await cached_result("grid", {"pool": pool, "body": body, "base": base}, compute)
    except EngineError as exc:
        raise engine_error(exc, ("body",)) from exc
    return {**out, "duration_ms": (time.perf_counter() - t0) * 1e3}


def stress_shocks(body: StressRequest) -> list[StressShock]:
    out = standard_stresses() if body.standard else []
    for s in body.shocks:
        out.append(
            StressShock(
                s.name,
                rate_shock_of([s.rate]),
                CreditShock(s.default_multiplier, s.prepayment_multiplier, s.severity_addon),
            )
        )
    return out


async def stress(
    session: AsyncSession, *, owner_id: str, body: StressRequest, settings: Settings
) -> dict[str, Any]:
    shocks = stress_shocks(body)
    measures = [Measure(m) for m in body.measures]
    if not shocks:
        raise ValidationFailed.single(["body", "shocks"], "no shocks: set standard or give shocks")
    pool, base, val, _ = await _base(session, owner_id, body, settings)
    t0 = time.perf_counter()

    def row(o: Any) -> dict[str, Any]:
        return {
            "name": o.name,
            "measures": {k: _finite(v) for k, v in o.measures.items()},
            "deltas": {k: _finite(v) for k, v in o.deltas.items()},
            "cashflows": o.columns if body.include_cashflows else None,
        }

    def compute() -> dict[str, Any]:
        base_out, outs = stress_test(pool, base, shocks, measures, val)
        return {"base": row(base_out), "shocks": [row(o) for o in outs]}

    try:  # cached by the full input: pool content, request, resolved base
        out = await cached_result("stress", {"pool": pool, "body": body, "base": base}, compute)
    except EngineError as exc:
        raise engine_error(exc, ("body",)) from exc
    return {**out, "duration_ms": (time.perf_counter() - t0) * 1e3}


async def breakeven(
    session: AsyncSession, *, owner_id: str, body: BreakEvenRequest, settings: Settings
) -> dict[str, Any]:
    pool, base, val, _ = await _base(session, owner_id, body, settings)
    t0 = time.perf_counter()

    def compute() -> dict[str, Any]:
        be = break_even(
            pool,
            base,
            variable=BreakEvenVariable(body.variable),
            measure=Measure(body.measure),
            target=body.target,
            valuation=val,
            lower=body.lower,
            upper=body.upper,
        )
        return {
            "variable": be.variable,
            "measure": be.measure,
            "target": be.target,
            "value": be.value,
            "achieved": be.achieved,
            "bracket": list(be.bracket),
            "iterations": be.iterations,
            "evaluations": be.evaluations,
        }

    try:  # cached by the full input: pool content, request, resolved base
        out = await cached_result("breakeven", {"pool": pool, "body": body, "base": base}, compute)
    except EngineError as exc:
        raise engine_error(exc, ("body",)) from exc
    return {**out, "duration_ms": (time.perf_counter() - t0) * 1e3}
