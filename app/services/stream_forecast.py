"""The `stream_forecast` job kind: a large tape file projected chunk by chunk across workers.

Payload (POST /api/v1/jobs/ `{"kind": "stream_forecast", "payload": ...}`):

    tape_path      path of a CSV or Parquet tape inside TAPE_STORE_DIR (relative or absolute)
    format         "csv" | "parquet" (default: Parquet magic bytes, else CSV)
    column_map     tape column -> field name (as for POST /api/v1/pools)
    assumptions    one forecast scenario's assumptions (AssumptionsIn; default 0 CPR / 0 CDR)
    chunk_loans    loans per chunk (default STREAM_CHUNK_LOANS; Parquet: whole row groups)
    loan_level_dir write loan-level results as a Parquet dataset there (inside TAPE_STORE_DIR/results),
                   one file `part-<chunk:05d>.parquet` per chunk (optional)

`validate` resolves the paths and adds the first pass's results to the payload before the job is
stored: `horizon_months` (the whole tape's horizon, `projection.horizon_for_term` of its longest
remaining term) and `chunk_loans`, so every chunk, on any worker, is projected on the same
horizon. A chunk's stored blob holds its pool columns (exact float64); `merge` sums them in chunk
order, left to right: total = ((c_0 + c_1) + c_2) + ... + c_{k-1}, the order in which one process
projecting the same chunks one after another would accumulate them. A different chunking
regroups the additions, so two chunkings agree to rounding (~1e-15 relative), not bit for bit.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from functools import reduce
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import ValidationError

from app.core.config import Settings
from app.core.errors import ValidationFailed
from app.engine.errors import EngineError
from app.engine.pool import LoanPool
from app.engine.projection import Projection, horizon_for_term, project_pool
from app.engine.tape_stream import (
    TapeChunk,
    TapeFormat,
    longest_remaining_term,
    plan_chunks,
    read_chunk,
    tape_format,
)
from app.engine.types import CASHFLOW_COLUMNS, Assumptions
from app.models.forecasts import AssumptionsIn
from app.services import columnar
from app.services.forecasts import to_assumptions

__all__ = [
    "compute_chunk",
    "merge",
    "merge_columns",
    "plan",
    "project_chunk",
    "validate",
]

POOLS_DIR = "pools"  # TAPE_STORE_DIR/pools/<pool_id>.<format>: uploaded tapes kept as files
RESULTS_DIR = "results"  # loan_level_dir is relative to TAPE_STORE_DIR/results
_SUMMED = tuple(c for c in CASHFLOW_COLUMNS if c != "period")
_LOC = ("body", "payload")


def _bad(field: str, msg: str) -> ValidationFailed:
    return ValidationFailed.single((*_LOC, field), msg)


def _inside(root: Path, value: Any, field: str) -> Path:
    if not isinstance(value, str) or not value:
        raise _bad(field, "must be a path inside TAPE_STORE_DIR")
    root = root.resolve()
    path = (root / value).resolve()
    if path != root and root not in path.parents:
        raise _bad(field, "must be a path inside TAPE_STORE_DIR")
    return path


def _assumptions(payload: dict[str, Any]) -> Assumptions:
    a = AssumptionsIn.model_validate(payload.get("assumptions") or {})
    return to_assumptions(a)


def _fmt(payload: dict[str, Any]) -> TapeFormat:
    return tape_format(payload["tape_path"], payload.get("format"))


def _chunks(payload: dict[str, Any], max_rows: int | None = None) -> list[TapeChunk]:
    return plan_chunks(
        payload["tape_path"], _fmt(payload), int(payload["chunk_loans"]), max_rows=max_rows
    )


def validate(payload: dict[str, Any], settings: Settings) -> None:
    """Check the payload and complete it in place (resolved paths, `chunk_loans`,
    `horizon_months`, `n_loans`) with one pass over the tape's footer / term columns."""
    tape = _inside(settings.tape_store_dir, payload.get("tape_path"), "tape_path")
    if not tape.is_file():
        raise _bad("tape_path", "no such tape file in TAPE_STORE_DIR")
    if tape.parent == (settings.tape_store_dir / POOLS_DIR).resolve():
        # an uploaded pool's file: only with its pool id, whose owner submission checks (404)
        ref = payload.get("pool")
        if not isinstance(ref, dict) or ref.get("pool_id") != tape.stem:
            raise _bad("tape_path", "an uploaded pool's tape is forecast through its pool_id")
    if payload.get("loan_level_dir") is not None:
        payload["loan_level_dir"] = str(
            _inside(
                settings.tape_store_dir / RESULTS_DIR, payload["loan_level_dir"], "loan_level_dir"
            )
        )
    cmap = payload.get("column_map") or {}
    if not isinstance(cmap, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in cmap.items()
    ):
        raise _bad("column_map", "must map tape column names to field names")
    chunk_loans = payload.get("chunk_loans", settings.stream_chunk_loans)
    if not isinstance(chunk_loans, int) or isinstance(chunk_loans, bool) or chunk_loans < 1:
        raise _bad("chunk_loans", "must be a whole number of loans >= 1")
    try:
        a = _assumptions(payload)
    except ValidationError as exc:
        raise ValidationFailed(
            [
                {"loc": [*_LOC, "assumptions", *e["loc"]], "msg": e["msg"], "type": e["type"]}
                for e in exc.errors(include_url=False, include_context=False, include_input=False)
            ]
        ) from exc
    payload["tape_path"] = str(tape)
    payload["chunk_loans"] = chunk_loans
    try:
        fmt = _fmt(payload)
        payload["format"] = fmt
        chunks = _chunks(payload, max_rows=settings.stream_max_loans)
        longest = longest_remaining_term(tape, fmt, cmap)
        payload["horizon_months"] = horizon_for_term(longest, a)
    except EngineError as exc:
        raise ValidationFailed.from_engine(exc, prefix=_LOC) from exc
    payload["n_loans"] = chunks[-1].stop


