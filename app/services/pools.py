"""Pool use cases: store an uploaded tape or a forecast's inline loans, and load a pool back.

Tapes are read and validated by `app.engine.tape.read_tape` (every bad row is reported), then
stored as one compressed Parquet blob of engine field columns.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any, Literal

import anyio
import pyarrow as pa
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.errors import NotFound, UnsupportedMediaType, ValidationFailed
from app.engine.errors import EngineError, InvalidInput
from app.engine.pool import LoanPool
from app.engine.tape import TapeLimits, read_tape
from app.models.base import new_id
from app.models.pools import PoolOut
from app.models.tables import Pool
from app.services import columnar
from app.services.repositories import PoolRepository
from app.services.tape_columns import TapeColumnReport, sort_columns

TapeFormat = Literal["csv", "parquet"]
TAPE_ORIGIN = "tape"  # a large upload kept as a file (app.services.tape_pools)
PANEL_ORIGIN = (
    "panel"  # consumer-credit performance panels share the table (services/consumer_credit)
)

TAPE_CONTENT_TYPES = frozenset(
    {
        "text/csv",
        "text/plain",
        "application/csv",
        "application/vnd.ms-excel",  # what browsers on Windows send for .csv
        "application/octet-stream",
        "application/vnd.apache.parquet",
        "application/parquet",
        "application/x-parquet",
    }
)
"""Content types a tape upload may declare (none declared is accepted too)."""


def check_content_type(content_type: str | None) -> None:
    """415 for an upload declared as something other than a CSV or Parquet tape."""
    if not content_type:
        return
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind not in TAPE_CONTENT_TYPES:
        raise UnsupportedMediaType(
            f"the file is declared as {kind!r}; a tape is text/csv, application/octet-stream "
            "or application/vnd.apache.parquet"
        )


def to_out(pool: Pool) -> PoolOut:
    return PoolOut(
        pool_id=pool.id,
        name=pool.name,
        origin=pool.origin,
        source_format=pool.source_format,
        n_loans=pool.n_loans,
        total_balance=pool.total_balance,
        columns=list(pool.columns),
        column_map=pool.column_map,
        size_bytes=pool.size_bytes,
        created_at=pool.created_at,
    )


def detect_format(data: bytes, filename: str | None, declared: str | None) -> TapeFormat:
    """Declared format, else Parquet's magic bytes, else the file extension, else CSV."""
    if declared:
        if declared not in ("csv", "parquet"):
            raise ValidationFailed.single(["body", "format"], "must be csv or parquet")
        return declared  # type: ignore[return-value]
    if data[:4] == columnar.PARQUET_MAGIC:
        return "parquet"
    if filename and filename.lower().endswith((".parquet", ".pq")):
        return "parquet"
    return "csv"


def _pool_row(
    pool: LoanPool,
    *,
    owner_id: str,
    name: str,
    origin: str,
    source_format: str,
    column_map: Mapping[str, str] | None,
    request_id: str | None,
) -> Pool:
    table = columnar.pool_to_table(pool)
    blob = columnar.table_to_blob(table)
    return Pool(
        id=new_id(),  # known before the row is written (a forecast refers to it)
        owner_id=owner_id,
        name=name,
        origin=origin,
        source_format=source_format,
        n_loans=len(pool),
        total_balance=pool.total_balance,
        columns=list(table.column_names),
        column_map=dict(column_map) if column_map else None,
        data=blob,
        size_bytes=len(blob),
        request_id=request_id,
    )


def tape_limits(settings: Settings) -> TapeLimits:
    """The cost bounds of reading one uploaded tape (MAX_POOL_LOANS, MAX_TAPE_*)."""
    return TapeLimits(
        max_rows=settings.max_pool_loans,
        max_decoded_bytes=settings.max_tape_decoded_bytes,
        max_string_bytes=settings.max_tape_string_bytes,
        max_columns=settings.max_tape_columns,
        max_seconds=settings.max_tape_parse_seconds,
        rows_limit_name="MAX_POOL_LOANS",
    )


def _read_tape(
    data: bytes, fmt: TapeFormat, column_map: Mapping[str, str] | None, limits: TapeLimits
) -> LoanPool:
    return read_tape(io.BytesIO(data), format=fmt, column_map=column_map, limits=limits)


