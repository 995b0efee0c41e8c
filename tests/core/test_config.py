"""Settings and DATABASE_URL normalisation (embedded SQLite, asyncpg, Supabase's plain form)."""

from __future__ import annotations

import pytest

from app.core.config import Settings, is_loopback
from app.core.db import resolve_database


def _s(**kw) -> Settings:
    return Settings(_env_file=None, **kw)  # type: ignore[call-arg]


def test_default_is_sqlite_under_data_dir(tmp_path) -> None:
    target = resolve_database(_s(database_url=None, data_dir=tmp_path / "data"))
    assert target.url.drivername == "sqlite+aiosqlite"
    assert target.url.database == str(tmp_path / "data" / "engine.db")
    assert (tmp_path / "data").is_dir()


@pytest.mark.parametrize(
    ("url", "driver", "ssl"),
    [
        ("postgresql+asyncpg://u:p@db:5432/app", "postgresql+asyncpg", None),
        ("postgresql://u:p@db.abc.supabase.co:5432/postgres", "postgresql+asyncpg", None),
        ("postgres://u:p@db:5432/postgres?sslmode=require", "postgresql+asyncpg", "require"),
        ("postgresql://u:p@db:5432/postgres?ssl=verify-full", "postgresql+asyncpg", "verify-full"),
    ],
)
def test_postgres_forms(url, driver, ssl) -> None:
    target = resolve_database(_s(database_url=url))
    assert target.url.drivername == driver
    assert "sslmode" not in target.url.query
    assert target.connect_args.get("ssl") == ssl


def test_supabase_pooler_disables_prepared_statement_cache() -> None:
    url = "postgresql://postgres.ref:pw@aws-0-eu.pooler.supabase.com:6543/postgres?pgbouncer=true"
    target = resolve_database(_s(database_url=url))
    assert target.connect_args["statement_cache_size"] == 0
    assert target.url.query["prepared_statement_cache_size"] == "0"
    assert "pgbouncer" not in target.url.query


def test_sqlite_plain_form_gets_async_driver(tmp_path) -> None:
    target = resolve_database(_s(database_url=f"sqlite:///{tmp_path}/x/y.db"))
    assert target.url.drivername == "sqlite+aiosqlite"
    assert (tmp_path / "x").is_dir()


def test_unsupported_database_rejected() -> None:
    with pytest.raises(ValueError, match="unsupported"):
        resolve_database(_s(database_url="mysql://u@h/db"))


def test_upstash_form_becomes_tls_url() -> None:
    s = _s(
        upstash_redis_host="eu1.upstash.io", upstash_redis_port=6380, upstash_redis_password="pw"
    )
    assert s.effective_redis_url == "rediss://default:pw@eu1.upstash.io:6380"
    assert (
        _s(redis_url="redis://r:6379/1", upstash_redis_host="x").effective_redis_url
        == "redis://r:6379/1"
    )


def test_upstash_password_with_reserved_characters_round_trips() -> None:
    from redis.connection import parse_url

    s = _s(upstash_redis_host="eu1.upstash.io", upstash_redis_password="p@ss:w/rd")
    parsed = parse_url(s.effective_redis_url)
    assert parsed["password"] == "p@ss:w/rd" and parsed["host"] == "eu1.upstash.io"


def test_blank_values_mean_unset() -> None:
    s = _s(supabase_jwt_secret="  ", database_url="")
    assert s.supabase_jwt_secret is None and s.database_url is None and not s.auth_configured


def test_production_refuses_missing_or_weak_auth() -> None:
    with pytest.raises(ValueError, match="production"):
        _s(env="production")
    with pytest.raises(ValueError, match="too short"):
        _s(env="production", supabase_jwt_secret="short")
    assert _s(env="production", supabase_url="https://x.supabase.co").jwks_url == (
        "https://x.supabase.co/auth/v1/.well-known/jwks.json"
    )


@pytest.mark.parametrize(
    ("host", "ok"),
    [
        ("127.0.0.1", True),
        ("127.8.9.1", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("10.0.0.5", False),
        ("example.com", False),
    ],
)
def test_loopback_detection(host, ok) -> None:
    assert is_loopback(host) is ok
