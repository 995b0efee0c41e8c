"""Grid, stress and break-even routes, checked against forecasts posted to /cashflow/forecast
and hand formulas (discounting at (1 + y/12)^-k, WAL, modified duration)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from tests.conftest import unique_user
from tests.factories import LOAN_A1, LOAN_A2, LOAN_A3
from tests.factories import bearer as H

S = "/api/v1/scenarios/"
FORECAST = "/api/v1/cashflow/forecast"


LOANS = [LOAN_A1, LOAN_A2, {**LOAN_A3, "age_months": 6}]
BALANCE = 530000.0
BASE = {
    "prepayment": {"type": "psa", "speed": 150},
    "default": {"type": "cdr", "rate": 0.01},
    "severity": 0.4,
    "recovery_lag_months": 6,
}


async def _forecast(client, user: str, assumptions: dict) -> dict[str, np.ndarray]:
    r = await client.post(
        FORECAST,
        json={"name": "check", "pool": {"loans": LOANS}, "assumptions": assumptions},
        headers=H(user),
    )
    assert r.status_code == 201, r.text
    return {k: np.asarray(v, dtype=float) for k, v in r.json()["scenarios"][0]["cashflows"].items()}


def _npv(cf: np.ndarray, y: float) -> float:
    k = np.arange(1, cf.size + 1)
    return float(np.sum(cf * (1 + y / 12) ** -k))


async def test_grid_cell_equals_the_single_forecast(client) -> None:
    user = unique_user()
    body: dict[str, Any] = {
        "pool": {"loans": LOANS},
        "assumptions": BASE,
        "x": {"variable": "cpr", "values": [0.0, 0.1, 0.25]},
        "y": {"variable": "cdr", "values": [0.0, 0.02, 0.05]},
        "measures": ["npv", "wal", "cumulative_loss", "modified_duration", "yield"],
        "valuation": {"discount_rate": 0.06, "price_percent": 100},
    }
    r = await client.post(f"{S}grid", json=body, headers=H(user))
    assert r.status_code == 200, r.text
    g = r.json()
    assert len(g["measures"]["npv"]) == 3 and len(g["measures"]["npv"][0]) == 3
    for i, j in [(0, 0), (1, 2), (2, 1)]:
        cell = {
            **BASE,
            "prepayment": {"type": "cpr", "rate": body["x"]["values"][i]},
            "default": {"type": "cdr", "rate": body["y"]["values"][j]},
        }
        cols = await _forecast(client, user, cell)
        cf = cols["total_cashflow"]
        assert g["measures"]["npv"][i][j] == pytest.approx(_npv(cf, 0.06), rel=1e-9)
        pr = (
            cols["scheduled_principal"]
            + cols["prepayment"]
            + cols["defaulted_amortization"]
            + cols["recovery"]
        )
        t = cols["period"] / 12
        assert g["measures"]["wal"][i][j] == pytest.approx(
            float(np.sum(t * pr) / pr.sum()), rel=1e-9
        )
        assert g["measures"]["cumulative_loss"][i][j] == pytest.approx(
            float(cols["loss"].sum()), rel=1e-9, abs=1e-6
        )
        pv = cf * (1 + 0.06 / 12) ** -(cols["period"])
        mod = float(np.sum(t * pv) / pv.sum() / (1 + 0.06 / 12))
        assert g["measures"]["modified_duration"][i][j] == pytest.approx(mod, rel=1e-9)
        # the yield at par: the flows discounted at it give back the starting balance
        y = g["measures"]["yield"][i][j]
        assert _npv(cf, y) == pytest.approx(BALANCE, rel=1e-9)


async def test_grid_validation(client) -> None:
    user = unique_user()
    base = {"pool": {"loans": LOANS}, "assumptions": BASE, "measures": ["wal"]}
    r = await client.post(
        f"{S}grid", json={**base, "x": {"variable": "warp", "values": [1]}}, headers=H(user)
    )
    assert r.status_code == 422 and r.json()["detail"][0]["loc"][:3] == ["body", "x", "variable"]
    r = await client.post(
        f"{S}grid", json={**base, "x": {"variable": "cpr", "values": [-0.1]}}, headers=H(user)
    )
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "x", "values"]
    r = await client.post(
        f"{S}grid",
        json={**base, "x": {"variable": "cpr", "values": [0.1]}, "measures": ["npv"]},
        headers=H(user),
    )
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "valuation"]
    r = await client.post(
        f"{S}grid",
        json={
            **base,
            "x": {"variable": "cpr", "values": [0.1]},
            "assumptions": {**BASE, "severity": 2},
        },
        headers=H(user),
    )
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == [
        "body",
        "assumptions",
        "severity",
    ]
    other = await client.post(
        f"{S}grid",
        json={
            **base,
            "assumptions": None,
            "scenario_id": "nope",
            "x": {"variable": "cpr", "values": [0.1]},
        },
        headers=H(user),
    )
    assert other.status_code == 404


async def test_stress_100bp_effective_duration_is_the_modified_duration(client) -> None:
    user = unique_user()
    # no prepayment or default: a fixed level-pay cash flow
    loans = [{"balance": 1_000_000, "rate": 0.06, "original_term_months": 120}]
    y = 0.05
    body = {
        "pool": {"loans": loans},
        "assumptions": {},
        "standard": True,
        "measures": ["npv", "modified_duration", "wal", "cumulative_loss"],
        "valuation": {"discount_rate": y},
    }
    r = await client.post(f"{S}stress", json=body, headers=H(user))
    assert r.status_code == 200, r.text
    out = r.json()
    rows = {s["name"]: s for s in out["shocks"]}
    p0 = out["base"]["measures"]["npv"]
    eff = (rows["-100bp"]["measures"]["npv"] - rows["+100bp"]["measures"]["npv"]) / (2 * p0 * 0.01)
    k = np.arange(1, 121)
    pmt = 1_000_000 * 0.005 / (1 - 1.005**-120)
    pv = pmt * (1 + y / 12) ** -k
    mod = float(np.sum(k / 12 * pv) / pv.sum() / (1 + y / 12))
    assert p0 == pytest.approx(pv.sum(), rel=1e-10)
    assert out["base"]["measures"]["modified_duration"] == pytest.approx(mod, rel=1e-10)
    assert eff == pytest.approx(mod, rel=2e-3)  # central difference at ±100 bp: O(h²) apart
    assert rows["+100bp"]["deltas"]["npv"] == pytest.approx(
        rows["+100bp"]["measures"]["npv"] - p0, rel=1e-12
    )
    assert rows["+100bp"]["deltas"]["wal"] == 0.0
    for name in ("+200bp", "-300bp", "steepener", "flattener", "defaults x2", "severity +10pts"):
        assert name in rows


async def test_stress_credit_shocks_and_custom(client) -> None:
    user = unique_user()
    body = {
        "pool": {"loans": LOANS},
        "assumptions": BASE,
        "standard": False,
        "shocks": [
            {"name": "defaults x3", "default_multiplier": 3},
            {
                "name": "combo",
                "rate": {"parallel_bp": 100},
                "default_multiplier": 2,
                "severity_addon": 0.1,
            },
        ],
        "measures": ["cumulative_loss", "npv"],
        "valuation": {"discount_rate": 0.06},
        "include_cashflows": True,
    }
    r = await client.post(f"{S}stress", json=body, headers=H(user))
    assert r.status_code == 200, r.text
    rows = {s["name"]: s for s in r.json()["shocks"]}
    cols = await _forecast(client, user, {**BASE, "default": {"type": "cdr", "rate": 0.03}})
    assert rows["defaults x3"]["measures"]["cumulative_loss"] == pytest.approx(
        float(cols["loss"].sum()), rel=1e-9
    )
    assert rows["defaults x3"]["cashflows"]["loss"] == pytest.approx(
        cols["loss"].tolist(), rel=1e-9, abs=1e-9
    )
    combo = await _forecast(
        client, user, {**BASE, "default": {"type": "cdr", "rate": 0.02}, "severity": 0.5}
    )
    assert rows["combo"]["measures"]["npv"] == pytest.approx(
        _npv(combo["total_cashflow"], 0.07), rel=1e-9
    )
    bad = await client.post(
        f"{S}stress",
        json={**body, "shocks": [{"name": "too much", "severity_addon": 0.7}]},
        headers=H(user),
    )
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "severity_addon"]


async def test_breakeven_cdr_fed_back_reproduces_the_threshold(client) -> None:
    user = unique_user()
    target = 0.03
    r = await client.post(
        f"{S}breakeven",
        json={
            "pool": {"loans": LOANS},
            "assumptions": BASE,
            "variable": "cdr",
            "measure": "cumulative_loss_fraction",
            "target": target,
        },
        headers=H(user),
    )
    assert r.status_code == 200, r.text
    be = r.json()
    assert be["iterations"] > 0 and be["evaluations"] >= be["iterations"]
    cols = await _forecast(client, user, {**BASE, "default": {"type": "cdr", "rate": be["value"]}})
    assert float(cols["loss"].sum()) / BALANCE == pytest.approx(target, rel=1e-6)

    # from a stored scenario: SDA speed at which the yield at par falls to zero
    sid = (await client.post(S, json={"name": "b", "assumptions": BASE}, headers=H(user))).json()[
        "scenario_id"
    ]
    r = await client.post(
        f"{S}breakeven",
        json={
            "pool": {"loans": LOANS},
            "scenario_id": sid,
            "variable": "sda",
            "measure": "yield",
            "target": 0.0,
            "valuation": {"price_percent": 100},
        },
        headers=H(user),
    )
    assert r.status_code == 200, r.text
    sda = r.json()["value"]
    cols = await _forecast(client, user, {**BASE, "default": {"type": "sda", "speed": sda}})
    assert float(cols["total_cashflow"].sum()) == pytest.approx(BALANCE, rel=1e-6)

    never = await client.post(
        f"{S}breakeven",
        json={
            "pool": {"loans": LOANS},
            "assumptions": BASE,
            "variable": "cdr",
            "measure": "cumulative_loss_fraction",
            "target": 0.9,
        },
        headers=H(user),
    )
    assert never.status_code == 422 and never.json()["detail"][0]["loc"] == ["body", "target"]


async def test_uploaded_pool_by_id_for_runs_and_grids(client) -> None:
    user = unique_user()
    csv = "loan_id,balance,rate,original_term_months,age_months\n" + "\n".join(
        f"{loan['loan_id']},{loan['balance']},{loan['rate']},{loan['original_term_months']},"
        f"{loan.get('age_months', 0)}"
        for loan in LOANS
    )
    up = await client.post(
        "/api/v1/pools", files={"file": ("tape.csv", csv.encode(), "text/csv")}, headers=H(user)
    )
    assert up.status_code == 201, up.text
    pool_id = up.json()["pool_id"]
    grid = await client.post(
        f"{S}grid",
        json={
            "pool": {"pool_id": pool_id},
            "assumptions": BASE,
            "x": {"variable": "severity", "values": [0.2, 0.6]},
            "measures": ["cumulative_loss"],
        },
        headers=H(user),
    )
    assert grid.status_code == 200, grid.text
    inline = await client.post(
        f"{S}grid",
        json={
            "pool": {"loans": LOANS},
            "assumptions": BASE,
            "x": {"variable": "severity", "values": [0.2, 0.6]},
            "measures": ["cumulative_loss"],
        },
        headers=H(user),
    )
    loss = grid.json()["measures"]["cumulative_loss"]
    assert [r[0] for r in loss] == pytest.approx(
        [r[0] for r in inline.json()["measures"]["cumulative_loss"]], rel=1e-12
    )
    assert loss[1][0] > loss[0][0] > 0
    sid = (await client.post(S, json={"name": "s", "assumptions": BASE}, headers=H(user))).json()[
        "scenario_id"
    ]
    run = await client.post(f"{S}{sid}/run", json={"pool": {"pool_id": pool_id}}, headers=H(user))
    assert run.status_code == 201 and run.json()["pool_id"] == pool_id
    other = await client.post(
        f"{S}{sid}/run", json={"pool": {"pool_id": pool_id}}, headers=H(unique_user())
    )
    assert other.status_code == 404
    stranger = await client.post(
        f"{S}grid",
        json={
            "pool": {"pool_id": pool_id},
            "x": {"variable": "cpr", "values": [0.1]},
            "measures": ["wal"],
        },
        headers=H(unique_user()),
    )
    assert stranger.status_code == 404


async def test_grid_from_a_scenario_follows_its_updates(client) -> None:
    user = unique_user()
    created = await client.post(S, json={"name": "s", "assumptions": BASE}, headers=H(user))
    sid = created.json()["scenario_id"]
    body = {
        "pool": {"loans": LOANS},
        "scenario_id": sid,
        "x": {"variable": "cpr", "values": [0.05]},
        "measures": ["cumulative_loss"],
    }
    first = (await client.post(f"{S}grid", json=body, headers=H(user))).json()
    put = await client.put(
        f"{S}{sid}",
        json={"name": "s", "version": 1, "assumptions": {**BASE, "severity": 0.8}},
        headers=H(user),
    )
    assert put.status_code == 200
    second = (await client.post(f"{S}grid", json=body, headers=H(user))).json()
    # same request body, new scenario version: not served from the cache
    ratio = second["measures"]["cumulative_loss"][0][0] / first["measures"]["cumulative_loss"][0][0]
    assert ratio > 1.5
