"""Scenario use cases: CRUD with optimistic versioning, resolution through templates and
parents, runs (one forecast, created by the forecasts service, for one or many scenarios, with
a risk block per scenario), sensitivity grids, stress tests and break-even solving.

Services never commit (the request's session dependency does); CPU work runs in a worker
thread; the numerics live in app.engine.sensitivity.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import anyio
import numpy as np
from pydantic import TypeAdapter

from app.core.config import Settings
from app.core.errors import Conflict, NotFound, ValidationFailed, engine_problems
from app.engine.analytics.conventions import Compounding
from app.engine.analytics.curves import ZeroCurve
from app.engine.errors import EngineError
from app.engine.pool import LoanPool
from app.engine.sensitivity import (
    BP,
    NO_RATE_SHOCK,
    CreditShock,
    GridAxis,
    RateShock,
    StressShock,
    Valuation,
    break_even,
    run_risk,
    sensitivity_grid,
    shock_index_paths,
    standard_stresses,
    stress_test,
)
from app.models.base import new_id, utcnow
from app.models.forecasts import (
    AssumptionOverrides,
    AssumptionsIn,
    CDRVector,
    CPRVector,
    ForecastRequest,
    LoanIn,
    MDRVector,
    OptionsIn,
    PoolRef,
    ScenarioIn,
    SMMVector,
    ValuationIn,
)
from app.models.scenarios import (
    BreakEvenRequest,
    GridRequest,
    MultiRunRequest,
    RateShockIn,
    ResolvedScenario,
    Scenario,
    ScenarioCreate,
    ScenarioFields,
    ScenarioMonteCarloIn,
    ScenarioRun,
    ScenarioUpdate,
    StressRequest,
    VectorsIn,
)
from app.services import forecasts, pools, scenario_montecarlo
from app.services.repositories.scenarios import ScenarioRepository
from app.services.result_cache import cached_result
from app.services.templates import TEMPLATES

MAX_DEPTH = 16
"""Longest chain of `extends` (a scenario, its parent, ...) that resolution follows."""

_LOANS = TypeAdapter(list[LoanIn])
Loc = tuple[str | int, ...]


# ---- resolution -----------------------------------------------------------------------------
def definition_of(fields: ScenarioFields) -> dict[str, Any]:
    """What a scenario stores of its own: set assumption fields, shocks, vectors (JSON)."""
    return {
        "assumptions": fields.assumptions.model_dump(mode="json", exclude_unset=True),
        "rate_shocks": None
        if fields.rate_shocks is None
        else [s.model_dump(mode="json") for s in fields.rate_shocks],
        "vectors": None
        if fields.vectors is None
        else fields.vectors.model_dump(mode="json", exclude_none=True),
        # stored with its defaults written out: a later change of a default never changes
        # what a stored version runs
        "monte_carlo": None
        if fields.monte_carlo is None
        else fields.monte_carlo.model_dump(mode="json", by_alias=True),
        "macro": None if fields.macro is None else fields.macro.model_dump(mode="json", exclude_none=True),
    }


@dataclass(frozen=True)
class Level:
    """One level of a scenario chain: its stored definition and where it comes from."""

    label: str
    definition: dict[str, Any]


def _check_template(key: str | None, loc: Loc) -> None:
    if key is not None and key not in TEMPLATES:
        raise ValidationFailed.single(
            [*loc, "template"], f"unknown template {key!r}; see GET /api/v1/scenarios/templates"
        )


def resolve_levels(template: str | None, levels: Sequence[Level]) -> ResolvedScenario:
    """Fold a chain, root first: template (or the schema defaults), then each level's set
    assumption fields (each replaces the inherited field), rate shocks (replace the list when
    given), vectors (replace name by name) and the Monte Carlo block (replaces the inherited
    block wholesale when given); the vectors are then applied to the speeds."""
    lineage: list[str] = []
    if template is not None:
        t = TEMPLATES[template]
        assumptions = t.assumptions
        shocks = list(t.rate_shocks)
        lineage.append(f"template:{template}")
    else:
        assumptions = AssumptionsIn.model_validate({})
        shocks = []
    vectors: dict[str, Any] = {}
    monte_carlo: ScenarioMonteCarloIn | None = None
    for level in levels:
        ov = AssumptionOverrides.model_validate(level.definition.get("assumptions") or {})
        update = {k: getattr(ov, k) for k in ov.model_fields_set if getattr(ov, k) is not None}
        assumptions = assumptions.model_copy(update=update)
        if level.definition.get("rate_shocks") is not None:
            shocks = [RateShockIn.model_validate(s) for s in level.definition["rate_shocks"]]
        vec = level.definition.get("vectors")
        if vec:
            if "cpr" in vec or "smm" in vec:
                vectors.pop("cpr", None)
                vectors.pop("smm", None)
            if "cdr" in vec or "mdr" in vec:
                vectors.pop("cdr", None)
                vectors.pop("mdr", None)
            paths = {**vectors.get("index_paths", {}), **vec.get("index_paths", {})}
            vectors.update(vec)
            if paths:
                vectors["index_paths"] = paths
        if level.definition.get("monte_carlo") is not None:
            monte_carlo = ScenarioMonteCarloIn.model_validate(level.definition["monte_carlo"])
        lineage.append(level.label)
    vin = VectorsIn.model_validate(vectors) if vectors else None
    return ResolvedScenario(
        assumptions=apply_vectors(assumptions, vin),
        rate_shocks=shocks,
        vectors=vin,
        monte_carlo=monte_carlo,
        lineage=lineage,
    )


def apply_vectors(a: AssumptionsIn, v: VectorsIn | None) -> AssumptionsIn:
    """Assumptions with the vectors in place of the speeds (cpr/smm -> prepayment, cdr/mdr ->
    default) and their index paths merged in."""
    if v is None:
        return a
    update: dict[str, Any] = {}
    if v.cpr is not None:
        update["prepayment"] = CPRVector(type="cpr_vector", values=v.cpr)
    elif v.smm is not None:
        update["prepayment"] = SMMVector(type="smm_vector", values=v.smm)
    if v.cdr is not None:
        update["default"] = CDRVector(type="cdr_vector", values=v.cdr)
    elif v.mdr is not None:
        update["default"] = MDRVector(type="mdr_vector", values=v.mdr)
    if v.index_paths:
        update["index_paths"] = {**a.index_paths, **v.index_paths}
    return a.model_copy(update=update)


async def chain_of(
    repo: ScenarioRepository, owner_id: str, row: Scenario
) -> tuple[str | None, list[Scenario]]:
    """(root template, [root, ..., row]) following `extends`; a cycle or a chain longer than
    MAX_DEPTH is a 409 (stored data that cannot be resolved)."""
    chain = [row]
    seen = {row.id}
    while chain[-1].extends_id is not None:
        parent = await repo.get_owned(owner_id, chain[-1].extends_id)
        if parent is None:
            raise Conflict(f"scenario {chain[-1].id} extends a scenario that no longer exists")
        if parent.id in seen or len(chain) >= MAX_DEPTH:
            raise Conflict(
                f"scenario {row.id}: its extends chain loops or is deeper than {MAX_DEPTH}"
            )
        seen.add(parent.id)
        chain.append(parent)
    chain.reverse()
    return chain[0].template, chain


async def resolve_row(repo: ScenarioRepository, owner_id: str, row: Scenario) -> ResolvedScenario:
    template, chain = await chain_of(repo, owner_id, row)
    return resolve_levels(template, [Level(f"scenario:{r.id}", r.definition) for r in chain])


async def resolve_fields(
    repo: ScenarioRepository,
    owner_id: str,
    fields: ScenarioFields,
    loc: Loc,
    *,
    self_id: str | None = None,
    label: str = "inline",
) -> ResolvedScenario:
    """Resolve a definition that is not stored (a create/update body or an inline scenario);
    its parent must be one of the caller's scenarios and must not lead back to `self_id`."""
    _check_template(fields.template, loc)
    levels: list[Level] = []
    template = fields.template
    if fields.extends is not None:
        parent = await repo.get_owned(owner_id, fields.extends)
        if parent is None:
            raise ValidationFailed.single([*loc, "extends"], "no such scenario of yours")
        template, chain = await chain_of(repo, owner_id, parent)
        if self_id is not None and any(r.id == self_id for r in chain):
            raise ValidationFailed.single(
                [*loc, "extends"], "a scenario cannot extend itself or one of its descendants"
            )
        levels = [Level(f"scenario:{r.id}", r.definition) for r in chain]
    levels.append(Level(label, definition_of(fields)))
    return resolve_levels(template, levels)


