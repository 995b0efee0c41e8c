"""Tape-parser fuzz (issue 12, standing suite): hypothesis builds hostile CSV and Parquet tapes
(bad encodings, compressed bytes, binary noise, huge cells, many columns, many rows, broken
quoting, bad numbers) and `read_tape` must either return a valid pool or raise InvalidInput
with located problems: no other exception, and bounded time (parse-time budget enforced)."""

from __future__ import annotations

import bz2
import gzip
import io
import time
import zipfile

import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.engine.errors import InvalidInput
from app.engine.pool import MAX_PROBLEMS_PER_CHECK, LoanPool
from app.engine.tape import TapeLimits, read_tape

LIMITS = TapeLimits(
    max_rows=5_000,
    max_decoded_bytes=4 << 20,
    max_string_bytes=256,
    max_columns=40,
    max_seconds=5.0,
)
FUZZ = settings(
    max_examples=60,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
HEADER = "balance,rate,original_term_months"

cells = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.text(max_size=12),
    st.sampled_from(["", "NaN", "inf", "-0", "1e308", "1e-320", '"', '""', ",", "\r", "\x00"]),
)


def _check(data: bytes, fmt: str) -> None:
    start = time.monotonic()
    try:
        pool = read_tape(data, format=fmt, limits=LIMITS)  # type: ignore[arg-type]
    except InvalidInput as exc:
        assert exc.problems, "InvalidInput without problems"
        for p in exc.problems:
            assert p.column and p.reason
            assert p.row is None or p.row >= 0
        per_check: dict[tuple[str, str], int] = {}
        for p in exc.problems:
            per_check[(p.column, p.reason.split(":")[0])] = (
                per_check.get((p.column, p.reason.split(":")[0]), 0) + 1
            )
        assert max(per_check.values()) <= MAX_PROBLEMS_PER_CHECK
    else:
        assert isinstance(pool, LoanPool) and len(pool) >= 1
    assert time.monotonic() - start < 30.0


@FUZZ
@given(rows=st.lists(st.lists(cells, min_size=0, max_size=5), max_size=40))
def test_csv_of_hostile_cells(rows) -> None:
    body = HEADER + "\n" + "\n".join(",".join(r) for r in rows)
    _check(body.encode("utf-8", "surrogatepass"), "csv")


@FUZZ
@given(data=st.binary(max_size=4096))
def test_arbitrary_bytes_as_csv_and_parquet(data) -> None:
    _check(data, "csv")
    _check(b"PAR1" + data, "parquet")
    _check(data + b"PAR1", "parquet")


@FUZZ
@given(
    wrap=st.sampled_from(["gzip", "bz2", "zip", "latin1", "utf16", "nul"]),
    n=st.integers(min_value=1, max_value=50),
)
def test_compressed_or_mis_encoded_csv(wrap, n) -> None:
    text = HEADER + "\n" + "".join(f"{1000 + i},0.05,360\n" for i in range(n))
    raw = text.encode()
    if wrap == "gzip":
        data = gzip.compress(raw)
    elif wrap == "bz2":
        data = bz2.compress(raw)
    elif wrap == "zip":
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr("t.csv", raw)
        data = buf.getvalue()
    elif wrap == "latin1":
        data = ("bal\u00e9ance" + text[7:]).encode("latin-1")
    elif wrap == "utf16":
        data = text.encode("utf-16")
    else:
        data = raw[:10] + b"\x00" + raw[10:]
    _check(data, "csv")


@settings(max_examples=8, derandomize=True, deadline=None, database=None)
@given(
    width=st.integers(min_value=1, max_value=5000),
    n_cols=st.integers(min_value=3, max_value=120),
    n_rows=st.integers(min_value=1, max_value=12_000),
)
def test_huge_fields_many_columns_deep_rows(width, n_cols, n_rows) -> None:
    extra = [f"x{i}" for i in range(n_cols - 3)]
    header = ",".join([HEADER, *extra]) if extra else HEADER
    row = ",".join(["1000", "0.05", "360", *(["y" * min(width, 50)] * len(extra))])
    body = header + "\n" + (row + "\n") * n_rows
    if width > 300:
        body += ",".join(["1000", "0.05", "360", *(["z" * width] * len(extra))]) + "\n"
    _check(body.encode(), "csv")


@settings(
    max_examples=20,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
@given(
    balances=st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=0, max_size=30),
    text=st.text(max_size=600),
    repeat=st.integers(min_value=1, max_value=20_000),
)
def test_parquet_of_hostile_columns(balances, text, repeat) -> None:
    n = len(balances)
    table = pa.table(
        {
            "balance": pa.array(balances, type=pa.float64()),
            "rate": pa.array([0.05] * n, type=pa.float64()),
            "original_term_months": pa.array([360] * n, type=pa.int64()),
            "note": pa.array([text] * n, type=pa.string()),
        }
    )
    if n:
        table = table.take([i % n for i in range(min(repeat, 8_000))])
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="zstd")
    _check(buf.getvalue(), "parquet")


@FUZZ
@given(
    terms=st.lists(st.integers(min_value=-(2**63), max_value=2**63 - 1), min_size=1, max_size=20),
    balances=st.lists(
        st.integers(min_value=-(2**63), max_value=2**63 - 1), min_size=1, max_size=20
    ),
)
def test_parquet_of_extreme_integers(terms, balances) -> None:
    n = min(len(terms), len(balances))
    table = pa.table(
        {
            "balance": pa.array(balances[:n], type=pa.int64()),
            "rate": pa.array([0.05] * n, type=pa.float64()),
            "original_term_months": pa.array(terms[:n], type=pa.int64()),
        }
    )
    buf = io.BytesIO()
    pq.write_table(table, buf)
    _check(buf.getvalue(), "parquet")
