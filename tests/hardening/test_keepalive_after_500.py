"""A 500 is a complete response and leaves the keep-alive connection usable (issue 12 item 2),
over a real uvicorn server on loopback (the in-process transport cannot show a dropped socket)."""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlsplit

from app.main import create_app
from tests.conftest import make_settings
from tests.hardening._server import serving


def _app(tmp_path):
    app = create_app(make_settings(tmp_path, rate_limit_enabled=False))

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("an unexpected bug")

    return app


def test_500_then_next_request_on_same_connection(tmp_path) -> None:
    with serving(_app(tmp_path)) as base:
        parts = urlsplit(base)
        assert parts.hostname is not None
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        try:
            conn.request("GET", "/boom")
            first = conn.getresponse()
            body = json.loads(first.read())
            assert first.status == 500
            assert body["error"] == "internal_error" and "an unexpected bug" not in str(body)
            assert first.getheader("content-length") == str(
                len(json.dumps(body, separators=(",", ":")))
            )
            sock = conn.sock
            conn.request("GET", "/health")
            second = conn.getresponse()
            second.read()
            assert second.status == 200
            assert conn.sock is sock  # the same TCP connection served both requests
        finally:
            conn.close()
