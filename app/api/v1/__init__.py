"""Version 1 of the HTTP API: every router under /api/v1 is included here, one line each."""

from fastapi import APIRouter

from app.api.v1 import analytics, forecasts, jobs, montecarlo, pools, scenarios, session

api_router = APIRouter()
api_router.include_router(forecasts.router)
api_router.include_router(pools.router)
api_router.include_router(jobs.router)
api_router.include_router(scenarios.router)
api_router.include_router(montecarlo.router)
api_router.include_router(analytics.router)
api_router.include_router(session.router)
