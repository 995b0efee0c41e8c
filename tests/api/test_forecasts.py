"""Forecasts API end to end through the ASGI app with real tokens, on SQLite and PostgreSQL.

Numbers are checked against closed forms written out here (level payment, SMM of a CPR), and a
forecast posted, listed, fetched and read back as JSON and as CSV gives identical numbers.
"""

from __future__ import annotations

import csv
import io

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from app.engine.types import CASHFLOW_COLUMNS
from app.main import create_app
from tests.conftest import make_settings, running_client, unique_user
from tests.factories import LOAN_A1, LOAN_A2, LOAN_A3
from tests.factories import bearer as H

FORECAST = "/api/v1/cashflow/forecast"


def body(name: str = "pool A", **extra) -> dict:
    b = {
        "name": name,
        "pool": {
            "loans": [
                LOAN_A1,
                {**LOAN_A2, "servicing_fee": 0.0025},
                {**LOAN_A3, "amortization": "interest_only", "io_months": 24},
            ]
        },
        "assumptions": {
            "prepayment": {"type": "psa", "speed": 150},
            "default": {"type": "cdr", "rate": 0.02},
            "severity": 0.35,
            "recovery_lag_months": 6,
            "advancing": True,
        },
        "scenarios": [
            {"name": "base", "assumptions": {}},
            {
                "name": "stress",
                "assumptions": {"default": {"type": "sda", "speed": 1000}, "severity": 0.5},
            },
        ],
    }
    b.update(extra)
    return b


@pytest.fixture
async def db_client(any_db_settings):
    async with running_client(create_app(any_db_settings)) as c:
        yield c


async def test_post_list_fetch_and_read_back_identical(db_client) -> None:
    user = unique_user()
    resp = await db_client.post(FORECAST, json=body(), headers=H(user))
    assert resp.status_code == 201, resp.text
    posted = resp.json()
    fid = posted["forecast_id"]
    assert resp.headers["Location"] == f"/api/v1/forecasts/{fid}"
    assert [s["name"] for s in posted["scenarios"]] == ["base", "stress"]
    for sc in posted["scenarios"]:
        assert list(sc["cashflows"]) == list(CASHFLOW_COLUMNS)
        assert sc["cashflows"]["period"] == list(range(1, sc["n_periods"] + 1))
        assert all(type(p) is int for p in sc["cashflows"]["period"])
    base, stress = posted["scenarios"]
    assert sum(stress["cashflows"]["loss"]) > sum(base["cashflows"]["loss"]) > 0

    listed = (await db_client.get("/api/v1/forecasts/", headers=H(user))).json()
    assert listed["total"] == 1 and listed["items"][0]["forecast_id"] == fid
    assert listed["items"][0]["status"] == "succeeded"

    detail = (await db_client.get(f"/api/v1/forecasts/{fid}", headers=H(user))).json()
    assert detail["n_loans"] == 3 and detail["n_scenarios"] == 2
    assert detail["inputs"]["pool"] == {"pool_id": posted["pool_id"]}
    assert detail["duration_ms"] > 0 and detail["finished_at"] >= detail["started_at"]
    assert [s["name"] for s in detail["scenarios"]] == ["base", "stress"]
    assert detail["scenarios"][1]["assumptions"]["default"] == {"type": "sda", "speed": 1000.0}
    assert [s["analytics"] for s in detail["scenarios"]] == [
        s["analytics"] for s in posted["scenarios"]
    ]

    proj = (await db_client.get(f"/api/v1/forecasts/{fid}/projections", headers=H(user))).json()
    assert proj["scenarios"] == posted["scenarios"]  # bit-identical floats through storage

    resp = await db_client.get(
        f"/api/v1/forecasts/{fid}/projections", headers={**H(user), "Accept": "text/csv"}
    )
    assert resp.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(resp.text)))
    for sc in posted["scenarios"]:
        mine = [r for r in rows if r["scenario"] == sc["name"]]
        assert len(mine) == sc["n_periods"]
        for col in CASHFLOW_COLUMNS:
            assert [float(r[col]) for r in mine] == [float(v) for v in sc["cashflows"][col]], col

    one = (
        await db_client.get(f"/api/v1/forecasts/{fid}/projections?scenario=stress", headers=H(user))
    ).json()
    assert one["scenarios"] == [stress]
    missing = await db_client.get(
        f"/api/v1/forecasts/{fid}/projections?scenario=nope", headers=H(user)
    )
    assert missing.status_code == 404


