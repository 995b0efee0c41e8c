"""NPV, yield, durations, convexity and Z-spread against QuantLib on the same flows and
conventions, to 1e-8 relative (QuantLib is a test-only oracle)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
import QuantLib as ql

from app.engine.analytics.conventions import Compounding, DayCount, year_fractions
from app.engine.analytics.curves import ZeroCurve
from app.engine.analytics.measures import (
    convexity,
    dv01,
    macaulay_duration,
    modified_duration,
    npv,
    npv_curve,
    yield_from_price,
    z_spread,
)

SETTLE = dt.date(2025, 3, 14)
QL_SETTLE = ql.Date(14, 3, 2025)
QL_DC = {
    DayCount.THIRTY_360: ql.Thirty360(ql.Thirty360.BondBasis),
    DayCount.ACT_360: ql.Actual360(),
    DayCount.ACT_365F: ql.Actual365Fixed(),
    DayCount.ACT_ACT: ql.ActualActual(ql.ActualActual.ISDA),
}
QL_COMP = {
    Compounding.SIMPLE: ql.Simple,
    Compounding.COMPOUNDED: ql.Compounded,
    Compounding.CONTINUOUS: ql.Continuous,
}
QL_FREQ = {1: ql.Annual, 2: ql.Semiannual, 4: ql.Quarterly, 12: ql.Monthly}


def _add_months(d: dt.date, m: int) -> dt.date:
    y, mo = divmod(d.month - 1 + m, 12)
    return dt.date(d.year + y, mo + 1, d.day)


def bullet():  # 5-year 6% semiannual bond, face 100
    dates = [_add_months(SETTLE, 6 * k) for k in range(1, 11)]
    amounts = [3.0] * 9 + [103.0]
    return dates, amounts


def amortising():  # 10-year level-pay 7% monthly loan of 100
    n, r = 120, 0.07 / 12
    pmt = 100 * r / (1 - (1 + r) ** -n)
    return [_add_months(SETTLE, k) for k in range(1, n + 1)], [pmt] * n


def irregular():
    dates = [
        dt.date(2025, 4, 2),
        dt.date(2025, 9, 20),
        dt.date(2026, 2, 1),
        dt.date(2027, 7, 9),
        dt.date(2031, 12, 24),
    ]
    return dates, [4.0, 6.5, -2.0, 8.0, 110.0]


def single():
    return [dt.date(2028, 8, 14)], [125.0]


CASES = [
    (bullet, DayCount.THIRTY_360, Compounding.COMPOUNDED, 2, 0.055),
    (bullet, DayCount.ACT_ACT, Compounding.COMPOUNDED, 1, 0.031),
    (bullet, DayCount.ACT_365F, Compounding.CONTINUOUS, 1, 0.047),
    (amortising, DayCount.THIRTY_360, Compounding.COMPOUNDED, 12, 0.068),
    (amortising, DayCount.ACT_360, Compounding.COMPOUNDED, 4, 0.072),
    (amortising, DayCount.ACT_365F, Compounding.CONTINUOUS, 1, -0.004),
    (irregular, DayCount.ACT_365F, Compounding.COMPOUNDED, 2, 0.09),
    (irregular, DayCount.ACT_ACT, Compounding.CONTINUOUS, 1, 0.021),
    (single, DayCount.ACT_360, Compounding.SIMPLE, 1, 0.045),
    (single, DayCount.THIRTY_360, Compounding.SIMPLE, 1, 0.06),
    (single, DayCount.ACT_365F, Compounding.COMPOUNDED, 12, 0.12),
]
IDS = [f"{c[0].__name__}-{c[1].value}-{c[2].value}-{c[3]}" for c in CASES]


def _leg(dates, amounts):
    return [
        ql.SimpleCashFlow(a, ql.Date(d.day, d.month, d.year))
        for d, a in zip(dates, amounts, strict=True)
    ]


def _rate(dc, comp, f, y):
    return ql.InterestRate(y, QL_DC[dc], QL_COMP[comp], QL_FREQ[f])


@pytest.mark.parametrize("make, dc, comp, f, y", CASES, ids=IDS)
def test_flat_yield_measures_match_quantlib(make, dc, comp, f, y):
    dates, amounts = make()
    a = np.array(amounts)
    t = year_fractions(SETTLE, dates, dc)
    leg = _leg(dates, amounts)
    ir = _rate(dc, comp, f, y)
    ref_npv = ql.CashFlows.npv(leg, ir, False, QL_SETTLE, QL_SETTLE)
    assert npv(a, t, y, comp, f) == pytest.approx(ref_npv, rel=1e-8)
    ref_mod = ql.CashFlows.duration(leg, ir, ql.Duration.Modified, False, QL_SETTLE)
    assert modified_duration(a, t, y, comp, f) == pytest.approx(ref_mod, rel=1e-8)
    ref_conv = ql.CashFlows.convexity(leg, ir, False, QL_SETTLE, QL_SETTLE)
    assert convexity(a, t, y, comp, f) == pytest.approx(ref_conv, rel=1e-8)
    ref_simple = ql.CashFlows.duration(leg, ir, ql.Duration.Simple, False, QL_SETTLE)
    assert macaulay_duration(a, t, y, comp, f) == pytest.approx(ref_simple, rel=1e-8)
    if comp is Compounding.COMPOUNDED:
        ref_mac = ql.CashFlows.duration(leg, ir, ql.Duration.Macaulay, False, QL_SETTLE)
        assert macaulay_duration(a, t, y, comp, f) == pytest.approx(ref_mac, rel=1e-8)
    assert dv01(a, t, y, comp, f) == pytest.approx(ref_mod * ref_npv * 1e-4, rel=1e-8)


@pytest.mark.parametrize("make, dc, comp, f, y", CASES, ids=IDS)
def test_yield_from_price_matches_quantlib(make, dc, comp, f, y):
    dates, amounts = make()
    a = np.array(amounts)
    t = year_fractions(SETTLE, dates, dc)
    leg = _leg(dates, amounts)
    price = ql.CashFlows.npv(leg, _rate(dc, comp, f, y), False, QL_SETTLE, QL_SETTLE)
    ref = ql.CashFlows.yieldRate(
        leg,
        price,
        QL_DC[dc],
        QL_COMP[comp],
        QL_FREQ[f],
        False,
        QL_SETTLE,
        QL_SETTLE,
        1e-15,
        10000,
        0.05,
    )
    ours = yield_from_price(a, t, price, comp, f)
    assert ours == pytest.approx(ref, rel=1e-8)
    assert ours == pytest.approx(y, rel=1e-8)


def test_simple_compounding_multi_flow_uses_cumulative_time():
    # QuantLib's CashFlows.npv compounds a simple rate step by step between flows; our simple
    # discount is 1/(1 + y t) on cumulative t, which is InterestRate.discountFactor(t).
    dates, amounts = bullet()
    t = year_fractions(SETTLE, dates, DayCount.ACT_365F)
    ir = _rate(DayCount.ACT_365F, Compounding.SIMPLE, 1, 0.05)
    ref = sum(a * ir.discountFactor(ti) for a, ti in zip(amounts, t, strict=True))
    assert npv(np.array(amounts), t, 0.05, Compounding.SIMPLE, 1) == pytest.approx(ref, rel=1e-12)


CURVE_DAYS = [0, 30, 91, 182, 365, 547, 730, 1095, 1461, 1826, 2557, 3652]
CURVE_ZEROS = [
    0.0432,
    0.0433,
    0.0428,
    0.0421,
    0.0405,
    0.0396,
    0.0391,
    0.0389,
    0.0392,
    0.0398,
    0.0411,
    0.0425,
]
SPREAD_CASES = [
    (bullet, Compounding.CONTINUOUS, 1, 0.0125),
    (bullet, Compounding.COMPOUNDED, 2, 0.0080),
    (amortising, Compounding.COMPOUNDED, 12, -0.0030),
    (amortising, Compounding.CONTINUOUS, 1, 0.0310),
    (irregular, Compounding.COMPOUNDED, 1, 0.0200),
    (irregular, Compounding.SIMPLE, 1, 0.0050),
    (single, Compounding.SIMPLE, 1, 0.0150),
]


def _curves():
    ref = QL_SETTLE
    qc = ql.ZeroCurve([ref + d for d in CURVE_DAYS], CURVE_ZEROS, ql.Actual365Fixed())
    qc.enableExtrapolation()
    ours = ZeroCurve(np.array(CURVE_DAYS) / 365.0, CURVE_ZEROS)
    return qc, ours


@pytest.mark.parametrize(
    "make, comp, f, s",
    SPREAD_CASES,
    ids=[f"{c[0].__name__}-{c[1].value}-{c[2]}" for c in SPREAD_CASES],
)
def test_z_spread_and_curve_npv_match_quantlib(make, comp, f, s):
    ql.Settings.instance().evaluationDate = QL_SETTLE
    dates, amounts = make()
    a = np.array(amounts)
    t = year_fractions(SETTLE, dates, DayCount.ACT_365F)
    leg = _leg(dates, amounts)
    qc, ours = _curves()
    assert npv_curve(a, t, ours) == pytest.approx(
        ql.CashFlows.npv(leg, ql.YieldTermStructureHandle(qc), False, QL_SETTLE, QL_SETTLE),
        rel=1e-10,
    )
    spreaded = ql.ZeroSpreadedTermStructure(
        ql.YieldTermStructureHandle(qc),
        ql.QuoteHandle(ql.SimpleQuote(s)),
        QL_COMP[comp],
        QL_FREQ[f],
        ql.Actual365Fixed(),
    )
    price = ql.CashFlows.npv(
        leg, ql.YieldTermStructureHandle(spreaded), False, QL_SETTLE, QL_SETTLE
    )
    assert npv_curve(a, t, ours, s, comp, f) == pytest.approx(price, rel=1e-10)
    ref = ql.CashFlows.zSpread(
        leg,
        price,
        qc,
        ql.Actual365Fixed(),
        QL_COMP[comp],
        QL_FREQ[f],
        False,
        QL_SETTLE,
        QL_SETTLE,
        1e-15,
        1000,
        0.0,
    )
    ours_s = z_spread(a, t, ours, price, comp, f)
    assert ours_s == pytest.approx(ref, rel=1e-8)
    assert ours_s == pytest.approx(s, rel=1e-8)
