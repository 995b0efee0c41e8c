"""Commercial-loans routes through the ASGI app: the property-type table, an analysis whose
numbers are hand-computed, a pool uploaded as a tape, every bad input a 422 naming field, loan
and reason, and a large copula run as a job whose merged result equals the direct run."""

from __future__ import annotations

import asyncio
import math

import numpy_financial as npf
import pytest

from app.main import create_app
from tests.conftest import make_settings, running_client, sign_token, unique_user

BASE = "/api/v1/specialized-assets/commercial-loans"


def H(sub: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {sign_token(sub)}"}


def loans() -> list[dict]:
    return [
        {
            "loan_id": "A",
            "balance": 10_000_000.0,
            "rate": 0.06,
            "original_term_months": 120,
            "amortization": "balloon",
            "amortization_term_months": 360,
            "property_type": "office",
            "noi": 1_100_000.0,
            "property_value": 16_000_000.0,
            "state": "NY",
            "msa": "NYC",
            "sponsor": "S1",
        },
        {
            "loan_id": "B",
            "balance": 6_000_000.0,
            "rate": 0.055,
            "original_term_months": 120,
            "amortization": "interest_only",
            "io_months": 36,
            "property_type": "multifamily",
            "noi": 520_000.0,
            "cap_rate": 0.055,
            "state": "TX",
            "sponsor": "S2",
        },
        {
            "loan_id": "C",
            "balance": 4_000_000.0,
            "rate": 0.065,
            "original_term_months": 60,
            "amortization": "bullet",
            "property_type": "hotel",
            "noi": 420_000.0,
            "property_value": 5_000_000.0,
            "state": "NY",
            "sponsor": "S1",
            "pd_annual": 0.04,
        },
    ]


def body(**extra) -> dict:
    b = {
        "pool": {"loans": loans()},
        "noi_growth": 0.02,
        "stress": {
            "noi_haircuts": [0.0, 0.2],
            "cap_rate_shifts": [0.0, 0.01],
            "scenarios": [{"name": "severe", "noi_haircut": 0.3, "cap_rate_shift": 0.015}],
        },
        "portfolio_loss": {"correlation": 0.15, "horizon_years": 1, "n_paths": 4000, "seed": 7},
    }
    b.update(extra)
    return b


async def test_property_types(client) -> None:
    resp = await client.get(f"{BASE}/property-types", headers=H("u"))
    assert resp.status_code == 200
    rows = resp.json()
    names = {r["property_type"] for r in rows}
    assert names >= {
        "office",
        "retail",
        "multifamily",
        "industrial",
        "hotel",
        "mixed_use",
        "self_storage",
        "healthcare",
    }
    for r in rows:
        assert set(r["default_assumptions"]) == {
            "cap_rate",
            "noi_volatility",
            "severity",
            "liquidation_months",
            "correlation",
        }
        assert r["source"]
    assert (await client.get(f"{BASE}/property-types")).status_code == 401


async def test_analyze_inline(client) -> None:
    resp = await client.post(f"{BASE}/analyze", json=body(), headers=H("u"))
    assert resp.status_code == 200, resp.text
    out = resp.json()
    assert set(out) >= {
        "loans",
        "stress",
        "maturity",
        "concentration",
        "portfolio_loss",
        "cashflows",
        "analytics",
    }
    by_id = {r["loan_id"]: r for r in out["loans"]}
    ds_a = -npf.pmt(0.06 / 12, 360, 10_000_000.0) * 12
    assert by_id["A"]["dscr"] == pytest.approx(1_100_000.0 / ds_a, rel=1e-12)
    assert by_id["A"]["ltv"] == pytest.approx(10 / 16, rel=1e-12)
    assert by_id["A"]["debt_yield"] == pytest.approx(0.11, rel=1e-12)
    assert by_id["B"]["debt_service_type"] == "interest_only"
    assert by_id["B"]["dscr"] == pytest.approx(520_000.0 / (6_000_000.0 * 0.055), rel=1e-12)
    assert by_id["B"]["ltv"] == pytest.approx(6_000_000.0 / (520_000.0 / 0.055), rel=1e-12)
    assert by_id["C"]["pd_annual"] == 0.04
    c = out["concentration"]
    assert c["hhi"] == pytest.approx(0.5**2 + 0.3**2 + 0.2**2)
    assert c["effective_number"] == pytest.approx(1 / 0.38)
    assert c["top10_share"] == pytest.approx(1.0)
    assert [r["key"] for r in c["by_property_type"]] == ["office", "multifamily", "hotel"]
    assert {r["key"]: r["share"] for r in c["by_state"]} == pytest.approx({"NY": 0.7, "TX": 0.3})
    pl = out["portfolio_loss"]
    for block in (pl, pl["vasicek"]):
        assert set(block) >= {"expected_loss", "percentiles", "var_99", "es_99", "histogram"}
        assert set(block["percentiles"]) == {"p50", "p95", "p99", "p99_9"}
    assert sum(pl["histogram"]["counts"]) == 4000
    assert len(out["stress"]["cells"]) == 4 and out["stress"]["scenarios"][0]["name"] == "severe"
    cols = out["cashflows"]["columns"]
    assert len(cols["period"]) == out["cashflows"]["n_periods"]
    # every dollar of balance comes back as principal or is lost
    principal = sum(
        sum(cols[k])
        for k in ("scheduled_principal", "prepayment", "defaulted_amortization", "recovery")
    )
    assert principal + sum(cols["loss"]) == pytest.approx(20_000_000.0, rel=1e-9)
    assert out["analytics"]["total_loss"] == pytest.approx(
        sum(r["expected_loss"] for r in out["loans"]), rel=1e-9
    )
    assert "NaN" not in resp.text and "Infinity" not in resp.text
    again = (await client.post(f"{BASE}/analyze", json=body(), headers=H("u"))).json()
    assert again == out


def _bad(i: int, **fields) -> dict:
    rows = loans()
    rows[i].update(fields)
    return body(pool={"loans": rows})


@pytest.mark.parametrize(
    ("payload", "loc", "text"),
    [
        (_bad(1, noi=0.0), ["body", "pool", "loans", 1, "noi"], "loan B: noi must be > 0"),
        (_bad(1, noi=-10.0), ["body", "pool", "loans", 1, "noi"], "loan B: noi must be > 0"),
        (
            _bad(0, property_value=0.0),
            ["body", "pool", "loans", 0, "property_value"],
            "loan A: property_value must be > 0",
        ),
        (
            _bad(2, pd_annual=1.5),
            ["body", "pool", "loans", 2, "pd_annual"],
            "loan C: pd_annual must be a probability",
        ),
        (
            _bad(2, pd_annual=-0.1),
            ["body", "pool", "loans", 2, "pd_annual"],
            "loan C: pd_annual must be a probability",
        ),
        (
            _bad(0, correlation=1.0),
            ["body", "pool", "loans", 0, "correlation"],
            "loan A: correlation must satisfy",
        ),
        (_bad(0, property_type="castle"), ["body", "pool", "loans", 0, "property_type"], "office"),
        (
            body(portfolio_loss={"correlation": 1.0}),
            ["body", "portfolio_loss", "correlation"],
            "less than 1",
        ),
        (
            body(portfolio_loss={"correlation": -0.2}),
            ["body", "portfolio_loss", "correlation"],
            "greater than or equal to 0",
        ),
        (
            body(
                pool={
                    "columns": {
                        "loan_id": ["X"],
                        "balance": [1e6],
                        "rate": [0.05],
                        "original_term_months": [120],
                        "property_type": ["castle"],
                        "noi": [1e5],
                    }
                }
            ),
            ["body", "pool", "columns", "property_type", 0],
            "loan X: unknown property type 'castle'",
        ),
        (
            body(
                pool={
                    "columns": {
                        "loan_id": ["X"],
                        "balance": [1e6],
                        "rate": [0.05],
                        "original_term_months": [120],
                        "property_type": ["office"],
                        "noi": [0.0],
                    }
                }
            ),
            ["body", "pool", "columns", "noi", 0],
            "loan X: noi must be > 0",
        ),
    ],
)
async def test_bad_input_is_422_naming_field_loan_reason(client, payload, loc, text) -> None:
    resp = await client.post(f"{BASE}/analyze", json=payload, headers=H("u"))
    assert resp.status_code == 422, resp.text
    problems = resp.json()["detail"]
    hit = [p for p in problems if p["loc"] == loc]
    assert hit, problems
    assert text in hit[0]["msg"], hit[0]["msg"]


async def test_pool_id_tape_with_commercial_columns(client) -> None:
    user = unique_user()
    csv = (
        b"loan_id,balance,rate,original_term_months,amortization,amortization_term_months,property_type,noi,state,property_value\n"
        b"A,10000000,0.06,120,balloon,360,office,1100000,NY,16000000\n"
        b"B,6000000,0.055,120,level,,retail,520000,,\n"
    )
    up = await client.post(
        "/api/v1/pools", files={"file": ("t.csv", csv, "text/csv")}, headers=H(user)
    )
    assert up.status_code == 201, up.text
    b = body(pool={"pool_id": up.json()["pool_id"]}, portfolio_loss=None)
    resp = await client.post(f"{BASE}/analyze", json=b, headers=H(user))
    assert resp.status_code == 200, resp.text
    out = resp.json()
    assert out["loans"][0]["ltv"] == pytest.approx(10 / 16)
    assert out["loans"][1]["cap_rate"] == pytest.approx(0.075)  # retail default, no value given
    assert {r["key"] for r in out["concentration"]["by_state"]} == {"NY", "unknown"}
    assert out["portfolio_loss"] is None


async def test_large_copula_run_is_a_job_equal_to_the_direct_run(tmp_path) -> None:
    settings = make_settings(
        tmp_path,
        jobs_embedded_workers=1,
        rate_limit_enabled=False,
        commercial_sync_max_draws=1_000,
        jobs_mc_chunks=3,
    )
    app = create_app(settings)
    user = unique_user("cre")
    async with running_client(app) as c:
        resp = await c.post(f"{BASE}/analyze", json=body(), headers=H(user))
        assert resp.status_code == 202, resp.text
        job_id = resp.json()["job_id"]
        deadline = asyncio.get_running_loop().time() + 120
        while True:
            job = (await c.get(f"/api/v1/jobs/{job_id}", headers=H(user))).json()
            if job["state"] in ("succeeded", "failed", "cancelled"):
                break
            assert asyncio.get_running_loop().time() < deadline, job
            await asyncio.sleep(0.2)
        assert job["state"] == "succeeded", job
        assert job["kind"] == "commercial_portfolio_loss" and job["progress"] == {
            "done": 4000,
            "total": 4000,
        }
        result = (await c.get(f"/api/v1/jobs/{job_id}/result", headers=H(user))).json()
    direct_app = create_app(make_settings(tmp_path / "d", rate_limit_enabled=False))
    async with running_client(direct_app) as c:
        direct = (await c.post(f"{BASE}/analyze", json=body(), headers=H(user))).json()
    assert result == direct
    assert math.isfinite(result["portfolio_loss"]["es_99"])


async def test_named_stress_from_a_saved_scenario(client) -> None:
    user = unique_user()
    saved = await client.post(
        "/api/v1/scenarios/",
        json={"name": "rates +200", "rate_shocks": [{"parallel_bp": 150}, {"parallel_bp": 50}]},
        headers=H(user),
    )
    assert saved.status_code == 201, saved.text
    sid = saved.json()["scenario_id"]
    b = body(portfolio_loss=None)
    b["stress"]["scenarios"] = [
        {"scenario_id": sid, "noi_haircut": 0.1},
        {"name": "same, inline", "noi_haircut": 0.1, "refi_rate_shift": 0.02},
    ]
    resp = await client.post(f"{BASE}/analyze", json=b, headers=H(user))
    assert resp.status_code == 200, resp.text
    from_saved, inline = resp.json()["stress"]["scenarios"]
    assert from_saved["name"] == "rates +200" and from_saved["source"] == f"scenario:{sid}"
    assert from_saved["refi_rate"] == pytest.approx(0.07 + 0.02)
    assert {k: v for k, v in from_saved.items() if k not in ("name", "source")} == {
        k: v for k, v in inline.items() if k not in ("name", "source")
    }
    other = await client.post(f"{BASE}/analyze", json=b, headers=H(unique_user()))
    assert other.status_code == 422
    assert other.json()["detail"][0]["loc"] == ["body", "stress", "scenarios", 0, "scenario_id"]


async def test_io_balloon_is_flagged(client) -> None:
    rows = loans()
    rows[0]["io_months"] = 24  # a balloon with an IO period: not an engine type
    resp = await client.post(
        f"{BASE}/analyze", json=body(pool={"loans": rows}, portfolio_loss=None), headers=H("u")
    )
    assert resp.status_code == 200
    assert any("io_months" in w and "A" in w for w in resp.json()["warnings"])


async def test_floating_rate_loans_need_index_paths(client) -> None:
    rows = loans()
    rows[1].update(rate_type="floating", index_name="sofr", margin=0.025, reset_months=1)
    bad = await client.post(
        f"{BASE}/analyze", json=body(pool={"loans": rows}, portfolio_loss=None), headers=H("u")
    )
    assert bad.status_code == 422
    assert (
        bad.json()["detail"][0]["loc"] == ["body", "index_paths"]
        and "sofr" in bad.json()["detail"][0]["msg"]
    )
    ok = await client.post(
        f"{BASE}/analyze",
        json=body(pool={"loans": rows}, portfolio_loss=None, index_paths={"sofr": [0.05]}),
        headers=H("u"),
    )
    assert ok.status_code == 200, ok.text
    low = await client.post(
        f"{BASE}/analyze",
        json=body(pool={"loans": rows}, portfolio_loss=None, index_paths={"sofr": [0.01]}),
        headers=H("u"),
    )
    # a lower index path pays less interest on the floater
    assert low.json()["analytics"]["total_interest"] < ok.json()["analytics"]["total_interest"]


async def test_loan_paths_follow_the_schedule(client) -> None:
    resp = await client.post(
        f"{BASE}/analyze",
        json=body(portfolio_loss=None, loan_paths=True, noi_growth=0.0),
        headers=H("u"),
    )
    assert resp.status_code == 200, resp.text
    a, b, c = resp.json()["loans"]
    # loan A (balloon, 360-month schedule): balance after 12 payments, NOI flat
    pay = -npf.pmt(0.06 / 12, 360, 10_000_000.0)
    bal12 = -npf.fv(0.06 / 12, 12, -pay, 10_000_000.0)
    assert a["ltv_path"][1] == pytest.approx(bal12 / 16_000_000.0, rel=1e-12)
    assert a["dscr_path"][:2] == pytest.approx([1_100_000.0 / (12 * pay)] * 2, rel=1e-12)
    # loan B: IO for 36 months, then the 84-month level payment
    io_after = -npf.pmt(0.055 / 12, 84, 6_000_000.0) * 12
    assert b["dscr_path"][3] == pytest.approx(520_000.0 / io_after, rel=1e-12)
    assert len(c["dscr_path"]) == len(a["dscr_path"]) and c["dscr_path"][5] is None  # matured at 60


def test_job_chunks_merge_to_the_single_run() -> None:
    from app.models.commercial import CommercialAnalyzeIn
    from app.services import commercial
    from app.services.pools import pool_from_loans

    b = CommercialAnalyzeIn.model_validate(body())
    pool = pool_from_loans(
        [ln.model_dump(mode="json", exclude_none=True) for ln in b.pool.loans or []]
    )
    payload = commercial.job_payload(b, pool, [])
    blobs = {}
    for n_chunks in (1, 3, 7):
        seen: list[tuple[int, int]] = []
        blobs[n_chunks] = [
            commercial.job_compute_chunk(
                payload, k, n_chunks, lambda d, t, seen=seen: seen.append((d, t))
            )
            for k in range(n_chunks)
        ]
        assert sum(t for d, t in seen if d == t) == 4000  # every chunk reports its last path
    one = commercial.job_merge(payload, blobs[1])
    assert commercial.job_merge(payload, blobs[3]) == one == commercial.job_merge(payload, blobs[7])
    assert one["portfolio_loss"]["n_paths"] == 4000