async def test_level_payment_matches_closed_form(client, auth) -> None:
    """One level-pay loan, no prepayment or default: every payment is B r / (1 - (1+r)^-n),
    the balance after k months B((1+r)^n - (1+r)^k)/((1+r)^n - 1) (monthly compounding of
    the annual coupon, payment at the end of each month)."""
    B, rate, n = 250_000.0, 0.06, 360
    req = {
        "name": "level",
        "pool": {"loans": [{"balance": B, "rate": rate, "original_term_months": n}]},
    }
    resp = await client.post(FORECAST, json=req, headers=auth("level-user"))
    assert resp.status_code == 201, resp.text
    cf = resp.json()["scenarios"][0]["cashflows"]
    r = rate / 12
    payment = B * r / (1 - (1 + r) ** -n)
    assert len(cf["period"]) == n
    np.testing.assert_allclose(cf["total_cashflow"], payment, rtol=1e-10)  # 360 recursions
    k = np.arange(1, n + 1)
    closed_balance = B * ((1 + r) ** n - (1 + r) ** k) / ((1 + r) ** n - 1)
    np.testing.assert_allclose(cf["ending_balance"], closed_balance, rtol=1e-9, atol=1e-6)
    assert cf["interest"][0] == pytest.approx(B * r, rel=1e-14)
    assert sum(cf["scheduled_principal"]) == pytest.approx(B, rel=1e-12)


async def test_cpr_first_month_prepayment_closed_form(client, auth) -> None:
    """Month 1: prepayment = SMM x (B - scheduled principal), SMM = 1 - (1 - CPR)^(1/12)."""
    B, rate, n, cpr = 100_000.0, 0.05, 240, 0.08
    req = {
        "name": "cpr",
        "pool": {"loans": [{"balance": B, "rate": rate, "original_term_months": n}]},
        "assumptions": {"prepayment": {"type": "cpr", "rate": cpr}},
    }
    cf = (await client.post(FORECAST, json=req, headers=auth("cpr-user"))).json()["scenarios"][0][
        "cashflows"
    ]
    r = rate / 12
    sched = B * r / (1 - (1 + r) ** -n) - B * r
    smm = 1 - (1 - cpr) ** (1 / 12)
    assert cf["scheduled_principal"][0] == pytest.approx(sched, rel=1e-12)
    assert cf["prepayment"][0] == pytest.approx(smm * (B - sched), rel=1e-12)


async def test_pool_as_columns_equals_pool_as_loans(client, auth) -> None:
    loans = body()["pool"]["loans"]
    cols = {
        "loan_id": [x["loan_id"] for x in loans],
        "balance": [x["balance"] for x in loans],
        "rate": [x["rate"] for x in loans],
        "original_term_months": [x["original_term_months"] for x in loans],
        "age_months": [0, 24, 0],
        "servicing_fee": [0, 0.0025, 0],
        "amortization": ["level", "level", "interest_only"],
        "io_months": [0, 0, 24],
    }
    a = (await client.post(FORECAST, json=body(), headers=auth("u"))).json()
    b = (await client.post(FORECAST, json=body(pool={"columns": cols}), headers=auth("u"))).json()
    assert a["scenarios"] == b["scenarios"]


async def test_other_users_objects_are_404(client) -> None:
    alice, bob = unique_user("alice"), unique_user("bob")
    posted = (
        await client.post(FORECAST, json=body(options={"loan_level": True}), headers=H(alice))
    ).json()
    fid, pool_id = posted["forecast_id"], posted["pool_id"]
    listed = (await client.get("/api/v1/forecasts/", headers=H(bob))).json()
    assert listed["total"] == 0 and listed["items"] == []
    for path in ("", "/projections", "/loans", "/loans.parquet"):
        resp = await client.get(f"/api/v1/forecasts/{fid}{path}", headers=H(bob))
        assert resp.status_code == 404, path
        assert resp.json()["error"] == "not_found"
        assert (
            await client.get(f"/api/v1/forecasts/{fid}{path}", headers=H(alice))
        ).status_code == 200
    run = await client.post(FORECAST, json=body(pool={"pool_id": pool_id}), headers=H(bob))
    assert run.status_code == 404
    assert (
        await client.post(FORECAST, json=body(pool={"pool_id": pool_id}), headers=H(alice))
    ).status_code == 201
    assert (await client.get(f"/api/v1/forecasts/{fid}", headers={})).status_code == 401


