"""read_tape: CSV and Parquet, column mapping, defaults, all errors at once."""

from __future__ import annotations

import io

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from app.engine import Amortization, InvalidInput
from app.engine.tape import read_tape

CSV = b"""id,bal,coupon,term,age,amortization,fico
A1,100000,0.06,360,12,level,720
A2,50000.5,0.045,120,0,Interest_Only,680
A3,75000,0.05,60,,bullet,
"""


def test_csv_with_mapping_and_defaults(tmp_path) -> None:
    path = tmp_path / "tape.csv"
    path.write_bytes(CSV)
    cmap = {
        "id": "loan_id",
        "bal": "balance",
        "coupon": "rate",
        "term": "original_term_months",
        "age": "age_months",
    }
    pool = read_tape(path, column_map=cmap)
    assert pool.loan_id.tolist() == ["A1", "A2", "A3"]
    np.testing.assert_allclose(pool.balance, [100000, 50000.5, 75000])
    np.testing.assert_array_equal(pool.age_months, [12, 0, 0])
    np.testing.assert_array_equal(
        pool.amortization, [Amortization.LEVEL, Amortization.INTEREST_ONLY, Amortization.BULLET]
    )
    np.testing.assert_array_equal(pool.net_rate, pool.rate)
    assert pool.extra["fico"].tolist()[:2] == [720, 680]
    same = read_tape(CSV, format="csv", column_map=cmap)
    np.testing.assert_array_equal(same.balance, pool.balance)


def test_parquet_bytes_detected_by_magic() -> None:
    table = pa.table(
        {
            "loan_id": ["x", "y"],
            "balance": [1.0, 2.0],
            "rate": [0.05, 0.06],
            "original_term_months": [12, 24],
        }
    )
    buf = io.BytesIO()
    pq.write_table(table, buf)
    pool = read_tape(buf.getvalue())
    assert len(pool) == 2 and pool.total_balance == 3.0
    pool2 = read_tape(io.BytesIO(buf.getvalue()), format="parquet")
    assert pool2.loan_id.tolist() == ["x", "y"]


def test_bad_tape_reports_every_row_and_column() -> None:
    bad = b"""balance,rate,original_term_months,age_months,amortization,payment_frequency
100,0.05,360,0,level,1
-1,0.05,360,0,level,1
abc,1.2,360,400,spiral,2
100,0.05,360,359,level,monthly
"""
    with pytest.raises(InvalidInput) as exc:
        read_tape(bad)
    got = {(p.row, p.column) for p in exc.value.problems}
    assert got == {
        (1, "balance"),
        (2, "balance"),
        (2, "rate"),
        (2, "age_months"),
        (2, "amortization"),
        (2, "payment_frequency"),
    }


def test_unreadable_and_bad_mapping() -> None:
    with pytest.raises(InvalidInput) as exc:
        read_tape(b"PAR1garbage")
    assert exc.value.problems[0].column == "tape"
    with pytest.raises(InvalidInput) as exc:
        read_tape(CSV, column_map={"nope": "balance"})
    assert exc.value.problems[0].column == "nope"
