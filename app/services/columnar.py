"""Compact binary storage of numeric results and pools: blobs of flat columns.

Per-period scenario columns, loan pools and chunks of loan-level results are stored this way
(one database row per blob, never one row per number); float64 values round-trip exactly.
A blob is Parquet (zstd) when its columns hold more than SMALL_BLOB_BYTES, and an uncompressed
Arrow IPC stream below that: a 1-loan forecast's 172 x 15 columns take 0.7 ms to write as
Parquet and 0.015 ms as IPC, at nearly the same size (small float columns hardly compress).
Readers tell the two apart by their first bytes, so blobs written before the IPC form still read.
"""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Mapping

import numpy as np
import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

from app.engine.pool import AMORTIZATION_NAMES, RATE_TYPE_NAMES, LoanPool

COMPRESSION = "zstd"
BALANCES = "balances"
SMALL_BLOB_BYTES = 256 * 1024
"""Largest in-memory size (the table's Arrow buffers, bytes) stored as an Arrow IPC stream."""
PARQUET_MAGIC = b"PAR1"
ARROW_FORMAT, PARQUET_FORMAT = "arrow", "parquet"


def parquet_options(schema: pa.Schema) -> dict[str, object]:
    """Writer options for our blobs and files: zstd, and dictionary encoding only for text
    columns (repeated codes such as states or loan types). On float columns a dictionary costs
    time and grows the file (15 columns x 200,000 floats: 303 ms -> 64 ms, 25 -> 21 MB)."""
    text = [
        f.name
        for f in schema
        if pa.types.is_string(f.type)
        or pa.types.is_large_string(f.type)
        or pa.types.is_dictionary(f.type)
    ]
    return {"compression": COMPRESSION, "use_dictionary": text or False}


_POOL_FIELDS = tuple(f.name for f in dataclasses.fields(LoanPool) if f.name != "extra")
_CODE_NAMES = {
    "amortization": AMORTIZATION_NAMES,
    "rate_type": RATE_TYPE_NAMES,
}


def blob_format(table: pa.Table) -> str:
    """The format `table_to_blob` writes for this table: "arrow" when small, else "parquet".
    (`get_total_buffer_size`: ~1 us, where `nbytes`, which accounts for slices, takes ~50 us.)"""
    small = table.get_total_buffer_size() <= SMALL_BLOB_BYTES
    return ARROW_FORMAT if small else PARQUET_FORMAT


def table_to_blob(table: pa.Table, fmt: str | None = None) -> bytes:
    """A table as blob bytes, in the format `fmt` (default: the one `blob_format` names)."""
    if (fmt or blob_format(table)) == ARROW_FORMAT:
        sink = pa.BufferOutputStream()
        with ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
        return sink.getvalue().to_pybytes()
    buf = io.BytesIO()
    pq.write_table(table, buf, **parquet_options(table.schema))
    return buf.getvalue()


def blob_to_table(data: bytes) -> pa.Table:
    """Inverse of `table_to_blob`, for either format (told apart by the Parquet magic)."""
    if data[:4] == PARQUET_MAGIC:
        return pq.read_table(pa.BufferReader(data))
    return ipc.open_stream(pa.BufferReader(data)).read_all()


def columns_to_blob(columns: Mapping[str, np.ndarray]) -> tuple[str, bytes]:
    """Equal-length 1-D arrays keyed by name -> (format, blob bytes)."""
    table = pa.table({k: np.asarray(v) for k, v in columns.items()})
    fmt = blob_format(table)
    return fmt, table_to_blob(table, fmt)


def blob_to_columns(data: bytes) -> dict[str, np.ndarray]:
    """Inverse of `columns_to_blob` (float64 columns come back bit for bit)."""
    table = blob_to_table(data)
    return {name: table.column(name).to_numpy() for name in table.column_names}


def _names_of(codes: np.ndarray, mapping: Mapping[str, int]) -> np.ndarray:
    lookup = np.empty(max(mapping.values()) + 1, dtype=object)
    for name, code in mapping.items():
        lookup[int(code)] = name
    return lookup[codes.astype(np.int64)]


def pool_to_table(pool: LoanPool) -> pa.Table:
    """A pool as a table of `LoanPool.from_columns` field names (enums written as names)."""
    cols: dict[str, pa.Array] = {}
    for name in _POOL_FIELDS:
        values = getattr(pool, name)
        if name in _CODE_NAMES:
            values = _names_of(values, _CODE_NAMES[name])
        if values.dtype == object or values.dtype.kind == "U":
            cols[name] = pa.array(values.astype(str), type=pa.string())
        else:
            cols[name] = pa.array(values)
    for name, values in pool.extra.items():
        arr = np.asarray(values)
        cols[name] = pa.array(arr.astype(str) if arr.dtype == object else arr)
    return pa.table(cols)


def pool_from_blob(data: bytes) -> LoanPool:
    """Rebuild (and re-validate) a stored pool."""
    table = blob_to_table(data)
    return LoanPool.from_columns({name: table.column(name) for name in table.column_names})


def loan_chunk_table(
    loan_id: np.ndarray, columns: Mapping[str, np.ndarray], balances: np.ndarray | None
) -> pa.Table:
    """Loan-level results of a slice of loans; `balances` (n x N) as a fixed-size list column."""
    data: dict[str, pa.Array] = {"loan_id": pa.array(np.asarray(loan_id).astype(str))}
    for name, values in columns.items():
        data[name] = pa.array(np.ascontiguousarray(values, dtype=np.float64))
    if balances is not None:
        n, periods = balances.shape
        flat = pa.array(np.ascontiguousarray(balances, dtype=np.float64).reshape(-1))
        data[BALANCES] = pa.FixedSizeListArray.from_arrays(flat, periods)
    return pa.table(data)


def table_to_json_columns(table: pa.Table) -> dict[str, list]:
    """A loan-level table as JSON-ready columns (balances as one list per loan)."""
    out: dict[str, list] = {}
    for name in table.column_names:
        col = table.column(name).combine_chunks()
        if name == BALANCES:
            width = col.type.list_size
            flat = col.flatten().to_numpy()
            out[name] = flat.reshape(-1, width).tolist()
        else:
            out[name] = col.to_pylist()
    return out


class StreamSink(io.RawIOBase):
    """A write-only file whose bytes are taken out with `drain()` (for streaming Parquet)."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._pos = 0

    def writable(self) -> bool:
        return True

    def write(self, b: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        data = bytes(b)
        self._parts.append(data)
        self._pos += len(data)
        return len(data)

    def tell(self) -> int:
        return self._pos

    def drain(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data
