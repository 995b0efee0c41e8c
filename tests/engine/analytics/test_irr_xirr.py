"""IRR / XIRR: the vectorised Numba kernels against the plain references, numpy-financial and
pyxirr (Excel's XIRR), plus every named failure."""

from __future__ import annotations

import datetime as dt

import numpy as np
import numpy_financial as npf
import pytest
import pyxirr

from app.engine.analytics.measures import irr, xirr
from app.engine.analytics.vectorised import irr_many, xirr_many, yields_many
from app.engine.errors import (
    EmptyCashflows,
    EngineError,
    NonFiniteInput,
    NoSignChange,
    UnreachablePrice,
)


def _rows(n=60, m=120, seed=7):
    rng = np.random.default_rng(seed)
    flows = np.empty((n, m))
    flows[:, 0] = -rng.uniform(50, 150, n)
    flows[:, 1:] = rng.uniform(0.0, 2.5, (n, m - 1))
    flows[::7, 1:] *= 0.3  # negative IRRs
    flows[3::11, 5] = -20.0  # a second sign change
    flows[5, 10:] = 0.0  # short flow
    return flows


def test_irr_many_agrees_with_reference_and_numpy_financial():
    flows = _rows()
    got = irr_many(flows)
    ref = np.array([irr(row) for row in flows])
    np.testing.assert_allclose(got, ref, rtol=1e-10, atol=1e-13)
    assert np.any(got < 0)
    for row, r in zip(flows[:8], got[:8], strict=True):
        assert r == pytest.approx(npf.irr(row), rel=1e-8)
    # definition: NPV at the IRR is zero
    k = np.arange(flows.shape[1])
    resid = (flows * (1 + got[:, None]) ** -k).sum(axis=1)
    assert np.max(np.abs(resid)) < 1e-9


def test_irr_handles_high_and_very_negative_rates():
    flows = np.array([[-100.0, 300.0, 0, 0], [-100.0, 1.0, 1.0, 1.0], [-1.0, 0.0, 0.0, 1e6]])
    got = irr_many(flows)
    np.testing.assert_allclose(got, [irr(r) for r in flows], rtol=1e-10)
    assert got[0] == pytest.approx(2.0, rel=1e-12)
    assert got[2] == pytest.approx(1e6 ** (1 / 3) - 1, rel=1e-12)


def _dated_rows(n=40, m=60, seed=3):
    rng = np.random.default_rng(seed)
    flows = _rows(n, m, seed)
    start = np.datetime64("2024-01-15")
    days = np.cumsum(rng.integers(20, 45, (n, m)), axis=1)
    days[:, 0] = 0
    days[2, 1] = 2000  # a gap beyond... unsorted row: sorted internally
    return flows, start + days.astype("timedelta64[D]")


def test_xirr_many_agrees_with_pyxirr_and_reference():
    flows, dates = _dated_rows()
    got = xirr_many(flows, dates)
    close = 0
    for i in range(flows.shape[0]):
        ref = pyxirr.xirr(dates[i], flows[i])
        d = dates[i].astype("datetime64[D]").astype(np.int64)
        t = (d - d.min()) / 365.0

        def npv(r, i=i, t=t):
            return abs(np.dot(flows[i], (1.0 + r) ** -t))

        # pyxirr stops at its own tolerance (NPV residual up to ~1e-7 here); ours is at
        # rounding level, so require agreement to 1e-6 and a residual no larger than pyxirr's.
        assert got[i] == pytest.approx(ref, rel=1e-6), i
        assert npv(got[i]) <= max(npv(ref), 1e-12 * np.abs(flows[i]).sum()), i
        close += got[i] == pytest.approx(ref, rel=1e-8)
        assert got[i] == pytest.approx(xirr(flows[i], dates[i]), rel=1e-10, abs=1e-13)
    assert close >= 0.9 * flows.shape[0]


def test_xirr_shared_dates_and_date_objects():
    flows = _rows(20, 37)
    dates = [dt.date(2025, 1, 31) + dt.timedelta(days=int(30.4 * k)) for k in range(37)]
    got = xirr_many(flows, np.array(dates, dtype=object))
    for i in range(20):
        assert got[i] == pytest.approx(pyxirr.xirr(dates, flows[i]), rel=1e-6)
        assert got[i] == pytest.approx(
            xirr(flows[i], np.array(dates, dtype="datetime64[D]")), rel=1e-10
        )


def test_xirr_long_gaps_use_exact_powers():
    flows = np.array([[-100.0, 10.0, 10.0, 150.0]])
    days = np.array([0, 365, 730, 365 * 20])
    got = xirr_many(flows, days)
    assert got[0] == pytest.approx(xirr(flows[0], days), rel=1e-10)


def test_yields_many_is_f_times_periodic_irr():
    rng = np.random.default_rng(2)
    amounts = rng.uniform(0.5, 1.5, (5, 24))
    prices = amounts.sum(axis=1) * 0.9
    y = yields_many(amounts, prices, 12)
    for i in range(5):
        t = np.arange(1, 25) / 12
        assert np.dot(amounts[i], (1 + y[i] / 12) ** (-12 * t)) == pytest.approx(
            prices[i], rel=1e-12
        )


@pytest.mark.parametrize(
    "row, err",
    [
        ([1.0, 2.0, 3.0], NoSignChange),
        ([-1.0, -2.0], NoSignChange),
        ([0.0, 0.0], EmptyCashflows),
        ([-1.0, np.nan, 2.0], NonFiniteInput),
        ([-1.0, np.inf, 2.0], NonFiniteInput),
    ],
)
def test_bad_rows_raise_named_errors(row, err):
    with pytest.raises(err):
        irr_many(np.array([row]))
    with pytest.raises(err):
        irr(np.array(row))
    with pytest.raises(err):
        xirr_many(np.array([row]), np.arange(len(row)) * 30)


def test_errors_nan_marks_only_bad_rows():
    flows = np.array([[-100.0, 110.0], [1.0, 1.0], [-100.0, 121.0]])
    got = irr_many(flows, errors="nan")
    assert np.isnan(got[1]) and got[0] == pytest.approx(0.1) and got[2] == pytest.approx(0.21)
    with pytest.raises(NoSignChange, match="row 1"):
        irr_many(flows)


def test_unreachable_root_raises():
    # NPV(r) = -1 + 2x - 2x^2 < 0 for every x = 1/(1+r) > 0: signs change but no real root.
    with pytest.raises(UnreachablePrice):
        irr_many(np.array([[-1.0, 2.0, -2.0]]))
    with pytest.raises(UnreachablePrice):
        irr(np.array([-1.0, 2.0, -2.0]))


def test_empty_and_mismatched_inputs():
    with pytest.raises(EmptyCashflows):
        irr_many(np.empty((3, 0)))
    with pytest.raises(EmptyCashflows):
        irr(np.array([]))
    with pytest.raises(EngineError):
        xirr_many(np.ones((2, 3)), np.arange(4))
    with pytest.raises(EngineError):
        xirr_many(np.array([[-1.0, 2.0]]), np.array([0.0, 1.5]))
