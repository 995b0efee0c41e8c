"""LoanPool.from_columns: defaults, enum parsing, and every bad row reported at once."""

from __future__ import annotations

import numpy as np
import pytest

from app.engine import Amortization, InvalidInput, LoanPool, RateType


def test_defaults_fill_optional_columns() -> None:
    p = LoanPool.from_columns(
        {
            "balance": [100.0, 200.0],
            "rate": [0.06, 0.05],
            "original_term_months": [360, 180],
            "fico": [700, 650],
        }
    )
    assert len(p) == 2 and p.total_balance == 300.0
    assert p.loan_id.tolist() == ["0", "1"]
    np.testing.assert_array_equal(p.net_rate, p.rate)
    np.testing.assert_array_equal(p.age_months, [0, 0])
    np.testing.assert_array_equal(p.amortization, [Amortization.LEVEL] * 2)
    np.testing.assert_array_equal(p.payment_frequency, [1, 1])
    np.testing.assert_array_equal(p.amortization_term_months, [360, 180])
    np.testing.assert_array_equal(p.rate_type, [RateType.FIXED] * 2)
    np.testing.assert_array_equal(p.extra["fico"], [700, 650])


def test_servicing_fee_and_enum_strings() -> None:
    p = LoanPool.from_columns(
        {
            "loan_id": ["a", "b"],
            "balance": ["100.5", " 2e3 "],
            "rate": [0.06, 0.05],
            "servicing_fee": [0.0025, 0.005],
            "original_term_months": [360, 120],
            "amortization": ["Interest_Only", "balloon"],
            "io_months": [60, None],
            "amortization_term_months": [None, 360],
            "payment_frequency": ["monthly", "quarterly"],
            "rate_type": ["floating", "fixed"],
            "index": ["SOFR", ""],
            "margin": [0.02, None],
        }
    )
    np.testing.assert_allclose(p.balance, [100.5, 2000.0])
    np.testing.assert_allclose(p.net_rate, [0.0575, 0.045])
    np.testing.assert_array_equal(
        p.amortization, [Amortization.INTEREST_ONLY, Amortization.BALLOON]
    )
    np.testing.assert_array_equal(p.io_months, [60, 0])
    np.testing.assert_array_equal(p.amortization_term_months, [360, 360])
    np.testing.assert_array_equal(p.payment_frequency, [1, 3])
    assert p.index_name.tolist() == ["SOFR", ""]
    assert p.rate_type.tolist() == [RateType.FLOATING, RateType.FIXED]


def test_bad_tape_reports_every_problem() -> None:
    with pytest.raises(InvalidInput) as exc:
        LoanPool.from_columns(
            {
                "balance": [100.0, -5.0, "abc", 10.0, 10.0],
                "rate": [0.06, 1.5, 0.05, -0.01, 0.05],
                "original_term_months": [360, 360, 360, 12, 360],
                "age_months": [0, 400, 0, 12, 2.5],
                "amortization": ["level", "weird", "level", "level", "bullet"],
                "rate_type": ["fixed", "fixed", "floating", "fixed", "fixed"],
            }
        )
    got = {(p.row, p.column) for p in exc.value.problems}
    assert got == {
        (1, "balance"),
        (1, "rate"),
        (1, "age_months"),
        (1, "amortization"),
        (2, "balance"),
        (2, "index_name"),
        (3, "rate"),
        (3, "age_months"),
        (4, "age_months"),
    }
    assert exc.value.field == exc.value.problems[0].column == "age_months"


def test_missing_required_columns_and_quarterly_term() -> None:
    with pytest.raises(InvalidInput) as exc:
        LoanPool.from_columns({"balance": [1.0]})
    assert {p.column for p in exc.value.problems} == {"rate", "original_term_months"}
    with pytest.raises(InvalidInput) as exc:
        LoanPool.from_columns(
            {
                "balance": [1.0],
                "rate": [0.05],
                "original_term_months": [100],
                "payment_frequency": [3],
            }
        )
    assert exc.value.problems[0].column == "original_term_months"
