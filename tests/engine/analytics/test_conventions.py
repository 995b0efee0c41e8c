"""Day counts against QuantLib's day counters; rate conversions against closed forms."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest
import QuantLib as ql

from app.engine.analytics.conventions import (
    Compounding,
    DayCount,
    Frequency,
    discount_factor,
    equivalent_rate,
    rate_from_discount,
    times_from_periods,
    year_fraction,
)
from app.engine.errors import EngineError

QL_DC = {
    DayCount.THIRTY_360: ql.Thirty360(ql.Thirty360.BondBasis),
    DayCount.ACT_360: ql.Actual360(),
    DayCount.ACT_365F: ql.Actual365Fixed(),
    DayCount.ACT_ACT: ql.ActualActual(ql.ActualActual.ISDA),
}
PAIRS = [
    (dt.date(2024, 1, 31), dt.date(2024, 3, 31)),
    (dt.date(2024, 1, 30), dt.date(2024, 3, 31)),
    (dt.date(2024, 2, 29), dt.date(2025, 2, 28)),
    (dt.date(2023, 12, 15), dt.date(2028, 6, 15)),
    (dt.date(2025, 3, 31), dt.date(2025, 4, 30)),
    (dt.date(2025, 5, 1), dt.date(2025, 5, 31)),
    (dt.date(1999, 7, 12), dt.date(2031, 1, 31)),
]


@pytest.mark.parametrize("dc", list(DayCount))
@pytest.mark.parametrize("start, end", PAIRS)
def test_year_fraction_matches_quantlib(dc, start, end):
    ref = QL_DC[dc].yearFraction(
        ql.Date(start.day, start.month, start.year), ql.Date(end.day, end.month, end.year)
    )
    assert year_fraction(start, end, dc) == pytest.approx(ref, rel=1e-15, abs=1e-15)
    assert year_fraction(end, start, dc) == pytest.approx(-ref, rel=1e-15, abs=1e-15)


def test_parse_at_the_edge():
    assert DayCount.parse("act/365f") is DayCount.ACT_365F
    assert DayCount.parse("30/360") is DayCount.THIRTY_360
    assert Compounding.parse("Continuous") is Compounding.CONTINUOUS
    assert Frequency.parse(12) is Frequency.MONTHLY
    for bad in (
        lambda: DayCount.parse("ACT/364"),
        lambda: Compounding.parse("daily"),
        lambda: Frequency.parse(3),
        lambda: Frequency.parse(2.5),
    ):
        with pytest.raises(EngineError):
            bad()


def test_discount_factors_against_quantlib_interest_rate():
    t = 3.7
    for comp, qcomp in [
        (Compounding.SIMPLE, ql.Simple),
        (Compounding.COMPOUNDED, ql.Compounded),
        (Compounding.CONTINUOUS, ql.Continuous),
    ]:
        ir = ql.InterestRate(0.061, ql.Actual365Fixed(), qcomp, ql.Semiannual)
        assert float(discount_factor(0.061, t, comp, 2)) == pytest.approx(
            ir.discountFactor(t), rel=1e-14
        )
        assert rate_from_discount(ir.discountFactor(t), t, comp, 2) == pytest.approx(
            0.061, rel=1e-13
        )


def test_equivalent_rate_and_periods():
    m = equivalent_rate(0.09, Compounding.COMPOUNDED, 2, Compounding.COMPOUNDED, 12)
    assert m == pytest.approx(12 * ((1 + 0.09 / 2) ** (1 / 6) - 1), rel=1e-14)
    assert equivalent_rate(
        0.05, Compounding.CONTINUOUS, 1, Compounding.COMPOUNDED, 1
    ) == pytest.approx(math.expm1(0.05))
    np.testing.assert_allclose(times_from_periods([1, 2, 3], 12), [1 / 12, 2 / 12, 3 / 12])
