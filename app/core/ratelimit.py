"""Request rate limits with slowapi: one budget for cheap reads (GET/HEAD) and one for runs and
writes (POST/PUT/PATCH/DELETE), per authenticated user (the verified token's ``sub``), falling
back to the client IP. Storage is Redis when configured (shared by all workers), in-process
memory otherwise; if Redis fails, slowapi falls back to memory and requests still pass.

Only accepted work is counted: a request the service refuses for its content (400, 404, 409,
413, 415, 422) gives its charge back once its response has started, so a user fixing a typo is
not locked out; a 429 gives back its own charge too. Authentication failures (401, 403) stay
charged, to the IP, so tokens cannot be guessed for free. The refund needs the fixed-window
strategy (a counter that can be decremented); with the moving-window strategies every request counts.

Every limited response carries ``X-RateLimit-Limit``, ``X-RateLimit-Remaining`` and
``X-RateLimit-Reset`` (epoch seconds when the window resets, as slowapi writes it); a 429 also
carries ``Retry-After`` (seconds) and the service's error body.

We drive slowapi's ``Limiter`` from our own pure-ASGI middleware instead of its
``SlowAPIASGIMiddleware``: that one re-sends ``http.response.start`` for every body chunk and so
breaks streamed responses (CSV/Parquet downloads; slowapi issues #249, #260), and its key
function is synchronous while verifying a JWKS-signed token is asynchronous.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import anyio
from slowapi import Limiter
from slowapi.errors import RateLimitExceeded
from slowapi.wrappers import LimitGroup
from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core import metrics
from app.core.errors import AppError, TooManyRequests, render_error
from app.core.request_context import request_id_from_scope, user_id_var

__all__ = [
    "RateLimitConfig",
    "RateLimitMiddleware",
    "bearer_identifier",
    "build_limiter",
    "limit_class",
]

log = logging.getLogger(__name__)
READ_METHODS = ("GET", "HEAD")
RUN_METHODS = ("POST", "PUT", "PATCH", "DELETE")
REFUNDED_STATUSES = frozenset({400, 404, 405, 409, 413, 415, 422})


@dataclass(frozen=True)
class RateLimitConfig:
    """Limits in the `limits` syntax ("30/minute", "5 per 10 seconds", "100/hour;10/minute")."""

    enabled: bool = True
    read: str = "300/minute"
    run: str = "30/minute"
    strategy: str = "fixed-window"
    storage_uri: str = "memory://"
    key_prefix: str = "cfe-rl"
    exempt_paths: frozenset[str] = frozenset()

    @classmethod
    def from_settings(cls, settings: Any, exempt_paths: Iterable[str] = ()) -> RateLimitConfig:
        storage = settings.rate_limit_storage_url or settings.effective_redis_url or "memory://"
        return cls(
            enabled=settings.rate_limit_enabled,
            read=settings.rate_limit_read,
            run=settings.rate_limit_run,
            strategy=settings.rate_limit_strategy,
            storage_uri=storage,
            key_prefix=settings.rate_limit_key_prefix,
            exempt_paths=frozenset(p for p in exempt_paths if p),
        )


def limit_class(method: str) -> str | None:
    """ "read", "run" or None (not limited, e.g. OPTIONS preflights)."""
    if method in READ_METHODS:
        return "read"
    if method in RUN_METHODS:
        return "run"
    return None


def _scope_key(request: Request) -> str:
    # Resolved (asynchronously) by the middleware before slowapi asks for it.
    return str(request.scope["state"]["rate_limit_key"])


def build_limiter(config: RateLimitConfig) -> Limiter:
    """A slowapi Limiter holding the two budgets as application-wide limit groups."""
    storage_options: dict[str, Any] = {}
    if config.storage_uri.startswith(("redis", "rediss")):
        storage_options = {"socket_timeout": 0.5, "socket_connect_timeout": 0.5}
    limiter = Limiter(
        key_func=_scope_key,
        headers_enabled=True,
        strategy=config.strategy,
        storage_uri=config.storage_uri,
        storage_options=storage_options,
        key_prefix=config.key_prefix,
        in_memory_fallback_enabled=True,
        swallow_errors=True,
        enabled=config.enabled,
    )
    # slowapi's `application_limits` argument cannot filter by method, so we build the same
    # LimitGroups it would, each with its methods and a scope naming the budget it draws on.
    limiter._application_limits = [  # noqa: SLF001 - documented above
        LimitGroup(
            config.read,
            _scope_key,
            "read",
            False,
            [m.lower() for m in READ_METHODS],
            None,
            None,
            1,
            False,
        ),
        LimitGroup(
            config.run,
            _scope_key,
            "run",
            False,
            [m.lower() for m in RUN_METHODS],
            None,
            None,
            1,
            False,
        ),
    ]
    return limiter


class RateLimitMiddleware:
    """Charges each request to its caller's read or run budget; 429 when it is spent."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        limiter: Limiter,
        exempt_paths: Iterable[str] = (),
        identify: Callable[[Scope], Any] | None = None,
        offload: bool = False,
    ) -> None:
        """``offload``: run the (synchronous) storage calls in a worker thread — set it for a
        networked storage (Redis) so a slow round trip never blocks the event loop."""
        self.app = app
        self.limiter = limiter
        self.exempt = frozenset(exempt_paths)
        self.identify = identify
        self.offload = offload

    def _check(self, request: Request) -> tuple[dict[str, str], float | None]:
        """Charge the request (raises RateLimitExceeded) and read its budget's window."""
        try:
            # The same check slowapi's own middleware runs: application limits, Redis with
            # in-memory fallback, storage errors swallowed.
            self.limiter._check_request_limit(request, None, True)  # noqa: SLF001
        except RateLimitExceeded as exc:
            exc.window = self._window(request)  # type: ignore[attr-defined]
            raise
        return self._window(request)

    async def _caller(self, scope: Scope) -> str:
        user_id = None
        if self.identify is not None:
            try:
                user_id = await self.identify(scope)
            except AppError:  # invalid token: the route will answer 401; charge the IP
                user_id = None
        if user_id:
            scope["state"]["user_id"] = user_id
            user_id_var.set(user_id)
            return f"user:{user_id}"
        client = scope.get("client")
        return f"ip:{client[0] if client else 'unknown'}"

    def _refund(self, request: Request) -> None:
        """Give back the charge of the request just counted (fixed window only; storage errors
        are swallowed like every other rate-limit storage error)."""
        current = getattr(request.state, "view_rate_limit", None)
        if current is None or self.limiter._strategy != "fixed-window":  # noqa: SLF001
            return
        item, args = current
        fallback = self.limiter._fallback_limiter  # noqa: SLF001
        strategy = fallback if self.limiter._storage_dead and fallback else self.limiter.limiter  # noqa: SLF001
        try:
            strategy.storage.incr(item.key_for(*args), item.get_expiry(), amount=-1)
        except Exception:  # storage hiccup: the charge stays, the request is unaffected
            log.debug("rate-limit refund failed", exc_info=True)

    async def _give_back(self, request: Request) -> None:
        if self.offload:
            await anyio.to_thread.run_sync(self._refund, request)
        else:
            self._refund(request)

    def _window(self, request: Request) -> tuple[dict[str, str], float | None]:
        """The X-RateLimit-* headers of the budget just charged, and its reset epoch time."""
        current = getattr(request.state, "view_rate_limit", None)
        if current is None:
            return {}, None
        item, args = current
        try:
            reset_at, remaining = self.limiter.limiter.get_window_stats(item, *args)
        except Exception:  # storage hiccup: skip the informational headers, never fail
            return {}, None
        headers = {
            "X-RateLimit-Limit": str(item.amount),
            "X-RateLimit-Remaining": str(max(0, int(remaining))),
            "X-RateLimit-Reset": str(int(math.ceil(reset_at))),
        }
        return headers, float(reset_at)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or not self.limiter.enabled
            or scope["path"] in self.exempt
            or limit_class(scope["method"]) is None
        ):
            await self.app(scope, receive, send)
            return
        scope.setdefault("state", {})
        scope["state"]["rate_limit_key"] = await self._caller(scope)
        request = Request(scope, receive)
        try:
            if self.offload:
                headers, _ = await anyio.to_thread.run_sync(self._check, request)
            else:
                headers, _ = self._check(request)
        except RateLimitExceeded as exc:
            cls = limit_class(scope["method"]) or "unknown"
            metrics.RATE_LIMIT_REJECTIONS.labels(cls).inc()
            headers, reset_at = exc.window  # type: ignore[attr-defined]
            reset_at = reset_at if reset_at is not None else time.time() + 1
            retry_after = max(1, int(math.ceil(reset_at - time.time())))
            retry_at = time.strftime("%H:%M:%S UTC", time.gmtime(reset_at))
            await self._give_back(request)
            log.info(
                "rate limit %s exceeded",
                exc.detail,
                extra={"limit_class": cls, "retry_after": retry_after},
            )
            response = render_error(
                TooManyRequests(
                    f"{cls} rate limit of {exc.detail} exceeded; the next request "
                    f"is accepted in {retry_after} s (at {retry_at}); refused requests "
                    f"(422 and the like) are not counted",
                    retry_after=retry_after,
                ),
                request_id_from_scope(scope),
                headers=headers,
            )
            await response(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                if headers:
                    out = MutableHeaders(scope=message)
                    for name, value in headers.items():
                        out.setdefault(name, value)
                if message["status"] in REFUNDED_STATUSES:
                    await self._give_back(request)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def bearer_identifier(verifier_of: Callable[[Scope], Any]) -> Callable[[Scope], Any]:
    """An ``identify`` function: the verified ``sub`` of the request's bearer token, or None.

    ``verifier_of(scope)`` returns the app's TokenVerifier (or None when auth is off).
    """

    async def identify(scope: Scope) -> str | None:
        auth = Headers(scope=scope).get("authorization", "")
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        verifier = verifier_of(scope)
        if verifier is None:
            return None
        principal = await verifier.verify_for_request(scope, token.strip())
        return principal.user_id

    return identify
