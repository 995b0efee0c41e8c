"""Logging set-up: one JSON object per line (production, containers, log shippers) or a readable
single line (development). Every record carries the request id and user id of the request it
was emitted in, read from the request-context variables of app/core/request_context.py.

The access line (``app.access``, one per request with route, status and duration) is written by
app/core/observability.py; uvicorn's own access log is switched off so requests are not logged
twice, and uvicorn's other messages go through the same handler.
"""

from __future__ import annotations

import datetime as _dt
import logging
import sys
from typing import Any, TextIO

import orjson

from app.core.request_context import get_request_id, get_user_id

__all__ = ["ConsoleFormatter", "JsonFormatter", "configure_logging"]

# Attributes every LogRecord has; anything else on a record came from `extra=` and is logged.
_STANDARD_ATTRS = frozenset(
    vars(logging.LogRecord("x", logging.INFO, "x", 0, "x", None, None)).keys()
) | {"message", "asctime", "taskName"}
_HANDLER_MARK = "_cfe_platform_handler"


def _context(record: logging.LogRecord) -> dict[str, Any]:
    # A record may carry its own ids (the access line does, read from the request scope).
    rid = getattr(record, "request_id", None) or get_request_id()
    uid = getattr(record, "user_id", None) or get_user_id()
    return {"request_id": rid, "user_id": uid}


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {
        k: v
        for k, v in vars(record).items()
        if k not in _STANDARD_ATTRS and k not in ("request_id", "user_id") and not k.startswith("_")
    }


class JsonFormatter(logging.Formatter):
    """``{"ts", "level", "logger", "msg", "request_id", "user_id", ...extra, "exc"}`` per line."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": _dt.datetime.fromtimestamp(record.created, _dt.UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
            **_context(record),
        }
        out.update(_extras(record))
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        if record.stack_info:
            out["stack"] = self.formatStack(record.stack_info)
        return orjson.dumps(out, default=str, option=orjson.OPT_SERIALIZE_NUMPY).decode()


class ConsoleFormatter(logging.Formatter):
    """``HH:MM:SS.mmm LEVEL logger [request user] message key=value ...`` for development."""

    def format(self, record: logging.LogRecord) -> str:
        ctx = _context(record)
        ts = _dt.datetime.fromtimestamp(record.created).strftime("%H:%M:%S.%f")[:-3]
        tag = ""
        if ctx["request_id"]:
            tag = f" [{ctx['request_id'][:8]}{' ' + ctx['user_id'] if ctx['user_id'] else ''}]"
        line = f"{ts} {record.levelname:<7} {record.name}{tag} {record.getMessage()}"
        extras = _extras(record)
        if extras:
            line += " " + " ".join(f"{k}={v}" for k, v in extras.items())
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def configure_logging(
    level: str = "INFO", fmt: str = "auto", env: str = "development", stream: TextIO | None = None
) -> logging.Handler:
    """Install our handler on the root logger (idempotent: replaces only our own handler).

    ``fmt``: "json", "console", or "auto" (console in development, JSON otherwise).
    """
    use_json = fmt == "json" or (fmt == "auto" and env != "development")
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(JsonFormatter() if use_json else ConsoleFormatter())
    setattr(handler, _HANDLER_MARK, True)
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _HANDLER_MARK, False)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # uvicorn installs its own handlers at start-up; route its messages through ours instead.
    for name in ("uvicorn", "uvicorn.error"):
        lg = logging.getLogger(name)
        lg.handlers = []
        lg.propagate = True
    access = logging.getLogger("uvicorn.access")
    access.handlers = []
    access.propagate = False
    access.disabled = True  # app.access replaces it, with route template and ids
    return handler
