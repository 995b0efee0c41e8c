"""A scenario's Monte Carlo block run on a scenario run's pool: the pool as rep-lines, the
block as a POST /cashflow/monte-carlo body, then the Monte Carlo service's own path (direct
for small runs, a `monte_carlo` job over the sync threshold).

Same inputs, same numbers: the body built here is validated and run exactly as the Monte Carlo
route runs it, so a scenario run and the route agree bit for bit for the same seed.
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.errors import Loc, ValidationFailed
from app.engine.pool import LoanPool
from app.engine.types import Amortization, RateType
from app.models.forecasts import ValuationIn
from app.models.montecarlo import MonteCarloIn
from app.models.scenarios import ScenarioMonteCarloIn
from app.services import jobs, montecarlo

__all__ = ["monte_carlo_body", "rep_lines_of", "run_block"]


def rep_lines_of(pool: LoanPool, loc: Loc) -> dict[str, list[Any]]:
    """The pool's loans as Monte Carlo rep-lines (one line per loan): balance, gross and net
    coupon (annual decimals), remaining term and age (months). Only fixed-rate, level-pay,
    monthly loans have that form; any other loan is a 422 at `loc` listing the first rows."""
    bad = (
        (pool.rate_type != RateType.FIXED)
        | (pool.amortization != Amortization.LEVEL)
        | (pool.payment_frequency != 1)
    )
    if bad.any():
        rows = np.flatnonzero(bad)
        raise ValidationFailed.single(
            list(loc),
            f"the Monte Carlo block needs fixed-rate, level-pay, monthly loans; {rows.size} "
            f"loans are not (rows {rows[:10].tolist()})",
        )
    return {
        "balance": pool.balance.tolist(),
        "note_rate": pool.rate.tolist(),
        "net_rate": pool.net_rate.tolist(),
        "remaining_term": pool.remaining_term_months.tolist(),
        "age": pool.age_months.tolist(),
    }


def _relocated(exc: ValidationFailed, loc: Loc) -> ValidationFailed:
    """The Monte Carlo service's problems (located in its route body) under `loc`, the
    scenario's block; pool columns stay under body.pool."""
    problems = []
    found = cast(list[dict[str, Any]], exc.detail)  # a ValidationFailed holds its problems
    for p in found:
        tail = list(p["loc"])[1:] if p["loc"][:1] == ["body"] else list(p["loc"])
        where = ["body", *tail] if tail[:1] == ["pool"] else [*loc, *tail]
        problems.append({**p, "loc": where})
    return ValidationFailed(problems)


def monte_carlo_body(
    block: ScenarioMonteCarloIn,
    lines: dict[str, list[Any]],
    valuation: ValuationIn | None,
    loc: Loc,
) -> MonteCarloIn:
    """The POST /cashflow/monte-carlo body of a block on a pool: the block's fields, the
    pool's rep-lines, and the block's curve (default: the run's valuation.curve)."""
    curve = block.curve if block.curve is not None else (valuation and valuation.curve)
    if curve is None:
        raise ValidationFailed.single(
            [*loc, "curve"],
            "the Monte Carlo block needs a zero curve: set monte_carlo.curve or give "
            "valuation.curve on the run",
        )
    fields = block.model_dump(mode="json", by_alias=True, exclude={"curve"})
    try:
        return MonteCarloIn.model_validate(
            {**fields, "pool": lines, "curve": curve.model_dump(mode="json")}
        )
    except ValueError as exc:  # pydantic's ValidationError: a pool the schema refuses
        raise ValidationFailed.single(list(loc), str(exc)) from exc


async def run_block(
    session: AsyncSession,
    *,
    owner_id: str,
    block: ScenarioMonteCarloIn,
    lines: dict[str, list[Any]],
    valuation: ValuationIn | None,
    loc: Loc,
    name: str,
    settings: Settings,
    request_id: str | None,
) -> dict[str, Any]:
    """{"result": MonteCarloOut, "job": None} for a run within the direct-run limit, else
    {"result": None, "job": JobAccepted} for a queued `monte_carlo` job (the caller enqueues
    it after the transaction commits, as the Monte Carlo route does)."""
    body = monte_carlo_body(block, lines, valuation, loc)
    try:
        out = await montecarlo.run_or_submit(
            session,
            body=body,
            owner_id=owner_id,
            settings=settings,
            request_id=request_id,
            name=name[:200],
            only_set_fields=False,
        )
    except ValidationFailed as exc:
        raise _relocated(exc, loc) from exc
    if isinstance(out, jobs.Submitted):
        return {"result": None, "job": out.accepted()}
    return {"result": out, "job": None}
