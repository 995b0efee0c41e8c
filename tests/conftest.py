"""Shared fixtures: an app on a throwaway SQLite file with HS256 auth, an ASGI client with the
app's lifespan, real HS256 tokens, and the local PostgreSQL / Redis URLs (skipped when down).
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
import uuid
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import jwt
import pytest

from app.core.config import Settings

TEST_JWT_SECRET = "test-secret-for-hs256-tokens-0123456789abcdef-0123456789abcdef-xyz"
TEST_AUDIENCE = "authenticated"
DEFAULT_PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    """Settings for a test app: SQLite in tmp_path, HS256 auth, no optional services."""
    values: dict[str, Any] = {
        "env": "test",
        "host": "127.0.0.1",
        "database_url": f"sqlite+aiosqlite:///{tmp_path / 'test.db'}",
        "database_schema": None,
        "supabase_url": None,
        "supabase_jwks_url": None,
        "supabase_jwt_secret": TEST_JWT_SECRET,
        "supabase_jwt_issuer": None,
        "redis_url": None,
        "upstash_redis_host": None,
        "celery_broker_url": None,
        "sentry_dsn": None,
        "migrate_on_start": True,
        "engine_warmup": False,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
def app(settings: Settings) -> Any:
    from app.main import create_app

    return create_app(settings)


@asynccontextmanager
async def running_client(
    app: Any, base_url: str = "http://127.0.0.1"
) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client talking to `app` in-process, with the app's lifespan running."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
            yield client


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with running_client(app) as c:
        yield c


TokenFactory = Callable[..., str]


def sign_token(
    sub: str | None,
    *,
    secret: str | bytes | Any = TEST_JWT_SECRET,
    algorithm: str = "HS256",
    audience: str | None = TEST_AUDIENCE,
    expires_in: float = 3600,
    headers: dict[str, Any] | None = None,
    **claims: Any,
) -> str:
    """A JWT like Supabase issues: sub, aud, exp, iat, role; extra claims override."""
    now = int(time.time())
    payload: dict[str, Any] = {"iat": now, "exp": int(now + expires_in), "role": "authenticated"}
    if sub is not None:
        payload["sub"] = sub
    if audience is not None:
        payload["aud"] = audience
    payload.update(claims)
    return jwt.encode(payload, secret, algorithm=algorithm, headers=headers)


@pytest.fixture
def make_token() -> TokenFactory:
    """make_token(sub, **options) -> HS256 token for the test secret (see sign_token)."""
    return sign_token


@pytest.fixture
def auth() -> Callable[[str], dict[str, str]]:
    """auth(sub) -> Authorization header with a valid HS256 token for `sub`."""
    return lambda sub: {"Authorization": f"Bearer {sign_token(sub)}"}


def unique_user(prefix: str = "user") -> str:
    return f"{prefix}-{uuid.uuid4()}"


def _port_open(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection(
            (parts.hostname or "127.0.0.1", parts.port or default_port), 1.0
        ):
            return True
    except OSError:
        return False


def _unavailable(reason: str) -> None:
    """Skip a test whose service is down, or fail it when REQUIRE_SERVICES=1 (CI sets it, so
    a service that did not start cannot turn real-service tests into silent skips)."""
    if os.environ.get("REQUIRE_SERVICES") == "1":
        pytest.fail(f"required service unavailable: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def pg_url() -> str:
    """URL of the local PostgreSQL (TEST_POSTGRES_URL); skips the test when it does not answer."""
    url = os.environ.get("TEST_POSTGRES_URL", DEFAULT_PG_URL)
    if not _port_open(url, 5432):
        _unavailable(f"PostgreSQL at {url} does not answer")

    async def ping() -> None:
        import asyncpg

        conn = await asyncpg.connect(
            url.replace("postgresql+asyncpg://", "postgresql://"), timeout=3
        )
        await conn.close()

    try:  # in a thread: this fixture may be first requested from inside a running event loop
        with ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, ping()).result()
    except Exception as exc:  # noqa: BLE001 - any failure means "not available"
        _unavailable(f"PostgreSQL at {url} refused a connection: {exc}")
    return url


@pytest.fixture(scope="session")
def redis_url() -> str:
    """URL of the local Redis (TEST_REDIS_URL); skips the test when it does not answer."""
    url = os.environ.get("TEST_REDIS_URL", DEFAULT_REDIS_URL)
    if not _port_open(url, 6379):
        _unavailable(f"Redis at {url} does not answer")
    return url


async def _pg_exec(url: str, sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"), timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture
async def pg_schema(pg_url: str) -> AsyncIterator[str]:
    """A throwaway PostgreSQL schema (DATABASE_SCHEMA) dropped with everything in it afterwards."""
    schema = f"test_{uuid.uuid4().hex[:12]}"
    await _pg_exec(pg_url, f'CREATE SCHEMA "{schema}"')
    try:
        yield schema
    finally:
        await _pg_exec(pg_url, f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", "postgres"])
async def any_db_settings(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[Settings]:
    """Test settings on SQLite and on the local PostgreSQL (own schema, migrated at start-up)."""
    if request.param == "sqlite":
        yield make_settings(tmp_path)
        return
    url = request.getfixturevalue("pg_url")
    schema = f"test_{uuid.uuid4().hex[:12]}"
    await _pg_exec(url, f'CREATE SCHEMA "{schema}"')
    try:
        yield make_settings(tmp_path, database_url=url, database_schema=schema)
    finally:
        await _pg_exec(url, f'DROP SCHEMA "{schema}" CASCADE')
