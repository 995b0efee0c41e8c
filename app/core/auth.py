"""Supabase JWT verification and the local single-user mode.

Tokens come as `Authorization: Bearer <jwt>`. HS256 tokens are checked with SUPABASE_JWT_SECRET;
RS256/ES256 tokens with the project's JWKS (`$SUPABASE_URL/auth/v1/.well-known/jwks.json`),
fetched asynchronously, cached for JWKS_CACHE_SECONDS and refetched when a token names an
unknown `kid` (at most once every few seconds, so bad tokens cannot hammer the endpoint).
Signature, `exp`, `aud` and, when configured, `iss` are checked; `alg: none` and any algorithm
that does not match the key type are refused.

With no auth configured the service serves one local user, and only on loopback: start-up
refuses a non-loopback HOST (`enforce_bind_policy`), and each request is also checked against
the address the connection actually arrived on.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import time
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any

import jwt
from jwt import PyJWK, PyJWKSet

from app.core.config import Settings, is_loopback
from app.core.errors import Unauthorized

log = logging.getLogger(__name__)

LOCAL_USER_ID = "local"
HMAC_ALGORITHMS = ("HS256",)
ASYMMETRIC_ALGORITHMS = ("RS256", "ES256")
_MIN_REFRESH_INTERVAL = 5.0  # seconds between forced JWKS refetches


class InsecureBindError(RuntimeError):
    """Raised at start-up when no auth is configured and the bind address is not loopback."""


@dataclass(frozen=True)
class Principal:
    """The caller: `user_id` is the token's `sub` (or `local` in local mode)."""

    user_id: str
    claims: dict[str, Any] = field(default_factory=dict)
    local: bool = False


def enforce_bind_policy(settings: Settings) -> None:
    """Refuse to run unauthenticated on a non-loopback address; warn loudly on loopback."""
    if settings.auth_configured:
        return
    if not is_loopback(settings.host):
        raise InsecureBindError(
            f"No auth configured (SUPABASE_JWT_SECRET / SUPABASE_URL) and HOST={settings.host!r} "
            "is not a loopback address: refusing to start. Configure Supabase auth, or bind to "
            "127.0.0.1."
        )
    log.warning(
        "\n" + "!" * 78 + "\n"
        "!! AUTH DISABLED: no SUPABASE_JWT_SECRET or SUPABASE_URL is set. Every request is\n"
        "!! served as the single local user %r, and only on loopback (HOST=%s).\n" + "!" * 78,
        LOCAL_USER_ID,
        settings.host,
    )


class JWKSFetchError(Exception):
    """The JWKS endpoint could not be read (connection, timeout or HTTP status)."""


class JWKSCache:
    """Signing keys of one JWKS endpoint, by `kid`, fetched with httpx and cached. httpx is
    imported at the first fetch (~0.13 s), not at start: most deployments use HS256."""

    def __init__(
        self,
        url: str,
        ttl_seconds: int,
        timeout: float = 5.0,
        min_refresh_seconds: float = _MIN_REFRESH_INTERVAL,
    ) -> None:
        self.url = url
        self.ttl = ttl_seconds
        self.timeout = timeout
        self.min_refresh_seconds = min_refresh_seconds
        self.fetch_count = 0
        self._keys: dict[str, PyJWK] = {}
        self._fetched_at = 0.0
        self._lock = asyncio.Lock()

    async def _fetch(self) -> None:
        import httpx

        self.fetch_count += 1
        try:
            async with httpx.AsyncClient(timeout=self.timeout) as client:
                resp = await client.get(self.url)
                resp.raise_for_status()
                data = resp.json()
        except httpx.HTTPError as exc:
            raise JWKSFetchError(str(exc) or type(exc).__name__) from exc
        keys: dict[str, PyJWK] = {}
        for jwk in PyJWKSet.from_dict(data).keys:
            if jwk.key_id:
                keys[jwk.key_id] = jwk
        self._keys = keys
        self._fetched_at = time.monotonic()

    async def get(self, kid: str) -> PyJWK | None:
        """The key named `kid`; refetches when stale or when the kid is unknown."""
        now = time.monotonic()
        stale = now - self._fetched_at > self.ttl
        if kid in self._keys and not stale:
            return self._keys[kid]
        async with self._lock:
            now = time.monotonic()
            stale = now - self._fetched_at > self.ttl
            may_refresh = stale or now - self._fetched_at >= self.min_refresh_seconds
            if (kid not in self._keys or stale) and may_refresh:
                try:
                    await self._fetch()
                except (JWKSFetchError, ValueError, jwt.PyJWTError) as exc:
                    log.warning("JWKS fetch from %s failed: %s", self.url, exc)
            return self._keys.get(kid)


VERIFIED_TOKEN_TTL_SECONDS = 60.0
"""Longest time a verified token is trusted again without re-checking its signature (never
past its `exp` + leeway): a front end pricing loans one by one sends the same token each time."""
VERIFIED_TOKEN_CACHE_SIZE = 1024

