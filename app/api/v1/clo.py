"""CLO/CDO API: collateral quality and coverage tests, the deal over its assets, the copula
Monte Carlo, and tranche analytics."""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, Request, Response

from app.api.deps import CurrentUser, SessionDep, SettingsDep
from app.api.v1._jobs import accepted
from app.api.v1._responses import ERRORS, NumpyJSONResponse
from app.core.request_context import get_request_id
from app.models.clo import CloAnalyzeRequest, CloResponse, CloTrancheAnalysisRequest
from app.models.jobs import JobAccepted
from app.services import clo_simulation, clo_tranches
from app.services.jobs import Submitted

router = APIRouter(tags=["clo-cdo"], responses=ERRORS)
PREFIX = "/specialized-assets/clo-cdo"


@router.post(
    f"{PREFIX}/analyze",
    response_model=CloResponse,
    summary="Analyse a CLO/CDO: quality tests, deal statements, default simulation",
    response_description="quality_tests {warf, was, wac, wal, diversity_score, caa_share}, each "
    "{value, trigger, passed}; the deal's statements in the deals/run form; the simulation.",
    responses={202: {"model": JobAccepted, "description": "A large (or `async`) simulation."}},
)
async def analyze(
    body: CloAnalyzeRequest,
    request: Request,
    session: SessionDep,
    background: BackgroundTasks,
    user: CurrentUser,
    settings: SettingsDep,
) -> Response:
    """Collateral quality tests (WARF on Moody's rating factors, WAS and WAC as decimals, WAL in
    years, Moody's diversity score, Caa share) with their triggers; with a `deal`, the
    waterfall over the projected assets (CPR/CDR assumptions, reinvestment under its
    eligibility, OC numerators with the Caa excess at market value and defaulted assets at
    min(market, recovery), optional call). With `simulation`, a one-factor Gaussian copula
    Monte Carlo of asset defaults gives per-tranche loss distributions and the equity IRR
    distribution; large runs (or `async`) answer 202 with a job id.
    """
    out = await clo_simulation.run_or_submit(
        session, owner_id=user.user_id, body=body, settings=settings, request_id=get_request_id()
    )
    if isinstance(out, Submitted):
        return accepted(request, background, out)
    return NumpyJSONResponse(out)


@router.post(
    f"{PREFIX}/tranche-analysis",
    summary="Tranche analytics: yield, WAL, duration, discount margin, break-even CDR",
    response_description="Per tranche: yield, WAL, modified duration, discount margin "
    "(floaters), break-even CDR; OC/IC cushion paths.",
)
async def tranche_analysis(
    body: CloTrancheAnalysisRequest, user: CurrentUser, settings: SettingsDep
) -> Response:
    """Per tranche, at the request's CPR/CDR: yield (monthly compounded, 30/360 periods) at
    its price, WAL in years, modified duration, discount margin for floaters over the index
    path, and the break-even CDR (the constant default rate at which the tranche first loses
    more than `breakeven_tolerance`, by root-finding on the engine); test cushions
    (value − trigger) per period.
    """
    return NumpyJSONResponse(clo_tranches.tranche_analysis(body, settings))