async def upload_pool(
    session: AsyncSession,
    *,
    owner_id: str,
    name: str,
    data: bytes,
    filename: str | None,
    declared_format: str | None,
    column_map: Mapping[str, str] | None,
    settings: Settings,
    request_id: str | None,
) -> tuple[Pool, TapeColumnReport]:
    """Validate a CSV/Parquet tape (all bad rows reported as 422) and store it; columns that
    map to no loan field are not stored and are named in the report (`tape_columns`)."""
    if not data:
        raise ValidationFailed.single(["body", "file"], "the uploaded file is empty")
    fmt = detect_format(data, filename, declared_format)
    try:
        pool = await anyio.to_thread.run_sync(
            _read_tape, data, fmt, column_map, tape_limits(settings)
        )
    except EngineError as exc:
        raise ValidationFailed.from_engine(exc, prefix=("body", "file")) from exc
    if len(pool) > settings.max_pool_loans:
        raise ValidationFailed.single(
            ["body", "file"],
            f"{len(pool)} loans is more than the limit of {settings.max_pool_loans} (MAX_POOL_LOANS)",
        )
    pool, report = sort_columns(pool, column_map)
    row = await anyio.to_thread.run_sync(
        lambda: _pool_row(
            pool,
            owner_id=owner_id,
            name=name,
            origin="upload",
            source_format=fmt,
            column_map=column_map,
            request_id=request_id,
        )
    )
    return await PoolRepository(session).add(row), report


def pool_from_loans(rows: list[dict[str, Any]]) -> LoanPool:
    """Inline loans (JSON objects) -> LoanPool; columns are built by Arrow, not a Python loop."""
    try:
        # pa.array infers one struct type from ALL rows (the union of keys, ints widened to
        # floats); Table.from_pylist would take the keys of the first row only.
        loans = pa.array(rows)
    except OverflowError as exc:
        raise ValidationFailed.single(
            ["body", "pool", "loans"], "a number is too large (beyond a 64-bit integer)"
        ) from exc
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise ValidationFailed.single(
            ["body", "pool", "loans"], f"a field has values of different types across loans: {exc}"
        ) from exc
    if not isinstance(loans, pa.StructArray):  # no loans at all: the pool check names it
        loans = pa.array(rows, type=pa.struct([]))
    try:  # the struct's children are the columns (no row is null: every loan is an object)
        return LoanPool.from_columns({f.name: loans.field(i) for i, f in enumerate(loans.type)})
    except EngineError as exc:
        raise ValidationFailed.from_engine(exc, prefix=("body", "pool", "loans")) from exc


def pool_from_columns(columns: Mapping[str, list[Any]]) -> LoanPool:
    """Inline columnar pool -> LoanPool; problems are located as pool.columns.<field>.<row>."""
    try:
        return LoanPool.from_columns(dict(columns))
    except InvalidInput as exc:
        raise ValidationFailed(
            [
                {
                    "loc": [
                        "body",
                        "pool",
                        "columns",
                        p.column,
                        *([p.row] if p.row is not None else []),
                    ],
                    "msg": p.reason,
                    "type": "invalid_value",
                }
                for p in exc.problems
            ]
        ) from exc
    except EngineError as exc:
        raise ValidationFailed.from_engine(exc, prefix=("body", "pool", "columns")) from exc


def inline_pool_row(pool: LoanPool, *, owner_id: str, name: str, request_id: str | None) -> Pool:
    """The row (Parquet blob) that stores a forecast's inline pool; CPU work, not yet added."""
    return _pool_row(
        pool,
        owner_id=owner_id,
        name=name,
        origin="inline",
        source_format="json",
        column_map=None,
        request_id=request_id,
    )


async def load_pool(session: AsyncSession, *, owner_id: str, pool_id: str) -> tuple[Pool, LoanPool]:
    """The stored pool of `owner_id` (NotFound for a missing or another user's pool)."""
    row = await PoolRepository(session).get_owned(owner_id, pool_id)
    if row is None or row.origin == PANEL_ORIGIN:  # a performance panel is not a loan pool
        raise NotFound("pool not found")
    if row.origin == TAPE_ORIGIN:
        raise ValidationFailed.single(
            ["body", "pool", "pool_id"],
            f"this pool is a streamed tape of {row.n_loans} loans (over STREAM_UPLOAD_BYTES): "
            "it can be forecast (POST /api/v1/cashflow/forecast, one scenario, a job), not loaded whole",
        )
    pool = await anyio.to_thread.run_sync(columnar.pool_from_blob, row.data)
    return row, pool


async def get_pool(session: AsyncSession, *, owner_id: str, pool_id: str) -> Pool:
    row = await PoolRepository(session).get_owned(owner_id, pool_id, with_data=False)
    if row is None or row.origin == PANEL_ORIGIN:
        raise NotFound("pool not found")
    return row


async def list_pools(
    session: AsyncSession, *, owner_id: str, limit: int, offset: int
) -> tuple[list[Pool], int]:
    return await PoolRepository(session).list_owned(owner_id, limit=limit, offset=offset)
