"""POST /api/v1/cashflow/monte-carlo through the ASGI app: numbers equal the engine's, seeded
runs repeat exactly, OAS equals the Z-spread for fixed cash flows at zero volatility, and bad
input is a 422 naming the field."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import brentq

from app.engine.analytics.curves import ZeroCurve
from app.engine.montecarlo import deterministic_cashflows, run_monte_carlo
from app.main import create_app
from app.services.montecarlo import build_request, result_json
from tests.conftest import make_settings, running_client

URL = "/api/v1/cashflow/monte-carlo"
CURVE = {"times": [0.25, 1, 2, 5, 10, 30], "rates": [0.045, 0.044, 0.043, 0.043, 0.044, 0.046]}


def body(**extra) -> dict:
    b = {
        "pool": {
            "balance": [600_000.0, 400_000.0],
            "note_rate": [0.065, 0.05],
            "net_rate": [0.06, 0.045],
            "remaining_term": [120, 96],
            "age": [12, 40],
        },
        "curve": CURVE,
        "rate_model": {"type": "hull_white", "mean_reversion": 0.05, "volatility": 0.012},
        "default": {"cdr": 0.02, "severity": 0.4, "recovery_lag_months": 3},
        "n_paths": 200,
        "block_size": 50,
        "seed": 11,
        "price": 1_005_000.0,
    }
    b.update(extra)
    return b


async def test_run_equals_engine_and_repeats(client, auth) -> None:
    resp = await client.post(URL, json=body(), headers=auth("mc-user"))
    assert resp.status_code == 200, resp.text
    out = resp.json()
    assert out["n_paths"] == 200 and out["n_months"] == 120
    assert set(out["pv"]["percentiles"]) == {"5", "50", "95"}
    assert sum(out["pv"]["histogram"]["counts"]) == 200
    req = build_request(body())
    want = result_json(req, run_monte_carlo(req))
    assert out == want  # float64 survives JSON exactly
    again = (await client.post(URL, json=body(), headers=auth("mc-user"))).json()
    assert again == out
    assert math.isfinite(out["oas"]) and out["option_cost"] == pytest.approx(
        out["z_spread"] - out["oas"]
    )
    assert out["effective_duration"] > 0


async def test_fixed_cashflows_zero_vol_oas_is_z_spread(client, auth) -> None:
    b = body(
        rate_model={"type": "hull_white", "mean_reversion": 0.05, "volatility": 0.0},
        prepayment_model={"turnover_cpr": 0.08, "refi_cpr_max": 0.0},
        default={},
    )
    out = (await client.post(URL, json=b, headers=auth("mc-user"))).json()
    req = build_request(b)
    cf = deterministic_cashflows(req)
    t = np.arange(1, cf.size + 1) / 12
    df = ZeroCurve(CURVE["times"], CURVE["rates"]).discount(t)
    z = brentq(lambda s: float(cf @ (df * np.exp(-s * t))) - 1_005_000.0, -0.5, 0.5, xtol=1e-15)
    assert out["z_spread"] == pytest.approx(z, abs=1e-12)
    assert abs(out["oas"] - z) < 1e-8


@pytest.mark.parametrize("model", [{"type": "vasicek", "long_term_rate": 0.05}, {"type": "cir"}])
async def test_other_rate_models(client, auth, model) -> None:
    resp = await client.post(URL, json=body(rate_model=model), headers=auth("mc-user"))
    assert resp.status_code == 200, resp.text
    assert resp.json()["oas"] is not None


async def test_invalid_inputs_name_the_field(client, auth) -> None:
    bad_pool = body()
    bad_pool["pool"]["balance"] = [600_000.0, -5.0]
    resp = await client.post(URL, json=bad_pool, headers=auth("u"))
    assert resp.status_code == 422
    assert resp.json()["detail"][0]["loc"] == ["body", "pool", "balance", 1]

    resp = await client.post(URL, json=body(percentiles=[5, 150]), headers=auth("u"))
    assert resp.status_code == 422
    assert "percentiles" in str(resp.json()["detail"])

    resp = await client.post(URL, json=body(antithetic=True, n_paths=201), headers=auth("u"))
    assert resp.status_code == 422
    assert resp.json()["detail"][0]["loc"] == ["body", "n_paths"]

    resp = await client.post(URL, json=body(default={"cdr": [0.01, 2.0]}), headers=auth("u"))
    assert resp.status_code == 422
    assert resp.json()["detail"][0]["loc"][:3] == ["body", "default", "cdr"]

    resp = await client.post(URL, json=body(price=1e12), headers=auth("u"))
    assert resp.status_code == 422
    assert resp.json()["detail"][0]["loc"] == ["body", "price"]


async def test_requires_a_token(client) -> None:
    assert (await client.post(URL, json=body())).status_code == 401


async def test_large_runs_become_jobs(tmp_path, auth) -> None:
    app = create_app(make_settings(tmp_path, monte_carlo_sync_max_cells=10_000))
    async with running_client(app) as c:
        resp = await c.post(URL, json=body(), headers=auth("u"))
        assert resp.status_code == 202, resp.text
        job = await c.get(f"/api/v1/jobs/{resp.json()['job_id']}", headers=auth("u"))
    assert job.status_code == 200 and job.json()["kind"] == "monte_carlo"
