"""X-Request-ID: a well-formed caller id is echoed, anything else is replaced by a fresh id."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from app.core.request_context import RequestContextMiddleware, is_valid_request_id


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("3f2b8c1e9a4d4f7e8b1c2d3e4f5a6b7c", True),
        ("req-2026.11.27:abc_1", True),
        ("short", False),
        ("x" * 129, False),
        ("has space in it", False),
        ("inject\r\nheader", False),
        ("-leading-dash-123", False),
        ("", False),
        (None, False),
    ],
)
def test_request_id_format(value, ok) -> None:
    assert is_valid_request_id(value) is ok


async def test_request_id_echoed_or_generated(client) -> None:
    resp = await client.get("/health", headers={"X-Request-ID": "client-id-0001"})
    assert resp.headers["X-Request-ID"] == "client-id-0001"
    resp = await client.get("/health", headers={"X-Request-ID": "bad id!"})
    generated = resp.headers["X-Request-ID"]
    assert generated != "bad id!" and is_valid_request_id(generated)
    again = await client.get("/health")
    assert again.headers["X-Request-ID"] != generated
    missing = await client.get("/api/v1/definitely-not-here")
    assert missing.status_code == 404
    assert missing.json()["request_id"] == missing.headers["X-Request-ID"]


async def test_server_timing_is_the_apps_own_time() -> None:
    """`Server-Timing: app;dur=<ms>` covers the handler (a 60 ms sleep) and not more than the
    client saw; errors carry it too."""

    async def slow(_request):  # type: ignore[no-untyped-def]
        await asyncio.sleep(0.06)
        return PlainTextResponse("ok")

    async def boom(_request):  # type: ignore[no-untyped-def]
        return PlainTextResponse("no", status_code=404)

    app = RequestContextMiddleware(Starlette(routes=[Route("/slow", slow), Route("/boom", boom)]))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        t0 = time.perf_counter()
        resp = await c.get("/slow")
        client_ms = (time.perf_counter() - t0) * 1e3
        name, dur = resp.headers["Server-Timing"].split(";dur=")
        assert name == "app"
        assert 60.0 <= float(dur) <= client_ms
        assert (await c.get("/boom")).headers["Server-Timing"].startswith("app;dur=")
