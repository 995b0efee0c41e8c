"""Streamed tapes: chunks of a CSV / Parquet tape read one at a time give the pool of the tape
read whole (same loans, same ids, same horizon), and chunked projections merged in chunk order
equal the whole-pool projection to rounding and the left-fold sum of per-chunk engine calls
exactly."""

from __future__ import annotations

from functools import reduce
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from app.engine.errors import InvalidInput
from app.engine.projection import horizon, project_pool
from app.engine.tape import read_tape
from app.engine.tape_stream import longest_remaining_term, plan_chunks, read_chunk
from app.engine.types import Assumptions, Speed, SpeedKind
from app.services.stream_forecast import merge_columns, project_chunk

N = 1_000


def _tape(n: int = N, seed: int = 7) -> pa.Table:
    rng = np.random.default_rng(seed)
    term = rng.choice([120, 180, 240, 360], n)
    return pa.table(
        {
            "id": [f"L{i:05d}" for i in range(n)],
            "bal": rng.uniform(5e4, 5e5, n),
            "rate": rng.uniform(0.03, 0.08, n),
            "original_term_months": term,
            "age_months": rng.integers(0, 60, n),
        }
    )


CMAP = {"id": "loan_id", "bal": "balance"}
A = Assumptions(
    prepayment=Speed(SpeedKind.CPR, rate=0.08),
    default=Speed(SpeedKind.CDR, rate=0.02),
    severity=0.4,
    recovery_lag_months=6,
    advancing=False,
)


@pytest.fixture
def parquet_tape(tmp_path: Path) -> Path:
    path = tmp_path / "tape.parquet"
    pq.write_table(_tape(), path, row_group_size=150)
    return path


@pytest.fixture
def csv_tape(tmp_path: Path) -> Path:
    path = tmp_path / "tape.csv"
    pacsv.write_csv(_tape(), path)
    return path


def test_parquet_chunks_are_whole_row_groups_covering_the_tape(parquet_tape: Path) -> None:
    chunks = plan_chunks(parquet_tape, "parquet", 300)
    # row groups of 150: two per chunk, 1000 = 6 x 150 + 100 -> 3 chunks of 300, one of 100
    assert [c.n_rows for c in chunks] == [300, 300, 300, 100]
    assert [c.row_groups for c in chunks] == [(0, 1), (2, 3), (4, 5), (6,)]
    assert chunks[0].start == 0 and chunks[-1].stop == N
    assert all(a.stop == b.start for a, b in zip(chunks, chunks[1:], strict=False))


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_chunks_rebuild_the_whole_pool(fmt: str, parquet_tape: Path, csv_tape: Path) -> None:
    path = parquet_tape if fmt == "parquet" else csv_tape
    whole = read_tape(path, format=fmt, column_map=CMAP)  # type: ignore[arg-type]
    chunks = plan_chunks(path, fmt, 333)  # type: ignore[arg-type]
    assert sum(c.n_rows for c in chunks) == N
    pools = [read_chunk(path, fmt, c, CMAP) for c in chunks]  # type: ignore[arg-type]
    assert np.array_equal(np.concatenate([p.loan_id for p in pools]), whole.loan_id)
    assert np.array_equal(np.concatenate([p.balance for p in pools]), whole.balance)
    assert np.array_equal(np.concatenate([p.age_months for p in pools]), whole.age_months)
    # the first pass gives the horizon of the whole pool
    longest = longest_remaining_term(path, fmt, CMAP)  # type: ignore[arg-type]
    assert longest == int(whole.remaining_term_months.max())


def test_default_loan_ids_are_row_numbers_of_the_whole_tape(tmp_path: Path) -> None:
    path = tmp_path / "noid.parquet"
    pq.write_table(_tape(40).drop(["id"]), path, row_group_size=10)
    chunks = plan_chunks(path, "parquet", 10)
    ids = np.concatenate(
        [read_chunk(path, "parquet", c, {"bal": "balance"}).loan_id for c in chunks]
    )
    assert ids.tolist() == [str(i) for i in range(40)]


def test_bad_row_is_reported_with_its_row_in_the_whole_tape(tmp_path: Path) -> None:
    t = _tape(40)
    bal = t.column("bal").to_numpy().copy()
    bal[27] = -1.0
    path = tmp_path / "bad.parquet"
    pq.write_table(t.set_column(1, "bal", pa.array(bal)), path, row_group_size=10)
    chunk = plan_chunks(path, "parquet", 10)[2]
    with pytest.raises(InvalidInput) as exc:
        read_chunk(path, "parquet", chunk, CMAP)
    assert any(p.row == 27 for p in exc.value.problems)


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_k_chunks_merge_to_one_chunk_and_to_the_sum_of_engine_calls(
    fmt: str, parquet_tape: Path, csv_tape: Path
) -> None:
    path = parquet_tape if fmt == "parquet" else csv_tape
    whole = read_tape(path, format=fmt, column_map=CMAP)  # type: ignore[arg-type]
    h = horizon(whole, A)
    one = project_pool(whole, A).columns  # the in-memory engine on the whole tape
    chunks = plan_chunks(path, fmt, 300)  # type: ignore[arg-type]
    assert len(chunks) > 2
    parts = [project_chunk(read_chunk(path, fmt, c, CMAP), A, h, False).columns for c in chunks]  # type: ignore[arg-type]
    merged = merge_columns(parts)
    # exactly the left-fold sum of the per-chunk engine calls, in chunk order
    for name in ("total_cashflow", "interest", "prepayment", "loss", "ending_balance"):
        expected = parts[0][name].copy()
        for p in parts[1:]:
            expected = expected + p[name]
        assert np.array_equal(merged[name], expected), name
        # and the whole tape in one call to 1e-12 relative
        scale = np.abs(one[name]).max()
        assert np.abs(merged[name] - one[name]).max() <= 1e-12 * scale, name
    assert np.array_equal(merged["period"], one["period"])


def test_summation_order_is_left_to_right() -> None:
    a, b, c = 1e16, -1e16, 1.0
    parts = [{k: np.array([v]) for k in ("period", *_cols())} for v in (a, b, c)]
    merged = merge_columns(parts)
    assert (
        merged["interest"][0] == reduce(lambda x, y: x + y, [a, b, c]) == 1.0
    )  # (a+b)+c, not a+(b+c)=0


def _cols() -> tuple[str, ...]:
    from app.engine.types import CASHFLOW_COLUMNS

    return tuple(c for c in CASHFLOW_COLUMNS if c != "period")


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_chunk_tables_rechunk_to_exact_sizes_in_one_pass(
    fmt: str, parquet_tape: Path, csv_tape: Path
) -> None:
    from app.engine.tape_stream import chunk_tables, pool_of_chunk

    path = parquet_tape if fmt == "parquet" else csv_tape
    got = list(chunk_tables(path, fmt, 333, CMAP))  # type: ignore[arg-type]
    assert [c.n_rows for c, _ in got] == [333, 333, 333, 1]  # row groups of 150 re-cut exactly
    whole = read_tape(path, format=fmt, column_map=CMAP)  # type: ignore[arg-type]
    ids = np.concatenate([pool_of_chunk(t, c, CMAP).loan_id for c, t in got])
    assert np.array_equal(ids, whole.loan_id)
    with pytest.raises(InvalidInput):
        list(chunk_tables(path, fmt, 333, CMAP, max_rows=900))  # type: ignore[arg-type]
