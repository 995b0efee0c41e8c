"""Large uploads kept as files: a tape over STREAM_UPLOAD_BYTES is read once, chunk by chunk
(every row validated, one chunk in memory at a time), rewritten as Parquet with one row group
per STREAM_CHUNK_LOANS rows at TAPE_STORE_DIR/pools/<pool_id>.parquet (CSV or Parquet upload:
the tape's own columns, so the column map still applies) and recorded as a pool of origin "tape" (no blob in the database). A forecast
of such a pool is a `stream_forecast` job (202 + job_id) whose result is the merged pool cash
flows (GET /api/v1/jobs/{id}/result); with `options.loan_level` the loan-level results are a
Parquet dataset, one file per chunk, under TAPE_STORE_DIR/results/<job>/.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any, BinaryIO

import anyio
import numpy as np
import pyarrow.parquet as pq
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.errors import ValidationFailed
from app.engine.errors import EngineError
from app.engine.tape_stream import TapeFormat, chunk_tables, pool_of_chunk
from app.models.base import new_id
from app.models.forecasts import ForecastRequest
from app.models.tables import Pool
from app.services import columnar, jobs
from app.services.pools import TAPE_ORIGIN
from app.services.repositories import PoolRepository

__all__ = ["TAPE_ORIGIN", "forecast_payload", "submit_forecast", "tape_path", "upload_tape_file"]


def tape_path(settings: Settings, pool_id: str) -> Path:
    """Where a tape pool's file is: always Parquet (CSV uploads are rewritten once)."""
    return settings.tape_store_dir / "pools" / f"{pool_id}.parquet"


def _rewrite(
    raw: Path, fmt: TapeFormat, out: Path, column_map: Mapping[str, str], settings: Settings
) -> tuple[int, float, list[str]]:
    """One streaming pass over the upload: validate every chunk of STREAM_CHUNK_LOANS rows and
    write it to `out` as one Parquet row group (the tape's own columns, zstd), so every later
    chunk read is one row group whatever the upload's layout. Returns (loans, total balance
    summed in chunk order, the field columns)."""
    n, total = 0, 0.0
    columns: list[str] = []
    writer: pq.ParquetWriter | None = None
    try:
        for chunk, table in chunk_tables(
            raw, fmt, settings.stream_chunk_loans, column_map, max_rows=settings.stream_max_loans
        ):
            pool = pool_of_chunk(table, chunk, column_map)
            n += len(pool)
            total += pool.total_balance
            if writer is None:
                columns = list(columnar.pool_to_table(pool.take(np.arange(1))).column_names)
                writer = pq.ParquetWriter(
                    str(out), table.schema, **columnar.parquet_options(table.schema)
                )
            writer.write_table(table, row_group_size=max(1, table.num_rows))
    finally:
        if writer is not None:
            writer.close()
    return n, total, columns


async def upload_tape_file(
    session: AsyncSession,
    *,
    owner_id: str,
    name: str,
    source: BinaryIO,
    fmt: TapeFormat,
    column_map: Mapping[str, str] | None,
    settings: Settings,
    request_id: str | None,
) -> Pool:
    """Store the upload as a file and record it (422 naming body.file for any bad row)."""
    pool_id = new_id()
    path = tape_path(settings, pool_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = path.with_suffix(f".upload.{fmt}")
    tmp = path.with_suffix(".parquet.part")

    def copy() -> int:
        source.seek(0)
        with open(raw, "wb") as out:
            shutil.copyfileobj(source, out, 1 << 20)
        return raw.stat().st_size

    try:
        size = await anyio.to_thread.run_sync(copy)
        n, total, columns = await anyio.to_thread.run_sync(
            _rewrite, raw, fmt, tmp, dict(column_map or {}), settings
        )
    except EngineError as exc:
        tmp.unlink(missing_ok=True)
        raise ValidationFailed.from_engine(exc, prefix=("body", "file")) from exc
    finally:
        raw.unlink(missing_ok=True)
    os.replace(tmp, path)
    row = Pool(
        id=pool_id,
        owner_id=owner_id,
        name=name,
        origin=TAPE_ORIGIN,
        source_format=fmt,
        n_loans=n,
        total_balance=total,
        columns=columns,
        column_map=dict(column_map) if column_map else None,
        data=b"",
        size_bytes=size,
        request_id=request_id,
    )
    return await PoolRepository(session).add(row)


def forecast_payload(row: Pool, body: ForecastRequest, settings: Settings) -> dict[str, Any]:
    """The stream_forecast payload of a forecast of a tape pool (one scenario per request)."""
    from app.services.forecasts import scenario_inputs

    scenarios = scenario_inputs(body)
    if len(scenarios) != 1:
        raise ValidationFailed.single(
            ("body", "scenarios"),
            "a pool stored as a streamed tape is forecast one scenario per request",
        )
    _, assumptions, _, _ = scenarios[0]
    payload: dict[str, Any] = {
        "tape_path": str(tape_path(settings, row.id)),
        "format": "parquet",
        "column_map": row.column_map or {},
        "assumptions": assumptions.model_dump(mode="json", by_alias=True),
        "pool": {"pool_id": row.id},  # submission checks the caller owns it (404)
    }
    if body.options.loan_level:
        payload["loan_level_dir"] = new_id()  # under TAPE_STORE_DIR/results
    return payload


async def submit_forecast(
    session: AsyncSession,
    *,
    owner_id: str,
    row: Pool,
    body: ForecastRequest,
    settings: Settings,
    request_id: str | None,
) -> jobs.Submitted:
    """Queue the stream_forecast job of a tape pool's forecast (validated first: 422, no job)."""
    payload = forecast_payload(row, body, settings)
    await jobs.validate_payload("stream_forecast", payload, settings)
    return await jobs.submit(
        session,
        owner_id=owner_id,
        kind="stream_forecast",
        payload=payload,
        name=body.name,
        request_id=request_id,
    )