_VERIFIED_SCOPE_KEY = "app.verified_principal"
"""ASGI scope key holding (token, Principal) once the request's token has been verified."""


class TokenVerifier:
    """Verifies Supabase access tokens according to the settings."""

    def __init__(self, settings: Settings) -> None:
        self.secret = settings.supabase_jwt_secret
        self.audience = settings.supabase_jwt_audience
        self.issuer = settings.supabase_jwt_issuer
        self.leeway = settings.jwt_leeway_seconds
        self.max_bytes = settings.jwt_max_bytes
        url = settings.jwks_url
        self.jwks = JWKSCache(url, settings.jwks_cache_seconds) if url else None
        # token text -> (trusted until, epoch seconds; principal). Keyed by the whole token,
        # signature included, so only a token that verified can hit.
        self._verified: dict[str, tuple[float, Principal]] = {}

    async def verify_for_request(self, scope: MutableMapping[str, Any], token: str) -> Principal:
        """`verify`, memoised on the request's ASGI scope: the rate limiter (identifying the
        caller) and the auth dependency both need the principal, and a token is checked once
        per request. Only a successful verification is remembered."""
        cached = scope.get(_VERIFIED_SCOPE_KEY)
        if cached is not None and cached[0] == token:
            return cached[1]
        principal = await self.verify(token)
        scope[_VERIFIED_SCOPE_KEY] = (token, principal)
        return principal

    async def verify(self, token: str) -> Principal:
        """Claims of a valid token as a Principal; Unauthorized for anything else. A token
        verified in the last VERIFIED_TOKEN_TTL_SECONDS is trusted without a new signature
        check (PyJWT's decode is ~0.2-0.4 ms a request), never beyond its `exp` + leeway."""
        now = time.time()
        hit = self._verified.get(token)
        if hit is not None:
            if now < hit[0]:
                return hit[1]
            del self._verified[token]
        principal = await self._verify_signature(token)
        until = min(float(principal.claims["exp"]) + self.leeway, now + VERIFIED_TOKEN_TTL_SECONDS)
        if len(self._verified) >= VERIFIED_TOKEN_CACHE_SIZE:  # drop the oldest entry
            self._verified.pop(next(iter(self._verified)))
        self._verified[token] = (until, principal)
        return principal

    async def _verify_signature(self, token: str) -> Principal:
        if len(token) > self.max_bytes:  # before any parsing: bounded cost per request
            raise Unauthorized(f"token longer than {self.max_bytes} bytes (JWT_MAX_BYTES)")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise Unauthorized("malformed token") from exc
        alg = header.get("alg")
        key: Any
        if alg in HMAC_ALGORITHMS and self.secret:
            key = self.secret
        elif alg in ASYMMETRIC_ALGORITHMS and self.jwks is not None:
            kid = header.get("kid")
            if not isinstance(kid, str):
                raise Unauthorized("token has no key id")
            jwk = await self.jwks.get(kid)
            if jwk is None:
                raise Unauthorized("unknown signing key")
            if jwk.algorithm_name != alg:
                raise Unauthorized("token algorithm does not match its key")
            key = jwk.key
        else:
            raise Unauthorized("unsupported token algorithm")
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[alg],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": ["exp", "sub"], "verify_iss": self.issuer is not None},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("token expired") from exc
        except jwt.InvalidAudienceError as exc:
            raise Unauthorized("wrong token audience") from exc
        except jwt.InvalidIssuerError as exc:
            raise Unauthorized("wrong token issuer") from exc
        except jwt.PyJWTError as exc:
            raise Unauthorized("invalid token") from exc
        sub = claims.get("sub")
        if not isinstance(sub, str) or not sub:
            raise Unauthorized("token has no subject")
        return Principal(user_id=sub, claims=claims)


def local_principal() -> Principal:
    return Principal(user_id=LOCAL_USER_ID, local=True)


class LoopbackOnlyMiddleware:
    """Without auth, serve loopback connections only, on every path (docs, health, metrics
    and WebSockets included), whatever address the server was told to bind: `uvicorn --host
    0.0.0.0` run directly skips `enforce_bind_policy`, this does not. 403 otherwise."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket") and not (
            connection_is_loopback(scope) and client_is_loopback(scope)
        ):
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008})
                return
            from app.core.errors import Forbidden, render_error

            response = render_error(
                Forbidden("auth is not configured: only loopback clients are served")
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def client_is_loopback(scope: Mapping[str, Any]) -> bool:
    """True when the peer address is loopback, or is not an IP address at all: a socket peer
    always is one, so a name such as Starlette's `testclient` is an in-process transport."""
    client = scope.get("client")
    if not client:
        return True
    host = str(client[0]).strip("[]")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return True
    return is_loopback(host)


def connection_is_loopback(scope: Mapping[str, Any]) -> bool:
    """True when the request arrived on a loopback socket (or an in-process test transport)."""
    server = scope.get("server")
    if not server:
        return True  # in-process call with no socket (e.g. a test transport without address)
    return is_loopback(str(server[0]))
