"""GET /health: is the service able to serve, and is each configured dependency up?

The database is required (503 when it is down). Redis and the Celery broker are reported when
configured; when one of them is down the service still serves (the cache falls back to computing,
jobs run in-process) so the answer is 200 with status "degraded". Other modules may add their
own entries with `register_health_check` (e.g. cache statistics).
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any, Literal
from urllib.parse import urlsplit

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from app.core.config import Settings
from app.core.db import Database

router = APIRouter(tags=["health"])

HealthCheck = Callable[[], Awaitable[dict[str, Any]] | dict[str, Any]]


class DependencyStatus(BaseModel):
    status: Literal["up", "down"]
    latency_ms: float | None = Field(None, description="Round-trip time of the probe, ms.")
    error: str | None = Field(None, description="Why the probe failed (no secrets).")


class HealthResponse(BaseModel):
    status: Literal["ok", "degraded", "unavailable"] = Field(
        description="ok: all up; degraded: an optional dependency is down; unavailable: 503."
    )
    version: str
    checks: dict[str, DependencyStatus]
    details: dict[str, Any] = Field(default_factory=dict)

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "status": "ok",
                    "version": "0.1.0",
                    "checks": {
                        "database": {"status": "up", "latency_ms": 0.8},
                        "redis": {"status": "up", "latency_ms": 0.4},
                    },
                    "details": {},
                }
            ]
        }
    }


def register_health_check(app: FastAPI, name: str, check: HealthCheck) -> None:
    """Add `name: check()` to the `details` of GET /health (never fails the probe)."""
    app.state.health_extras[name] = check


async def _timed(probe: Callable[[], Awaitable[Any]], timeout: float) -> DependencyStatus:
    start = time.perf_counter()
    try:
        await asyncio.wait_for(probe(), timeout)
    except Exception as exc:  # a probe failure is a report, never an error of /health
        reason = "timeout" if isinstance(exc, TimeoutError) else type(exc).__name__
        return DependencyStatus(status="down", error=reason)
    return DependencyStatus(status="up", latency_ms=round((time.perf_counter() - start) * 1e3, 3))


async def _redis_ping(url: str, timeout: float) -> None:
    import redis.asyncio as aioredis

    client = aioredis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
    try:
        await client.ping()
    finally:
        await client.aclose()


async def _amqp_ping(url: str, timeout: float) -> None:
    """Open a TCP connection, send the AMQP 0-9-1 header and expect a Connection.Start frame."""
    parts = urlsplit(url)
    host, port = (
        parts.hostname or "localhost",
        parts.port or (5671 if parts.scheme == "amqps" else 5672),
    )
    if parts.scheme == "amqps":
        reader, writer = await asyncio.open_connection(host, port, ssl=True)
    else:
        reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(b"AMQP\x00\x00\x09\x01")
        await writer.drain()
        frame = await reader.read(1)
        if frame != b"\x01":
            raise ConnectionError("not an AMQP 0-9-1 broker")
    finally:
        writer.close()


async def _broker_probe(url: str, timeout: float) -> None:
    scheme = urlsplit(url).scheme
    if scheme.startswith("redis") or scheme == "rediss":
        await _redis_ping(url, timeout)
    elif scheme.startswith("amqp") or scheme.startswith("pyamqp"):
        await _amqp_ping(url.replace("pyamqp", "amqp", 1), timeout)
    else:
        raise ValueError(f"unsupported broker scheme {scheme}")


@router.get(
    "/health",
    response_model=HealthResponse,
    summary="Service and dependency health",
    responses={503: {"model": HealthResponse, "description": "The database is down."}},
)
async def health(request: Request) -> JSONResponse:
    """Database, Redis and broker status with probe latency; 200 when the service can serve."""
    settings: Settings = request.app.state.settings
    db: Database = request.app.state.database
    timeout = settings.health_timeout_seconds
    probes: dict[str, Callable[[], Awaitable[Any]]] = {"database": db.ping}
    redis_url = settings.effective_redis_url
    if redis_url:
        probes["redis"] = lambda: _redis_ping(redis_url, timeout)
    broker = settings.celery_broker_url
    if broker:
        probes["broker"] = lambda: _broker_probe(broker, timeout)
    names = list(probes)
    results = await asyncio.gather(*(_timed(probes[n], timeout) for n in names))
    checks = dict(zip(names, results, strict=True))
    details: dict[str, Any] = {}
    for name, extra in getattr(request.app.state, "health_extras", {}).items():
        try:
            value = extra()
            details[name] = await value if inspect.isawaitable(value) else value
        except Exception as exc:
            details[name] = {"error": type(exc).__name__}
    if checks["database"].status == "down":
        status, code = "unavailable", 503
    elif any(c.status == "down" for c in checks.values()):
        status, code = "degraded", 200
    else:
        status, code = "ok", 200
    body = HealthResponse(
        status=status, version=request.app.version, checks=checks, details=details
    )
    return JSONResponse(body.model_dump(mode="json"), status_code=code)
