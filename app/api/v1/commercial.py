"""Commercial real-estate loans API: the property-type table and the one-call analysis."""

from __future__ import annotations

import anyio
from fastapi import APIRouter, BackgroundTasks, Request, Response

from app.api.deps import CurrentUser, SessionDep, SettingsDep
from app.api.v1._responses import ERRORS, NumpyJSONResponse
from app.api.v1.jobs import accept_as_job
from app.models.commercial import CommercialAnalyzeIn, PropertyTypeOut
from app.models.jobs import JobAccepted
from app.services import commercial

router = APIRouter(
    prefix="/specialized-assets/commercial-loans", tags=["commercial-loans"], responses=ERRORS
)


@router.get(
    "/property-types",
    response_model=list[PropertyTypeOut],
    summary="Property types and their default assumptions",
)
async def list_property_types(user: CurrentUser) -> Response:
    """Each property type with its default cap rate, NOI volatility, severity, liquidation months
    and copula correlation (decimals; months), and where each default comes from."""
    return NumpyJSONResponse(commercial.property_types())


@router.post(
    "/analyze",
    summary="Analyze a commercial book: DSCR/LTV stress, maturity, concentration, losses",
    response_description="`loans`, `metrics_through_time`, `stress`, `maturity`, `concentration`, "
    "`portfolio_loss` (with `vasicek`), `cashflows`, `analytics`, `warnings`.",
    responses={202: {"model": JobAccepted, "description": "A large (or `async`) Monte Carlo: a job."}},
)
async def analyze(
    body: CommercialAnalyzeIn,
    request: Request,
    session: SessionDep,
    background: BackgroundTasks,
    user: CurrentUser,
    settings: SettingsDep,
) -> Response:
    """Per-loan DSCR (NOI / annual debt service, interest-only or amortising as in force), LTV
    and debt yield today and along the schedule; the NOI-haircut x cap-rate-shift grid and
    named stresses; the refinance test of balloons; concentration (HHI, top 10, shares);
    loan-level cash flows under the term/maturity default and severity models; and, with
    `portfolio_loss`, the Gaussian-copula loss distribution beside Vasicek's closed form.
    Copula runs above `COMMERCIAL_SYNC_MAX_DRAWS` (paths x loans), or with `"async": true`,
    answer 202 with a job (same numbers as one run)."""
    pool = await commercial.load_pool(session, owner_id=user.user_id, ref=body.pool, settings=settings)
    form = next(k for k in ("loans", "columns", "pool_id") if getattr(body.pool, k) is not None)
    loans = await anyio.to_thread.run_sync(commercial.loans_of, pool, form)
    named = await commercial.resolve_named(session, owner_id=user.user_id, body=body)
    options = commercial.options_of(body, named)
    if body.portfolio_loss is not None and (
        body.async_ or commercial.draws(body, len(loans)) > settings.commercial_sync_max_draws
    ):
        await anyio.to_thread.run_sync(commercial.check_portfolio, loans, options, form)
        return await accept_as_job(
            request, session, background, owner_id=user.user_id, kind=commercial.KIND,
            payload=commercial.job_payload(body, pool, named),
        )
    result = await anyio.to_thread.run_sync(commercial.run, loans, options, form)
    result["warnings"] = commercial.io_balloon_warnings(body.pool) + result["warnings"]
    return NumpyJSONResponse(result)
