"""Database access: URL normalisation, the async engine and session factory, and migrations.

`DATABASE_URL` accepts `sqlite+aiosqlite:///path`, `sqlite:///path`, `postgresql+asyncpg://...`
and the plain `postgresql://` / `postgres://` form Supabase shows (libpq's `sslmode` query
parameter is translated to asyncpg's `ssl`). Unset, the service uses a SQLite file under
DATA_DIR. Sessions never autocommit: the request dependency (app/api/deps.py) commits or rolls
back; code outside requests uses `Database.session()`, which does the same.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import event, inspect, text
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session
from sqlalchemy.util import await_only

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


SQLITE_BUSY_TIMEOUT_MS = 10_000
WRITE_LOCK_TIMEOUT_SECONDS = 30.0


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute(
        "PRAGMA synchronous=NORMAL"
    )  # WAL + NORMAL: durable at checkpoints, no fsync per commit
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cur.close()


def _sqlite_reset(_dbapi_conn: Any, record: Any, reset_state: Any) -> None:
    """Give a pooled SQLite connection back clean: roll back only if a transaction is open.

    The pool's default reset rolls back every time, and on aiosqlite each rollback is a
    round trip to the connection's thread (one per request, even after a commit).
    sqlite3 knows whether a transaction is open (`in_transaction`), so the rollback is skipped
    when there is nothing to undo. A connection being discarded outside the event loop
    (`asyncio_safe` false) is closed by the pool anyway."""
    if not reset_state.asyncio_safe:
        return
    if record.driver_connection.in_transaction:
        record.dbapi_connection.rollback()


_READ_SQL = ("SELECT", "WITH", "PRAGMA", "EXPLAIN", "VALUES")


def _is_write(state: Any) -> bool:
    """An ORM execution that writes: insert/update/delete constructs, or text that is not a read."""
    if state.is_insert or state.is_update or state.is_delete:
        return True
    if state.is_select:
        return False
    sql = str(state.statement).lstrip().upper()
    return not sql.startswith(_READ_SQL)


class SqliteWriteQueue:
    """One writer at a time in this process, served first come first served.

    SQLite admits one write transaction; waiting writers otherwise poll the file lock with
    growing sleeps (busy_timeout), so under many clients some wait long and some fail with
    `database is locked`. Here a session takes an asyncio lock before its first write (a
    flush, or an INSERT/UPDATE/DELETE statement) and gives it back when its transaction ends,
    so writers queue in order and SQLite never sees two at once from this process. Reads never
    wait (WAL). A writer that waits longer than WRITE_LOCK_TIMEOUT_SECONDS gets a 503.
    """

    KEY = "_sqlite_write_lock"

    def __init__(self, timeout: float = WRITE_LOCK_TIMEOUT_SECONDS) -> None:
        self.timeout = timeout
        self._locks: dict[asyncio.AbstractEventLoop, asyncio.Lock] = {}

    def _lock(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        lock = self._locks.get(loop)
        if lock is None:
            lock = self._locks[loop] = asyncio.Lock()
        return lock

    def acquire(self, session: Session) -> None:
        """Called in SQLAlchemy's greenlet: waits (asynchronously) for the write lock."""
        if session.info.get(self.KEY) is not None:
            return
        try:
            lock = self._lock()
        except RuntimeError:  # no running loop: a synchronous session, nothing to queue
            return
        try:
            await_only(asyncio.wait_for(lock.acquire(), self.timeout))
        except TimeoutError:
            from app.core.errors import ServiceUnavailable

            raise ServiceUnavailable(
                f"the database is busy (no write slot within {self.timeout:g} s); retry"
            ) from None
        session.info[self.KEY] = lock
        try:  # make sure a transaction is open, so that its end gives the lock back
            session.connection()
        except BaseException:
            self.release(session)
            raise

    def release(self, session: Session) -> None:
        lock = session.info.pop(self.KEY, None)
        if lock is not None and lock.locked():
            lock.release()

    def install(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        sync_cls = sessionmaker.kw.get("sync_session_class") or Session

        queue = self

        class QueuedSession(sync_cls):  # type: ignore[misc, valid-type]
            write_queue = queue

        @event.listens_for(QueuedSession, "before_flush")
        def _before_flush(session: Session, _ctx: Any, _instances: Any) -> None:
            if session.new or session.dirty or session.deleted:
                queue.acquire(session)

        @event.listens_for(QueuedSession, "do_orm_execute")
        def _before_execute(state: Any) -> None:
            if _is_write(state):
                queue.acquire(state.session)

        @event.listens_for(QueuedSession, "after_transaction_end")
        def _after_end(session: Session, transaction: Any) -> None:
            if transaction.parent is None:
                queue.release(session)

        sessionmaker.configure(sync_session_class=QueuedSession)


async def sqlite_driver_connection(session: AsyncSession) -> Any | None:
    """On SQLite: take the session's write slot (SqliteWriteQueue), open its transaction and
    return the driver's connection (aiosqlite), so that a caller can send statements to it
    directly, one round trip to the connection's thread each, in the session's transaction
    (committed or rolled back with the session). None on other databases."""
    queue: SqliteWriteQueue | None = getattr(session.sync_session, "write_queue", None)
    if queue is None:
        return None
    return await session.run_sync(_take_write_slot, queue)


def _take_write_slot(session: Session, queue: SqliteWriteQueue) -> Any:
    """In SQLAlchemy's greenlet (one hop for the three steps): the write slot, the session's
    connection (its transaction begun) and that connection's driver object."""
    queue.acquire(session)
    return session.connection().connection.driver_connection


class Database:
    """The async engine and session factory of one database."""

    def __init__(self, settings: Settings) -> None:
        self.target = resolve_database(settings)
        kwargs: dict[str, Any] = {"echo": settings.database_echo}
        if self.target.is_sqlite:
            kwargs["pool_reset_on_return"] = None  # `_sqlite_reset` instead
        else:
            # a server connection can die between requests: test it at checkout (a local
            # SQLite file cannot, so it skips the extra round trip per request)
            kwargs.update(
                pool_size=settings.database_pool_size, max_overflow=10, pool_pre_ping=True
            )
        self.engine: AsyncEngine = create_async_engine(
            self.target.url, connect_args=self.target.connect_args, **kwargs
        )
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)
        self.write_queue: SqliteWriteQueue | None = None
        if self.target.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
            event.listen(self.engine.sync_engine, "reset", _sqlite_reset)
            self.write_queue = SqliteWriteQueue()
            self.write_queue.install(self.sessionmaker)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session that commits when the block succeeds and rolls back when it raises. One
        that never began a transaction (a pricing call, say) has nothing to commit and skips
        the ~0.2 ms of beginning and committing an empty one."""
        async with self.sessionmaker() as session:
            try:
                yield session
                if session.in_transaction():
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
        """Apply the Alembic migrations up to `revision` over this engine's connection. A
        database already at SCHEMA_HEAD is left as it is without importing Alembic (~0.2 s of
        every restart)."""
        async with self.engine.begin() as conn:
            if revision == "head" and await conn.run_sync(_at_schema_head):
                return
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


SCHEMA_HEAD = "0009_scenarios"
"""The newest migration's revision (tests/core/test_db.py keeps it equal to Alembic's head)."""


def _at_schema_head(connection: Connection) -> bool:
    """Whether the database records exactly SCHEMA_HEAD as its Alembic version."""
    if not inspect(connection).has_table("alembic_version"):
        return False
    versions = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    return list(versions) == [SCHEMA_HEAD]


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
