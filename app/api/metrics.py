"""GET /metrics: Prometheus exposition of the service's metrics (all workers in multiprocess
mode). Mounted at the root, outside /api/v1, where scrapers expect it."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from app.core.metrics import CONTENT_TYPE_LATEST, render_metrics

router = APIRouter(tags=["health"])


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Exposition text."}},
)
def metrics() -> Response:
    """Request counts and latency by route template and status, engine throughput, cache hits
    and misses, rate-limit rejections and job counts, in the Prometheus text format."""
    return Response(render_metrics(), media_type=CONTENT_TYPE_LATEST)
