"""Loan tapes: read a CSV or Parquet file into a validated `LoanPool`.

Columns are renamed with `column_map` (tape column -> field name, see
`app.engine.pool.KNOWN_FIELDS`), missing optional fields take the defaults of
`app.engine.pool.DEFAULTS`, and every bad row and column is reported at once through
`InvalidInput`. Reading is Arrow's multi-threaded parser; validation is vectorised.
"""

from __future__ import annotations

import io
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from app.engine.errors import FieldProblem, InvalidInput
from app.engine.pool import FIELD_ALIASES, LoanPool

TapeFormat = Literal["csv", "parquet"]
_TEXT_FIELDS = ("loan_id", "index_name", "amortization", "rate_type")

# Magic bytes of compressed or archive formats: a tape must be the CSV or Parquet itself.
_COMPRESSED = {
    b"\x1f\x8b": "gzip",
    b"PK\x03\x04": "zip",
    b"BZh": "bzip2",
    b"\xfd7zXZ\x00": "xz",
    b"\x28\xb5\x2f\xfd": "zstd",
    b"7z\xbc\xaf\x27\x1c": "7z",
}


@dataclass(frozen=True)
class TapeLimits:
    """Bounds on the cost of reading one tape (checked before or while decoding).

    max_rows: most data rows; Parquet is checked from its metadata before decoding, CSV while
        streaming (reading stops at the first block past the limit).
    max_decoded_bytes: most bytes of decoded column data (Parquet: uncompressed size from the
        metadata, before decoding).
    max_string_bytes: longest text cell, bytes. max_columns: most columns.
    max_seconds: wall time budget of parsing, seconds (checked between blocks).
    """

    max_rows: int = 1_000_000
    max_decoded_bytes: int = 512 << 20
    max_string_bytes: int = 256
    max_columns: int = 256
    max_seconds: float = 60.0
    rows_limit_name: str = "max_rows"
    """How error messages name the row limit (the service passes its setting's name)."""


def _tape_error(reason: str) -> InvalidInput:
    return InvalidInput([FieldProblem(None, "tape", reason)])


def _head(source: str | Path | bytes | BinaryIO, n: int) -> bytes:
    if isinstance(source, str | Path):
        with open(source, "rb") as fh:
            return fh.read(n)
    if isinstance(source, bytes | bytearray | memoryview):
        return bytes(source[:n])
    pos = source.tell()
    head = source.read(n)
    source.seek(pos)
    return head


def _check_csv_bytes(head: bytes) -> None:
    """Refuse compressed files and binary data up front (clear reason, no decode error later)."""
    for magic, kind in _COMPRESSED.items():
        if head.startswith(magic):
            raise _tape_error(f"this is a {kind} file; upload the uncompressed CSV or Parquet tape")
    if b"\x00" in head:
        raise _tape_error("binary data (NUL bytes) is not a CSV text file")
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not just a character cut at the end of the sample
            raise _tape_error(f"not UTF-8 text (invalid byte at offset {exc.start})") from None


def _detect(source: str | Path | bytes | BinaryIO, fmt: TapeFormat | None) -> TapeFormat:
    if fmt is not None:
        if fmt not in ("csv", "parquet"):
            raise InvalidInput([FieldProblem(None, "format", "must be 'csv' or 'parquet'")])
        return fmt
    if isinstance(source, str | Path):
        suffix = Path(source).suffix.lower()
        if suffix in (".parquet", ".pq"):
            return "parquet"
        if suffix in (".csv", ".txt"):
            return "csv"
        with open(source, "rb") as fh:
            head = fh.read(4)
    elif isinstance(source, bytes | bytearray | memoryview):
        head = bytes(source[:4])
    else:
        pos = source.tell()
        head = source.read(4)
        source.seek(pos)
    return "parquet" if head == b"PAR1" else "csv"


def _open(source: str | Path | bytes | BinaryIO) -> str | pa.BufferReader | BinaryIO:
    if isinstance(source, str | Path):
        return str(source)
    if isinstance(source, bytes | bytearray | memoryview):
        return pa.BufferReader(bytes(source))
    return source


def read_tape(
    source: str | Path | bytes | BinaryIO,
    *,
    format: TapeFormat | None = None,
    column_map: Mapping[str, str] | None = None,
    limits: TapeLimits | None = None,
) -> LoanPool:
    """Read a loan tape (CSV with a header row, or Parquet) into a validated LoanPool.

    format: "csv" | "parquet"; None infers it from the file suffix or the Parquet magic bytes.
    column_map: tape column -> field name; unmapped columns keep their names (fields by name,
        anything else rides along in `pool.extra`).
    limits: bounds on rows, decoded bytes, text cells, columns and parse time (TapeLimits()).
    Raises InvalidInput (field "tape") when the file cannot be parsed or breaks a limit, and
    with every (row, column, reason) when values break the rules.

    >>> pool = read_tape(b"balance,rate,term\\n1000,0.05,12\\n", column_map={"term": "original_term_months"})
    >>> len(pool), int(pool.original_term_months[0])
    (1, 12)
    """
    fmt = _detect(source, format)
    mapping = dict(column_map or {})
    reverse = {FIELD_ALIASES.get(v, v): k for k, v in mapping.items()}
    lim = limits or TapeLimits()
    try:
        if fmt == "csv":
            _check_csv_bytes(_head(source, 65536))
            text_cols = {reverse.get(f, f): pa.string() for f in _TEXT_FIELDS}
            table = _read_csv(_open(source), text_cols, lim)
        else:
            table = _read_parquet(_open(source), lim)
    except InvalidInput:
        raise
    except (pa.ArrowInvalid, OSError, ValueError) as exc:  # UnicodeDecodeError is a ValueError
        raise _tape_error(f"cannot read the {fmt} tape: {str(exc)[:300]}") from exc
    _check_strings(table, lim)
    return pool_from_table(table, mapping)


