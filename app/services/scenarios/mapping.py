"""Mapping of the scenario API's inputs to the engine's: rate shocks (bp -> decimals),
valuations, shocked assumptions, pools, and engine errors as 422s naming the field."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import anyio
import numpy as np
from pydantic import TypeAdapter
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.errors import Loc, ValidationFailed, engine_problems
from app.engine.analytics.conventions import Compounding
from app.engine.analytics.curves import ZeroCurve
from app.engine.errors import EngineError
from app.engine.pool import LoanPool
from app.engine.sensitivity import (
    BP,
    NO_RATE_SHOCK,
    RateShock,
    Valuation,
    shock_index_paths,
)
from app.models.forecasts import (
    AssumptionsIn,
    LoanIn,
    PoolRef,
    ValuationIn,
)
from app.models.scenarios import (
    RateShockIn,
)
from app.services import pools

LOANS = TypeAdapter(list[LoanIn])


def rate_shock_of(shocks: Sequence[RateShockIn]) -> RateShock:
    """The scenario's shocks added up (bp -> decimal)."""
    total = NO_RATE_SHOCK
    for s in shocks:
        total = total.plus(
            RateShock(
                parallel=s.parallel_bp * BP,
                short=s.short_bp * BP,
                long=s.long_bp * BP,
                short_tenor=s.short_tenor_years,
                long_tenor=s.long_tenor_years,
            )
        )
    return total


def engine_valuation(v: ValuationIn | None, start_balance: float) -> Valuation | None:
    """The API valuation as the engine's (price_percent -> currency of the starting balance)."""
    if v is None:
        return None
    price = v.price
    if price is None and v.price_percent is not None:
        price = v.price_percent / 100.0 * start_balance
    curve = None
    if v.curve is not None:
        curve = ZeroCurve(v.curve.times, v.curve.rates, interpolation=v.curve.interpolation)
    return Valuation(
        discount_rate=v.discount_rate,
        curve=curve,
        price=price,
        compounding=Compounding(v.compounding),
        frequency=int(v.frequency),
        spread_compounding=Compounding(v.spread_compounding),
        spread_frequency=int(v.spread_frequency),
    )


def shocked_assumptions(a: AssumptionsIn, shock: RateShock, n_periods: int) -> AssumptionsIn:
    """The scenario's rate shock applied to its floating-rate index paths (extended to
    `n_periods`, the longest horizon the service allows)."""
    if shock.is_zero or not a.index_paths:
        return a
    paths = shock_index_paths(
        {k: np.asarray(v, dtype=np.float64) for k, v in a.index_paths.items()}, shock, n_periods
    )
    return a.model_copy(update={"index_paths": {k: v.tolist() for k, v in paths.items()}})


def engine_error(exc: EngineError, prefix: Loc) -> ValidationFailed:
    """422 with the engine's field split into a path (x.values -> [..., "x", "values"])."""
    problems = engine_problems(exc)
    for p in problems:
        loc: list[Any] = []
        for part in p["loc"]:
            loc.extend(part.split(".") if isinstance(part, str) else [part])
        p["loc"] = [*prefix, *loc]
    return ValidationFailed(problems)


async def load_pool(
    session: AsyncSession, *, owner_id: str, ref: PoolRef, settings: Settings
) -> LoanPool:
    """The pool of a request: a stored pool of the caller, or inline loans/columns (validated,
    with the forecasts API's size limit)."""
    if ref.pool_id is not None:
        _, pool = await pools.load_pool(session, owner_id=owner_id, pool_id=ref.pool_id)
        return pool
    n = (
        len(ref.loans)
        if ref.loans is not None
        else max((len(v) for v in (ref.columns or {}).values()), default=0)
    )
    if n > settings.max_inline_loans:
        raise ValidationFailed.single(
            ["body", "pool"],
            f"{n} inline loans is more than the limit of {settings.max_inline_loans} "
            "(MAX_INLINELOANS); upload a tape to /api/v1/pools",
        )
    if ref.loans is not None:
        rows = LOANS.dump_python(ref.loans, exclude_none=True)
        return await anyio.to_thread.run_sync(pools.pool_from_loans, rows)
    return await anyio.to_thread.run_sync(pools.pool_from_columns, ref.columns or {})
