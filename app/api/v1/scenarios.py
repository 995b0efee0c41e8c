"""Scenarios API: named, versioned assumption sets (CRUD, templates, inheritance), runs of one
or many scenarios on a pool, sensitivity grids, stress tests and break-even solving."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Query, Request, Response

from app.api.deps import CurrentUser, SessionDep, SettingsDep
from app.api.v1._jobs import enqueue_after_commit
from app.api.v1._responses import ERRORS, NumpyJSONResponse, OffsetQuery, error_doc, links, utc
from app.core.request_context import get_request_id
from app.models.scenarios import (
    BreakEvenRequest,
    BreakEvenResponse,
    GridRequest,
    GridResponse,
    MultiRunRequest,
    ResolvedScenario,
    RunResponse,
    ScenarioCreate,
    ScenarioOut,
    ScenarioPage,
    ScenarioRunRequest,
    ScenarioUpdate,
    StressRequest,
    StressResponse,
    TemplateOut,
)
from app.models.tables import Scenario
from app.services import scenarios
from app.services.templates import TEMPLATES

router = APIRouter(prefix="/scenarios", tags=["scenarios"], responses=ERRORS)
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: error_doc("Stale version (re-read and retry), or the scenario is extended.")
}


def _created(out: dict[str, Any], request: Request, background: BackgroundTasks) -> Response:
    """201 for a run; its Monte Carlo jobs (if any) are enqueued after the commit, as the
    Monte Carlo route enqueues its jobs."""
    for job_id in scenarios.queued_jobs(out):
        enqueue_after_commit(request, background, job_id)
    return NumpyJSONResponse(
        out,
        status_code=201,
        headers={"Location": f"/api/v1/forecasts/{out['forecast_id']}"},
        background=background,
    )


def _out(row: Scenario, resolved: ResolvedScenario) -> dict[str, Any]:
    d = row.definition
    return ScenarioOut(
        scenario_id=row.id,
        name=row.name,
        description=row.description,
        tags=list(row.tags),
        template=row.template,
        extends=row.extends_id,
        version=row.version,
        assumptions=d.get("assumptions") or {},
        rate_shocks=d.get("rate_shocks"),  # type: ignore[arg-type]
        vectors=d.get("vectors"),  # type: ignore[arg-type]
        monte_carlo=d.get("monte_carlo"),  # type: ignore[arg-type]
        resolved=resolved,
        created_at=utc(row.created_at),  # type: ignore[arg-type]
        updated_at=utc(row.updated_at),  # type: ignore[arg-type]
    ).model_dump(mode="json")


@router.get(
    "/templates", response_model=list[TemplateOut], summary="List the built-in scenario templates"
)
async def list_templates(user: CurrentUser) -> Response:
    """Base / adverse / severely adverse assumptions for mortgages, autos, consumer and
    commercial loans (docs/methodology/scenarios.md). Use a key as `template` on create."""
    return NumpyJSONResponse([t.model_dump(mode="json") for t in TEMPLATES.values()])


@router.post(
    "/",
    response_model=ScenarioOut,
    status_code=201,
    summary="Create a scenario",
    responses=links(
        201,
        "The stored scenario (version 1).",
        GetScenario=(
            "get_scenario_api_v1_scenarios__scenario_id__get",
            "scenario_id",
            "scenario_id",
        ),
        ListRuns=(
            "list_runs_api_v1_scenarios__scenario_id__runs_get",
            "scenario_id",
            "scenario_id",
        ),
    ),
)
async def create_scenario(body: ScenarioCreate, session: SessionDep, user: CurrentUser) -> Response:
    """Store a scenario: its own assumption fields, rate shocks and vectors, optionally on top
    of a built-in `template` or one of your scenarios (`extends`). Version starts at 1."""
    row, resolved = await scenarios.create_scenario(session, owner_id=user.user_id, body=body)
    return NumpyJSONResponse(
        _out(row, resolved), status_code=201, headers={"Location": f"/api/v1/scenarios/{row.id}"}
    )


@router.get("/", response_model=ScenarioPage, summary="List your scenarios")
async def list_scenarios(
    session: SessionDep,
    user: CurrentUser,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
    offset: OffsetQuery = 0,
    name: Annotated[str | None, Query(max_length=100, description="Name substring.")] = None,
    tag: Annotated[str | None, Query(max_length=64, description="Exact tag.")] = None,
) -> Response:
    """Most recently updated first, each with its resolved assumptions."""
    items, total = await scenarios.list_scenarios(
        session, owner_id=user.user_id, name=name, tag=tag, limit=limit, offset=offset
    )
    return NumpyJSONResponse(
        {
            "items": [_out(r, res) for r, res in items],
            "total": total,
            "limit": limit,
            "offset": offset,
        }
    )


@router.post(
    "/run",
    response_model=RunResponse,
    status_code=201,
    summary="Run several scenarios on one pool, side by side",
)
async def run_many(
    body: MultiRunRequest,
    request: Request,
    background: BackgroundTasks,
    session: SessionDep,
    user: CurrentUser,
    settings: SettingsDep,
) -> Response:
    """One forecast (as POST /cashflow/forecast creates) with one scenario per stored id and
    inline definition; each scenario's cash flows, analytics and risk block, and a summary
    table (one row per scenario). Scenarios with a Monte Carlo block also carry its result,
    or the job computing it when it is over the direct-run limit."""
    out = await scenarios.run_many(
        session, owner_id=user.user_id, body=body, settings=settings, request_id=get_request_id()
    )
    return _created(out, request, background)


@router.post(
    "/grid", response_model=GridResponse, summary="Sensitivity grid of one or two assumptions"
)
async def grid(
    body: GridRequest, session: SessionDep, user: CurrentUser, settings: SettingsDep
) -> Response:
    """Sweep `x` (and `y`) over their values from the base assumptions (inline or a stored
    scenario's) and return each measure as rows over x, columns over y. Value measures hold the
    base's spread (or yield) fixed; `yield` is at valuation.price. Nothing is stored."""
    return NumpyJSONResponse(
        await scenarios.grid(session, owner_id=user.user_id, body=body, settings=settings)
    )


@router.post("/stress", response_model=StressResponse, summary="Rate and credit stress tests")
async def stress(
    body: StressRequest, session: SessionDep, user: CurrentUser, settings: SettingsDep
) -> Response:
    """The standard shocks (parallel ±100/200/300 bp, 2s10s steepener and flattener, defaults
    x2, severity +10 points, prepayments x0.5/x1.5, two combined) and your own, with each
    shock's measures and deltas to the base. Nothing is stored."""
    return NumpyJSONResponse(
        await scenarios.stress(session, owner_id=user.user_id, body=body, settings=settings)
    )


@router.post(
    "/breakeven",
    response_model=BreakEvenResponse,
    summary="Break-even CDR, SDA or default multiplier",
)
async def breakeven(
    body: BreakEvenRequest, session: SessionDep, user: CurrentUser, settings: SettingsDep
) -> Response:
    """The constant CDR, SDA speed or default multiplier at which `measure` reaches `target`
    (bracketing, then Brent; iterations reported). 422 when the target is not crossed."""
    return NumpyJSONResponse(
        await scenarios.breakeven(session, owner_id=user.user_id, body=body, settings=settings)
    )


@router.get("/{scenario_id}", response_model=ScenarioOut, summary="Read a scenario")
async def get_scenario(scenario_id: str, session: SessionDep, user: CurrentUser) -> Response:
    """The scenario's own fields and its resolved assumptions (template and parents applied)."""
    row, resolved = await scenarios.read_scenario(
        session, owner_id=user.user_id, scenario_id=scenario_id
    )
    return NumpyJSONResponse(_out(row, resolved))


@router.put(
    "/{scenario_id}", response_model=ScenarioOut, summary="Replace a scenario", responses=CONFLICT
)
async def update_scenario(
    scenario_id: str, body: ScenarioUpdate, session: SessionDep, user: CurrentUser
) -> Response:
    """Replace the scenario's fields; `version` must be the version you read (409 otherwise).
    The stored version becomes version + 1."""
    row, resolved = await scenarios.update_scenario(
        session, owner_id=user.user_id, scenario_id=scenario_id, body=body
    )
    return NumpyJSONResponse(_out(row, resolved))


@router.delete("/{scenario_id}", status_code=204, summary="Delete a scenario", responses=CONFLICT)
async def delete_scenario(scenario_id: str, session: SessionDep, user: CurrentUser) -> Response:
    """Delete the scenario (409 while other scenarios extend it). Its past runs stay, with
    their recorded version and resolved assumptions."""
    await scenarios.delete_scenario(session, owner_id=user.user_id, scenario_id=scenario_id)
    return Response(status_code=204)


@router.post(
    "/{scenario_id}/run",
    response_model=RunResponse,
    status_code=201,
    summary="Run a scenario on a pool (creates a forecast)",
)
async def run_scenario(
    scenario_id: str,
    body: ScenarioRunRequest,
    request: Request,
    background: BackgroundTasks,
    session: SessionDep,
    user: CurrentUser,
    settings: SettingsDep,
) -> Response:
    """Project the pool (inline or `pool_id`) under the scenario's resolved assumptions, stored
    as a forecast exactly as POST /cashflow/forecast stores one, with a risk block (DV01,
    effective duration/convexity, spread duration, WAL change under ±100/200 bp, cumulative
    loss and its timing). The run records the scenario version used. A scenario with a
    `monte_carlo` block also reports the Monte Carlo distributions and OAS of the pool (the
    numbers POST /cashflow/monte-carlo gives for the same inputs), or, over the server's
    MONTE_CARLO_SYNC_MAX_CELLS, the `monte_carlo` job computing them."""
    out = await scenarios.run_scenario(
        session,
        owner_id=user.user_id,
        scenario_id=scenario_id,
        body=body,
        settings=settings,
        request_id=get_request_id(),
    )
    return _created(out, request, background)


@router.get("/{scenario_id}/runs", summary="Runs of a scenario")
async def list_runs(
    scenario_id: str,
    session: SessionDep,
    user: CurrentUser,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
    offset: OffsetQuery = 0,
) -> Response:
    """Newest first: forecast id, the scenario version used, and the risk block."""
    rows, total = await scenarios.list_runs(
        session, owner_id=user.user_id, scenario_id=scenario_id, limit=limit, offset=offset
    )
    items = [
        {
            "run_id": r.id,
            "forecast_id": r.forecast_id,
            "scenario_version": r.scenario_version,
            "name": r.name,
            "risk": r.risk,
            "created_at": utc(r.created_at).isoformat(),  # type: ignore[union-attr]
        }
        for r in rows
    ]
    return NumpyJSONResponse({"items": items, "total": total, "limit": limit, "offset": offset})
