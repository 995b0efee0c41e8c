"""New rows written with Core INSERTs instead of the ORM unit of work.

For the rows of one small request (a pool, a forecast run, its scenarios) the unit of work's
bookkeeping (identity map, flush planning, attribute events) costs more than the SQL: a stored
1-loan forecast spent ~3.5 ms in `Session.add` and two flushes against ~0.5 ms for the
statements. `insert_all` fills in the objects' Python-side column defaults (ids, timestamps),
then runs one INSERT per table (executemany when a table has several rows) in the order given,
in the session's transaction. The objects stay transient: they are read back as plain values.

On SQLite each table's INSERT goes straight to the driver (`aiosqlite.Connection.executemany`:
one round trip to the connection's thread) with the statement and bind processing SQLAlchemy
compiled for that dialect, so the bytes stored are the ones `session.execute(insert(table))`
would store (tests/core/test_bulk_insert.py compares them); through SQLAlchemy's adapter the
same INSERT takes three round trips (cursor, execute, close) and the ORM execution around it.
With DATABASE_ECHO on, the INSERTs take SQLAlchemy's path, so that they are logged.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import sqlite_driver_connection
from app.models.base import Base


def row_values(obj: Base) -> dict[str, Any]:
    """The column values of a new ORM object, its unset Python-side defaults filled in (and
    set on the object, so that it carries its id and timestamps)."""
    values: dict[str, Any] = {}
    for attr in obj.__mapper__.column_attrs:
        column = attr.columns[0]
        value = getattr(obj, attr.key)
        default = column.default
        if value is None and default is not None and getattr(default, "is_scalar", False):
            value = default.arg  # type: ignore[attr-defined]
            setattr(obj, attr.key, value)
        elif value is None and default is not None and getattr(default, "is_callable", False):
            value = default.arg(None)  # type: ignore[attr-defined]  # SQLAlchemy's wrapper: no context needed
            setattr(obj, attr.key, value)
        values[column.key] = value
    return values


def rows_by_table(objects: Sequence[Base]) -> dict[Table, list[dict[str, Any]]]:
    """The objects' column values grouped by table, tables in first-seen order."""
    by_table: dict[Table, list[dict[str, Any]]] = {}
    for obj in objects:
        by_table.setdefault(obj.__table__, []).append(row_values(obj))  # type: ignore[arg-type]
    return by_table


async def insert_all(session: AsyncSession, objects: Sequence[Base]) -> None:
    """INSERT new ORM objects, one statement per table in first-seen order (parents first)."""
    by_table = rows_by_table(objects)
    bind = session.get_bind()
    # DATABASE_ECHO logs statements through SQLAlchemy's execution: keep it when echoing
    driver = await sqlite_driver_connection(session) if by_table and not bind.engine.echo else None
    if driver is None:
        await insert_with_session(session, by_table)
        return
    for table, rows in by_table.items():
        stmt = compiled_insert(table, bind.dialect)
        await driver.executemany(stmt.sql, [stmt.parameters(row) for row in rows])


async def insert_with_session(
    session: AsyncSession, by_table: Mapping[Table, list[dict[str, Any]]]
) -> None:
    """The same INSERTs through SQLAlchemy's execution (any database)."""
    for table, rows in by_table.items():
        await session.execute(insert(table), rows)


@dataclass(frozen=True)
class CompiledInsert:
    """An INSERT of every column of a table, compiled for a positional-parameter dialect."""

    sql: str
    keys: tuple[str, ...]  # the column key bound at each position
    processors: tuple[Callable[[Any], Any] | None, ...]  # the dialect's bind processing

    def parameters(self, row: Mapping[str, Any]) -> tuple[Any, ...]:
        return tuple(
            row[k] if p is None else p(row[k])
            for k, p in zip(self.keys, self.processors, strict=True)
        )


@lru_cache(maxsize=64)
def compiled_insert(table: Table, dialect: Dialect) -> CompiledInsert:
    """`insert(table)` of all columns as SQL text, with each bind's processor for `dialect`
    (JSON serialised, datetimes as SQLite text, and so on), as SQLAlchemy itself would bind."""
    compiled = insert(table).compile(dialect=dialect, column_keys=[c.key for c in table.columns])
    names = compiled.positiontup
    if names is None:
        raise ValueError(f"{dialect.name}: not a positional-parameter dialect")
    binds = [compiled.binds[name] for name in names]
    return CompiledInsert(
        sql=str(compiled),
        keys=tuple(b.key for b in binds),
        processors=tuple(b.type.dialect_impl(dialect).bind_processor(dialect) for b in binds),
    )
