"""CLO/CDO routes end to end: analyze (collateral alone; with a deal, reinvestment and a
call; with a copula simulation), tranche analysis, bad input; the job kind's chunks merge to
the whole run."""

from __future__ import annotations

import json

import numpy as np
import pytest

from app.assets.clo.example import example_request
from app.core.config import get_settings
from app.models.clo import CloAnalyzeRequest
from app.services import clo, clo_simulation

ANALYZE = "/api/v1/specialized-assets/clo-cdo/analyze"
TRANCHES = "/api/v1/specialized-assets/clo-cdo/tranche-analysis"


async def _post(client, auth, url, body):
    return await client.post(
        url, content=json.dumps(body), headers={**auth("clo"), "content-type": "application/json"}
    )


async def test_collateral_alone(client, auth) -> None:
    body = example_request(n_assets=20)
    body.pop("deal")
    body.pop("reinvestment")
    resp = await _post(client, auth, ANALYZE, body)
    assert resp.status_code == 200, resp.text
    out = resp.json()
    assert set(out["quality_tests"]) == {
        "warf",
        "was",
        "wac",
        "wal",
        "diversity_score",
        "caa_share",
    }
    for v in out["quality_tests"].values():
        assert set(v) == {"value", "trigger", "passed"}
    assert out["deal"] is None
    assert out["quality_tests"]["wac"]["value"] is None  # no fixed-rate assets


async def test_deal_with_reinvestment_and_call(client, auth) -> None:
    body = example_request(
        n_assets=40, n_periods=120, call={"non_call_period": 24, "call_period": 60}
    )
    resp = await _post(client, auth, ANALYZE, body)
    assert resp.status_code == 200, resp.text
    deal = resp.json()["deal"]
    assert deal["n_periods"] == 60
    assert deal["checks"]["cash_in_equals_cash_out"] is True
    reinv = np.array(deal["collateral"]["reinvested"])
    assert reinv[:48].sum() > 0 and reinv[48:].sum() == 0  # buys only in the reinvestment period
    assert deal["tranches"]["A1"]["balance"][-1] == pytest.approx(0.0, abs=1e-6)  # called: repaid
    par_bought = np.array(deal["collateral"]["reinvested_par"])
    np.testing.assert_allclose(par_bought, reinv / 0.995, rtol=1e-12)


async def test_ineligible_reinvestment_buys_nothing(client, auth) -> None:
    body = example_request(n_assets=20)
    body["reinvestment"]["spread"] = 0.02  # below the 3% minimum
    out = (await _post(client, auth, ANALYZE, body)).json()
    assert sum(out["deal"]["collateral"]["reinvested"]) == 0
    assert any("not eligible" in w for w in out["warnings"])


async def test_simulation_in_analyze(client, auth) -> None:
    body = example_request(
        n_assets=30,
        n_periods=60,
        simulation={"n_paths": 300, "seed": 4, "correlation": 0.3, "block_size": 100},
    )
    resp = await _post(client, auth, ANALYZE, body)
    assert resp.status_code == 200, resp.text
    sim = resp.json()["simulation"]
    a1, f = sim["tranches"]["A1"], sim["tranches"]["F"]
    assert a1["attachment"] == pytest.approx(0.5) and a1["detachment"] == pytest.approx(1.0)
    assert 0 <= a1["expected_loss"] <= f["expected_loss"]
    assert sim["tranches"]["EQ"]["irr"]["n"] > 0


def test_job_chunks_merge_to_the_whole_run() -> None:
    settings = get_settings()
    body = example_request(
        n_assets=25,
        n_periods=48,
        simulation={
            "n_paths": 250,
            "seed": 8,
            "correlation": 0.2,
            "block_size": 40,
            "recovery_std": 0.1,
        },
    )
    req = CloAnalyzeRequest.model_validate(body)
    whole = clo_simulation.simulate(clo.build_setup(req, settings), req, settings)
    whole.pop("warnings")
    for n_chunks in (1, 3, 7):
        payload = {**body, "n_chunks": n_chunks}
        plan = clo_simulation.mc_plan(payload, settings)
        assert len(plan) == n_chunks and sum(plan) == 250
        blobs = [
            clo_simulation.mc_compute_chunk(payload, i, n_chunks, lambda d, t: None)
            for i in range(n_chunks)
        ]
        merged = clo_simulation.mc_merge(payload, blobs)
        merged.pop("warnings")
        assert merged == whole, n_chunks


