"""Sentry through the app with a capturing transport: an unhandled error produces an event
tagged with the request id and user id, and the event holds no Authorization header, no token,
no request body and no loan data (no frame locals)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import sentry_sdk
from sentry_sdk.envelope import Envelope
from sentry_sdk.transport import Transport

from app.core.observability import scrub_event
from tests.conftest import sign_token
from tests.core._platform import probe_app

DSN = "https://public0123456789@o1.ingest.example.invalid/42"


class CapturingTransport(Transport):
    """Keeps every envelope in memory instead of sending it."""

    def __init__(self, options: dict[str, Any] | None = None) -> None:
        super().__init__(options)
        self.events: list[dict[str, Any]] = []

    def capture_envelope(self, envelope: Envelope) -> None:
        for item in envelope.items:
            event = item.get_event()
            if event is not None:
                self.events.append(dict(event))


async def test_event_has_request_id_and_no_secrets(tmp_path: Path, monkeypatch: Any) -> None:
    transport = CapturingTransport()
    import app.core.platform as platform

    original = platform.init_sentry
    monkeypatch.setattr(
        platform,
        "init_sentry",
        lambda settings, **kw: original(settings, transport=transport, **kw),
    )
    app = probe_app(tmp_path, sentry_dsn=DSN)
    token = sign_token("sentry-user-7")
    rid = "req-sentry-0123456789"
    body = {"pool": {"loans": [{"loan_id": "L-SECRET-1", "balance": 123456.78}]}}
    try:
        client_transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=client_transport, base_url="http://127.0.0.1") as client,
        ):
            resp = await client.request(
                "GET",
                "/api/v1/_boom?access_token=abc123secret&page=2",
                headers={
                    "Authorization": f"Bearer {token}",
                    "X-Request-ID": rid,
                    "Cookie": "session=s3cr3t",
                    "Content-Type": "application/json",
                },
                content=json.dumps(body),
            )
        assert resp.status_code == 500 and resp.headers["x-request-id"] == rid
        sentry_sdk.flush(timeout=2)
    finally:
        sentry_sdk.get_client().close()
        sentry_sdk.init()  # back to a disabled client for the other tests

    errors = [e for e in transport.events if e.get("exception")]
    assert errors, transport.events
    event = errors[0]
    assert event["tags"]["request_id"] == rid
    assert event["tags"]["user_id"] == "sentry-user-7"
    assert event["exception"]["values"][-1]["value"] == "probe failure"
    dump = json.dumps(event)
    assert token not in dump
    assert "authorization" not in dump.lower()
    assert "s3cr3t" not in dump and "abc123secret" not in dump
    assert "L-SECRET-1" not in dump and "123456.78" not in dump  # no body, no frame locals
    frames = event["exception"]["values"][-1]["stacktrace"]["frames"]
    assert all("vars" not in f for f in frames)


def test_scrub_event_unit() -> None:
    event = {
        "request": {
            "headers": {"Authorization": "Bearer x.y.z", "X-Api-Key": "k", "Accept": "json"},
            "data": {"loans": [1, 2]},
            "cookies": {"a": "b"},
            "query_string": "token=abc&limit=10",
        },
        "user": {"id": "u1", "ip_address": "10.0.0.1", "email": "a@b.c"},
    }
    out = scrub_event(event)
    assert out["request"]["headers"] == {"Accept": "json"}
    assert "data" not in out["request"] and "cookies" not in out["request"]
    assert out["request"]["query_string"] == "token=[redacted]&limit=10"
    assert out["user"] == {"id": "u1"}
