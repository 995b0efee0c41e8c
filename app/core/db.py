"""Database access: URL normalisation, the async engine and session factory, and migrations.

`DATABASE_URL` accepts `sqlite+aiosqlite:///path`, `sqlite:///path`, `postgresql+asyncpg://...`
and the plain `postgresql://` / `postgres://` form Supabase shows (libpq's `sslmode` query
parameter is translated to asyncpg's `ssl`). Unset, the service uses a SQLite file under
DATA_DIR. Sessions never autocommit: the request dependency (app/api/deps.py) commits or rolls
back; code outside requests uses `Database.session()`, which does the same.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from app.core.config import Settings

ROOT = Path(__file__).resolve().parents[2]
ALEMBIC_INI = ROOT / "alembic.ini"

# libpq parameters asyncpg does not understand; dropped after translation.
_LIBPQ_ONLY = {"sslcert", "sslkey", "sslrootcert", "sslcrl", "target_session_attrs", "gssencmode"}


@dataclass(frozen=True)
class DatabaseTarget:
    """A normalised database location: the async URL and the driver's connect arguments."""

    url: URL
    connect_args: dict[str, Any] = field(default_factory=dict)

    @property
    def is_sqlite(self) -> bool:
        return self.url.get_backend_name() == "sqlite"


def resolve_database(settings: Settings) -> DatabaseTarget:
    """DATABASE_URL (or the embedded SQLite default) as an async SQLAlchemy URL + connect args."""
    if not settings.database_url:
        path = Path(settings.data_dir).expanduser()
        path.mkdir(parents=True, exist_ok=True)
        return DatabaseTarget(make_url(f"sqlite+aiosqlite:///{path / 'engine.db'}"))
    raw = settings.database_url.strip()
    if raw.startswith("postgres://"):
        raw = "postgresql://" + raw[len("postgres://") :]
    url = make_url(raw)
    backend = url.get_backend_name()
    if backend == "sqlite":
        url = url.set(drivername="sqlite+aiosqlite")
        if url.database and url.database != ":memory:":
            Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        return DatabaseTarget(url)
    if backend != "postgresql":
        raise ValueError(f"DATABASE_URL: unsupported database {backend!r} (sqlite or postgresql)")
    return _postgres_target(url, settings)


def _postgres_target(url: URL, settings: Settings) -> DatabaseTarget:
    query = dict(url.query)
    connect_args: dict[str, Any] = {}
    sslmode = query.pop("sslmode", None)
    if sslmode is not None and "ssl" not in query:
        connect_args["ssl"] = sslmode  # asyncpg takes libpq's mode names
    if "ssl" in query:
        connect_args["ssl"] = query.pop("ssl")
    if "connect_timeout" in query:
        connect_args["timeout"] = float(str(query.pop("connect_timeout")))
    if "application_name" in query:
        connect_args.setdefault("server_settings", {})["application_name"] = query.pop(
            "application_name"
        )
    pgbouncer = str(query.pop("pgbouncer", "")).lower() in {"1", "true", "yes"}
    for key in _LIBPQ_ONLY:
        query.pop(key, None)
    # Supabase's transaction pooler (port 6543, PgBouncer) cannot keep prepared statements.
    if pgbouncer or url.port == 6543:
        connect_args["statement_cache_size"] = 0
        connect_args["prepared_statement_name_func"] = lambda: f"__asyncpg_{uuid.uuid4()}__"
        query["prepared_statement_cache_size"] = "0"
    if settings.database_schema:
        connect_args.setdefault("server_settings", {})["search_path"] = settings.database_schema
    url = url.set(drivername="postgresql+asyncpg", query=query)
    return DatabaseTarget(url, connect_args)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


class Database:
    """The async engine and session factory of one database."""

    def __init__(self, settings: Settings) -> None:
        self.target = resolve_database(settings)
        kwargs: dict[str, Any] = {"echo": settings.database_echo, "pool_pre_ping": True}
        if not self.target.is_sqlite:
            kwargs.update(pool_size=settings.database_pool_size, max_overflow=10)
        self.engine: AsyncEngine = create_async_engine(
            self.target.url, connect_args=self.target.connect_args, **kwargs
        )
        if self.target.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session that commits when the block succeeds and rolls back when it raises."""
        async with self.sessionmaker() as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise

    async def ping(self) -> float:
        """Round-trip `SELECT 1`; returns the latency in milliseconds."""
        start = time.perf_counter()
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        return (time.perf_counter() - start) * 1000.0

    async def migrate(self, revision: str = "head") -> None:
        """Apply the Alembic migrations up to `revision` over this engine's connection."""
        async with self.engine.begin() as conn:
            await conn.run_sync(_upgrade, revision)

    async def dispose(self) -> None:
        await self.engine.dispose()


def alembic_config(url: str | None = None) -> Any:
    """The Alembic Config of this project (script location resolved from the repo root)."""
    from alembic.config import Config

    cfg = Config(str(ALEMBIC_INI))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def _upgrade(connection: Connection, revision: str) -> None:
    from alembic import command

    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, revision)


async def run_migrations(settings: Settings, revision: str = "head") -> None:
    """Migrate the configured database (used by the start-up hook and scripts/migrate.sh)."""
    db = Database(settings)
    try:
        await db.migrate(revision)
    finally:
        await db.dispose()
