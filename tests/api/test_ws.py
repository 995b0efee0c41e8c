"""WS /ws/updates protocol against a real uvicorn on a loopback port: authentication by query
parameter or first message (bad, expired and missing tokens refused with close code 4401),
ping/pong keep-alive both ways, bad messages answered, unknown jobs refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.conftest import make_settings, sign_token
from tests.tasks.conftest import live_server  # noqa: F401 - fixture


@pytest.fixture
def server(tmp_path: Path, live_server):  # noqa: F811
    return live_server(
        make_settings(
            tmp_path,
            ws_ping_interval_seconds=0.3,
            ws_auth_timeout_seconds=1.0,
            rate_limit_enabled=False,
        )
    )


def recv(ws) -> dict:
    return json.loads(ws.recv(timeout=5))


def recv_until(ws, wanted: dict, limit: int = 10) -> bool:
    """Read until `wanted` arrives (the server's own pings may come in between)."""
    return any(recv(ws) == wanted for _ in range(limit))


def test_auth_ping_pong_and_refusals(server) -> None:
    # query-parameter token
    with connect(f"{server.ws_url}?token={sign_token('carol')}") as ws:
        assert recv(ws) == {"type": "ready", "user_id": "carol"}
        ws.send(json.dumps({"type": "ping"}))
        assert recv_until(ws, {"type": "pong"})
        # the server pings on its own every ws_ping_interval_seconds
        assert recv_until(ws, {"type": "ping"})
        ws.send("not json")
        assert recv_until(ws, {"type": "error", "error": "bad_message"})
        ws.send(json.dumps({"type": "subscribe", "job_id": "no-such-job"}))
        assert recv_until(ws, {"type": "error", "error": "not_found", "job_id": "no-such-job"})

    # token as the first message
    with connect(server.ws_url) as ws:
        ws.send(json.dumps({"type": "auth", "token": sign_token("dave")}))
        assert recv(ws) == {"type": "ready", "user_id": "dave"}

    for url, first in (
        (f"{server.ws_url}?token={sign_token('x', expires_in=-3600)}", None),
        (f"{server.ws_url}?token={sign_token('x', secret='wrong-secret-' * 4)}", None),
        (f"{server.ws_url}?token={sign_token('x', audience='anon')}", None),
        (server.ws_url, {"type": "subscribe", "job_id": "j"}),  # no auth message
        (server.ws_url, None),  # nothing sent: times out
    ):
        with connect(url) as ws:
            if first is not None:
                ws.send(json.dumps(first))
            assert recv(ws) == {"type": "error", "error": "unauthorized"}
            with pytest.raises(ConnectionClosed) as info:
                ws.recv(timeout=5)
            assert info.value.rcvd is not None and info.value.rcvd.code == 4401
