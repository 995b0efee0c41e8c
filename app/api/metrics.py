"""GET /metrics: Prometheus exposition of the service's metrics (all workers in multiprocess
mode). Mounted at the root, outside /api/v1, where scrapers expect it.

Each scrape first reads the job queue from the database (jobs per active state, age of the
oldest queued job) and the embedded pool's size into their gauges; a slow or failing database
leaves the previous values (the scrape itself never fails because of it)."""

from __future__ import annotations

import hmac
import ipaddress
import logging

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.api.v1._responses import error_doc
from app.core.config import Settings
from app.core.errors import Forbidden
from app.core.metrics import CONTENT_TYPE_LATEST, render_metrics, set_job_queue, set_job_workers
from app.services.jobs.lifecycle import queue_snapshot


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
log = logging.getLogger(__name__)


async def _refresh_job_gauges(request: Request) -> None:
    state = request.app.state
    settings = getattr(state, "settings", None)
    jobs = getattr(state, "jobs", None)
    if jobs is not None and settings is not None and jobs.embedded:
        set_job_workers("embedded", settings.jobs_embedded_workers)
    database = getattr(state, "database", None)
    if database is None:
        return
    timeout = float(getattr(settings, "health_timeout_seconds", 2.0))
    try:
        with anyio.fail_after(timeout):
            async with database.session() as session:
                depth, oldest_age = await queue_snapshot(session)
    except Exception as exc:  # noqa: BLE001 - keep the previous values, still answer
        log.debug("job queue gauges not refreshed: %s", exc)
        return
    set_job_queue(depth, oldest_age)


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={
        200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Exposition text."},
        403: error_doc("Client not in METRICS_ALLOW and no valid METRICS_TOKEN."),
    },
)
async def metrics(request: Request) -> Response:
    """Request counts and latency by route template and status, engine throughput (loan-periods,
    loans, Monte Carlo paths), cache hits and misses, rate-limit rejections, job counts,
    durations, queue depth and age, and worker count, in the Prometheus text format."""
    if not metrics_allowed(request, request.app.state.settings):
        raise Forbidden("metrics are served to METRICS_ALLOW networks or with METRICS_TOKEN")
    await _refresh_job_gauges(request)
    body = await anyio.to_thread.run_sync(render_metrics)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
