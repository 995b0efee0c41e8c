"""Scenario runs: one forecast (created by the forecasts service) for one or many scenarios,
with a risk block per scenario and an optional Monte Carlo block."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import anyio
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.errors import Loc, NotFound, ValidationFailed
from app.engine.errors import EngineError
from app.engine.sensitivity import (
    run_risk,
)
from app.models.base import new_id, utcnow
from app.models.forecasts import (
    AssumptionOverrides,
    ForecastRequest,
    OptionsIn,
    PoolRef,
    ScenarioIn,
    ValuationIn,
)
from app.models.scenarios import MultiRunRequest, ResolvedScenario
from app.models.tables import ScenarioRun
from app.services import forecasts, pools
from app.services.repositories.scenarios import ScenarioRepository
from app.services.scenarios import monte_carlo_block
from app.services.scenarios.crud import read_scenario
from app.services.scenarios.mapping import (
    engine_error,
    engine_valuation,
    rate_shock_of,
    shocked_assumptions,
)
from app.services.scenarios.resolution import resolve_fields, resolve_row


@dataclass(frozen=True)
class Planned:
    name: str
    scenario_id: str | None
    version: int | None
    resolved: ResolvedScenario
    loc: Loc = ("body",)
    """Where the scenario's fields are named in a 422 (e.g. body.inline.0)."""