async def test_list_is_paginated_newest_first_and_filtered(client) -> None:
    user = unique_user()
    ids = []
    for name in ("alpha one", "beta", "Alpha two"):
        req = body(name, scenarios=[])
        ids.append((await client.post(FORECAST, json=req, headers=H(user))).json()["forecast_id"])
    page = (await client.get("/api/v1/forecasts/?limit=2", headers=H(user))).json()
    assert page["total"] == 3 and [i["forecast_id"] for i in page["items"]] == ids[::-1][:2]
    page2 = (await client.get("/api/v1/forecasts/?limit=2&offset=2", headers=H(user))).json()
    assert [i["forecast_id"] for i in page2["items"]] == [ids[0]]
    named = (await client.get("/api/v1/forecasts/?name=ALPHA", headers=H(user))).json()
    assert {i["name"] for i in named["items"]} == {"alpha one", "Alpha two"}
    assert (await client.get("/api/v1/forecasts/?name=%25", headers=H(user))).json()["total"] == 0
    assert (await client.get("/api/v1/forecasts/?status=failed", headers=H(user))).json()[
        "total"
    ] == 0
    assert (await client.get("/api/v1/forecasts/?status=succeeded", headers=H(user))).json()[
        "total"
    ] == 3
    first_created = page2["items"][0]["created_at"]
    after = (
        await client.get(
            "/api/v1/forecasts/", params={"created_after": first_created}, headers=H(user)
        )
    ).json()
    assert after["total"] == 3
    before = (
        await client.get(
            "/api/v1/forecasts/", params={"created_before": first_created}, headers=H(user)
        )
    ).json()
    assert before["total"] == 0
    future = (
        await client.get(
            "/api/v1/forecasts/", params={"created_after": "2999-01-01T00:00:00Z"}, headers=H(user)
        )
    ).json()
    assert future["total"] == 0
    assert (await client.get("/api/v1/forecasts/?status=bogus", headers=H(user))).status_code == 422


async def test_loan_level_pages_and_parquet(tmp_path) -> None:
    app = create_app(make_settings(tmp_path, loan_level_chunk_loans=3))
    n = 8
    rng = np.random.default_rng(7)
    cols = {
        "loan_id": [f"L{i}" for i in range(n)],
        "balance": rng.uniform(50_000, 400_000, n).round(2).tolist(),
        "rate": rng.uniform(0.03, 0.08, n).round(4).tolist(),
        "original_term_months": [360, 180, 240, 360, 120, 300, 360, 60],
        "age_months": [0, 5, 10, 20, 0, 3, 100, 12],
    }
    req = body(pool={"columns": cols}, options={"loan_level": True, "balance_paths": True})
    user = unique_user()
    async with running_client(app) as c:
        posted = (await c.post(FORECAST, json=req, headers=H(user))).json()
        fid = posted["forecast_id"]
        pages = []
        for offset in range(0, n, 3):
            page = (
                await c.get(
                    f"/api/v1/forecasts/{fid}/loans?scenario=stress&offset={offset}&limit=3",
                    headers=H(user),
                )
            ).json()
            assert page["total"] == n
            pages.append(page["columns"])
        ids: list[str] = sum((p["loan_id"] for p in pages), [])
        assert ids == cols["loan_id"]
        # an unaligned page crosses stored chunks
        mid = (
            await c.get(
                f"/api/v1/forecasts/{fid}/loans?scenario=stress&offset=2&limit=4", headers=H(user)
            )
        ).json()
        assert mid["columns"]["loan_id"] == cols["loan_id"][2:6]
        resp = await c.get(
            f"/api/v1/forecasts/{fid}/loans.parquet?scenario=stress", headers=H(user)
        )
        assert resp.status_code == 200
        assert resp.headers["content-type"] == "application/vnd.apache.parquet"
        pf = pq.ParquetFile(pa.BufferReader(resp.content))
        assert pf.metadata.num_row_groups == 3  # one row group per stored chunk: streamed
        table = pf.read()
        assert table.column("loan_id").to_pylist() == cols["loan_id"]
        paged_loss: list[float] = sum((p["loss"] for p in pages), [])
        assert table.column("loss").to_pylist() == paged_loss
    stress = posted["scenarios"][1]["cashflows"]
    # per-loan totals add up to the pool columns; balances end where the pool's do
    for col in ("loss", "prepayment", "scheduled_principal", "interest", "recovery"):
        assert sum(table.column(col).to_pylist()) == pytest.approx(sum(stress[col]), rel=1e-10)
    balances = np.array(table.column("balances").to_pylist())
    assert balances.shape == (n, posted["scenarios"][1]["n_periods"])
    np.testing.assert_allclose(balances.sum(axis=0), stress["ending_balance"], rtol=1e-9, atol=1e-6)


