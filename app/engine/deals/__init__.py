"""Structured deals: a deal schema, its waterfall (a Numba kernel and a readable twin) and the
run that checks cash conservation every period (docs/methodology/deals.md)."""

from app.engine.deals.parse import DealError, parse_collateral, parse_deal
from app.engine.deals.run import DealResult, run_deal
from app.engine.deals.schema import CollateralFlows, Deal

__all__ = [
    "CollateralFlows",
    "Deal",
    "DealError",
    "DealResult",
    "parse_collateral",
    "parse_deal",
    "run_deal",
]
