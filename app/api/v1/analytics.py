"""Analytics API: yields, durations, spreads and the rest of one cash-flow vector."""

from __future__ import annotations

from fastapi import APIRouter

from app.api.deps import CurrentUser
from app.api.v1._responses import ERRORS
from app.models.analytics import CashflowAnalyticsRequest, CashflowAnalyticsResponse
from app.services import analytics
from app.services.result_cache import cached_result

router = APIRouter(tags=["analytics"], responses=ERRORS)


@router.post(
    "/analytics/cashflows",
    response_model=CashflowAnalyticsResponse,
    summary="Analytics of a cash-flow vector",
    response_description="Every measure that applies; null where it does not.",
)
async def cashflow_analytics(
    body: CashflowAnalyticsRequest, user: CurrentUser
) -> CashflowAnalyticsResponse:
    """NPV, IRR, XIRR, yield, Macaulay/modified duration, convexity, WAL, DV01, Z-spread and
    effective duration/convexity of the given cash flows (DOMAIN.md §5 conventions).

    Cash flows are dated (year fractions from `settlement_date` under `day_count`) or given by
    `period` (t = period / `frequency` years). `discount_rate` and `yield` compound as
    `compounding` at `frequency`; `irr` is the periodic IRR × `frequency`; `xirr` is Excel's
    (annual, ACT/365F). The curve holds continuously compounded ACT/365F zero rates; the
    Z-spread is in `spread_compounding`/`spread_frequency`; effective measures shift the curve
    by ± `bump`. A `price` (dirty, same units as the amounts) gives yield, Z-spread and the IRR
    of buying at that price. Bad input is a 422 naming the field.
    """
    result = await cached_result(  # cached by the hash of the full request body
        "analytics", body, lambda: analytics.compute_cashflow_analytics(body).model_dump()
    )
    return CashflowAnalyticsResponse.model_validate(result)
