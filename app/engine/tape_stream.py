"""Streamed loan tapes: a CSV or Parquet tape read chunk by chunk, never whole.

A tape is split into chunks of contiguous rows (`plan_chunks`): a Parquet chunk is a run of
whole row groups (at least `chunk_loans` rows, except the last), a CSV chunk is the rows
[start, start + chunk_loans) met while streaming the file block by block. `read_chunk` builds
the validated `LoanPool` of one chunk (loan ids default to the row number in the whole tape,
as for a tape read whole), and `longest_remaining_term` is the first pass over the two term
columns that gives every chunk the same horizon (`projection.horizon_for_term`).

Memory: one chunk of decoded columns at a time (Parquet: its row groups; CSV: one 1 MiB block
beyond the chunk), plus the Parquet footer.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from app.engine.errors import FieldProblem, InvalidInput
from app.engine.pool import DEFAULTS, FIELD_ALIASES, LoanPool
from app.engine.tape import pool_from_table

TapeFormat = Literal["csv", "parquet"]
_TEXT_FIELDS = ("loan_id", "index_name", "amortization", "rate_type")
_CSV_BLOCK = 1 << 20

__all__ = [
    "TapeChunk",
    "chunk_tables",
    "longest_remaining_term",
    "plan_chunks",
    "pool_of_chunk",
    "read_chunk",
    "tape_format",
]


@dataclass(frozen=True)
class TapeChunk:
    """Rows [start, stop) of the tape; `row_groups` the Parquet row groups holding them."""

    index: int
    start: int
    stop: int
    row_groups: tuple[int, ...] = ()

    @property
    def n_rows(self) -> int:
        return self.stop - self.start


def _err(reason: str) -> InvalidInput:
    return InvalidInput([FieldProblem(None, "tape", reason)])


def tape_format(path: str | Path, declared: str | None = None) -> TapeFormat:
    """Declared format, else Parquet's magic bytes, else CSV."""
    if declared in ("csv", "parquet"):
        return declared  # type: ignore[return-value]
    if declared is not None:
        raise InvalidInput([FieldProblem(None, "format", "must be csv or parquet")])
    with open(path, "rb") as fh:
        return "parquet" if fh.read(4) == b"PAR1" else "csv"


def _field_of(column_map: Mapping[str, str]) -> dict[str, str]:
    """field name -> tape column name (identity for unmapped columns)."""
    return {FIELD_ALIASES.get(v, v): k for k, v in column_map.items()}


def _csv_reader(
    path: str | Path, column_map: Mapping[str, str], include: list[str] | None = None
) -> pacsv.CSVStreamingReader:
    rev = _field_of(column_map)
    text = {rev.get(f, f): pa.string() for f in _TEXT_FIELDS}
    return pacsv.open_csv(
        str(path),
        read_options=pacsv.ReadOptions(block_size=_CSV_BLOCK, use_threads=False),
        convert_options=pacsv.ConvertOptions(
            column_types=text, strings_can_be_null=True, include_columns=include
        ),
    )


def _csv_batches(
    path: str | Path, column_map: Mapping[str, str], include: list[str] | None = None
) -> Iterator[pa.RecordBatch]:
    try:
        yield from _csv_reader(path, column_map, include)
    except (pa.ArrowInvalid, OSError, ValueError) as exc:
        raise _err(f"cannot read the csv tape: {str(exc)[:300]}") from exc


