"""The FastAPI application: `create_app(settings)` builds it, `app` is what uvicorn serves."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app.api.metrics import router as metrics_router
from app.api.v1 import api_router
from app.api.v1.health import router as health_router
from app.api.ws import router as ws_router
from app.core.auth import LoopbackOnlyMiddleware, TokenVerifier, enforce_bind_policy
from app.core.config import Settings, get_settings
from app.core.db import Database
from app.core.errors import install_error_handlers
from app.core.platform import install_platform
from app.core.request_context import BodySizeLimitMiddleware, RequestContextMiddleware
from app.core.server_errors import CompleteResponseGuard
from app.services.demo import seed_demo_or_log
from app.services.warmup import warm_up_all
from app.tasks.dispatch import JobsRuntime
from app.ui import mount_ui

log = logging.getLogger(__name__)

VERSION = "0.1.0"
API_PREFIX = "/api/v1"

DESCRIPTION = """
Projects the cash flows of loan pools (SIFMA standard formulas: prepayment, default, severity,
recovery lag, servicer advancing), loan by loan, and values them.

* **Auth**: `Authorization: Bearer <Supabase access token>`. Every stored object belongs to the
  token's `sub`; another user's object answers 404. Every install also has a read-only demo
  pool `demo-pool` and demo scenario `demo-scenario` that anyone can read and run (writes answer
  403); the examples below use them, so each runs as it stands.
* **Unknown fields** are refused (422 naming the field), inside loans and nested objects too;
  the asset-class routes list their own loan fields in their schemas.
* **Errors**: `{"error": code, "detail": ..., "request_id": ...}`; 422 details list the field
  path (`loc`) of each problem. Every response carries `X-Request-ID`.
* **Units**: rates are decimals per year (`0.065`); PSA/SDA `speed` is a percent of the standard
  curve (`150`); terms and ages are months; money is in the pool's currency.
"""

TAGS = [
    {"name": "forecasts", "description": "Run pool cash-flow forecasts and read them back."},
    {"name": "pools", "description": "Upload loan tapes (CSV or Parquet) to reference by id."},
    {"name": "health", "description": "Liveness and dependency status."},
    {"name": "deals", "description": "Structured deals: waterfalls, coverage tests, ledgers."},
    {"name": "clo-cdo", "description": "CLO/CDO: quality tests, default simulation, tranches."},
    {
        "name": "consumer-credit",
        "description": "Consumer credit and auto loans: roll rates, pipelines, vintages, "
        "score migration, macro scenarios, revolving trusts.",
    },
    {
        "name": "commercial-loans",
        "description": "Commercial real-estate loans: DSCR/LTV stress, refinance test, "
        "concentration, correlated-default losses and cash flows.",
    },
    {"name": "session", "description": "Who the caller is (local user or verified token)."},
]


def _warm_up_engine() -> None:
    start = time.perf_counter()
    warm_up_all()  # a failed step only means that kernel compiles on its first request
    log.info("engine kernels ready in %.1f s", time.perf_counter() - start)


class CashflowApp(FastAPI):
    """FastAPI with `CompleteResponseGuard` outside Starlette's error middleware (a 500 never
    drops the keep-alive connection)."""

    def build_middleware_stack(self):  # type: ignore[no-untyped-def]
        return CompleteResponseGuard(super().build_middleware_stack())


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app for `settings` (default: the environment). Refuses an unsafe bind."""
    settings = settings or get_settings()
    enforce_bind_policy(settings)
    database = Database(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.should_migrate_on_start:
            await database.migrate()
        await seed_demo_or_log(database)
        if settings.engine_warmup:  # daemon thread: never delays start-up or shutdown
            threading.Thread(target=_warm_up_engine, name="engine-warmup", daemon=True).start()
        app.state.jobs = JobsRuntime(settings, database)  # job dispatch + progress hub
        await app.state.jobs.start()
        try:
            yield
        finally:
            await app.state.jobs.close()
            await database.dispose()

    app = CashflowApp(
        title="Credit Cashflow Engine",
        version=VERSION,
        description=DESCRIPTION,
        openapi_tags=TAGS,
        docs_url="/docs",
        redoc_url="/redoc",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.database = database
    app.state.token_verifier = TokenVerifier(settings)
    app.state.health_extras = {}

    install_error_handlers(app)
    app.add_middleware(
        BodySizeLimitMiddleware,
        default_limit=settings.max_body_bytes,
        upload_limit=settings.max_upload_bytes,
        upload_prefixes=(
            f"{API_PREFIX}/pools",
            f"{API_PREFIX}/specialized-assets/consumer-credit/panels",
        ),
    )
    install_platform(app, settings)  # logs, Sentry, cache, rate limits, headers, metrics
    if not settings.auth_configured:  # whatever uvicorn was told to bind, serve loopback only
        app.add_middleware(LoopbackOnlyMiddleware)
    app.add_middleware(RequestContextMiddleware)  # added last = outermost

    if settings.metrics_enabled:
        app.include_router(metrics_router)
    app.include_router(health_router)
    app.include_router(api_router, prefix=API_PREFIX)
    app.include_router(ws_router)
    mount_ui(app, settings)  # the dashboard at /ui (static files built from ui/)
    return app


def __getattr__(name: str) -> FastAPI:
    """`app.main:app` for uvicorn, built on first access so importing create_app is side-effect free."""
    if name == "app":
        application = create_app()
        globals()["app"] = application
        return application
    raise AttributeError(name)
