"""The outermost ASGI layer: an unexpected exception never costs the client its connection.

Starlette's ServerErrorMiddleware sends the 500 (rendered by the app's handler) and then
re-raises, so the exception reaches uvicorn, which closes the keep-alive connection without a
`Connection: close` header: the client's next, innocent request on it is reset. This guard sits
outside that middleware and ends the exception there once a complete response has been sent
(it was logged by the handler). With no response started it sends a well-formed JSON 500 itself;
only a response cut off mid-body is left to the server to close, because it cannot be repaired.
"""

from __future__ import annotations

import logging

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.request_context import REQUEST_ID_HEADER, request_id_from_scope

log = logging.getLogger(__name__)


class CompleteResponseGuard:
    """Swallow an exception raised after the response completed; answer 500 if none started."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = complete = False

        async def tracking_send(message: Message) -> None:
            nonlocal started, complete
            if message["type"] == "http.response.start":
                started = True
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                complete = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            if complete:
                return  # the 500 went out whole; keep the connection usable
            if started:
                raise  # a half-sent body: only closing the connection is honest
            log.exception("unhandled error before any response on %s", scope.get("path"))
            await _send_500(scope, send)


async def _send_500(scope: Scope, send: Send) -> None:
    rid = request_id_from_scope(scope)
    body = orjson.dumps(
        {"error": "internal_error", "detail": "internal server error", "request_id": rid}
    )
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if rid:
        headers.append((REQUEST_ID_HEADER.lower().encode(), rid.encode()))
    await send({"type": "http.response.start", "status": 500, "headers": headers})
    await send({"type": "http.response.body", "body": body})
