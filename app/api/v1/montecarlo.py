"""Monte Carlo API: distributions, OAS and effective duration over simulated rate paths."""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, Request, Response

from app.api.deps import CurrentUser, SessionDep, SettingsDep
from app.api.v1._jobs import accepted
from app.api.v1._responses import ERRORS, NumpyJSONResponse
from app.core.request_context import get_request_id
from app.models.jobs import JobAccepted
from app.models.montecarlo import MonteCarloIn, MonteCarloOut
from app.services import montecarlo
from app.services.jobs import Submitted

router = APIRouter(tags=["monte-carlo"], responses=ERRORS)


@router.post(
    "/cashflow/monte-carlo",
    response_model=MonteCarloOut,
    summary="Run a Monte Carlo projection with OAS",
    response_description="Distributions of PV, WAL, cumulative loss and yield over the paths; "
    "OAS, Z-spread, option cost and effective duration/convexity when a price is given.",
    responses={202: {"model": JobAccepted, "description": "A large (or `async`) run: a job."}},
)
async def run_monte_carlo(
    body: MonteCarloIn,
    request: Request,
    session: SessionDep,
    background: BackgroundTasks,
    user: CurrentUser,
    settings: SettingsDep,
) -> Response:
    """Simulate short-rate paths (Hull-White fitted to `curve`, or Vasicek/CIR), project the
    rep-lines under rate-driven prepayment on each path, and report distributions.

    Seeded: the same body gives the same numbers. Spreads are continuously compounded annual
    decimals over the path short rates (OAS) or the curve's zero rates (Z-spread). Runs above
    the server's `MONTE_CARLO_SYNC_MAX_CELLS` (paths × months × rep-lines), or with
    `"async": true`, answer 202 with a `job_id`: the run is split into chunks that workers
    compute (same numbers as one run), followed at /api/v1/jobs/{job_id} or WS /ws/updates.
    """
    out = await montecarlo.run_or_submit(
        session,
        body=body,
        owner_id=user.user_id,
        settings=settings,
        request_id=get_request_id(),
        force_job=body.async_,
    )
    if isinstance(out, Submitted):
        return accepted(request, background, out)
    return NumpyJSONResponse(out)