def plan_chunks(
    path: str | Path, fmt: TapeFormat, chunk_loans: int, *, max_rows: int | None = None
) -> list[TapeChunk]:
    """Split the tape into chunks of about `chunk_loans` rows (Parquet: whole row groups;
    footer only. CSV: one streaming pass over the first column). `max_rows` refuses a larger
    tape (InvalidInput naming "tape")."""
    if chunk_loans < 1:
        raise InvalidInput([FieldProblem(None, "chunk_loans", "must be at least 1")])
    chunks: list[TapeChunk] = []
    if fmt == "parquet":
        try:
            meta = pq.ParquetFile(str(path)).metadata
        except (pa.ArrowInvalid, OSError) as exc:
            raise _err(f"cannot read the parquet tape: {str(exc)[:300]}") from exc
        if max_rows is not None and meta.num_rows > max_rows:
            raise _err(f"{meta.num_rows} rows is more than the limit of {max_rows}")
        start, groups, rows = 0, [], 0
        for g in range(meta.num_row_groups):
            groups.append(g)
            rows += meta.row_group(g).num_rows
            if rows >= chunk_loans or g == meta.num_row_groups - 1:
                if rows:
                    chunks.append(TapeChunk(len(chunks), start, start + rows, tuple(groups)))
                start, groups, rows = start + rows, [], 0
    else:
        first = _csv_reader(path, {}).schema.names[:1]
        total = 0
        for batch in _csv_batches(path, {}, include=first):
            total += batch.num_rows
            if max_rows is not None and total > max_rows:
                raise _err(f"more than {max_rows} rows, the limit; reading stopped there")
        for start in range(0, total, chunk_loans):
            chunks.append(TapeChunk(len(chunks), start, min(total, start + chunk_loans)))
    if not chunks:
        raise _err("the tape has no rows")
    return chunks


def _term_columns(names: list[str], column_map: Mapping[str, str]) -> tuple[str, str | None]:
    rev = _field_of(column_map)
    term = rev.get("original_term_months", "original_term_months")
    if term not in names:
        raise InvalidInput(
            [FieldProblem(None, "original_term_months", "the tape has no term column")]
        )
    age = rev.get("age_months", "age_months")
    return term, (age if age in names else None)


def longest_remaining_term(path: str | Path, fmt: TapeFormat, column_map: Mapping[str, str]) -> int:
    """max(original_term_months - age_months) over the tape (months; age defaults to 0), read
    from the two term columns only, one row group or CSV block at a time."""
    if fmt == "parquet":
        pf = pq.ParquetFile(str(path))
        term, age = _term_columns(pf.schema_arrow.names, column_map)
        cols = [term] + ([age] if age else [])
        batches: Iterator[pa.RecordBatch] = pf.iter_batches(columns=cols, batch_size=1 << 20)
    else:
        term, age = _term_columns(_csv_reader(path, column_map).schema.names, column_map)
        batches = _csv_batches(path, column_map, include=[term] + ([age] if age else []))
    longest = 1
    default_age = float(DEFAULTS["age_months"])
    for b in batches:
        t = pc.cast(b.column(term), pa.float64()).to_numpy(zero_copy_only=False)
        a = (
            pc.fill_null(pc.cast(b.column(age), pa.float64()), default_age).to_numpy(
                zero_copy_only=False
            )
            if age
            else default_age
        )
        rem = t - a
        rem = rem[np.isfinite(rem)]
        if rem.size:
            longest = max(longest, int(rem.max()))
    return longest


def _table_of(
    path: str | Path, fmt: TapeFormat, chunk: TapeChunk, column_map: Mapping[str, str]
) -> pa.Table:
    if fmt == "parquet":
        return pq.ParquetFile(str(path)).read_row_groups(list(chunk.row_groups), use_threads=False)
    parts: list[pa.RecordBatch] = []
    seen = 0
    schema = None
    for batch in _csv_batches(path, column_map):
        schema = batch.schema
        lo, hi = seen, seen + batch.num_rows
        seen = hi
        if hi <= chunk.start:
            continue
        parts.append(
            batch.slice(max(0, chunk.start - lo), min(hi, chunk.stop) - max(lo, chunk.start))
        )
        if hi >= chunk.stop:
            break
    return pa.Table.from_batches(parts, schema=schema)


