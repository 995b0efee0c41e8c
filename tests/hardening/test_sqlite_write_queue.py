"""The embedded SQLite default under concurrent writers (issue 12 item 4): writers queue on one
in-process lock (FIFO), never see `database is locked`, and the lock is always given back."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from app.core.db import Database
from tests.conftest import make_settings


async def test_many_concurrent_writers_all_commit(tmp_path) -> None:
    db = Database(make_settings(tmp_path))
    async with db.engine.begin() as conn:
        await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, writer INTEGER)"))
    order: list[int] = []

    async def writer(i: int) -> None:
        async with db.session() as session:
            await session.execute(text("INSERT INTO t (writer) VALUES (:i)"), {"i": i})
            order.append(i)
            await asyncio.sleep(0.005)  # a transaction that stays open across an await
            await session.execute(text("UPDATE t SET writer = writer WHERE writer = :i"), {"i": i})

    try:
        await asyncio.gather(*(writer(i) for i in range(60)))
        async with db.engine.connect() as conn:
            n = (await conn.execute(text("SELECT count(*) FROM t"))).scalar_one()
        assert n == 60
        assert db.write_queue is not None
        assert not db.write_queue._lock().locked()  # given back after the last commit
    finally:
        await db.dispose()


async def test_lock_given_back_after_rollback_and_failed_statement(tmp_path) -> None:
    db = Database(make_settings(tmp_path))
    async with db.engine.begin() as conn:
        await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY)"))
    try:
        for _ in range(3):
            try:
                async with db.session() as session:
                    await session.execute(text("INSERT INTO nope VALUES (1)"))
            except Exception:  # noqa: BLE001 - the failure itself is the point
                pass
            async with db.session() as session:
                await session.execute(text("INSERT INTO t DEFAULT VALUES"))
        assert not db.write_queue._lock().locked()  # type: ignore[union-attr]
    finally:
        await db.dispose()


async def test_reads_do_not_wait_for_a_writer(tmp_path) -> None:
    db = Database(make_settings(tmp_path))
    async with db.engine.begin() as conn:
        await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY)"))
    try:
        async with db.session() as writer:
            await writer.execute(text("INSERT INTO t DEFAULT VALUES"))  # holds the write slot
            async with db.session() as reader:
                got = await asyncio.wait_for(
                    reader.execute(text("SELECT count(*) FROM t")), timeout=5
                )
                assert got.scalar_one() == 0  # WAL: the uncommitted row is not visible
    finally:
        await db.dispose()
