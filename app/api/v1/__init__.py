"""Version 1 of the HTTP API: every router under /api/v1 is included here, one line each."""

from fastapi import APIRouter

from app.api.v1 import (
    analytics,
    clo,
    commercial,
    consumer_credit,
    deals,
    forecasts,
    jobs,
    montecarlo,
    pools,
    scenarios,
    session,
)

api_router = APIRouter()
api_router.include_router(forecasts.router)
api_router.include_router(pools.router)
api_router.include_router(jobs.router)
api_router.include_router(scenarios.router)
api_router.include_router(montecarlo.router)
api_router.include_router(analytics.router)
api_router.include_router(deals.router)
api_router.include_router(clo.router)
api_router.include_router(consumer_credit.router)
api_router.include_router(commercial.router)
api_router.include_router(session.router)