def _with_global_ids(table: pa.Table, chunk: TapeChunk, column_map: Mapping[str, str]) -> pa.Table:
    """Loan ids default to the row number in the whole tape (as `read_tape` gives them)."""
    rows = pa.array(np.arange(chunk.start, chunk.stop).astype(str))
    col = _field_of(column_map).get("loan_id", "loan_id")
    if col not in table.column_names:
        return table.append_column("loan_id" if col == "loan_id" else col, rows)
    ids = pc.cast(table.column(col), pa.string())
    missing = pc.or_kleene(pc.is_null(ids), pc.equal(ids, ""))
    filled = pc.if_else(pc.fill_null(missing, True), rows, ids)
    return table.set_column(table.column_names.index(col), col, filled)


def read_chunk(
    path: str | Path, fmt: TapeFormat, chunk: TapeChunk, column_map: Mapping[str, str] | None = None
) -> LoanPool:
    """The validated LoanPool of one chunk (InvalidInput names the rows of the whole tape)."""
    mapping = dict(column_map or {})
    try:
        table = _table_of(path, fmt, chunk, mapping)
    except (pa.ArrowInvalid, OSError) as exc:
        raise _err(f"cannot read the {fmt} tape: {str(exc)[:300]}") from exc
    if table.num_rows != chunk.n_rows:
        raise _err(
            f"chunk {chunk.index} has {table.num_rows} rows, expected {chunk.n_rows}: the tape changed"
        )
    return pool_of_chunk(table, chunk, mapping)


def chunk_tables(
    path: str | Path,
    fmt: TapeFormat,
    chunk_loans: int,
    column_map: Mapping[str, str] | None = None,
    *,
    max_rows: int | None = None,
) -> Iterator[tuple[TapeChunk, pa.Table]]:
    """The tape as consecutive tables of exactly `chunk_loans` rows (the last: the rest), in one
    streaming pass (tape columns as read, before renaming), for a caller that validates or
    rewrites it. Whatever the tape's own row groups or CSV blocks."""
    if chunk_loans < 1:
        raise InvalidInput([FieldProblem(None, "chunk_loans", "must be at least 1")])
    mapping = dict(column_map or {})
    batches: Iterator[pa.RecordBatch]
    if fmt == "parquet":
        try:
            batches = pq.ParquetFile(str(path)).iter_batches(batch_size=min(chunk_loans, 1 << 16))
        except (pa.ArrowInvalid, OSError) as exc:
            raise _err(f"cannot read the parquet tape: {str(exc)[:300]}") from exc
    else:
        batches = _csv_batches(path, mapping)
    parts: list[pa.RecordBatch] = []
    held, start, index = 0, 0, 0
    for batch in batches:
        while batch.num_rows:
            take = min(batch.num_rows, chunk_loans - held)
            parts.append(batch.slice(0, take))
            batch = batch.slice(take)
            held += take
            if held == chunk_loans:
                yield TapeChunk(index, start, start + held), pa.Table.from_batches(parts)
                parts, start, held, index = [], start + held, 0, index + 1
                if max_rows is not None and start > max_rows:
                    raise _err(f"more than {max_rows} rows, the limit; reading stopped there")
    if held:
        if max_rows is not None and start + held > max_rows:
            raise _err(f"more than {max_rows} rows, the limit; reading stopped there")
        yield TapeChunk(index, start, start + held), pa.Table.from_batches(parts)
    elif index == 0:
        raise _err("the tape has no rows")


def pool_of_chunk(table: pa.Table, chunk: TapeChunk, column_map: Mapping[str, str]) -> LoanPool:
    """The validated LoanPool of a chunk's tape columns (ids and bad rows numbered in the tape)."""
    mapping = dict(column_map)
    try:
        return pool_from_table(_with_global_ids(table, chunk, mapping), mapping)
    except InvalidInput as exc:
        raise InvalidInput(
            [
                FieldProblem(None if p.row is None else p.row + chunk.start, p.column, p.reason)
                for p in exc.problems
            ]
        ) from exc
