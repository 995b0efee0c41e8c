"""Forecasts API: run a pool forecast, list and read runs, read projections and loan results."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import numpy as np
from fastapi import APIRouter, BackgroundTasks, Header, Query, Request, Response
from fastapi.responses import StreamingResponse
from sqlalchemy.ext.asyncio import AsyncSession

from app.api.deps import CurrentUser, DatabaseDep, SessionDep, SettingsDep
from app.api.v1._jobs import accepted
from app.api.v1._responses import ERRORS, IsoDateTime, NumpyJSONResponse, OffsetQuery, links, utc
from app.core.errors import NotFound
from app.core.request_context import get_request_id
from app.models.forecasts import (
    ForecastDetail,
    ForecastPage,
    ForecastRequest,
    ForecastResponse,
    ForecastSummary,
    LoanPage,
    ProjectionsResponse,
    ScenarioSummary,
)
from app.models.jobs import JobAccepted
from app.models.tables import ForecastRun, ForecastScenario
from app.services import columnar, forecasts
from app.services.jobs import Submitted
from app.services.repositories import ForecastFilters

router = APIRouter(tags=["forecasts"], responses=ERRORS)

PARQUET_MEDIA_TYPE = "application/vnd.apache.parquet"


def _summary(run: ForecastRun) -> dict[str, Any]:
    return ForecastSummary(
        forecast_id=run.id,
        name=run.name,
        status=run.status,  # type: ignore[arg-type]
        pool_id=run.pool_id,
        n_loans=run.n_loans,
        n_periods=run.n_periods,
        n_scenarios=run.n_scenarios,
        loan_level=run.loan_level,
        created_at=utc(run.created_at),  # type: ignore[arg-type]
        started_at=utc(run.started_at),
        finished_at=utc(run.finished_at),
        duration_ms=run.duration_ms,
        request_id=run.request_id,
        error=run.error,
    ).model_dump(mode="json")


def _scenario_json(
    name: str, n_periods: int, columns: dict[str, Any], analytics: Any
) -> dict[str, Any]:
    if "period" in columns:  # period numbers are whole; the other columns are money
        columns = {**columns, "period": np.asarray(columns["period"]).astype(np.int64)}
    return {"name": name, "n_periods": n_periods, "cashflows": columns, "analytics": analytics}


@router.post(
    "/cashflow/forecast",
    response_model=ForecastResponse,
    status_code=201,
    summary="Run a pool cash-flow forecast",
    responses={
        200: {
            "model": ForecastResponse,
            "description": '`"store": false`: priced, nothing stored.',
        },
        202: {"model": JobAccepted, "description": "A large (or `async`) run: a job."},
        **links(
            201,
            "The stored forecast's id and, per scenario, its cash-flow columns and analytics.",
            GetForecast=(
                "get_forecast_api_v1_forecasts__forecast_id__get",
                "forecast_id",
                "forecast_id",
            ),
        ),
    },
    response_description="The stored forecast's id and, per scenario, its cash-flow columns "
    "and analytics.",
)
async def run_forecast(
    body: ForecastRequest,
    request: Request,
    session: SessionDep,
    background: BackgroundTasks,
    user: CurrentUser,
    settings: SettingsDep,
) -> Response:
    """Project the pool under each scenario (SIFMA standard formulas) and store the run.

    The pool is given inline (`loans` or `columns`) or as the `pool_id` of an uploaded tape.
    Without `scenarios` one scenario named `base` runs with `assumptions`; each scenario's
    `assumptions` replace the named base fields. Cash flows are columns over periods 1..N
    (end of month), in the pool's currency; analytics discount them at t = period/12 years.
    Large runs (over `JOBS_FORECAST_ASYNC_LOANS` loans x scenarios) and `"async": true`
    answer 202 with a `job_id`; the job's result is the stored forecast's id.
    """
    if not body.store:  # a pricing call: nothing is written
        n_loans, duration_ms, priced = await forecasts.price_forecast(
            session, owner_id=user.user_id, request=body, settings=settings
        )
        return NumpyJSONResponse(
            {
                "forecast_id": None,
                "name": body.name,
                "status": "succeeded",
                "pool_id": body.pool.pool_id,
                "n_loans": n_loans,
                "duration_ms": duration_ms,
                "scenarios": [
                    _scenario_json(
                        o.name, o.projection.n_periods, o.projection.columns, o.analytics
                    )
                    for o in priced
                ],
            },
            status_code=200,
        )
    out = await forecasts.run_or_submit(
        session, owner_id=user.user_id, body=body, settings=settings, request_id=get_request_id()
    )
    if isinstance(out, Submitted):
        return accepted(request, background, out)
    run, outcomes = out
    payload = {
        "forecast_id": run.id,
        "name": run.name,
        "status": run.status,
        "pool_id": run.pool_id,
        "n_loans": run.n_loans,
        "duration_ms": run.duration_ms,
        "scenarios": [
            _scenario_json(o.name, o.projection.n_periods, o.projection.columns, o.analytics)
            for o in outcomes  # one entry per scenario
        ],
    }
    return NumpyJSONResponse(
        payload, status_code=201, headers={"Location": f"/api/v1/forecasts/{run.id}"}
    )


@router.get("/forecasts/", response_model=ForecastPage, summary="List your forecasts")
async def list_forecasts(
    session: SessionDep,
    user: CurrentUser,
    limit: Annotated[int, Query(ge=1, le=200, description="Page size.")] = 20,
    offset: OffsetQuery = 0,
    name: Annotated[
        str | None, Query(max_length=200, description="Substring of the name (case-insensitive).")
    ] = None,
    status: Annotated[Literal["queued", "running", "succeeded", "failed"] | None, Query()] = None,
    created_after: Annotated[IsoDateTime | None, Query(description="ISO 8601; inclusive.")] = None,
    created_before: Annotated[IsoDateTime | None, Query(description="ISO 8601; exclusive.")] = None,
) -> Response:
    """The caller's forecasts, newest first, filtered by name, status and creation time."""
    filters = ForecastFilters(
        name=name,
        status=status,
        created_after=_as_utc(created_after),
        created_before=_as_utc(created_before),
    )
    items, total = await forecasts.list_forecasts(
        session, owner_id=user.user_id, filters=filters, limit=limit, offset=offset
    )
    return NumpyJSONResponse(
        {"items": [_summary(r) for r in items], "total": total, "limit": limit, "offset": offset}
    )


