"""One call that installs the platform layer on the app: logging, Sentry, the result cache,
rate limits, CORS, trusted hosts, security headers, access logs and metrics (the app mounts
the GET /metrics router itself: core imports nothing from app.api).

Middleware order, outermost first (the foundation's request-id middleware wraps all of these, so
every log line and error has the request id; its body-size limit sits inside them):
observability (access log, metrics) -> security headers -> trusted hosts -> CORS -> rate limit.
CORS is outside the rate limit so a 429 still carries CORS headers and preflights are free.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI

from app.core.cache import CacheConfig, CacheService, set_cache
from app.core.logging import configure_logging
from app.core.observability import ObservabilityMiddleware, init_sentry
from app.core.ratelimit import (
    RateLimitConfig,
    RateLimitMiddleware,
    bearer_identifier,
    build_limiter,
)
from app.core.security import SecurityHeadersMiddleware, TrustedHostMiddleware, install_cors

__all__ = ["install_platform"]

log = logging.getLogger(__name__)


def _docs_paths(app: FastAPI) -> list[str]:
    return [p for p in (app.docs_url, app.redoc_url, app.swagger_ui_oauth2_redirect_url) if p]


def install_platform(app: FastAPI, settings: Any) -> None:
    """Install the platform layer. Call from create_app *before* adding the request-id
    middleware (Starlette's last-added middleware is the outermost)."""
    configure_logging(settings.log_level, settings.log_format, settings.env)
    sentry = init_sentry(settings, release=getattr(app, "version", None))
    if settings.env == "production" and "*" in settings.allowed_hosts:
        log.warning("ALLOWED_HOSTS is '*': any Host header is accepted; list the service's names")

    cache = CacheService(CacheConfig.from_settings(settings))
    set_cache(cache)
    app.state.cache = cache
    health_extras = getattr(app.state, "health_extras", None)
    if isinstance(health_extras, dict):
        health_extras["cache"] = cache.health

    exempt = {"/health", "/metrics", app.openapi_url or "", *_docs_paths(app)}
    rl_config = RateLimitConfig.from_settings(settings, exempt)
    limiter = build_limiter(rl_config)
    app.state.limiter = limiter
    app.add_middleware(
        RateLimitMiddleware,
        limiter=limiter,
        exempt_paths=exempt,
        identify=bearer_identifier(lambda scope: _verifier(scope, settings)),
        offload=not rl_config.storage_uri.startswith("memory"),
    )
    install_cors(app, list(settings.cors_origins), settings.cors_allow_credentials)
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=settings.allowed_hosts)
    app.add_middleware(
        SecurityHeadersMiddleware, docs_paths=_docs_paths(app), hsts_max_age=settings.hsts_max_age
    )
    app.add_middleware(ObservabilityMiddleware, sentry=sentry)


def _verifier(scope: Any, settings: Any) -> Any:
    if not settings.auth_configured:
        return None
    app = scope.get("app")
    return getattr(getattr(app, "state", None), "token_verifier", None)