async def test_no_loan_level_results_is_404(client, auth) -> None:
    fid = (await client.post(FORECAST, json=body(), headers=auth("x"))).json()["forecast_id"]
    resp = await client.get(f"/api/v1/forecasts/{fid}/loans", headers=auth("x"))
    assert resp.status_code == 404 and "loan-level" in resp.json()["detail"]


@pytest.mark.parametrize(
    ("patch", "loc"),
    [
        (
            {"pool": {"loans": [{"balance": -5, "rate": 0.05, "original_term_months": 360}]}},
            ["body", "pool", "loans", 0, "balance"],
        ),
        (
            {"pool": {"loans": [{"balance": 5, "rate": 0.05}]}},
            ["body", "pool", "loans", 0, "original_term_months"],
        ),
        ({"pool": {"loans": [], "pool_id": "x"}}, ["body", "pool"]),
        (
            {
                "pool": {
                    "columns": {
                        "balance": [1, "x"],
                        "rate": [0.05, 0.05],
                        "original_term_months": [360, 360],
                    }
                }
            },
            ["body", "pool", "columns", "balance", 1],
        ),
        (
            {"assumptions": {"prepayment": {"type": "warp", "rate": 0.1}}},
            ["body", "assumptions", "prepayment"],
        ),
        (
            {"assumptions": {"prepayment": {"type": "cpr", "rate": 6}}},
            ["body", "assumptions", "prepayment", "cpr", "rate"],
        ),
        ({"assumptions": {"severity": 1.5}}, ["body", "assumptions", "severity"]),
        ({"scenarios": [{"name": "a"}, {"name": "a"}]}, ["body", "scenarios"]),
        ({"assumptions": {"n_periods": 5000}}, ["body", "assumptions", "n_periods"]),
        (
            {"scenarios": [{"name": "a", "assumptions": {"n_periods": 5000}}]},
            ["body", "scenarios", 0, "assumptions", "n_periods"],
        ),
        ({"valuation": {"price": 100, "price_percent": 100}}, ["body", "valuation"]),
    ],
)
async def test_bad_input_is_422_with_field_path(client, auth, patch, loc) -> None:
    resp = await client.post(FORECAST, json=body(**patch), headers=auth("bad"))
    assert resp.status_code == 422, resp.text
    out = resp.json()
    assert out["error"] == "invalid_input"
    assert any(p["loc"][: len(loc)] == loc for p in out["detail"]), out["detail"]


async def test_every_bad_loan_is_reported(client, auth) -> None:
    loans = [{"balance": 1000, "rate": 0.05, "original_term_months": 360} for _ in range(6)]
    loans[1]["balance"] = -1
    loans[4]["rate"] = 1.5
    loans[5]["age_months"] = 400
    resp = await client.post(FORECAST, json=body(pool={"loans": loans}), headers=auth("bad"))
    locs = [p["loc"] for p in resp.json()["detail"]]
    assert ["body", "pool", "loans", 1, "balance"] in locs
    assert ["body", "pool", "loans", 4, "rate"] in locs
    assert ["body", "pool", "loans", 5, "age_months"] in locs


async def test_limits(tmp_path) -> None:
    app = create_app(
        make_settings(
            tmp_path, max_scenarios=2, max_inline_loans=2, max_periods=200, max_body_bytes=4096
        )
    )
    async with running_client(app) as c:
        h = H("limits")
        three = body(scenarios=[{"name": s} for s in "abc"])
        r = await c.post(FORECAST, json=three, headers=h)
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "scenarios"]
        r = await c.post(FORECAST, json=body(), headers=h)  # 3 inline loans > 2
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "pool", "loans"]
        two = body(pool={"loans": body()["pool"]["loans"][1:]})  # 180- and 120-month loans
        long = body(pool={"loans": [{"balance": 1, "rate": 0.05, "original_term_months": 360}]})
        r = await c.post(FORECAST, json=long, headers=h)  # horizon 360 + lag > 200
        assert r.status_code == 422 and "MAX_PERIODS" in r.json()["detail"][0]["msg"]
        assert (await c.post(FORECAST, json=two, headers=h)).status_code == 201
        huge = body(
            name="x" * 100,
            pool={
                "loans": [
                    {"balance": 1, "rate": 0.05, "original_term_months": 12, "note": "y" * 5000}
                ]
            },
        )
        r = await c.post(FORECAST, json=huge, headers=h)
        assert r.status_code == 413 and r.json()["error"] == "payload_too_large"