# ---- CRUD -----------------------------------------------------------------------------------
async def create_scenario(
    session: Any, *, owner_id: str, body: ScenarioCreate
) -> tuple[Scenario, ResolvedScenario]:
    repo = ScenarioRepository(session)
    sid = new_id()
    resolved = await resolve_fields(repo, owner_id, body, ("body",), label=f"scenario:{sid}")
    now = utcnow()
    row = Scenario(
        id=sid,
        owner_id=owner_id,
        name=body.name,
        description=body.description,
        tags=list(dict.fromkeys(body.tags)),
        template=body.template,
        extends_id=body.extends,
        definition=definition_of(body),
        version=1,
        created_at=now,
        updated_at=now,
    )
    await repo.add(row, row.tags)
    return row, resolved


async def get_scenario(session: Any, *, owner_id: str, scenario_id: str) -> Scenario:
    row = await ScenarioRepository(session).get_owned(owner_id, scenario_id)
    if row is None:
        raise NotFound("scenario not found")
    return row


async def read_scenario(
    session: Any, *, owner_id: str, scenario_id: str
) -> tuple[Scenario, ResolvedScenario]:
    row = await get_scenario(session, owner_id=owner_id, scenario_id=scenario_id)
    return row, await resolve_row(ScenarioRepository(session), owner_id, row)


