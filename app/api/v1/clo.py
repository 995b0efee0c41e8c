"""CLO/CDO API: collateral quality and coverage tests, the deal over its assets, the copula
Monte Carlo, and tranche analytics."""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, Request, Response

from app.api.deps import CurrentUser, SessionDep, SettingsDep
from app.api.v1._responses import ERRORS, NumpyJSONResponse
from app.api.v1.jobs import accept_as_job
from app.models.clo import CloAnalyzeRequest, CloResponse, CloTrancheAnalysisRequest
from app.models.jobs import JobAccepted
from app.services import clo, clo_simulation, clo_tranches

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
    if body.simulation is not None and body.deal is not None:
        setup = clo.build_setup(body, settings)
        clo_simulation.check(setup, body, settings)  # a bad simulation is refused before a job
        if body.async_ or clo_simulation.work(setup, body) > settings.clo_mc_sync_max_work:
            payload = body.model_dump(mode="json", by_alias=True, exclude_unset=True,
                                      exclude={"async_"})
            return await accept_as_job(request, session, background, owner_id=user.user_id,
                                       kind="clo_monte_carlo", payload=payload)
    return NumpyJSONResponse(clo_simulation.analyze_with_simulation(body, settings))


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
