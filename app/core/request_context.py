"""Per-request context: the request id (X-Request-ID) and user id, plus the body-size limit.

`RequestContextMiddleware` (pure ASGI, outermost of ours) accepts a caller's X-Request-ID when it
is well-formed, generates one otherwise, stores it in a contextvar and in `scope["state"]`, and
adds it to every response, errors included, with `Server-Timing: app;dur=<ms>`: the server's own
time from the request reaching the app to the response headers (milliseconds, W3C Server Timing). `BodySizeLimitMiddleware` answers 413 before the
route reads a body larger than the configured limit.
"""

from __future__ import annotations

import re
import time
import uuid
from contextvars import ContextVar

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID_HEADER = "X-Request-ID"
SERVER_TIMING_HEADER = "Server-Timing"
_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:\-]{7,127}$")

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
user_id_var: ContextVar[str | None] = ContextVar("user_id", default=None)


def get_request_id() -> str | None:
    """The id of the request being served, or None outside a request."""
    return request_id_var.get()


def get_user_id() -> str | None:
    """The authenticated user of the request being served (set by the auth dependency)."""
    return user_id_var.get()


def is_valid_request_id(value: str | None) -> bool:
    """8-128 characters of letters, digits and . _ : -, starting with a letter or digit."""
    return bool(value) and _REQUEST_ID_RE.match(value or "") is not None


def new_request_id() -> str:
    return uuid.uuid4().hex


def request_id_from_scope(scope: Scope) -> str | None:
    """The request id stored by the middleware (usable by handlers outside the middleware)."""
    state = scope.get("state") or {}
    return state.get("request_id") if isinstance(state, dict) else None


class RequestContextMiddleware:
    """Sets the request id for the request and echoes it in the X-Request-ID response header."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        incoming = Headers(scope=scope).get(REQUEST_ID_HEADER)
        started = time.perf_counter()
        rid: str = incoming if incoming and is_valid_request_id(incoming) else new_request_id()
        scope.setdefault("state", {})["request_id"] = rid
        request_id_var.set(rid)
        user_id_var.set(None)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers[REQUEST_ID_HEADER] = rid
                elapsed_ms = (time.perf_counter() - started) * 1e3
                headers[SERVER_TIMING_HEADER] = f"app;dur={elapsed_ms:.3f}"
            await send(message)

        await self.app(scope, receive, send_with_id)


class BodySizeLimitMiddleware:
    """Refuses request bodies over a limit with 413, by Content-Length or by counting bytes.

    Paths starting with one of `upload_prefixes` get `upload_limit`, others `default_limit`.
    A body without Content-Length (chunked) is read up to the limit and replayed to the app.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        default_limit: int,
        upload_limit: int,
        upload_prefixes: tuple[str, ...] = (),
    ) -> None:
        self.app = app
        self.default_limit = default_limit
        self.upload_limit = upload_limit
        self.upload_prefixes = upload_prefixes

    def _limit_for(self, path: str) -> int:
        if any(path.startswith(p) for p in self.upload_prefixes):
            return self.upload_limit
        return self.default_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS", "DELETE"):
            await self.app(scope, receive, send)
            return
        limit = self._limit_for(scope["path"])
        length_text = Headers(scope=scope).get("content-length")
        if length_text is not None:
            try:
                length = int(length_text)
            except ValueError:
                length = -1
            if length > limit:
                await _too_large(scope, receive, send, limit)
                return
            await self.app(scope, receive, send)
            return
        # No Content-Length: read the body (bounded) before handing it on.
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            body = message.get("body", b"")
            size += len(body)
            if size > limit:
                await _too_large(scope, receive, send, limit)
                return
            chunks.append(body)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


async def _too_large(scope: Scope, receive: Receive, send: Send, limit: int) -> None:
    from app.core.errors import PayloadTooLarge, render_error

    response = render_error(
        PayloadTooLarge(f"request body is larger than the limit of {limit} bytes"),
        request_id_from_scope(scope),
    )
    await response(scope, receive, send)
