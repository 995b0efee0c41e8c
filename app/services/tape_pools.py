"""Large uploads kept as files: a tape over STREAM_UPLOAD_BYTES is copied, as uploaded, into
TAPE_STORE_DIR/pools/<pool_id>.<format>, validated chunk by chunk (every row, one chunk in
memory at a time) and recorded as a pool of origin "tape" (no blob in the database). A forecast
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
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.errors import ValidationFailed
from app.engine.errors import EngineError
from app.engine.tape_stream import TapeFormat, plan_chunks, read_chunk
from app.models.base import new_id
from app.models.forecasts import ForecastRequest
from app.models.tables import Pool
from app.services import columnar, jobs
from app.services.pools import TAPE_ORIGIN
from app.services.repositories import PoolRepository

__all__ = ["TAPE_ORIGIN", "forecast_payload", "submit_forecast", "tape_path", "upload_tape_file"]


def tape_path(settings: Settings, pool_id: str, fmt: str) -> Path:
    return settings.tape_store_dir / "pools" / f"{pool_id}.{fmt}"


def _scan(path: Path, fmt: TapeFormat, column_map: Mapping[str, str], settings: Settings) -> tuple[int, float, list[str]]:
    """Validate every chunk; (loans, total balance summed in chunk order, field columns)."""
    n, total = 0, 0.0
    columns: list[str] = []
    for chunk in plan_chunks(path, fmt, settings.stream_chunk_loans, max_rows=settings.stream_max_loans):
        pool = read_chunk(path, fmt, chunk, column_map)
        n += len(pool)
        total += pool.total_balance
        if not columns:
            columns = list(columnar.pool_to_table(pool.take(np.arange(min(1, len(pool))))).column_names)
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
    path = tape_path(settings, pool_id, fmt)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".part")

    def copy() -> int:
        source.seek(0)
        with open(tmp, "wb") as out:
            shutil.copyfileobj(source, out, 1 << 20)
        return tmp.stat().st_size

    size = await anyio.to_thread.run_sync(copy)
    try:
        n, total, columns = await anyio.to_thread.run_sync(_scan, tmp, fmt, dict(column_map or {}), settings)
    except EngineError as exc:
        tmp.unlink(missing_ok=True)
        raise ValidationFailed.from_engine(exc, prefix=("body", "file")) from exc
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
            ("body", "scenarios"), "a pool stored as a streamed tape is forecast one scenario per request"
        )
    _, assumptions, _, _ = scenarios[0]
    payload: dict[str, Any] = {
        "tape_path": str(tape_path(settings, row.id, row.source_format)),
        "format": row.source_format,
        "column_map": row.column_map or {},
        "assumptions": assumptions.model_dump(mode="json", by_alias=True),
        "pool": {"pool_id": row.id},  # submission checks the caller owns it (404)
    }
    if body.options.loan_level:
        payload["loan_level_dir"] = new_id()  # under TAPE_STORE_DIR/results
    return payload


async def submit_forecast(
    session: AsyncSession, *, owner_id: str, row: Pool, body: ForecastRequest, settings: Settings, request_id: str | None
) -> jobs.Submitted:
    """Queue the stream_forecast job of a tape pool's forecast (validated first: 422, no job)."""
    payload = forecast_payload(row, body, settings)
    await jobs.validate_payload("stream_forecast", payload, settings)
    return await jobs.submit(
        session, owner_id=owner_id, kind="stream_forecast", payload=payload, name=body.name, request_id=request_id
    )
