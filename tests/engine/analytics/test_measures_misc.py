"""Measures QuantLib has no direct equivalent for, checked against closed forms; error cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from app.engine.analytics.conventions import Compounding
from app.engine.analytics.curves import ZeroCurve
from app.engine.analytics.measures import (
    convexity,
    effective_duration_convexity,
    fixed_flow_repricer,
    key_rate_durations,
    macaulay_duration,
    modified_duration,
    npv,
    npv_curve,
    spread_duration,
    wal,
    yield_from_price,
    z_spread,
)
from app.engine.errors import EmptyCashflows, EngineError, NonFiniteInput, UnreachablePrice

T = np.arange(1, 61) / 12.0
A = np.full(60, 2.0)
A[-1] += 100.0


def test_effective_duration_equals_analytic_on_flat_curve():
    # Flat continuous curve at z: effective D and C of fixed flows -> continuous modified
    # duration Σ t PV / P and convexity Σ t² PV / P, with O(h²) error.
    z = 0.045
    curve = ZeroCurve.flat(z)
    p0, d, c = effective_duration_convexity(fixed_flow_repricer(A, T), curve, bump=1e-4)
    assert p0 == pytest.approx(npv(A, T, z, Compounding.CONTINUOUS), rel=1e-13)
    assert d == pytest.approx(modified_duration(A, T, z, Compounding.CONTINUOUS), rel=1e-7)
    assert c == pytest.approx(convexity(A, T, z, Compounding.CONTINUOUS), rel=1e-5)
    # and, with the compounded yield equivalent to z, the textbook relation D_mod = D_mac/(1+y/f)
    y = 12 * math.expm1(z / 12)
    assert modified_duration(A, T, y, Compounding.COMPOUNDED, 12) * (1 + y / 12) == pytest.approx(
        macaulay_duration(A, T, y, Compounding.COMPOUNDED, 12), rel=1e-14
    )
    assert d == pytest.approx(macaulay_duration(A, T, y, Compounding.COMPOUNDED, 12), rel=1e-7)


def test_effective_measures_use_the_repricer_and_bumps():
    # A repricer P(curve) = 100·exp(−D0·(z(1) − z0)): the bumped prices are 100·e^(∓D0·h), so
    # D = sinh(D0·h)/h and C = 2(cosh(D0·h) − 1)/h² exactly.
    curve = ZeroCurve([0.5, 1.0, 5.0], [0.04, 0.05, 0.055])
    d0, h = 3.0, 0.0025

    def reprice(c: ZeroCurve) -> float:
        return 100.0 * math.exp(-d0 * (float(c.zero_rate(1.0)) - 0.05))

    p0, d, c = effective_duration_convexity(reprice, curve, bump=h)
    assert p0 == pytest.approx(100.0, rel=1e-15)
    assert d == pytest.approx(math.sinh(d0 * h) / h, rel=1e-10)
    assert c == pytest.approx(2 * (math.cosh(d0 * h) - 1) / h**2, rel=1e-6)


def test_key_rate_durations_sum_to_effective_duration():
    curve = ZeroCurve([0.25, 1, 2, 3, 5, 7, 10], [0.05, 0.048, 0.046, 0.045, 0.044, 0.045, 0.046])
    rp = fixed_flow_repricer(A, T)
    keys = [0.25, 1.0, 2.0, 3.0, 5.0, 7.0, 10.0]
    krd = key_rate_durations(rp, curve, keys)
    d = effective_duration_convexity(rp, curve, bump=1e-4)[1]
    assert krd.sum() == pytest.approx(d, rel=1e-6)
    assert krd[-1] == pytest.approx(0.0, abs=1e-12)  # nothing beyond 5y
    assert krd[4] > krd[0]  # the 5y bullet dominates


@pytest.mark.parametrize(
    "comp, f", [(Compounding.CONTINUOUS, 1), (Compounding.COMPOUNDED, 2), (Compounding.SIMPLE, 1)]
)
def test_spread_duration_matches_finite_difference(comp, f):
    curve = ZeroCurve([0.5, 2, 5], [0.04, 0.042, 0.045])
    s, h = 0.012, 1e-6
    p = npv_curve(A, T, curve, s, comp, f)
    fd = (npv_curve(A, T, curve, s - h, comp, f) - npv_curve(A, T, curve, s + h, comp, f)) / (
        2 * p * h
    )
    assert spread_duration(A, T, curve, s, comp, f) == pytest.approx(fd, rel=1e-7)


def test_wal_closed_form():
    principal = np.full(10, 10.0)
    t = np.arange(1, 11) / 2.0
    assert wal(principal, t) == pytest.approx(2.75)


def test_z_spread_zero_when_price_is_curve_npv():
    curve = ZeroCurve([1, 3, 5], [0.03, 0.035, 0.04])
    p = npv_curve(A, T, curve)
    assert abs(z_spread(A, T, curve, p)) < 1e-14


@pytest.mark.parametrize(
    "call, err",
    [
        (lambda: yield_from_price(A, T, -5.0), UnreachablePrice),
        (lambda: yield_from_price(A, T, 0.0), UnreachablePrice),
        (lambda: yield_from_price(A, T, float("nan")), NonFiniteInput),
        (lambda: yield_from_price(np.array([]), np.array([]), 100.0), EmptyCashflows),
        (lambda: yield_from_price(np.zeros(3), np.ones(3), 100.0), EmptyCashflows),
        (lambda: yield_from_price(A, -T, 100.0), EngineError),
        (lambda: yield_from_price(A, T[:-1], 100.0), EngineError),
        (lambda: npv(np.array([1.0, np.inf]), np.array([1.0, 2.0]), 0.05), NonFiniteInput),
        (lambda: npv(A, T, float("inf")), NonFiniteInput),
        (lambda: z_spread(A, T, ZeroCurve.flat(0.03), -1.0), UnreachablePrice),
        (lambda: z_spread(A, T, ZeroCurve.flat(0.03), float("nan")), NonFiniteInput),
        (lambda: wal(np.array([-1.0, 0.5]), np.array([1.0, 2.0])), EngineError),
        (
            lambda: effective_duration_convexity(
                fixed_flow_repricer(A, T), ZeroCurve.flat(0.03), 0.0
            ),
            EngineError,
        ),
        (
            lambda: effective_duration_convexity(lambda c: float("nan"), ZeroCurve.flat(0.03)),
            EngineError,
        ),
    ],
)
def test_named_errors(call, err):
    with pytest.raises(err):
        call()


def test_price_error_names_the_field():
    with pytest.raises(UnreachablePrice) as e:
        yield_from_price(A, T, -5.0)
    assert e.value.field == "price"
