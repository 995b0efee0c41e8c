"""`insert_all` on SQLite sends each table's INSERT straight to the driver. These tests check
that what it stores is byte for byte what SQLAlchemy's own execution of `insert(table)` stores
(JSON, timestamps with time zones, NULLs, blobs, booleans), that the rows belong to the
session's transaction (a rollback undoes them), and that it keeps the one-writer queue."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from app.core import db as db_module
from app.core.db import Database, sqlite_driver_connection
from app.models.base import Base
from app.models.tables import ForecastLoanChunk, ForecastRun, ForecastScenario, Pool
from app.services.repositories.bulk import insert_all, insert_with_session, rows_by_table
from tests.conftest import make_settings

TABLES = ("pools", "forecast_runs", "forecast_scenarios", "forecast_loan_chunks")
WHEN = datetime(2026, 12, 3, 8, 15, 30, 123456, tzinfo=UTC)


def _objects(run_id: str = "run-1", pool_id: str = "pool-1") -> list[Base]:
    """A pool, a run and two scenarios with one loan chunk: every column type of those tables,
    None in nullable columns, non-ASCII text, and a column left to its default."""
    return [
        Pool(
            id=pool_id,
            owner_id="owner-ü",
            name="pool «1»",
            origin="inline",
            source_format="json",
            n_loans=2,
            total_balance=300_000.125,
            columns=["balance", "rate"],
            data=b"\x00\x01PAR1\xff",
            size_bytes=7,
            request_id=None,
            created_at=WHEN,
        ),
        ForecastRun(
            id=run_id,
            owner_id="owner-ü",
            name="run",
            status="succeeded",
            pool_id=pool_id,
            inputs={"pool": {"pool_id": pool_id}, "rates": [0.05, 1e-300], "flag": True},
            n_loans=2,
            n_periods=360,
            n_scenarios=2,
            loan_level=True,
            error=None,
            request_id="req-1",
            created_at=WHEN,
            started_at=WHEN,
            finished_at=WHEN + timedelta(milliseconds=3),
            duration_ms=1.25,
        ),
        ForecastScenario(
            forecast_id=run_id,
            scenario_index=0,
            name="base",
            assumptions={"severity": 0.35},
            n_periods=360,
            columns_format="arrow",
            columns_data=b"ARROW1",
            analytics={"wal_years": 7.5, "irr": None},
        ),
        ForecastScenario(
            forecast_id=run_id,
            scenario_index=1,
            name="stress",
            assumptions={},
            n_periods=12,
            columns_data=b"PAR1",  # columns_format left to its default
            analytics=None,
        ),
        ForecastLoanChunk(
            forecast_id=run_id,
            scenario_index=0,
            chunk_index=0,
            loan_start=0,
            loan_count=2,
            data=b"chunk",
        ),
    ]


def _raw_rows(db_file: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every row of the tables as sqlite3 returns them (the stored values, no type mapping)."""
    with sqlite3.connect(db_file) as con:
        return {t: sorted(con.execute(f"SELECT * FROM {t}").fetchall(), key=repr) for t in TABLES}


async def _database(tmp_path: Path, name: str) -> tuple[Database, Path]:
    (tmp_path / name).mkdir()
    db = Database(make_settings(tmp_path / name))
    await db.migrate()
    return db, tmp_path / name / "test.db"


async def test_the_driver_path_stores_what_sqlalchemy_stores(tmp_path: Path) -> None:
    fast, fast_file = await _database(tmp_path, "fast")
    core, core_file = await _database(tmp_path, "core")
    try:
        fast_objects, core_objects = _objects(), _objects()
        async with fast.session() as s:
            assert await sqlite_driver_connection(s) is not None  # the driver path is taken
            await insert_all(s, fast_objects)
        async with core.session() as s:
            await insert_with_session(s, rows_by_table(core_objects))
        fast_rows = _raw_rows(fast_file)
        assert all(len(fast_rows[t]) >= 1 for t in TABLES)
        assert fast_rows == _raw_rows(core_file)
        assert fast_rows["forecast_scenarios"][1][5] == "parquet"  # the scalar default

        async with fast.session() as s:  # and the ORM reads them back as given
            run = (await s.execute(select(ForecastRun))).scalar_one()
            assert run.created_at.replace(tzinfo=UTC) == WHEN  # SQLite reads back naive UTC
            assert run.inputs["rates"] == [0.05, 1e-300]
            assert run.error is None and run.loan_level is True
            scenarios = (await s.execute(select(ForecastScenario))).scalars().all()
            assert sorted(sc.name for sc in scenarios) == ["base", "stress"]
            assert {sc.scenario_index: sc.analytics for sc in scenarios} == {
                0: {"wal_years": 7.5, "irr": None},
                1: None,
            }
    finally:
        await fast.dispose()
        await core.dispose()


async def test_the_rows_are_in_the_sessions_transaction(tmp_path: Path) -> None:
    db, db_file = await _database(tmp_path, "tx")
    try:
        with pytest.raises(RuntimeError):
            async with db.session() as s:
                await insert_all(s, _objects())
                raise RuntimeError("the request failed after the insert")
        assert all(rows == [] for rows in _raw_rows(db_file).values())  # rolled back
        async with db.session() as s:
            await insert_all(s, _objects())
        assert len(_raw_rows(db_file)["forecast_scenarios"]) == 2  # committed
    finally:
        await db.dispose()


async def test_writers_still_queue_one_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two sessions writing at once: the second waits for the first's commit in the write
    queue. SQLite's own wait is switched off (busy_timeout 0), so a second writer that reached
    SQLite while the first holds the file lock would fail with `database is locked`."""
    monkeypatch.setattr(db_module, "SQLITE_BUSY_TIMEOUT_MS", 0)
    db, db_file = await _database(tmp_path, "queue")
    order: list[str] = []
    first_inserted = asyncio.Event()

    async def first() -> None:
        async with db.session() as s:
            await insert_all(s, _objects("run-a", "pool-a"))
            order.append("a inserted")
            first_inserted.set()
            await asyncio.sleep(0.2)  # hold the write slot
            order.append("a commits")

    async def second() -> None:
        await first_inserted.wait()
        async with db.session() as s:
            await insert_all(s, _objects("run-b", "pool-b"))
            order.append("b inserted")

    try:
        await asyncio.gather(first(), second())
        assert order == ["a inserted", "a commits", "b inserted"]
        assert len(_raw_rows(db_file)["forecast_runs"]) == 2
    finally:
        await db.dispose()


async def test_with_database_echo_the_inserts_are_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """DATABASE_ECHO logs every statement, the forecast's INSERTs included: they take
    SQLAlchemy's execution then, and store the same rows."""
    db = Database(make_settings(tmp_path, database_echo=True))
    try:
        await db.migrate()
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="sqlalchemy.engine"):
            async with db.session() as s:
                await insert_all(s, _objects())
        logged = [r.getMessage() for r in caplog.records if r.name.startswith("sqlalchemy")]
        for table in TABLES:
            assert any(m.startswith(f"INSERT INTO {table} ") for m in logged), table
        assert len(_raw_rows(tmp_path / "test.db")["forecast_scenarios"]) == 2
    finally:
        await db.dispose()


async def test_other_databases_take_sqlalchemys_path(pg_url: str, tmp_path: Path) -> None:
    db = Database(make_settings(tmp_path, database_url=pg_url))
    try:
        async with db.session() as s:
            assert await sqlite_driver_connection(s) is None
    finally:
        await db.dispose()
