"""Each analytics measure is computed on its own (issue 12 item 5): one that cannot be computed
is null with a reason in `warnings`, the others are returned; the yield solver finds a root
wherever price - PV changes sign, whatever the signs of the flows."""

from __future__ import annotations

import math

import numpy as np
import pytest

from app.engine.analytics.conventions import Compounding
from app.engine.analytics.measures import yield_from_price
from app.engine.analytics.solvers import solve
from app.services.value_warnings import Warnings
from tests.conftest import sign_token

URL = "/api/v1/analytics/cashflows"


def H() -> dict[str, str]:
    return {"Authorization": f"Bearer {sign_token('measures-user')}"}


def _two_root_flows() -> tuple[np.ndarray, np.ndarray, float, tuple[float, float]]:
    """Annual flows at t = 1, 2, 3 whose PV - price = c (v + 1)(v - v1)(v - v2), v = 1/(1 + y):
    two roots y = 30% and 33%, close together and far from the solver's 5% start."""
    roots = (0.30, 0.33)
    coeffs = -50.0 * np.poly([-1.0, 1 / (1 + roots[0]), 1 / (1 + roots[1])])  # v^3 .. v^0
    a3, a2, a1, a0 = coeffs
    return np.array([a1, a2, a3]), np.array([1.0, 2.0, 3.0]), float(-a0), roots


def test_yield_found_between_close_roots_of_mixed_sign_flows() -> None:
    a, t, price, roots = _two_root_flows()
    assert a.min() < 0 < a.max()
    y = yield_from_price(a, t, price, Compounding.COMPOUNDED, 1)
    assert min(abs(y - r) for r in roots) < 1e-10
    # independent check: the hand-written price at that yield
    pv = sum(ai / (1 + y) ** ti for ai, ti in zip(a, t, strict=True))
    assert pv == pytest.approx(price, rel=1e-12)


def test_solve_scan_finds_a_narrow_dip() -> None:
    # f > 0 everywhere except a narrow dip below zero around x = 0.4; walking out from 0.05
    # in doubling steps probes 0.37 and 0.69 and misses it.
    def f(x: float) -> float:
        return 1.0 - 2.0 * math.exp(-(((x - 0.4) / 0.01) ** 2))

    root = solve(f, 0.05, -1.0, 100.0, what="dip")
    assert f(root) == pytest.approx(0.0, abs=1e-12)
    assert abs(root - 0.4) < 0.02


def test_warnings_helper_nulls_non_finite() -> None:
    w = Warnings()
    assert w.finite("a", float("nan")) is None
    assert w.finite("b", 1.5) == 1.5
    assert w.finite("c", float("inf")) is None
    assert [x.field for x in w.items()] == ["a", "c"]
    assert "not a finite number" in w.items()[0].reason


async def test_npv_answered_when_irr_cannot_be(client) -> None:
    # the yield search walks 0.05 -> ... and IRR's from 0.01; with all flows positive but a
    # negative interim one there is a sign change but the IRR equation has no root in range
    flows = [
        {"amount": 5.0, "period": 1},
        {"amount": -20.0, "period": 2},
        {"amount": 105.0, "period": 3},
    ]
    r = await client.post(
        URL, json={"cashflows": flows, "frequency": 1, "discount_rate": 0.05}, headers=H()
    )
    assert r.status_code == 200, r.text
    body = r.json()
    expected_npv = 5 / 1.05 - 20 / 1.05**2 + 105 / 1.05**3
    assert body["npv"] == pytest.approx(expected_npv, rel=1e-12)
    assert body["irr"] is None
    fields = {w["field"]: w["reason"] for w in body["warnings"]}
    assert "irr" in fields and fields["irr"]


async def test_yield_from_price_over_mixed_sign_flows_via_api(client) -> None:
    a, _, price, roots = _two_root_flows()
    flows = [{"amount": float(x), "period": i + 1} for i, x in enumerate(a)]
    r = await client.post(
        URL, json={"cashflows": flows, "frequency": 1, "price": price}, headers=H()
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert min(abs(body["yield"] - x) for x in roots) < 1e-9
    assert all(w["field"] != "yield" for w in body["warnings"])


async def test_unreachable_price_nulls_only_price_measures(client) -> None:
    flows = [{"amount": 10.0, "period": 1}, {"amount": 110.0, "period": 2}]
    r = await client.post(
        URL,
        json={"cashflows": flows, "frequency": 1, "price": 1e-9, "discount_rate": 0.05},
        headers=H(),
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["npv"] == pytest.approx(10 / 1.05 + 110 / 1.05**2, rel=1e-12)
    assert body["yield"] is None
    fields = {w["field"] for w in body["warnings"]}
    assert {"yield", "macaulay_duration"} <= fields
