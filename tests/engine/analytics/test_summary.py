"""cashflow_measures: each key against QuantLib / numpy-financial / closed forms."""

from __future__ import annotations

import numpy as np
import numpy_financial as npf
import pytest
import QuantLib as ql

from app.engine.analytics.conventions import Compounding
from app.engine.analytics.curves import ZeroCurve
from app.engine.analytics.summary import KEYS, cashflow_measures
from app.engine.errors import EngineError, NonFiniteInput, UnreachablePrice

REF = ql.Date(1, 7, 2025)
# 6-year 5% semiannual bond, face 100, dated flows, t in ACT/365F years.
DAYS = np.round(np.arange(1, 13) * 365 / 2).astype(int)
T = DAYS / 365.0
A = np.full(12, 2.5)
A[-1] += 100.0
PRINCIPAL = np.zeros(12)
PRINCIPAL[-1] = 100.0


def _leg():
    return [ql.SimpleCashFlow(a, REF + int(d)) for a, d in zip(A, DAYS, strict=True)]


def test_full_measures_match_quantlib():
    ql.Settings.instance().evaluationDate = REF
    dc = ql.Actual365Fixed()
    curve = ZeroCurve([182 / 365, 1, 2, 5, 10], [0.041, 0.040, 0.0385, 0.039, 0.041])
    qcurve = ql.ZeroCurve(
        [REF, REF + 182, REF + 365, REF + 730, REF + 1825, REF + 3650],
        [0.041, 0.041, 0.040, 0.0385, 0.039, 0.041],
        dc,
    )
    price = 97.25
    out = cashflow_measures(
        A,
        T,
        principal=PRINCIPAL,
        frequency=2,
        compounding=Compounding.COMPOUNDED,
        discount_rate=0.05,
        curve=curve,
        price=price,
    )
    assert set(out) == set(KEYS)
    leg = _leg()
    assert out["npv"] == pytest.approx(
        ql.CashFlows.npv(
            leg, ql.InterestRate(0.05, dc, ql.Compounded, ql.Semiannual), False, REF, REF
        ),
        rel=1e-10,
    )
    y = ql.CashFlows.yieldRate(
        leg, price, dc, ql.Compounded, ql.Semiannual, False, REF, REF, 1e-15, 1000, 0.05
    )
    assert out["yield"] == pytest.approx(y, rel=1e-8)
    assert out["irr"] == pytest.approx(y, rel=1e-8)  # same equation when compounding at f
    ir = ql.InterestRate(y, dc, ql.Compounded, ql.Semiannual)
    assert out["macaulay_duration"] == pytest.approx(
        ql.CashFlows.duration(leg, ir, ql.Duration.Macaulay, False, REF), rel=1e-8
    )
    mod = ql.CashFlows.duration(leg, ir, ql.Duration.Modified, False, REF)
    assert out["modified_duration"] == pytest.approx(mod, rel=1e-8)
    assert out["convexity"] == pytest.approx(
        ql.CashFlows.convexity(leg, ir, False, REF, REF), rel=1e-8
    )
    assert out["dv01"] == pytest.approx(mod * price * 1e-4, rel=1e-8)
    assert out["wal"] == pytest.approx(6.0)
    zs = ql.CashFlows.zSpread(
        leg, price, qcurve, dc, ql.Continuous, ql.Annual, False, REF, REF, 1e-15, 1000, 0.0
    )
    assert out["z_spread"] == pytest.approx(zs, rel=1e-8)
    # effective duration of fixed flows at a constant Z-spread: close to the continuous
    # duration at the curve + spread (within the O(h²) of the ±25 bp bump)
    assert out["effective_duration"] == pytest.approx(out["macaulay_duration"], rel=2e-2)
    assert out["effective_convexity"] > 0


def test_sign_changing_flows_give_irr_and_npv_only():
    flows = np.array([-100.0, 8.0, 8.0, 8.0, 108.0])
    out = cashflow_measures(flows, np.arange(5.0), frequency=1, discount_rate=0.06)
    assert out["irr"] == pytest.approx(npf.irr(flows), rel=1e-10)
    assert out["npv"] == pytest.approx(npf.npv(0.06, flows), rel=1e-12)
    assert out["yield"] is None and out["z_spread"] is None and out["effective_duration"] is None
    assert out["wal"] is None
    # irr annualised at the frequency: monthly flows -> 12 × the periodic rate
    monthly = cashflow_measures(flows, np.arange(5.0) / 12, frequency=12)
    assert monthly["irr"] == pytest.approx(12 * npf.irr(flows), rel=1e-10)


def test_curve_only_uses_curve_yield_for_durations():
    out = cashflow_measures(A, T, frequency=2, curve=ZeroCurve.flat(0.04))
    y = 2 * (np.exp(0.04 / 2) - 1)  # continuous 4% as semiannual
    assert out["npv"] == pytest.approx(float(np.dot(A, np.exp(-0.04 * T))), rel=1e-14)
    mac = float(np.dot(T, A * np.exp(-0.04 * T)) / np.dot(A, np.exp(-0.04 * T)))
    assert out["macaulay_duration"] == pytest.approx(mac, rel=1e-10)
    assert out["modified_duration"] == pytest.approx(mac / (1 + y / 2), rel=1e-10)
    assert out["z_spread"] is None and out["yield"] is None


def test_reprice_hook_is_used():
    calls = []

    def reprice(c):
        calls.append(c)
        return 100.0 * float(c.discount(3.0))

    out = cashflow_measures(A, T, curve=ZeroCurve.flat(0.03), reprice=reprice, bump=0.001)
    assert len(calls) == 3
    assert out["effective_duration"] == pytest.approx(np.sinh(3 * 0.001) / 0.001, rel=1e-10)


@pytest.mark.parametrize(
    "kwargs, err, field",
    [
        ({"discount_rate": float("nan")}, NonFiniteInput, "discount_rate"),
        ({"price": float("inf")}, NonFiniteInput, "price"),
        ({"price": -3.0}, UnreachablePrice, "price"),
        ({"frequency": 3}, EngineError, "frequency"),
        (
            {"spread_frequency": 5, "curve": ZeroCurve.flat(0.03), "price": 99.0},
            EngineError,
            "spread_frequency",
        ),
        ({"compounding": "weekly"}, EngineError, "compounding"),
        ({"principal": np.ones(3)}, EngineError, "principal"),
        ({"bump": 0.0, "curve": ZeroCurve.flat(0.03)}, EngineError, "bump"),
    ],
)
def test_errors_name_the_field(kwargs, err, field):
    with pytest.raises(err) as e:
        cashflow_measures(A, T, **kwargs)
    assert e.value.field == field