def plan(payload: dict[str, Any], settings: Settings) -> list[int]:
    """Loans per chunk, in tape order."""
    return [c.n_rows for c in _chunks(payload)]


def project_chunk(
    pool: LoanPool, assumptions: Assumptions, horizon_months: int, loan_level: bool
) -> Projection:
    """One chunk's engine call: the pool projected on the whole tape's horizon."""
    a = Assumptions(
        prepayment=assumptions.prepayment,
        default=assumptions.default,
        severity=assumptions.severity,
        recovery_lag_months=assumptions.recovery_lag_months,
        advancing=assumptions.advancing,
        index_paths=assumptions.index_paths,
        n_periods=horizon_months,
    )
    return project_pool(pool, a, loan_level=loan_level)


def _horizon(payload: dict[str, Any], a: Assumptions) -> int:
    if payload.get("horizon_months"):
        return int(payload["horizon_months"])
    return horizon_for_term(
        longest_remaining_term(
            payload["tape_path"], _fmt(payload), payload.get("column_map") or {}
        ),
        a,
    )


def _write_loan_level(directory: str, chunk: TapeChunk, proj: Projection) -> str:
    ll = proj.loan_level
    assert ll is not None
    cols: dict[str, Any] = {"loan_id": pa.array(ll.loan_id.astype(str))}
    cols.update({k: v for k, v in ll.totals.items()})
    cols["principal"] = ll.principal
    cols["wal_years"] = ll.wal_years
    os.makedirs(directory, exist_ok=True)
    final = os.path.join(directory, f"part-{chunk.index:05d}.parquet")
    tmp = final + f".tmp-{os.getpid()}"
    table = pa.table(cols)
    pq.write_table(table, tmp, **columnar.parquet_options(table.schema))
    os.replace(tmp, final)  # a redelivered chunk rewrites the same file whole
    return final


def compute_chunk(
    payload: dict[str, Any], chunk_index: int, n_chunks: int, progress: Callable[[int, int], None]
) -> bytes:
    """Read chunk `chunk_index` of the tape, project it, and return its pool columns (.npz);
    with `loan_level_dir`, also write its loan-level Parquet file."""
    chunks = _chunks(payload)
    if len(chunks) != n_chunks:
        raise EngineError(f"the tape now splits into {len(chunks)} chunks, not {n_chunks}")
    chunk = chunks[chunk_index]
    a = _assumptions(payload)
    progress(0, chunk.n_rows)
    pool = read_chunk(payload["tape_path"], _fmt(payload), chunk, payload.get("column_map") or {})
    loan_dir = payload.get("loan_level_dir")
    proj = project_chunk(pool, a, _horizon(payload, a), loan_level=bool(loan_dir))
    if loan_dir:
        _write_loan_level(loan_dir, chunk, proj)
    arrays: dict[str, np.ndarray] = {c: proj.columns[c] for c in CASHFLOW_COLUMNS}
    arrays["meta"] = np.array([chunk.index, chunk.start, chunk.stop], dtype=np.int64)
    arrays["total_balance"] = np.array([pool.total_balance])
    buf = io.BytesIO()
    np.savez(buf, **arrays)  # type: ignore[arg-type]
    progress(chunk.n_rows, chunk.n_rows)
    return buf.getvalue()


def merge_columns(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Pool columns of chunk results, summed in list order (left fold); `period` from the first."""
    out: dict[str, np.ndarray] = {"period": parts[0]["period"]}
    for c in _SUMMED:
        acc = parts[0][c].copy()
        for p in parts[1:]:
            acc = acc + p[c]
        out[c] = acc
    return {c: out[c] for c in CASHFLOW_COLUMNS}


def _decode(blob: bytes) -> dict[str, np.ndarray]:
    with np.load(io.BytesIO(blob), allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def merge(payload: dict[str, Any], blobs: list[bytes]) -> dict[str, Any]:
    """The job's result: the pool cash flows of the whole tape (JSON, one list per column)."""
    parts = [_decode(b) for b in blobs]
    order = [int(p["meta"][0]) for p in parts]
    if order != list(range(len(parts))):
        raise EngineError(f"chunk results out of order: {order}")
    cols = merge_columns(parts)
    total_balance = reduce(lambda acc, p: acc + float(p["total_balance"][0]), parts, 0.0)
    return {
        "n_loans": int(parts[-1]["meta"][2]),
        "n_chunks": len(parts),
        "horizon_months": int(cols["period"].shape[0]),
        "total_balance": total_balance,
        "summation": "chunk order, left to right",
        "columns": {c: cols[c].tolist() for c in CASHFLOW_COLUMNS},
        "loan_level_dataset": payload.get("loan_level_dir"),
    }