async def list_scenarios(
    session: Any, *, owner_id: str, name: str | None, tag: str | None, limit: int, offset: int
) -> tuple[list[tuple[Scenario, ResolvedScenario]], int]:
    repo = ScenarioRepository(session)
    rows, total = await repo.list_owned(owner_id, name=name, tag=tag, limit=limit, offset=offset)
    return [(r, await resolve_row(repo, owner_id, r)) for r in rows], total


async def update_scenario(
    session: Any, *, owner_id: str, scenario_id: str, body: ScenarioUpdate
) -> tuple[Scenario, ResolvedScenario]:
    """Replace the scenario's fields if `body.version` is the stored version (else 409)."""
    repo = ScenarioRepository(session)
    row = await repo.get_owned(owner_id, scenario_id)
    if row is None:
        raise NotFound("scenario not found")
    if row.version != body.version:
        raise Conflict(
            f"scenario was updated since you read it: version {row.version}, you sent "
            f"{body.version}; read it again and re-apply your change"
        )
    resolved = await resolve_fields(
        repo, owner_id, body, ("body",), self_id=scenario_id, label=f"scenario:{scenario_id}"
    )
    tags = list(dict.fromkeys(body.tags))
    values: dict[str, Any] = {
        "name": body.name,
        "description": body.description,
        "tags": tags,
        "template": body.template,
        "extends_id": body.extends,
        "definition": definition_of(body),
        "updated_at": utcnow(),
    }
    fresh = await repo.update_if_version(
        owner_id, scenario_id, body.version, values, values["tags"]
    )
    if fresh is None:
        raise Conflict("scenario was updated concurrently; read it again and re-apply your change")
    return fresh, resolved


async def delete_scenario(session: Any, *, owner_id: str, scenario_id: str) -> None:
    repo = ScenarioRepository(session)
    row = await repo.get_owned(owner_id, scenario_id)
    if row is None:
        raise NotFound("scenario not found")
    children = await repo.children(scenario_id)
    if children:
        raise Conflict(f"scenarios {children} extend this one; delete or re-base them first")
    await repo.delete(row)