async def test_failed_request_leaves_nothing_behind(client, auth) -> None:
    user = unique_user()
    bad = body(
        assumptions={"prepayment": {"type": "cpr", "rate": 0.1}, "index_paths": {}},
        pool={
            "loans": [
                {
                    "balance": 1000,
                    "rate": 0.05,
                    "original_term_months": 60,
                    "rate_type": "floating",
                    "index_name": "SOFR",
                }
            ]
        },
    )
    resp = await client.post(FORECAST, json=bad, headers=auth(user))
    assert resp.status_code == 422
    assert resp.json()["detail"][0]["loc"] == ["body", "assumptions", "index_paths"]
    assert (await client.get("/api/v1/forecasts/", headers=auth(user))).json()["total"] == 0


async def test_analytics_of_level_loan_match_closed_forms(client, auth) -> None:
    """Discounting a level-pay loan at its own coupon (monthly compounding) gives its balance;
    priced at par its yield and IRR are the coupon; WAL = sum(t P_t) / sum(P_t) with
    t = k/12 and P_t from the annuity schedule."""
    pytest.importorskip("app.engine.analytics.summary", reason="analytics module not installed")
    B, rate, n = 200_000.0, 0.06, 120
    req = {
        "name": "val",
        "pool": {"loans": [{"balance": B, "rate": rate, "original_term_months": n}]},
        "valuation": {
            "discount_rate": rate,
            "compounding": "compounded",
            "frequency": 12,
            "price_percent": 100,
        },
    }
    resp = await client.post(FORECAST, json=req, headers=auth("val"))
    assert resp.status_code == 201, resp.text
    a = resp.json()["scenarios"][0]["analytics"]
    r = rate / 12
    k = np.arange(1, n + 1)
    payment = B * r / (1 - (1 + r) ** -n)
    principal = payment - B * ((1 + r) ** n - (1 + r) ** (k - 1)) / ((1 + r) ** n - 1) * r
    assert a["npv"] == pytest.approx(B, rel=1e-10)
    assert a["yield"] == pytest.approx(rate, abs=1e-9)
    assert a["irr"] == pytest.approx(rate, abs=1e-9)
    assert a["wal"] == pytest.approx(float((k / 12 * principal).sum() / principal.sum()), rel=1e-10)
    fid = resp.json()["forecast_id"]
    detail = (await client.get(f"/api/v1/forecasts/{fid}", headers=auth("val"))).json()
    assert detail["scenarios"][0]["analytics"] == a


async def test_curve_valuation_and_z_spread(client, auth) -> None:
    """On a flat continuously compounded curve z, NPV = sum CF_k exp(-z k/12); priced at
    that NPV the Z-spread is 0."""
    pytest.importorskip("app.engine.analytics.summary", reason="analytics module not installed")
    B, rate, n, z = 100_000.0, 0.05, 60, 0.04
    r = rate / 12
    payment = B * r / (1 - (1 + r) ** -n)
    t = np.arange(1, n + 1) / 12
    pv = float((payment * np.exp(-z * t)).sum())
    req = {
        "name": "curve",
        "pool": {"loans": [{"balance": B, "rate": rate, "original_term_months": n}]},
        "valuation": {"curve": {"times": [0.5, 1, 2, 5], "rates": [z] * 4}, "price": pv},
    }
    resp = await client.post(FORECAST, json=req, headers=auth("curve"))
    assert resp.status_code == 201, resp.text
    a = resp.json()["scenarios"][0]["analytics"]
    assert a["npv"] == pytest.approx(pv, rel=1e-12)
    assert a["z_spread"] == pytest.approx(0.0, abs=1e-9)
    bad = {**req, "valuation": {"curve": {"times": [1, 2], "rates": [0.01]}}}
    resp = await client.post(FORECAST, json=bad, headers=auth("curve"))
    assert resp.status_code == 422 and resp.json()["detail"][0]["loc"][:3] == [
        "body",
        "valuation",
        "curve",
    ]


async def test_engine_warmup_runs_in_background(tmp_path, caplog) -> None:
    import logging
    import threading

    app = create_app(make_settings(tmp_path, engine_warmup=True))
    with caplog.at_level(logging.INFO, logger="app.main"):
        async with running_client(app) as c:
            assert (await c.get("/health")).status_code == 200  # serving while it compiles
            for t in threading.enumerate():
                if t.name == "engine-warmup":
                    t.join(timeout=300)
    assert "engine kernels ready" in caplog.text