@pytest.mark.parametrize(
    ("mutate", "loc"),
    [
        (
            lambda b: b["deal"]["waterfall"][3].update(tranches=["A1", "ZZ"]),
            ["body", "deal", "waterfall", 3, "tranches", 1],
        ),
        (lambda b: b["assets"][2].update(rating="BBB"), ["body", "assets", 2, "rating"]),
        (lambda b: b["assets"][1].update(index="EURIBOR"), ["body", "assets", 1, "index"]),
        (
            lambda b: b.update(call={"non_call_period": 24, "call_period": 12}),
            ["body", "call", "call_period"],
        ),
        (
            lambda b: b["reinvestment"].update(end_period=120, maturity_period=100),
            ["body", "reinvestment", "end_period"],
        ),
        (
            lambda b: b.update(simulation={"n_paths": 10, "recovery_std": 0.6}),
            ["body", "simulation", "recovery_std"],
        ),
    ],
)
async def test_bad_input_is_422_with_path(client, auth, mutate, loc) -> None:
    body = example_request(n_assets=10)
    mutate(body)
    resp = await _post(client, auth, ANALYZE, body)
    assert resp.status_code == 422, resp.text
    assert resp.json()["detail"][0]["loc"][: len(loc)] == loc, resp.json()


async def test_tranche_analysis(client, auth) -> None:
    body = example_request(n_assets=40, n_periods=96)
    body["assumptions"]["cdr"] = 0.0
    body["deal"]["tranches"][0]["coupon"] = {"type": "fixed", "rate": 0.06}
    body["deal"]["tranches"][0]["day_count"] = "30/360"
    body["prices"] = {"A1": 1.0, "A2": 1.0}
    resp = await _post(client, auth, TRANCHES, body)
    assert resp.status_code == 200, resp.text
    out = resp.json()
    a1, a2 = out["tranches"]["A1"], out["tranches"]["A2"]
    # a fixed 6% 30/360 note bought at par and repaid in full yields 6% monthly compounded
    assert a1["yield"] == pytest.approx(0.06, abs=1e-10)
    assert a1["discount_margin"] is None
    # a floater bought at par and repaid in full: its discount margin is its quoted margin
    assert a2["discount_margin"] == pytest.approx(0.017, abs=1e-9)
    assert a1["wal"] > 0 and a1["modified_duration"] > 0
    be = [out["tranches"][n]["breakeven_cdr"] for n in ("A1", "B", "D1", "F")]
    assert all(x is not None for x in be[1:])
    finite = [x for x in be if x is not None]
    assert finite == sorted(finite, reverse=True)  # juniors break first
    assert set(out["cushions"]) == {t["name"] for t in body["deal"]["tests"]}


def test_breakeven_cdr_is_where_the_first_dollar_is_lost() -> None:
    from app.models.clo import CloTrancheAnalysisRequest
    from app.services import clo_tranches

    settings = get_settings()
    req = CloTrancheAnalysisRequest.model_validate(example_request(n_assets=30, n_periods=72))
    out = clo_tranches.tranche_analysis(req, settings)
    setup = clo.build_setup(req, settings, need_deal=True)
    assert setup.deal is not None  # need_deal=True parses the deal
    j = setup.deal.tranche_index("D1")
    c = out["tranches"]["D1"]["breakeven_cdr"]
    assert 0 < c < 1
    below = clo_tranches.tranche_losses(clo.run_at(setup, req, c * (1 - 1e-6)))[j]
    above = clo_tranches.tranche_losses(clo.run_at(setup, req, c * (1 + 1e-6)))[j]
    assert below <= 1.0 + 1e-6 and above >= 1.0 - 1e-6
    assert clo_tranches.tranche_losses(clo.run_at(setup, req, c * 0.9))[j] <= 1.0
    assert clo_tranches.tranche_losses(clo.run_at(setup, req, min(c * 1.2, 0.99)))[j] > 1.0
