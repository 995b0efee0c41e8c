"""GET /metrics: Prometheus exposition of the service's metrics (all workers in multiprocess
mode). Mounted at the root, outside /api/v1, where scrapers expect it."""

from __future__ import annotations

import hmac
import ipaddress

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.api.v1._responses import error_doc
from app.core.config import Settings
from app.core.errors import Forbidden
from app.core.metrics import CONTENT_TYPE_LATEST, render_metrics


def metrics_allowed(request: Request, settings: Settings) -> bool:
    """A client in METRICS_ALLOW, or one that shows METRICS_TOKEN as a bearer token."""
    if "*" in settings.metrics_allow:
        return True
    if settings.metrics_token:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(
            token.strip().encode(), settings.metrics_token.encode()
        ):
            return True
    client = request.scope.get("client")
    if not client:
        return True  # in-process call without a peer (test transport)
    try:
        address = ipaddress.ip_address(str(client[0]))
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(n, strict=False) for n in settings.metrics_allow)

router = APIRouter(tags=["health"])


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={
        200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Exposition text."},
        403: error_doc("Client not in METRICS_ALLOW and no valid METRICS_TOKEN."),
    },
)
def metrics(request: Request) -> Response:
    """Request counts and latency by route template and status, engine throughput, cache hits
    and misses, rate-limit rejections and job counts, in the Prometheus text format."""
    if not metrics_allowed(request, request.app.state.settings):
        raise Forbidden("metrics are served to METRICS_ALLOW networks or with METRICS_TOKEN")
    return Response(render_metrics(), media_type=CONTENT_TYPE_LATEST)
