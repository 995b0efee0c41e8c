"""Consumer-credit API: loan types, one-call analysis (roll rates, pipeline with the engine's cash
flows, vintages, score migration, macro scenarios, revolving trust) and panel uploads."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, BackgroundTasks, File, Form, Request, Response, UploadFile

from app.api.deps import CurrentUser, SessionDep, SettingsDep
from app.api.v1._jobs import accepted
from app.api.v1._responses import ERRORS, NumpyJSONResponse
from app.api.v1.pools import _parse_map
from app.core.request_context import get_request_id
from app.models.consumer_credit import AnalyzeRequest, AnalyzeResponse, PanelOut
from app.models.jobs import JobAccepted
from app.services import consumer_credit
from app.services.jobs import Submitted

PREFIX = "/specialized-assets/consumer-credit"
router = APIRouter(prefix=PREFIX, tags=["consumer-credit"], responses=ERRORS)


@router.get("/loan-types", summary="List the consumer loan types")
async def loan_types(user: CurrentUser) -> Response:
    """Each loan type with `revolving`, its `parameters` and `default_assumptions` (annual
    decimals, months; auto loans prepay at an ABS speed, a monthly fraction of the count)."""
    return NumpyJSONResponse(consumer_credit.loan_types())


@router.post(
    "/analyze",
    response_model=AnalyzeResponse,
    summary="Analyse a consumer book: roll rates, pipeline, cash flows, vintages, migration, macro",
    responses={202: {"model": JobAccepted, "description": "A big panel (or `async`): a job."}},
)
async def analyze(
    body: AnalyzeRequest,
    request: Request,
    session: SessionDep,
    background: BackgroundTasks,
    user: CurrentUser,
    settings: SettingsDep,
) -> Response:
    """Return every part the inputs allow under `roll_rates`, `pipeline`, `vintages`,
    `score_migration`, `macro`, `revolving`, `cashflows`, `analytics` (null otherwise), with a
    `warnings` list. Matrices are rows = from-state; cash flows are the forecast's columns over
    months 1..N (end of month). Panels over `CONSUMER_CREDIT_SYNC_MAX_ROWS` rows, or
    `"async": true`, answer 202 with a `job_id` whose result is this response."""
    out = await consumer_credit.run_or_submit(
        session, owner_id=user.user_id, body=body, settings=settings, request_id=get_request_id()
    )
    if isinstance(out, Submitted):
        return accepted(request, background, out)
    return NumpyJSONResponse(out)


@router.post(
    "/panels", response_model=PanelOut, status_code=201, summary="Upload a performance panel"
)
async def upload_panel(
    session: SessionDep,
    user: CurrentUser,
    settings: SettingsDep,
    file: Annotated[
        UploadFile,
        File(description="CSV (header row) or Parquet: loan_id, period, state[, balance], ..."),
    ],
    name: Annotated[str | None, Form(max_length=200)] = None,
    column_map: Annotated[
        str | None, Form(description='JSON {"file column": "panel column"}')
    ] = None,
    format: Annotated[Literal["csv", "parquet"] | None, Form()] = None,
) -> Response:
    """Validate every row (duplicated (loan_id, period), negative balances, bad periods, moves
    out of charged_off/prepaid: a 422 naming the field and row) and store the panel; use the
    returned `panel_id` in POST .../analyze."""
    out = await consumer_credit.upload_panel(
        session,
        owner_id=user.user_id,
        name=name or file.filename or "panel",
        data=await file.read(),
        filename=file.filename,
        declared_format=format,
        column_map=_parse_map(column_map),
        settings=settings,
        request_id=get_request_id(),
    )
    return NumpyJSONResponse(out.model_dump(mode="json"), status_code=201)