async def list_runs(
    session: Any, *, owner_id: str, scenario_id: str, limit: int, offset: int
) -> tuple[list[ScenarioRun], int]:
    await get_scenario(session, owner_id=owner_id, scenario_id=scenario_id)
    return await ScenarioRepository(session).runs_of(
        owner_id, scenario_id, limit=limit, offset=offset
    )


# ---- engine inputs --------------------------------------------------------------------------
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


def _engine_error(exc: EngineError, prefix: Loc) -> ValidationFailed:
    """422 with the engine's field split into a path (x.values -> [..., "x", "values"])."""
    problems = engine_problems(exc)
    for p in problems:
        loc: list[Any] = []
        for part in p["loc"]:
            loc.extend(part.split(".") if isinstance(part, str) else [part])
        p["loc"] = [*prefix, *loc]
    return ValidationFailed(problems)


async def load_pool(session: Any, *, owner_id: str, ref: PoolRef, settings: Settings) -> LoanPool:
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
            "(MAX_INLINE_LOANS); upload a tape to /api/v1/pools",
        )
    if ref.loans is not None:
        rows = _LOANS.dump_python(ref.loans, exclude_none=True)
        return await anyio.to_thread.run_sync(pools.pool_from_loans, rows)
    return await anyio.to_thread.run_sync(pools.pool_from_columns, ref.columns or {})


# ---- runs -----------------------------------------------------------------------------------
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
    session: Any,
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
        raise _engine_error(exc, ("body", "valuation")) from exc
    mc: list[dict[str, Any] | None] = [None] * len(planned)
    if any(p.resolved.monte_carlo is not None for p in planned):
        lines = scenario_montecarlo.rep_lines_of(loan_pool, ("body", "pool"))
        for i, (n, p) in enumerate(zip(names, planned, strict=True)):
            if p.resolved.monte_carlo is not None:
                mc[i] = await scenario_montecarlo.run_block(
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
    session: Any,
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
    session: Any,
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


# ---- grids, stress, break-even --------------------------------------------------------------
async def _base(
    session: Any, owner_id: str, body: Any, settings: Settings
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
    session: Any, *, owner_id: str, body: GridRequest, settings: Settings
) -> dict[str, Any]:
    pool, base, val, loc = await _base(session, owner_id, body, settings)
    x = GridAxis(body.x.variable, tuple(body.x.values))
    y = None if body.y is None else GridAxis(body.y.variable, tuple(body.y.values))
    t0 = time.perf_counter()

    def compute() -> dict[str, Any]:
        res = sensitivity_grid(pool, base, x, y, list(body.measures), val)
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
        raise _engine_error(exc, ("body",)) from exc
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
    session: Any, *, owner_id: str, body: StressRequest, settings: Settings
) -> dict[str, Any]:
    shocks = stress_shocks(body)
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
        base_out, outs = stress_test(pool, base, shocks, list(body.measures), val)
        return {"base": row(base_out), "shocks": [row(o) for o in outs]}

    try:  # cached by the full input: pool content, request, resolved base
        out = await cached_result("stress", {"pool": pool, "body": body, "base": base}, compute)
    except EngineError as exc:
        raise _engine_error(exc, ("body",)) from exc
    return {**out, "duration_ms": (time.perf_counter() - t0) * 1e3}


async def breakeven(
    session: Any, *, owner_id: str, body: BreakEvenRequest, settings: Settings
) -> dict[str, Any]:
    pool, base, val, _ = await _base(session, owner_id, body, settings)
    t0 = time.perf_counter()

    def compute() -> dict[str, Any]:
        be = break_even(
            pool,
            base,
            variable=body.variable,
            measure=body.measure,
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
        raise _engine_error(exc, ("body",)) from exc
    return {**out, "duration_ms": (time.perf_counter() - t0) * 1e3}
