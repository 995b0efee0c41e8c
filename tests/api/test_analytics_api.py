"""POST /api/v1/analytics/cashflows end to end through the ASGI app with real tokens; numbers
checked against closed forms written out here and pyxirr; bad input is a 422 naming the field."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import pyxirr

URL = "/api/v1/analytics/cashflows"
KEYS = {
    "npv",
    "irr",
    "xirr",
    "yield",
    "macaulay_duration",
    "modified_duration",
    "convexity",
    "wal",
    "dv01",
    "z_spread",
    "effective_duration",
    "effective_convexity",
}


def _bond(price=None, **extra):
    flows = [{"amount": 3.0, "period": k} for k in range(1, 10)]
    flows.append({"amount": 103.0, "period": 10, "principal": 100.0})
    body = {"cashflows": flows, "frequency": 2, "compounding": "compounded", **extra}
    if price is not None:
        body["price"] = price
    return body


async def _post(client, auth, body, user="analyst"):
    return await client.post(
        URL, content=json.dumps(body), headers={**auth(user), "content-type": "application/json"}
    )


async def test_bond_measures_match_closed_forms(client, auth) -> None:
    z = 0.04
    resp = await _post(
        client,
        auth,
        _bond(price=97.0, discount_rate=0.065, curve={"nodes": [{"tenor_years": 1.0, "rate": z}]}),
    )
    assert resp.status_code == 200, resp.text
    out = resp.json()
    assert set(out) >= KEYS
    t = np.arange(1, 11) / 2
    a = np.array([3.0] * 9 + [103.0])
    assert out["npv"] == pytest.approx(float(np.dot(a, (1 + 0.065 / 2) ** (-2 * t))), rel=1e-12)
    y = out["yield"]
    df = (1 + y / 2) ** (-2 * t)
    assert float(np.dot(a, df)) == pytest.approx(97.0, rel=1e-12)
    assert out["irr"] == pytest.approx(y, rel=1e-10)  # buying at the price, compounded at f
    mac = float(np.dot(t, a * df) / 97.0)
    assert out["macaulay_duration"] == pytest.approx(mac, rel=1e-10)
    assert out["modified_duration"] == pytest.approx(mac / (1 + y / 2), rel=1e-10)
    conv = float(np.dot(t * (t + 0.5), a * df) / (97.0 * (1 + y / 2) ** 2))
    assert out["convexity"] == pytest.approx(conv, rel=1e-10)
    assert out["dv01"] == pytest.approx(out["modified_duration"] * 97.0 * 1e-4, rel=1e-10)
    assert out["wal"] == pytest.approx(5.0)
    # flat continuous curve z: Z-spread (continuous) = continuous yield − z
    assert out["z_spread"] == pytest.approx(2 * math.log1p(y / 2) - z, rel=1e-9)
    # effective duration of fixed flows ≈ the continuous-yield Macaulay duration
    assert out["effective_duration"] == pytest.approx(mac, rel=1e-4)
    assert out["xirr"] is None
    assert out["conventions"]["time_basis"] == "period / frequency"


async def test_dated_flows_give_xirr_like_pyxirr(client, auth) -> None:
    flows = [
        {"amount": -1000.0, "date": "2025-01-15"},
        {"amount": 300.0, "date": "2025-07-01"},
        {"amount": 450.0, "date": "2026-02-28"},
        {"amount": 420.0, "date": "2026-12-31"},
    ]
    body = {
        "cashflows": flows,
        "settlement_date": "2025-01-15",
        "day_count": "ACT/365F",
        "frequency": 1,
        "discount_rate": 0.06,
        "compounding": "compounded",
    }
    resp = await _post(client, auth, body)
    assert resp.status_code == 200, resp.text
    out = resp.json()
    dates = [str(f["date"]) for f in flows]
    amounts = [float(f["amount"]) for f in flows]  # type: ignore[arg-type]
    assert out["xirr"] == pytest.approx(pyxirr.xirr(dates, amounts), rel=1e-8)
    # annual frequency on ACT/365F times: irr is the same equation as XIRR
    assert out["irr"] == pytest.approx(out["xirr"], rel=1e-10)
    days = np.array([0, 167, 409, 715])
    assert out["npv"] == pytest.approx(float(np.dot(amounts, 1.06 ** (-days / 365))), rel=1e-12)
    assert out["yield"] is None and out["z_spread"] is None


async def test_dated_curve_nodes_and_price_give_xirr_of_purchase(client, auth) -> None:
    flows = [{"amount": 50.0, "date": "2026-01-10"}, {"amount": 60.0, "date": "2027-01-10"}]
    body = {
        "cashflows": flows,
        "settlement_date": "2025-01-10",
        "price": 100.0,
        "curve": {
            "nodes": [{"date": "2026-01-10", "rate": 0.03}, {"date": "2028-01-10", "rate": 0.035}],
            "interpolation": "log_linear_discount",
        },
    }
    out = (await _post(client, auth, body)).json()
    ref = pyxirr.xirr(["2025-01-10", "2026-01-10", "2027-01-10"], [-100.0, 50.0, 60.0])
    assert out["xirr"] == pytest.approx(ref, rel=1e-8)
    assert out["z_spread"] is not None and out["effective_duration"] is not None


@pytest.mark.parametrize(
    "body, loc",
    [
        ({"cashflows": []}, ["body", "cashflows"]),
        ({"cashflows": [{"amount": "NaN", "period": 1}]}, ["body", "cashflows", 0, "amount"]),
        ({"cashflows": [{"amount": 1.0}]}, ["body", "cashflows", 0]),
        (
            {"cashflows": [{"amount": 1.0, "period": 1, "date": "2025-01-01"}]},
            ["body", "cashflows", 0],
        ),
        (
            {"cashflows": [{"amount": 1.0, "period": 1}, {"amount": 1.0, "date": "2025-01-01"}]},
            ["body"],
        ),
        ({"cashflows": [{"amount": 1.0, "date": "2025-01-01"}]}, ["body", "settlement_date"]),
        (
            {"cashflows": [{"amount": 1.0, "date": "2024-01-01"}], "settlement_date": "2025-01-01"},
            ["body", "cashflows", 0, "date"],
        ),
        ({"cashflows": [{"amount": 1.0, "period": 1}], "frequency": 3}, ["body", "frequency"]),
        (
            {"cashflows": [{"amount": 1.0, "period": 1}], "day_count": "ACT/364"},
            ["body", "day_count"],
        ),
        ({"cashflows": [{"amount": 1.0, "period": 1}], "price": -1}, ["body", "price"]),
        (
            {
                "cashflows": [{"amount": 1.0, "period": 1}],
                "curve": {
                    "nodes": [{"tenor_years": 1, "rate": 0.02}, {"tenor_years": 1, "rate": 0.03}]
                },
            },
            ["body", "curve", "nodes"],
        ),
        (
            {
                "cashflows": [{"amount": 1.0, "period": 1}],
                "curve": {"nodes": [{"date": "2026-01-01", "rate": 0.02}]},
            },
            ["body", "curve", "nodes", 0, "date"],
        ),
        ({"cashflows": [{"amount": 1.0, "period": 1}], "bump": 0}, ["body", "bump"]),
        ({"cashflows": [{"amount": 0.0, "period": 1}]}, ["body", "cashflows"]),
    ],
)
async def test_bad_input_is_422_naming_the_field(client, auth, body, loc) -> None:
    resp = await _post(client, auth, body)
    assert resp.status_code == 422, resp.text
    out = resp.json()
    assert out["error"] == "invalid_input"
    locs = [d["loc"][: len(loc)] for d in out["detail"]]
    assert loc in locs, out["detail"]


async def test_unreachable_price_is_a_warning_not_a_422(client, auth) -> None:
    """Issue 12: a measure that cannot be computed is null with a reason; the request stands."""
    body = {
        "cashflows": [{"amount": -1.0, "period": 1}, {"amount": -2.0, "period": 2}],
        "price": 5.0,
        "discount_rate": 0.05,
    }
    resp = await _post(client, auth, body)
    assert resp.status_code == 200, resp.text
    out = resp.json()
    m = 1 + 0.05 / 12  # monthly compounding, t = period / 12
    assert out["npv"] == pytest.approx(-1 / m - 2 / m**2, rel=1e-12)
    assert out["yield"] is None
    assert "yield" in {w["field"] for w in out["warnings"]}


async def test_measures_that_do_not_apply_are_null_not_nan(client, auth) -> None:
    resp = await _post(client, auth, {"cashflows": [{"amount": 5.0, "period": 1}]})
    assert resp.status_code == 200
    out = resp.json()
    assert all(out[k] is None for k in KEYS)
    assert "NaN" not in resp.text and "Infinity" not in resp.text


async def test_requires_a_token(client) -> None:
    resp = await client.post(URL, json=_bond(price=99.0))
    assert resp.status_code == 401


async def test_openapi_documents_the_route(client) -> None:
    spec = (await client.get("/openapi.json")).json()
    op = spec["paths"][URL]["post"]
    assert op["summary"] and op["description"] and "422" in op["responses"]
    schemas = spec["components"]["schemas"]
    assert schemas["CashflowAnalyticsRequest"].get("examples")
    assert schemas["CashflowAnalyticsResponse"].get("examples")
    assert "yield" in schemas["CashflowAnalyticsResponse"]["properties"]
