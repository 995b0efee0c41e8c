"""Storage on SQLite and on the local PostgreSQL: Alembic migrations from the command line and
at start-up, the session's commit/rollback, and owner-scoped repositories. PostgreSQL tests run
in a throwaway schema that is dropped afterwards, so no rows are left behind."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from app.core.db import Database
from app.models.tables import ForecastRun, Pool
from app.services.repositories import ForecastFilters, ForecastRepository, PoolRepository
from app.services.repositories.bulk import insert_all
from tests.conftest import make_settings, unique_user

ROOT = Path(__file__).resolve().parents[2]
TABLES = {"alembic_version", "pools", "forecast_runs", "forecast_scenarios", "forecast_loan_chunks"}


def _alembic(*args: str, env: dict[str, str]) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "alembic", *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout + out.stderr


async def _tables(db: Database) -> set[str]:
    async with db.engine.connect() as conn:
        return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))


async def _cli_roundtrip(tmp_path: Path, env: dict[str, str], schema: str | None) -> None:
    _alembic("upgrade", "head", env=env)
    settings = make_settings(
        tmp_path, database_url=env["DATABASE_URL"], database_schema=schema, migrate_on_start=False
    )
    db = Database(settings)
    try:
        assert await _tables(db) >= TABLES
        # the migrations create exactly what the ORM models describe
        assert "No new upgrade operations detected" in _alembic("check", env=env)
        _alembic("downgrade", "base", env=env)
        assert await _tables(db) <= {"alembic_version"}
    finally:
        await db.dispose()


async def test_alembic_command_line_sqlite(tmp_path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "DATABASE_SCHEMA": ""}
    await _cli_roundtrip(tmp_path, env, None)


async def test_alembic_command_line_postgres(tmp_path, pg_url, pg_schema) -> None:
    # the plain postgresql:// form (what Supabase shows), with a libpq sslmode parameter
    plain = pg_url.replace("postgresql+asyncpg://", "postgresql://") + "?sslmode=disable"
    await _cli_roundtrip(tmp_path, {"DATABASE_URL": plain, "DATABASE_SCHEMA": pg_schema}, pg_schema)


async def test_startup_migration_and_session_commit_rollback(any_db_settings) -> None:
    db = Database(any_db_settings)
    try:
        await db.migrate()
        await db.migrate()  # idempotent
        assert await _tables(db) >= TABLES
        owner = unique_user()
        with pytest.raises(RuntimeError):
            async with db.session() as s:
                await PoolRepository(s).add(_pool(owner))
                raise RuntimeError("boom")
        async with db.session() as s:
            assert (await PoolRepository(s).list_owned(owner))[1] == 0  # rolled back
            pool = await PoolRepository(s).add(_pool(owner))
        async with db.session() as s:
            got = await PoolRepository(s).get_owned(owner, pool.id)
            assert got is not None and got.data == b"PAR1-bytes"
            assert await PoolRepository(s).get_owned(unique_user(), pool.id) is None
            run = ForecastRun(
                owner_id=owner,
                name="Run X",
                status="succeeded",
                pool_id=pool.id,
                inputs={"k": [1, 2]},
                n_loans=1,
                n_scenarios=0,
            )
            await insert_all(s, [run])
        async with db.session() as s:
            repo = ForecastRepository(s)
            items, total = await repo.list_owned(
                owner, ForecastFilters(name="run x"), limit=10, offset=0
            )
            assert total == 1 and items[0].id == run.id
            assert (await repo.list_owned(owner, ForecastFilters(name="_"), limit=10, offset=0))[
                1
            ] == 0
            assert await repo.get_owned(unique_user(), run.id) is None
            await s.execute(text("DELETE FROM forecast_runs WHERE owner_id = :o"), {"o": owner})
            await s.execute(text("DELETE FROM pools WHERE owner_id = :o"), {"o": owner})
        async with db.session() as s:
            left = await s.execute(
                text("SELECT count(*) FROM pools WHERE owner_id = :o"), {"o": owner}
            )
            assert left.scalar_one() == 0
    finally:
        await db.dispose()


def _pool(owner: str) -> Pool:
    return Pool(
        owner_id=owner,
        name="p",
        origin="upload",
        source_format="csv",
        n_loans=1,
        total_balance=1.0,
        columns=["balance"],
        data=b"PAR1-bytes",
        size_bytes=10,
    )


def _downgrade(connection, revision: str) -> None:  # type: ignore[no-untyped-def]
    from alembic import command

    from app.core.db import alembic_config

    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    command.downgrade(cfg, revision)


def test_schema_head_is_alembics_head() -> None:
    """The shortcut that skips Alembic at start must know the newest migration."""
    from alembic.script import ScriptDirectory

    from app.core.db import SCHEMA_HEAD, alembic_config

    assert ScriptDirectory.from_config(alembic_config()).get_current_head() == SCHEMA_HEAD


async def test_restart_on_a_migrated_database_skips_alembic(any_db_settings) -> None:
    """First start: Alembic migrates. A restart (fresh process) on the same database finds it
    at SCHEMA_HEAD and never imports Alembic; a database one revision behind is upgraded."""
    db = Database(any_db_settings)
    try:
        await db.migrate()
    finally:
        await db.dispose()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": any_db_settings.database_url,
        "DATABASE_SCHEMA": any_db_settings.database_schema or "",
    }
    code = (
        "import asyncio, sys\n"
        "from app.core.config import get_settings\n"
        "from app.core.db import Database\n"
        "async def main():\n"
        "    db = Database(get_settings())\n"
        "    await db.migrate()\n"
        "    await db.dispose()\n"
        "asyncio.run(main())\n"
        "print('alembic' in sys.modules)\n"
    )

    def restart() -> str:
        out = subprocess.run(
            [sys.executable, "-c", code],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert out.returncode == 0, out.stderr[-2000:]
        return out.stdout.strip()

    assert restart() == "False"
    db = Database(any_db_settings)
    try:
        async with db.engine.begin() as conn:
            await conn.run_sync(_downgrade, "0008_jobs")
    finally:
        await db.dispose()
    assert restart() == "True"  # behind: Alembic ran the upgrade
    db = Database(any_db_settings)
    try:
        async with db.engine.connect() as conn:
            got = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()
        assert got == "0009_scenarios"
    finally:
        await db.dispose()


async def test_sqlite_connection_given_back_mid_transaction_is_rolled_back(tmp_path) -> None:
    """The pool's reset on SQLite rolls back only an open transaction (`_sqlite_reset`): a
    write SQLAlchemy did not see begin (issued on the driver directly) is undone when the
    connection goes back to the pool, and the next checkout finds the table empty and unlocked."""
    db = Database(make_settings(tmp_path))
    try:
        async with db.engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (x INTEGER)"))

        def write_behind_sqlalchemys_back(sync_conn) -> bool:
            dbapi = sync_conn.connection.dbapi_connection
            cur = dbapi.cursor()
            cur.execute("INSERT INTO t VALUES (1)")
            cur.close()
            return bool(sync_conn.connection.driver_connection.in_transaction)

        async with db.engine.connect() as conn:
            assert await conn.run_sync(write_behind_sqlalchemys_back)  # a transaction is open
        async with db.engine.begin() as conn:  # would wait on the lock if it had leaked
            assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar_one() == 0
            await conn.execute(text("INSERT INTO t VALUES (2)"))
        async with db.engine.connect() as conn:  # a committed write stays
            assert (await conn.execute(text("SELECT x FROM t"))).scalars().all() == [2]
    finally:
        await db.dispose()
