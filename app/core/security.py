"""HTTP hardening: security headers on every response (errors and 500s included), CORS from
configuration, and the trusted-host check. (The request body limit, 413, is the foundation's
`BodySizeLimitMiddleware` in app/core/request_context.py.)

Content-Security-Policy: API responses get the strictest policy (`default-src 'none'`: a JSON
body has no business loading anything). The Swagger UI (/docs) and ReDoc (/redoc) pages load
their scripts and CSS from cdn.jsdelivr.net, ReDoc its fonts from Google Fonts and its search
index in a `blob:` worker, and the Swagger page boots from one inline script; for those pages
the policy allows exactly that, and the inline scripts are allowed by their SHA-256 hash, taken
from the page being sent (no `'unsafe-inline'` for scripts). Styles need `'unsafe-inline'`
because both UIs set styles at run time.

The dashboard at /ui (app/ui) is served from the app's own origin with `UI_CSP`: its scripts
and style sheets come from 'self' only (no inline scripts, no CDN), it connects to 'self' (the
API and, in CSP Level 3, the same-origin `ws:`/`wss:` of /ws/updates); only inline style
*attributes* are allowed, because the chart library positions its tooltips with them.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable
from typing import Any

from fastapi import FastAPI
from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "API_CSP",
    "UI_CSP",
    "SecurityHeadersMiddleware",
    "TrustedHostMiddleware",
    "docs_csp",
    "install_cors",
]

API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

UI_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; style-src-attr 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self'; connect-src 'self'; worker-src 'self' blob:; "
    "object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)

_DOCS_CSP_TEMPLATE = (
    "default-src 'self'; "
    "script-src 'self' https://cdn.jsdelivr.net{hashes}; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
    "img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly; "
    "font-src 'self' data: https://fonts.gstatic.com; "
    "worker-src 'self' blob:; "
    "connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)
_INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.S | re.I)

_STATIC_HEADERS = (
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "no-referrer"),
    ("cross-origin-opener-policy", "same-origin"),
)


def docs_csp(html: bytes) -> str:
    """The CSP of a docs page: CDN sources plus the hash of each inline script in ``html``."""
    hashes = "".join(
        f" 'sha256-{base64.b64encode(hashlib.sha256(m.group(1)).digest()).decode()}'"
        for m in _INLINE_SCRIPT.finditer(html)
    )
    return _DOCS_CSP_TEMPLATE.format(hashes=hashes)


class SecurityHeadersMiddleware:
    """Adds the security headers to every HTTP response (never overriding ones a route set).

    HSTS is sent only when the request arrived over HTTPS (``scope["scheme"]``; behind a TLS
    proxy run uvicorn with ``--proxy-headers --forwarded-allow-ips=<proxy>``). An exception that
    escapes the app is rendered here by the app's own ``Exception`` handler so that a 500 carries
    the headers too (Starlette's outermost error middleware would otherwise answer without them),
    then re-raised so the server and Sentry still see it.
    """

    def __init__(
        self, app: ASGIApp, *, docs_paths: Iterable[str] = (), hsts_max_age: int = 0
    ) -> None:
        self.app = app
        self.docs_paths = frozenset(p for p in docs_paths if p)
        self.hsts = f"max-age={hsts_max_age}; includeSubDomains" if hsts_max_age > 0 else None

    def _add(self, scope: Scope, message: Message, csp: str) -> None:
        headers = MutableHeaders(scope=message)
        for name, value in _STATIC_HEADERS:
            headers.setdefault(name, value)
        headers.setdefault("content-security-policy", csp)
        if self.hsts and scope.get("scheme") in ("https", "wss"):
            headers.setdefault("strict-transport-security", self.hsts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] in self.docs_paths:
            await self._docs(scope, receive, send)
            return
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                self._add(scope, message, API_CSP)
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception as exc:
            if started:
                raise
            response = await _render_unhandled(scope, exc)
            if response is None:
                raise
            await response(scope, receive, send_with_headers)
            raise

    async def _docs(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Docs pages are small HTML: hold the response, hash its inline scripts, then send it.
        start: Message | None = None
        body: list[bytes] = []

        async def hold(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] == "http.response.body":
                body.append(message.get("body", b""))
                if message.get("more_body", False):
                    return
                assert start is not None
                html = b"".join(body)
                self._add(scope, start, docs_csp(html))
                await send(start)
                await send({"type": "http.response.body", "body": html, "more_body": False})
                return
            await send(message)

        await self.app(scope, receive, hold)


async def _render_unhandled(scope: Scope, exc: Exception) -> Any:
    app = scope.get("app")
    handler = getattr(app, "exception_handlers", {}).get(Exception) if app is not None else None
    if handler is None:
        return None
    result = handler(Request(scope), exc)
    return await result if hasattr(result, "__await__") else result


class TrustedHostMiddleware:
    """400 (in the service's error shape) unless the Host header is one of ``allowed_hosts``.

    Entries are exact host names or ``*.example.com`` (any subdomain); ``*`` allows any host.
    """

    def __init__(self, app: ASGIApp, *, allowed_hosts: Iterable[str]) -> None:
        self.app = app
        hosts = [h.strip().lower() for h in allowed_hosts if h.strip()]
        self.any = "*" in hosts
        self.exact = frozenset(h for h in hosts if not h.startswith("*."))
        self.suffixes = tuple(h[1:] for h in hosts if h.startswith("*."))

    def allowed(self, host_header: str) -> bool:
        if self.any:
            return True
        host = host_header.strip().lower()
        if host.startswith("["):  # [::1]:8000
            host = host[: host.find("]") + 1]
        else:
            host = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
        return host in self.exact or (bool(self.suffixes) and host.endswith(self.suffixes))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.any or scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        if self.allowed(Headers(scope=scope).get("host", "")):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        from app.core.errors import BadRequest, render_error
        from app.core.request_context import request_id_from_scope

        response = render_error(BadRequest("invalid host header"), request_id_from_scope(scope))
        await response(scope, receive, send)


def install_cors(app: FastAPI, origins: list[str], allow_credentials: bool) -> None:
    """CORS for the configured origins; refuses the unsafe ``*`` + credentials combination."""
    if not origins:
        return
    if "*" in origins and allow_credentials:
        raise ValueError(
            "CORS_ORIGINS='*' together with CORS_ALLOW_CREDENTIALS=true would let any site act "
            "with a user's credentials: list the allowed origins explicitly"
        )
    app.add_middleware(
        CORSMiddleware,
        allow_origins=origins,
        allow_credentials=allow_credentials,
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type", "Accept", "X-Request-ID"],
        expose_headers=[
            "X-Request-ID",
            "Server-Timing",
            "Retry-After",
            "X-RateLimit-Limit",
            "X-RateLimit-Remaining",
            "X-RateLimit-Reset",
            "Content-Disposition",
        ],
        max_age=600,
    )
