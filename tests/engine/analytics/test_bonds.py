"""Bonds and pass-throughs: price ↔ yield against QuantLib's bond functions; the published
GNMA pass-through yields; discount margin against closed forms."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
import QuantLib as ql

from app.engine.analytics.bonds import (
    BondAmortization,
    bond_equivalent_to_mortgage,
    discount_margin,
    fixed_rate_bond,
    floater_price,
    forward_index_rates,
    mortgage_to_bond_equivalent,
    pass_through_flows,
    pass_through_price,
    pass_through_yield,
    price_from_yield,
    yield_from_bond_price,
)
from app.engine.analytics.conventions import Compounding, DayCount
from app.engine.analytics.curves import ZeroCurve
from app.engine.errors import EngineError, UnreachablePrice

QL_FREQ = {1: ql.Annual, 2: ql.Semiannual, 4: ql.Quarterly, 12: ql.Monthly}
QL_DC = {
    DayCount.THIRTY_360: ql.Thirty360(ql.Thirty360.BondBasis),
    DayCount.ACT_365F: ql.Actual365Fixed(),
}


def _qd(d: dt.date) -> ql.Date:
    return ql.Date(d.day, d.month, d.year)


def _ql_bond(settle, maturity, coupon, f, dc, ours, amortising):
    prev = _qd(maturity) - ql.Period(12 // f * len(ours.dates), ql.Months)
    sched = ql.Schedule(
        prev,
        _qd(maturity),
        ql.Period(QL_FREQ[f]),
        ql.NullCalendar(),
        ql.Unadjusted,
        ql.Unadjusted,
        ql.DateGeneration.Backward,
        False,
    )
    if amortising:
        notionals = list(100.0 - np.concatenate(([0.0], np.cumsum(ours.principal)[:-1])))
        return ql.AmortizingFixedRateBond(0, notionals, sched, [coupon], QL_DC[dc], ql.Unadjusted)
    return ql.FixedRateBond(0, 100.0, sched, [coupon], QL_DC[dc])


BOND_CASES = [
    (dt.date(2025, 4, 9), dt.date(2034, 11, 15), 0.0425, 2, DayCount.THIRTY_360, "bullet", 0.0471),
    (dt.date(2025, 4, 9), dt.date(2030, 2, 15), 0.0600, 4, DayCount.THIRTY_360, "bullet", 0.0532),
    (dt.date(2025, 6, 20), dt.date(2045, 1, 10), 0.0350, 1, DayCount.ACT_365F, "bullet", 0.0410),
    (dt.date(2025, 4, 9), dt.date(2040, 3, 1), 0.0700, 12, DayCount.THIRTY_360, "level", 0.0655),
    (dt.date(2025, 4, 9), dt.date(2032, 9, 15), 0.0500, 2, DayCount.THIRTY_360, "linear", 0.0610),
]


@pytest.mark.parametrize("settle, mat, c, f, dc, amort, y", BOND_CASES)
def test_bond_price_yield_matches_quantlib(settle, mat, c, f, dc, amort, y):
    ql.Settings.instance().evaluationDate = _qd(settle)
    ours = fixed_rate_bond(settle, mat, c, frequency=f, day_count=dc, amortization=amort)
    bond = _ql_bond(settle, mat, c, f, dc, ours, amort != "bullet")
    ir = ql.InterestRate(y, QL_DC[dc], ql.Compounded, QL_FREQ[f])
    p = price_from_yield(ours, y, Compounding.COMPOUNDED, f)
    assert p.accrued == pytest.approx(ql.BondFunctions.accruedAmount(bond, _qd(settle)), rel=1e-10)
    ref_clean = ql.BondFunctions.cleanPrice(bond, ir, _qd(settle))
    assert p.clean == pytest.approx(ref_clean, rel=1e-10)
    assert p.dirty == pytest.approx(
        ref_clean + ql.BondFunctions.accruedAmount(bond, _qd(settle)), rel=1e-10
    )
    ref_y = ql.BondFunctions.bondYield(
        bond,
        ql.BondPrice(p.clean, ql.BondPrice.Clean),
        QL_DC[dc],
        ql.Compounded,
        QL_FREQ[f],
        _qd(settle),
        1e-15,
        1000,
        0.05,
    )
    got = yield_from_bond_price(ours, p.clean, clean=True, frequency=f)
    assert got == pytest.approx(ref_y, rel=1e-8)
    assert got == pytest.approx(y, rel=1e-10)
    assert yield_from_bond_price(ours, p.dirty, clean=False, frequency=f) == pytest.approx(
        y, rel=1e-10
    )
    assert ours.principal.sum() == pytest.approx(100.0, rel=1e-13)


def test_bullet_at_coupon_yield_on_coupon_date_is_par():
    b = fixed_rate_bond(dt.date(2025, 5, 15), dt.date(2035, 5, 15), 0.05)
    assert b.accrued == 0.0
    assert price_from_yield(b, 0.05).clean == pytest.approx(100.0, rel=1e-13)


def _sifma_pass_through(balance, gross, net, term, psa):
    """Independent SIFMA level-pay + PSA projection (no defaults): total cash flow per month."""
    r = gross / 12
    bal = balance
    out = []
    for m in range(1, term + 1):
        cpr = min(0.06, 0.002 * m) * psa / 100
        smm = 1 - (1 - cpr) ** (1 / 12)
        rem = term - m + 1
        sched = bal * r / (1 - (1 + r) ** -rem) - bal * r
        prepay = smm * (bal - sched)
        out.append(bal * net / 12 + sched + prepay)
        bal -= sched + prepay
    return np.array(out)


def test_published_gnma_pass_through_yields():
    """9% GNMA pass-through (9.5% gross, 30-year, new), 150% PSA, priced at par, 14-day actual
    delay: bond-equivalent yield 9.107%, mortgage yield 8.939% (published, 5 decimals)."""
    from app.engine.pool import LoanPool
    from app.engine.projection import project_pool
    from app.engine.types import Assumptions, Speed, SpeedKind

    pool = LoanPool.from_columns(
        {
            "balance": [100.0],
            "rate": [0.095],
            "net_rate": [0.09],
            "original_term_months": [360],
            "age_months": [0],
        }
    )
    # the engine core's plain NumPy engine: same SIFMA rules, no kernel compile in this test
    proj = project_pool(
        pool, Assumptions(prepayment=Speed(SpeedKind.PSA, speed=150.0)), engine="reference"
    )
    cf = proj.columns["total_cashflow"]
    np.testing.assert_allclose(cf, _sifma_pass_through(100.0, 0.095, 0.09, 360, 150), rtol=1e-10)
    flows = pass_through_flows(cf, delay_days=14)
    bey, my = pass_through_yield(flows, 100.0)
    assert round(bey, 5) == 0.09107
    assert round(my, 5) == 0.08939
    assert pass_through_price(flows, bey).dirty == pytest.approx(100.0, rel=1e-12)
    # without the delay, a par pass-through yields its coupon (monthly compounded)
    assert pass_through_yield(pass_through_flows(cf, delay_days=0), 100.0)[1] == pytest.approx(
        0.09, rel=1e-12
    )


def test_bey_mortgage_conversions_are_inverse_and_match_closed_form():
    assert mortgage_to_bond_equivalent(0.09) == pytest.approx(
        2 * ((1 + 0.09 / 12) ** 6 - 1), rel=1e-14
    )
    assert bond_equivalent_to_mortgage(mortgage_to_bond_equivalent(0.0731)) == pytest.approx(
        0.0731, rel=1e-14
    )


def test_pass_through_accrued_and_clean_price():
    cf = _sifma_pass_through(100.0, 0.07, 0.065, 360, 100)
    flows = pass_through_flows(
        cf, delay_days=24, settlement_day=12, balance=100.0, net_coupon=0.065
    )
    assert flows.accrued == pytest.approx(100 * 0.065 * 12 / 360)
    assert flows.times[0] == pytest.approx((30 + 24 - 12) / 360)
    p = pass_through_price(flows, 0.06)
    assert p.clean == pytest.approx(p.dirty - flows.accrued)


def test_discount_margin_closed_forms():
    idx = np.array([0.043, 0.044, 0.046, 0.047, 0.045, 0.044, 0.046, 0.048])
    tau = np.full(8, 0.25)
    # At par (δ = τ) the discount margin is the quoted margin, whatever the index path.
    assert discount_margin(100.0, 0.015, idx, tau) == pytest.approx(0.015, rel=1e-12)
    # Two periods by hand.
    i2, t2, qm, dm = np.array([0.04, 0.05]), np.array([0.5, 0.5]), 0.01, 0.02
    d1 = 1 + (0.04 + dm) * 0.5
    d2 = d1 * (1 + (0.05 + dm) * 0.5)
    hand = 100 * (0.04 + qm) * 0.5 / d1 + 100 * ((0.05 + qm) * 0.5 + 1) / d2
    assert floater_price(dm, qm, i2, t2) == pytest.approx(hand, rel=1e-14)
    assert discount_margin(hand, qm, i2, t2) == pytest.approx(dm, rel=1e-10)
    # below par -> margin above the quoted one
    assert discount_margin(98.0, 0.015, idx, tau) > 0.015
    with pytest.raises(UnreachablePrice):
        discount_margin(-5.0, 0.015, idx, tau)


def test_forward_index_rates_reprice_a_par_floater_on_its_curve():
    curve = ZeroCurve([0.25, 1.0, 3.0], [0.041, 0.043, 0.045])
    t = np.arange(1, 13) * 0.25
    fwd = forward_index_rates(curve, t)
    tau = np.diff(np.concatenate(([0.0], t)))
    # a zero-margin floater paying the curve's forwards is worth par on that curve
    cf = 100 * fwd * tau
    cf[-1] += 100
    assert float(np.dot(cf, curve.discount(t))) == pytest.approx(100.0, rel=1e-13)


def test_bond_input_errors():
    with pytest.raises(EngineError):
        fixed_rate_bond(dt.date(2025, 1, 1), dt.date(2024, 1, 1), 0.05)
    with pytest.raises(EngineError):
        fixed_rate_bond(dt.date(2025, 1, 1), dt.date(2030, 1, 1), 0.05, frequency=3)
    with pytest.raises(ValueError):
        fixed_rate_bond(dt.date(2025, 1, 1), dt.date(2030, 1, 1), 0.05, amortization="balloon")
    b = fixed_rate_bond(
        dt.date(2025, 1, 1), dt.date(2030, 1, 1), 0.05, amortization=BondAmortization.LEVEL
    )
    with pytest.raises(UnreachablePrice):
        yield_from_bond_price(b, -1.0)
