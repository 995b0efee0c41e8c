"""X-Request-ID: a well-formed caller id is echoed, anything else is replaced by a fresh id."""

from __future__ import annotations

import pytest

from app.core.request_context import is_valid_request_id


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
