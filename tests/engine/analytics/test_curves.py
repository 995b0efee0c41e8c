"""ZeroCurve against QuantLib's ZeroCurve / DiscountCurve / ForwardCurve, and closed forms."""

from __future__ import annotations

import math

import numpy as np
import pytest
import QuantLib as ql

from app.engine.analytics.curves import Interpolation, ZeroCurve
from app.engine.errors import EngineError, NonFiniteInput

REF = ql.Date(15, 1, 2025)
DC = ql.Actual365Fixed()
DAYS = [0, 91, 182, 365, 730, 1095, 1826, 3652, 7305, 10957]
ZEROS = [0.041, 0.0425, 0.0431, 0.0418, 0.0402, 0.0398, 0.0405, 0.0421, 0.0447, 0.0452]
PROBE_DAYS = [1, 30, 91, 100, 200, 400, 1000, 2000, 5000, 9000, 10957, 12000, 15000]


def _ql_dates(days):
    return [REF + d for d in days]


def _ours(interp):
    times = np.array(DAYS) / 365.0
    return ZeroCurve(times, ZEROS, interp)


def _probe_times():
    return np.array([DC.yearFraction(REF, REF + d) for d in PROBE_DAYS])


def test_linear_zero_matches_quantlib_zerocurve():
    qc = ql.ZeroCurve(_ql_dates(DAYS), ZEROS, DC)
    qc.enableExtrapolation()
    ours = _ours(Interpolation.LINEAR_ZERO).discount(_probe_times())
    ref = np.array([qc.discount(REF + d) for d in PROBE_DAYS])
    np.testing.assert_allclose(ours, ref, rtol=1e-12)


@pytest.mark.parametrize("interp", [Interpolation.LOG_LINEAR_DISCOUNT, Interpolation.FLAT_FORWARD])
def test_log_linear_discount_matches_quantlib_discountcurve(interp):
    dfs = [math.exp(-z * d / 365.0) for z, d in zip(ZEROS, DAYS, strict=True)]
    qc = ql.DiscountCurve(_ql_dates(DAYS), dfs, DC)
    qc.enableExtrapolation()
    ours = _ours(interp).discount(_probe_times())
    ref = np.array([qc.discount(REF + d) for d in PROBE_DAYS])
    np.testing.assert_allclose(ours, ref, rtol=1e-12)


def test_flat_forward_matches_quantlib_forwardcurve():
    # Piecewise-constant forwards implied by the zero nodes, fed to QuantLib's ForwardCurve.
    t = np.array(DAYS) / 365.0
    lndf = -np.array(ZEROS) * t
    fwd = -np.diff(lndf) / np.diff(t)
    qc = ql.ForwardCurve(_ql_dates(DAYS), [fwd[0], *fwd], DC)
    qc.enableExtrapolation()
    ours = _ours(Interpolation.FLAT_FORWARD).discount(_probe_times())
    ref = np.array([qc.discount(REF + d) for d in PROBE_DAYS])
    np.testing.assert_allclose(ours, ref, rtol=1e-12)


def test_zero_and_forward_rates_consistent_with_discount():
    c = _ours(Interpolation.LINEAR_ZERO)
    t = np.array([0.5, 1.7, 12.0, 40.0])
    np.testing.assert_allclose(c.zero_rate(t), -np.log(c.discount(t)) / t, rtol=1e-14)
    f = c.forward_rate(np.array([1.0]), np.array([2.0]))
    assert f[0] == pytest.approx(math.log(c.discount(1.0) / c.discount(2.0)), rel=1e-13)
    assert c.zero_rate(0.0) == pytest.approx(ZEROS[0])


def test_parallel_shift_adds_to_every_zero_rate():
    for interp in Interpolation:
        c = _ours(interp)
        t = _probe_times()
        np.testing.assert_allclose(c.shifted(0.01).zero_rate(t), c.zero_rate(t) + 0.01, rtol=1e-12)


def test_key_rate_shifts_sum_to_parallel_and_are_local():
    c = _ours(Interpolation.LINEAR_ZERO)
    keys = [1.0, 2.0, 5.0, 10.0, 30.0]
    t = np.linspace(0.01, 35.0, 200)
    total = sum(c.key_rate_shifted(k, 1e-4, keys).zero_rate(t) - c.zero_rate(t) for k in keys)
    np.testing.assert_allclose(total, 1e-4, rtol=1e-9)
    bumped = c.key_rate_shifted(5.0, 1e-4, keys)
    assert bumped.zero_rate(5.0) - c.zero_rate(5.0) == pytest.approx(1e-4, rel=1e-9)
    assert bumped.zero_rate(3.5) - c.zero_rate(3.5) == pytest.approx(0.5e-4, rel=1e-9)
    assert abs(bumped.zero_rate(1.5) - c.zero_rate(1.5)) < 1e-16


def test_bootstrap_flat_par_yields_gives_closed_form_zero():
    # Flat par yield y (semiannual) => every zero rate is 2 ln(1 + y/2) continuous.
    y = 0.05
    tenors = [0.5, 1.0, 2.0, 3.0, 5.0, 7.0, 10.0, 30.0]
    c = ZeroCurve.from_par_yields(tenors, [y] * len(tenors), frequency=2)
    np.testing.assert_allclose(c.rates, 2 * math.log1p(y / 2), rtol=1e-12)


@pytest.mark.parametrize("interp", list(Interpolation))
def test_bootstrap_reprices_each_par_bond(interp):
    tenors = [0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 7.0, 10.0, 20.0, 30.0]
    par = [0.052, 0.051, 0.049, 0.045, 0.043, 0.042, 0.0425, 0.043, 0.046, 0.0445]
    c = ZeroCurve.from_par_yields(tenors, par, frequency=2, interpolation=interp)
    for big_t, y in zip(tenors, par, strict=True):
        pay = np.arange(big_t, 0.0, -0.5)[::-1]
        tau = np.diff(np.concatenate(([0.0], pay)))
        price = y * np.sum(tau * c.discount(pay)) + c.discount(big_t)
        assert price == pytest.approx(1.0, abs=1e-13)


def test_swap_bootstrap_annual():
    c = ZeroCurve.from_swap_rates([1, 2, 3], [0.03, 0.035, 0.04])
    # 1y: (1 + 0.03) DF(1) = 1
    assert c.discount(1.0) == pytest.approx(1 / 1.03, rel=1e-14)
    df2 = (1 - 0.035 * c.discount(1.0)) / 1.035
    assert c.discount(2.0) == pytest.approx(df2, rel=1e-13)


@pytest.mark.parametrize(
    "times, rates, err",
    [
        ([], [], EngineError),
        ([1.0, 2.0], [0.01], EngineError),
        ([1.0, 1.0], [0.01, 0.02], EngineError),
        ([-1.0, 1.0], [0.01, 0.02], EngineError),
        ([1.0, 2.0], [0.01, float("nan")], NonFiniteInput),
        ([1.0, float("inf")], [0.01, 0.02], NonFiniteInput),
    ],
)
def test_bad_curves_raise(times, rates, err):
    with pytest.raises(err):
        ZeroCurve(times, rates)


def test_bad_queries_raise():
    c = ZeroCurve.flat(0.03)
    with pytest.raises(EngineError):
        c.discount(np.array([-1.0]))
    with pytest.raises(NonFiniteInput):
        c.discount(np.array([np.nan]))
    with pytest.raises(EngineError):
        c.forward_rate(2.0, 1.0)
    with pytest.raises(EngineError):
        Interpolation.parse("cubic")
