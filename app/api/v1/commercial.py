"""Commercial real-estate loans API: the property-type table and the one-call analysis."""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, Request, Response

from app.api.deps import CurrentUser, SessionDep, SettingsDep
from app.api.v1._jobs import accepted
from app.api.v1._responses import ERRORS, NumpyJSONResponse
from app.core.request_context import get_request_id
from app.models.commercial import CommercialAnalyzeIn, PropertyTypeOut
from app.models.jobs import JobAccepted
from app.services import commercial
from app.services.jobs import Submitted

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
    responses={
        202: {"model": JobAccepted, "description": "A large (or `async`) Monte Carlo: a job."}
    },
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
    out = await commercial.run_or_submit(
        session, owner_id=user.user_id, body=body, settings=settings, request_id=get_request_id()
    )
    if isinstance(out, Submitted):
        return accepted(request, background, out)
    return NumpyJSONResponse(out)
