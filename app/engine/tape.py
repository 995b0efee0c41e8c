"""Loan tapes: read a CSV or Parquet file into a validated `LoanPool`.

Columns are renamed with `column_map` (tape column -> field name, see
`app.engine.pool.KNOWN_FIELDS`), missing optional fields take the defaults of
`app.engine.pool.DEFAULTS`, and every bad row and column is reported at once through
`InvalidInput`. Reading is Arrow's multi-threaded parser; validation is vectorised.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from pathlib import Path
from typing import BinaryIO, Literal

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from app.engine.errors import FieldProblem, InvalidInput
from app.engine.pool import FIELD_ALIASES, LoanPool

TapeFormat = Literal["csv", "parquet"]
_TEXT_FIELDS = ("loan_id", "index_name", "amortization", "rate_type")


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
) -> LoanPool:
    """Read a loan tape (CSV with a header row, or Parquet) into a validated LoanPool.

    format: "csv" | "parquet"; None infers it from the file suffix or the Parquet magic bytes.
    column_map: tape column -> field name; unmapped columns keep their names (fields by name,
        anything else rides along in `pool.extra`).
    Raises InvalidInput (field "tape") when the file cannot be parsed, and with every
    (row, column, reason) when values break the rules.

    >>> pool = read_tape(b"balance,rate,term\\n1000,0.05,12\\n", column_map={"term": "original_term_months"})
    >>> len(pool), int(pool.original_term_months[0])
    (1, 12)
    """
    fmt = _detect(source, format)
    mapping = dict(column_map or {})
    reverse = {FIELD_ALIASES.get(v, v): k for k, v in mapping.items()}
    try:
        if fmt == "csv":
            text_cols = {reverse.get(f, f): pa.string() for f in _TEXT_FIELDS}
            table = pacsv.read_csv(
                _open(source),
                convert_options=pacsv.ConvertOptions(column_types=text_cols, strings_can_be_null=True),
            )
        else:
            table = pq.read_table(_open(source))
    except (pa.ArrowInvalid, OSError, ValueError) as exc:
        raise InvalidInput([FieldProblem(None, "tape", f"cannot read the {fmt} tape: {exc}")]) from exc

    names = table.column_names
    missing = [src for src in mapping if src not in names]
    if missing:
        raise InvalidInput([FieldProblem(None, src, "column_map names a column the tape does not have") for src in missing])
    columns: dict[str, pa.ChunkedArray] = {}
    problems: list[FieldProblem] = []
    for name in names:
        field = mapping.get(name, name)
        field = FIELD_ALIASES.get(field, field)
        if field in columns:
            problems.append(FieldProblem(None, name, f"maps to {field!r}, which another column already fills"))
            continue
        columns[field] = table.column(name)
    if problems:
        raise InvalidInput(problems)
    return LoanPool.from_columns(columns)


def write_csv_bytes(columns: Mapping[str, object]) -> bytes:
    """Columns to CSV bytes (a helper for tests and benchmarks)."""
    buf = io.BytesIO()
    pacsv.write_csv(pa.table(dict(columns)), buf)
    return buf.getvalue()