def pool_from_table(table: pa.Table, column_map: Mapping[str, str] | None = None) -> LoanPool:
    """A validated LoanPool of an Arrow table of tape columns, renamed by `column_map`
    (tape column -> field name; aliases resolved). Raises InvalidInput like `read_tape`."""
    mapping = dict(column_map or {})
    names = table.column_names
    missing = [src for src in mapping if src not in names]
    if missing:
        raise InvalidInput(
            [
                FieldProblem(None, src, "column_map names a column the tape does not have")
                for src in missing
            ]
        )
    columns: dict[str, pa.ChunkedArray] = {}
    problems: list[FieldProblem] = []
    for name in names:
        field = mapping.get(name, name)
        field = FIELD_ALIASES.get(field, field)
        if field in columns:
            problems.append(
                FieldProblem(None, name, f"maps to {field!r}, which another column already fills")
            )
            continue
        columns[field] = table.column(name)
    if problems:
        raise InvalidInput(problems)
    return LoanPool.from_columns(columns)


def _read_csv(
    source: str | pa.BufferReader | BinaryIO, text_cols: dict[str, pa.DataType], lim: TapeLimits
) -> pa.Table:
    """Stream the CSV block by block, stopping at the row limit or the time budget."""
    start = time.monotonic()
    reader = pacsv.open_csv(
        source,
        read_options=pacsv.ReadOptions(block_size=1 << 20),
        convert_options=pacsv.ConvertOptions(column_types=text_cols, strings_can_be_null=True),
    )
    if len(reader.schema) > lim.max_columns:
        raise _tape_error(
            f"{len(reader.schema)} columns is more than the limit of {lim.max_columns}"
        )
    batches: list[pa.RecordBatch] = []
    rows = 0
    for batch in reader:
        rows += batch.num_rows
        if rows > lim.max_rows:
            raise _tape_error(
                f"more than {lim.max_rows} rows, the limit ({lim.rows_limit_name}); "
                "reading stopped there"
            )
        if time.monotonic() - start > lim.max_seconds:
            raise _tape_error(f"parsing took longer than the limit of {lim.max_seconds:g} s")
        _check_strings(batch, lim)
        batches.append(batch)
    return pa.Table.from_batches(batches, schema=reader.schema)


def _read_parquet(source: str | pa.BufferReader | BinaryIO, lim: TapeLimits) -> pa.Table:
    """Check rows, columns and uncompressed size from the footer before decoding any data."""
    pf = pq.ParquetFile(source)
    meta = pf.metadata
    if meta.num_rows > lim.max_rows:
        raise _tape_error(
            f"{meta.num_rows} rows is more than the limit of {lim.max_rows} ({lim.rows_limit_name})"
        )
    if meta.num_columns > lim.max_columns:
        raise _tape_error(f"{meta.num_columns} columns is more than the limit of {lim.max_columns}")
    decoded = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    if decoded > lim.max_decoded_bytes:
        raise _tape_error(
            f"decodes to {decoded} bytes, more than the limit of {lim.max_decoded_bytes}"
        )
    table = pf.read()
    if table.nbytes > lim.max_decoded_bytes:  # the footer understated the size
        raise _tape_error(
            f"decodes to {table.nbytes} bytes, more than the limit of {lim.max_decoded_bytes}"
        )
    return table


def _check_strings(data: pa.Table | pa.RecordBatch, lim: TapeLimits) -> None:
    """Refuse any text cell longer than `max_string_bytes` (named by column)."""
    for name, col in zip(data.column_names, data.columns, strict=True):
        kind = col.type
        if pa.types.is_dictionary(kind):
            col = (
                col.dictionary
                if isinstance(col, pa.Array)
                else pa.chunked_array([c.dictionary for c in col.chunks], type=kind.value_type)
            )
            kind = kind.value_type
        if not (
            pa.types.is_string(kind)
            or pa.types.is_large_string(kind)
            or pa.types.is_binary(kind)
            or pa.types.is_large_binary(kind)
        ):
            continue
        longest = pc.max(pc.binary_length(col)).as_py()
        if longest is not None and longest > lim.max_string_bytes:
            raise InvalidInput(
                [
                    FieldProblem(
                        None,
                        str(name),
                        f"a text cell of {longest} bytes is longer than the limit of "
                        f"{lim.max_string_bytes}",
                    )
                ]
            )


def write_csv_bytes(columns: Mapping[str, object]) -> bytes:
    """Columns to CSV bytes (a helper for tests and benchmarks)."""
    buf = io.BytesIO()
    pacsv.write_csv(pa.table(dict(columns)), buf)
    return buf.getvalue()
