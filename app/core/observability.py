"""Request observability: the access log line and HTTP metrics of every request
(``ObservabilityMiddleware``), and Sentry error reporting (``init_sentry``).

Sentry events carry the request id and user id as tags and never carry credentials or loan
data: request bodies are never attached, frame local variables are off, the Authorization,
Cookie and API-key headers are removed, token-like query parameters are redacted, and Redis
breadcrumbs (which would include cached values) are dropped.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any

from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core import metrics
from app.core.request_context import get_request_id, get_user_id

__all__ = ["ObservabilityMiddleware", "init_sentry", "scrub_event"]

access_log = logging.getLogger("app.access")
_QUIET_PATHS = frozenset({"/health", "/metrics"})
_SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "apikey"}
)
_SECRET_QUERY = re.compile(r"(?i)\b(access_token|token|api_key|apikey|key|secret|password)=[^&]*")
_REDACTED = "[redacted]"


def _route_template(scope: Scope) -> str:
    """The matched route's template (``/api/v1/forecasts/{forecast_id}``), never the raw path:
    ids in label values would explode the metric cardinality."""
    route = scope.get("route")
    if route is None:
        # Answered before routing (429, 413, bad host, preflight): match it now.
        app = scope.get("app")
        for candidate in getattr(app, "routes", ()):
            match, _ = candidate.matches(scope)
            if match == Match.FULL:
                route = candidate
                break
    path = getattr(route, "path_format", None) or getattr(route, "path", None)
    return path or "<unmatched>"


class ObservabilityMiddleware:
    """Counts and times each request by route template and status, and writes one access line
    (``app.access``: method, route, path, status, duration_ms, client, request_id, user_id)."""

    def __init__(self, app: ASGIApp, *, sentry: bool = False) -> None:
        self.app = app
        self.sentry = sentry

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500
        if self.sentry:
            rid = get_request_id()
            if rid:
                import sentry_sdk  # imported only when Sentry is on (SENTRY_DSN)

                sentry_sdk.set_tag("request_id", rid)

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        metrics.HTTP_IN_FLIGHT.inc()
        failed = False
        try:
            await self.app(scope, receive, record_status)
        except Exception:
            failed = True
            raise
        finally:
            metrics.HTTP_IN_FLIGHT.dec()
            seconds = time.perf_counter() - start
            route = _route_template(scope)
            metrics.observe_http_request(scope["method"], route, status, seconds)
            state = scope.get("state") or {}
            user_id = state.get("user_id") or get_user_id()
            client = scope.get("client")
            level = (
                logging.DEBUG if scope["path"] in _QUIET_PATHS and status < 400 else logging.INFO
            )
            if failed or status >= 500:
                level = logging.ERROR
            access_log.log(
                level,
                "%s %s %d %.1fms",
                scope["method"],
                route,
                status,
                seconds * 1000,
                extra={
                    "method": scope["method"],
                    "route": route,
                    "path": scope["path"],
                    "status": status,
                    "duration_ms": round(seconds * 1000, 3),
                    "client": client[0] if client else None,
                    "request_id": state.get("request_id") or get_request_id(),
                    "user_id": user_id,
                },
            )


# ------------------------------------------------------------------------------------ Sentry
def _scrub_headers(headers: Any) -> Any:
    if isinstance(headers, dict):
        return {k: v for k, v in headers.items() if k.lower() not in _SECRET_HEADERS}
    if isinstance(headers, list):
        return [h for h in headers if not (h and str(h[0]).lower() in _SECRET_HEADERS)]
    return headers


def scrub_event(event: dict[str, Any], hint: dict[str, Any] | None = None) -> dict[str, Any]:
    """Sentry ``before_send``: add request/user id tags, strip credentials and payloads."""
    tags = event.setdefault("tags", {})
    if isinstance(tags, dict):
        rid, uid = get_request_id(), get_user_id()
        if rid:
            tags.setdefault("request_id", rid)
        if uid:
            tags.setdefault("user_id", uid)
    request = event.get("request")
    if isinstance(request, dict):
        request.pop("data", None)  # bodies carry loan tapes and assumptions
        request.pop("cookies", None)
        if "headers" in request:
            request["headers"] = _scrub_headers(request["headers"])
        if isinstance(request.get("query_string"), str):
            request["query_string"] = _SECRET_QUERY.sub(
                lambda m: f"{m.group(1)}={_REDACTED}", request["query_string"]
            )
    meta = event.get("_meta")
    if isinstance(meta, dict):
        meta.pop("request", None)  # annotations naming the removed headers and body
    user = event.get("user")
    if isinstance(user, dict):  # keep the pseudonymous id only
        event["user"] = {"id": user["id"]} if "id" in user else {}
    for crumb in (
        (event.get("breadcrumbs") or {}).get("values", [])
        if isinstance(event.get("breadcrumbs"), dict)
        else []
    ):
        if isinstance(crumb, dict) and isinstance(crumb.get("data"), dict):
            crumb["data"] = {
                k: v for k, v in crumb["data"].items() if k.lower() not in _SECRET_HEADERS
            }
    return event


def _scrub_breadcrumb(
    crumb: dict[str, Any], hint: dict[str, Any] | None = None
) -> dict[str, Any] | None:
    if crumb.get("category") == "redis":
        return None  # redis command breadcrumbs can contain cached results
    return crumb


def init_sentry(settings: Any, *, release: str | None = None, transport: Any = None) -> bool:
    """Initialise Sentry when ``SENTRY_DSN`` is set; returns whether it was."""
    dsn = getattr(settings, "sentry_dsn", None)
    if not dsn:
        return False
    options: dict[str, Any] = {
        "dsn": dsn,
        "environment": getattr(settings, "sentry_environment", None) or settings.env,
        "release": release,
        # No user identity beyond the id tag, no bodies (loan tapes), no frame variables (loan
        # arrays, tokens), no SQL parameters. Supersedes the deprecated send_default_pii.
        "data_collection": {
            "user_info": False,
            "http_bodies": [],
            "stack_frame_variables": False,
            "database_query_data": False,
        },
        "include_local_variables": False,
        "max_request_body_size": "never",
        "traces_sample_rate": getattr(settings, "sentry_traces_sample_rate", 0.0),
        "before_send": scrub_event,
        "before_send_transaction": scrub_event,
        "before_breadcrumb": _scrub_breadcrumb,
    }
    if transport is not None:
        options["transport"] = transport
    import sentry_sdk  # imported only when Sentry is on: ~0.3 s off the start otherwise

    sentry_sdk.init(**options)
    return True
