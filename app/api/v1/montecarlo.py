"""Monte Carlo API: distributions, OAS and effective duration over simulated rate paths."""

from __future__ import annotations

from fastapi import APIRouter, Response

from app.api.deps import CurrentUser, SettingsDep
from app.api.v1._responses import ERRORS, NumpyJSONResponse
from app.models.montecarlo import MonteCarloIn, MonteCarloOut
from app.services import montecarlo

router = APIRouter(tags=["monte-carlo"], responses=ERRORS)


@router.post(
    "/cashflow/monte-carlo",
    response_model=MonteCarloOut,
    summary="Run a Monte Carlo projection with OAS",
    response_description="Distributions of PV, WAL, cumulative loss and yield over the paths; "
    "OAS, Z-spread, option cost and effective duration/convexity when a price is given.",
)
async def run_monte_carlo(body: MonteCarloIn, user: CurrentUser, settings: SettingsDep) -> Response:
    """Simulate short-rate paths (Hull-White fitted to `curve`, or Vasicek/CIR), project the
    rep-lines under rate-driven prepayment on each path, and report distributions.

    Seeded: the same body gives the same numbers. Spreads are continuously compounded annual
    decimals over the path short rates (OAS) or the curve's zero rates (Z-spread). Runs above
    the server's `MONTE_CARLO_SYNC_MAX_CELLS` (paths × months × rep-lines) are refused here
    and belong to the jobs API.
    """
    return NumpyJSONResponse(await montecarlo.run_direct(body=body, settings=settings))