def _as_utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


@router.get("/forecasts/{forecast_id}", response_model=ForecastDetail, summary="Read a forecast")
async def get_forecast(forecast_id: str, session: SessionDep, user: CurrentUser) -> Response:
    """The run's inputs, status, timings and each scenario's assumptions and analytics."""
    run = await forecasts.get_forecast(session, owner_id=user.user_id, forecast_id=forecast_id)
    rows = await forecasts.scenario_rows(session, forecast_id=run.id, with_data=False)
    body = _summary(run)
    body["inputs"] = run.inputs
    body["scenarios"] = [
        ScenarioSummary(
            name=r.name, n_periods=r.n_periods, assumptions=r.assumptions, analytics=r.analytics
        ).model_dump(mode="json")
        for r in rows  # one entry per scenario
    ]
    return NumpyJSONResponse(body)


@router.get(
    "/forecasts/{forecast_id}/projections",
    response_model=ProjectionsResponse,
    summary="Read a forecast's cash-flow columns (JSON or CSV)",
    responses={
        200: {"content": {"text/csv": {"example": "scenario,period,beginning_balance,...\n"}}}
    },
)
async def get_projections(
    forecast_id: str,
    session: SessionDep,
    user: CurrentUser,
    scenario: Annotated[str | None, Query(description="Only this scenario.")] = None,
    format: Annotated[Literal["json", "csv"] | None, Query(description="Overrides Accept.")] = None,
    accept: Annotated[str | None, Header()] = None,
) -> Response:
    """Per-scenario columns as stored; `Accept: text/csv` (or `format=csv`) gives one CSV with a
    `scenario` column followed by the cash-flow columns, one row per scenario and period."""
    run = await forecasts.get_forecast(session, owner_id=user.user_id, forecast_id=forecast_id)
    rows = await forecasts.scenario_rows(session, forecast_id=run.id, with_data=True, name=scenario)
    want_csv = format == "csv" or (format is None and "text/csv" in (accept or ""))
    if want_csv:
        return Response(
            forecasts.projections_csv(rows),
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="forecast-{run.id}.csv"'},
        )
    return NumpyJSONResponse(
        {
            "forecast_id": run.id,
            "scenarios": [
                _scenario_json(r.name, r.n_periods, forecasts.decode_columns(r), r.analytics)
                for r in rows  # one entry per scenario
            ],
        }
    )


async def _loan_scenario(
    session: AsyncSession, user_id: str, forecast_id: str, scenario: str | None
) -> tuple[ForecastRun, ForecastScenario]:
    run = await forecasts.get_forecast(session, owner_id=user_id, forecast_id=forecast_id)
    if not run.loan_level:
        raise NotFound("this forecast has no loan-level results (options.loan_level was false)")
    rows = await forecasts.scenario_rows(
        session, forecast_id=run.id, with_data=False, name=scenario
    )
    return run, rows[0]


@router.get(
    "/forecasts/{forecast_id}/loans",
    response_model=LoanPage,
    summary="Page through loan-level results",
)
async def get_loans(
    forecast_id: str,
    session: SessionDep,
    user: CurrentUser,
    scenario: Annotated[str | None, Query(description="Scenario name; default the first.")] = None,
    offset: OffsetQuery = 0,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> Response:
    """Per-loan totals (currency), principal, WAL (years) and, when requested at run time, the
    ending balance per period, for loans [offset, offset+limit) in pool order. Only the stored
    chunks holding those loans are read."""
    run, row = await _loan_scenario(session, user.user_id, forecast_id, scenario)
    table, total = await forecasts.loan_page(
        session, forecast_id=run.id, scenario_index=row.scenario_index, offset=offset, limit=limit
    )
    return NumpyJSONResponse(
        {
            "forecast_id": run.id,
            "scenario": row.name,
            "total": total,
            "offset": offset,
            "limit": limit,
            "columns": columnar.table_to_json_columns(table),
        }
    )


@router.get(
    "/forecasts/{forecast_id}/loans.parquet",
    summary="Download all loan-level results as Parquet (streamed)",
    response_class=StreamingResponse,
    responses={200: {"content": {PARQUET_MEDIA_TYPE: {}}, "description": "A Parquet file."}},
)
async def download_loans(
    forecast_id: str,
    request: Request,
    session: SessionDep,
    database: DatabaseDep,
    user: CurrentUser,
    scenario: Annotated[str | None, Query(description="Scenario name; default the first.")] = None,
) -> StreamingResponse:
    """The whole loan-level table of one scenario; each stored chunk is written as a row group
    and sent before the next is read, so memory stays at one chunk."""
    run, row = await _loan_scenario(session, user.user_id, forecast_id, scenario)
    stream = forecasts.stream_loans_parquet(
        database, forecast_id=run.id, scenario_index=row.scenario_index
    )
    filename = f"forecast-{run.id}-{row.name}-loans.parquet"
    return StreamingResponse(
        stream,
        media_type=PARQUET_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
