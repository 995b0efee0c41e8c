"""Structured deals API: run a deal's waterfall over its collateral."""

from __future__ import annotations

from fastapi import APIRouter, Response

from app.api.deps import CurrentUser, SessionDep, SettingsDep
from app.api.v1._responses import ERRORS, NumpyJSONResponse
from app.models.deals import DealRunRequest, DealRunResponse
from app.services import deals

router = APIRouter(tags=["deals"], responses=ERRORS)


@router.post(
    "/deals/run",
    response_model=DealRunResponse,
    summary="Run a deal's waterfall",
    response_description="Bond statements, test, fee and account ledgers and the collateral, "
    "as columns over periods 1..N, with the cash-conservation check.",
)
async def run_deal(
    body: DealRunRequest, session: SessionDep, user: CurrentUser, settings: SettingsDep
) -> Response:
    """Run any deal (ABS, RMBS, CLO) in the deal contract over given `collateral_cashflows`
    or a `pool` projected under `assumptions`; `scenarios` run it several times.

    Steps run in order each period, each drawing from its `source` (interest or principal
    collections). Coupons accrue on the balance at the start of the period under the tranche's
    day count; OC/IC tests are evaluated where their cure step stands (or after the waterfall);
    cash in equals cash out every period (`checks`). A bad deal is a 422 naming its path
    (`deal.waterfall[3].tranches[0]`) and the reason. See docs/methodology/deals.md.
    """
    result = await deals.run_request(body, settings, session=session, owner_id=user.user_id)
    return NumpyJSONResponse(result)