def _unique(names: Sequence[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for n in names:
        k = seen.get(n, 0)
        seen[n] = k + 1
        out.append(n if k == 0 else f"{n} ({k + 1})"[:100])
    return out


SUMMARY_KEYS = (
    "npv",
    "yield",
    "dv01",
    "effective_duration",
    "effective_convexity",
    "spread_duration",
    "wal",
    "cumulative_loss",
    "cumulative_loss_fraction",
    "loss_wal_years",
    "loss_half_period",
)


async def run_planned(
    session: AsyncSession,
    *,
    owner_id: str,
    name: str,
    planned: Sequence[Planned],
    pool: PoolRef,
    valuation: ValuationIn | None,
    options: OptionsIn,
    settings: Settings,
    request_id: str | None,
) -> dict[str, Any]:
    """Run the scenarios as one forecast (created by the forecasts service, exactly as
    POST /cashflow/forecast does) and add a risk block per scenario and a summary table."""
    names = _unique([p.name for p in planned])
    shocks = [rate_shock_of(p.resolved.rate_shocks) for p in planned]
    request = ForecastRequest(
        name=name,
        pool=pool,
        scenarios=[
            ScenarioIn(
                name=n,
                assumptions=AssumptionOverrides.model_validate(
                    shocked_assumptions(
                        p.resolved.assumptions, s, settings.max_periods
                    ).model_dump()
                ),
            )
            for n, p, s in zip(names, planned, shocks, strict=True)
        ],
        valuation=valuation,
        options=options,
    )
    run, outcomes = await forecasts.create_forecast(
        session, owner_id=owner_id, request=request, settings=settings, request_id=request_id
    )
    assert run.pool_id is not None
    _, loan_pool = await pools.load_pool(session, owner_id=owner_id, pool_id=run.pool_id)
    val = engine_valuation(valuation, loan_pool.total_balance)

    def risks() -> list[dict[str, Any]]:
        out = []
        for p, s, o in zip(planned, shocks, outcomes, strict=True):
            a = forecasts.to_assumptions(p.resolved.assumptions)
            out.append(run_risk(loan_pool, a, o.projection.columns, val, shock=s))
        return out

    try:
        risk = await anyio.to_thread.run_sync(risks)
    except EngineError as exc:
        raise engine_error(exc, ("body", "valuation")) from exc
    mc: list[dict[str, Any] | None] = [None] * len(planned)
    if any(p.resolved.monte_carlo is not None for p in planned):
        lines = monte_carlo_block.rep_lines_of(loan_pool, ("body", "pool"))
        for i, (n, p) in enumerate(zip(names, planned, strict=True)):
            if p.resolved.monte_carlo is not None:
                mc[i] = await monte_carlo_block.run_block(
                    session,
                    owner_id=owner_id,
                    block=p.resolved.monte_carlo,
                    lines=lines,
                    valuation=valuation,
                    loc=(*p.loc, "monte_carlo"),
                    name=f"{name}: {n}",
                    settings=settings,
                    request_id=request_id,
                )
    created = utcnow()
    await ScenarioRepository(session).add_runs(
        [
            ScenarioRun(
                id=new_id(),
                owner_id=owner_id,
                forecast_id=run.id,
                scenario_index=i,
                scenario_id=p.scenario_id,
                scenario_version=p.version,
                name=n,
                resolved=p.resolved.model_dump(mode="json"),
                risk=r,
                created_at=created,
            )
            for i, (n, p, r) in enumerate(zip(names, planned, risk, strict=True))
        ]
    )
    results = [
        {
            "name": n,
            "scenario_id": p.scenario_id,
            "scenario_version": p.version,
            "n_periods": o.projection.n_periods,
            "cashflows": o.projection.columns,
            "analytics": o.analytics,
            "risk": r,
            "monte_carlo": m,
        }
        for n, p, o, r, m in zip(names, planned, outcomes, risk, mc, strict=True)
    ]
    summary = [
        {"name": n, **{k: r.get(k) for k in SUMMARY_KEYS}} for n, r in zip(names, risk, strict=True)
    ]
    return {
        "forecast_id": run.id,
        "name": run.name,
        "pool_id": run.pool_id,
        "n_loans": run.n_loans,
        "duration_ms": run.duration_ms,
        "scenarios": results,
        "summary": summary,
    }


def queued_jobs(out: dict[str, Any]) -> list[str]:
    """The ids of the Monte Carlo jobs a run queued (to enqueue after the commit)."""
    return [
        s["monte_carlo"]["job"]["job_id"]
        for s in out["scenarios"]
        if s.get("monte_carlo") and s["monte_carlo"]["job"] is not None
    ]


async def run_scenario(
    session: AsyncSession,
    *,
    owner_id: str,
    scenario_id: str,
    body: Any,
    settings: Settings,
    request_id: str | None,
) -> dict[str, Any]:
    """Run one stored scenario (at its current version) on a pool: a forecast plus risk."""
    row, resolved = await read_scenario(session, owner_id=owner_id, scenario_id=scenario_id)
    return await run_planned(
        session,
        owner_id=owner_id,
        name=body.name or row.name,
        planned=[Planned(row.name, row.id, row.version, resolved, ("path", "scenario_id"))],
        pool=body.pool,
        valuation=body.valuation,
        options=body.options,
        settings=settings,
        request_id=request_id,
    )


async def run_many(
    session: AsyncSession,
    *,
    owner_id: str,
    body: MultiRunRequest,
    settings: Settings,
    request_id: str | None,
) -> dict[str, Any]:
    """Run stored and inline scenarios on one pool in one forecast, side by side."""
    repo = ScenarioRepository(session)
    found = await repo.get_many_owned(owner_id, body.scenario_ids)
    planned: list[Planned] = []
    for i, sid in enumerate(body.scenario_ids):
        row = found.get(sid)
        if row is None:
            raise NotFound(f"scenario not found: body.scenario_ids.{i}")
        resolved = await resolve_row(repo, owner_id, row)
        planned.append(
            Planned(row.name, row.id, row.version, resolved, ("body", "scenario_ids", i))
        )
    for i, sc in enumerate(body.inline):
        resolved = await resolve_fields(repo, owner_id, sc, ("body", "inline", i))
        planned.append(Planned(sc.name, None, None, resolved, ("body", "inline", i)))
    if len(planned) > settings.max_scenarios:
        raise ValidationFailed.single(
            ["body", "scenario_ids"],
            f"{len(planned)} scenarios is more than the limit of {settings.max_scenarios} (MAX_SCENARIOS)",
        )
    return await run_planned(
        session,
        owner_id=owner_id,
        name=body.name,
        planned=planned,
        pool=body.pool,
        valuation=body.valuation,
        options=body.options,
        settings=settings,
        request_id=request_id,
    )
