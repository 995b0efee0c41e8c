"""Structured logs: one JSON object per line with request id, user id, route template, status
and duration for each request, the same ids on log lines emitted inside the route, and the
readable console format in development."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

from app.core.logging import ConsoleFormatter, JsonFormatter, configure_logging
from app.core.request_context import request_id_var, user_id_var
from tests.conftest import running_client, sign_token
from tests.core._platform import probe_app


def json_lines(buf: io.StringIO) -> list[dict]:
    lines = [line for line in buf.getvalue().splitlines() if line.strip()]
    return [json.loads(line) for line in lines]  # every line must be one JSON object


async def test_access_and_route_logs_are_json_with_ids(tmp_path: Path) -> None:
    app = probe_app(tmp_path, log_format="json")
    buf = io.StringIO()
    handler = configure_logging("INFO", "json", "test", stream=buf)
    try:
        async with running_client(app) as client:
            rid = "req-log-test-0001"
            ok = await client.get(
                "/api/v1/_probe",
                headers={"Authorization": f"Bearer {sign_token('log-user')}", "X-Request-ID": rid},
            )
            missing = await client.get("/api/v1/_items/77x")
    finally:
        logging.getLogger().removeHandler(handler)
    assert ok.status_code == 200 and missing.status_code == 422
    records = json_lines(buf)
    access = [r for r in records if r["logger"] == "app.access"]
    first = next(r for r in access if r["request_id"] == rid)
    assert first["user_id"] == "log-user"
    assert first["route"] == "/api/v1/_probe" and first["status"] == 200
    assert first["method"] == "GET" and isinstance(first["duration_ms"], float)
    assert first["duration_ms"] >= 0 and first["level"] == "INFO" and first["ts"].endswith("Z")
    second = next(r for r in access if r["path"] == "/api/v1/_items/77x")
    assert second["route"] == "/api/v1/_items/{item_id}" and second["status"] == 422
    assert second["request_id"] == missing.headers["x-request-id"] and second["user_id"] is None
    inner = next(r for r in records if r["logger"] == "tests.probe")
    assert inner["request_id"] == rid and inner["user_id"] == "log-user" and inner["probe"] is True


def _record(msg: str, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("app.x", logging.WARNING, __file__, 1, msg, None, None)
    for k, v in extra.items():
        setattr(record, k, v)
    return record


def test_json_formatter_fields_and_exceptions() -> None:
    token_r, token_u = request_id_var.set("rid-12345678"), user_id_var.set("u-1")
    try:
        try:
            raise ValueError("bad")
        except ValueError:
            import sys

            record = _record("hello %s", pool_id="p-1")
            record.args = ("world",)
            record.exc_info = sys.exc_info()
        out = json.loads(JsonFormatter().format(record))
    finally:
        request_id_var.reset(token_r)
        user_id_var.reset(token_u)
    assert out["msg"] == "hello world" and out["level"] == "WARNING" and out["logger"] == "app.x"
    assert out["request_id"] == "rid-12345678" and out["user_id"] == "u-1"
    assert out["pool_id"] == "p-1"
    assert "ValueError: bad" in out["exc"]


def test_console_format_in_development() -> None:
    buf = io.StringIO()
    handler = configure_logging("INFO", "auto", "development", stream=buf)
    try:
        assert isinstance(handler.formatter, ConsoleFormatter)
        token = request_id_var.set("abcdef0123456789")
        try:
            logging.getLogger("app.dev").info("started", extra={"port": 8000})
        finally:
            request_id_var.reset(token)
    finally:
        logging.getLogger().removeHandler(handler)
    line = buf.getvalue().strip()
    assert "INFO" in line and "app.dev [abcdef01]" in line and "started port=8000" in line
    assert not line.startswith("{")
    handler = configure_logging("INFO", "auto", "production", stream=io.StringIO())
    logging.getLogger().removeHandler(handler)
    assert isinstance(handler.formatter, JsonFormatter)
