"""Consumer-credit routes: loan types, one-call analysis of an inline panel (roll rates, pipeline,
the engine's cash flows and analytics, macro scenarios from saved scenarios side by side), every
bad input of the issue as a 422 naming field, row and reason, panel upload by id, and a job."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from app.assets.consumer_credit.analysis import analyze
from app.main import create_app
from tests.api.test_jobs import wait_state
from tests.assets.test_roll_rates import TRUE_P, simulate
from tests.conftest import make_settings, running_client, sign_token, unique_user

BASE = "/api/v1/specialized-assets/consumer-credit"


def H(sub: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {sign_token(sub)}"}


def panel_columns(n_loans: int = 400, months: int = 6) -> dict[str, list]:
    df = simulate(TRUE_P, n_loans, months, seed=3)
    return {
        "loan_id": df["loan_id"].astype(str).tolist(),
        "period": [f"2025-{m + 1:02d}" for m in df["period"]],
        "state": df["state"].tolist(),
        "balance": df["balance"].tolist(),
        "grade": df["grade"].tolist(),
    }


async def test_loan_types_lists_the_five_types(client, auth) -> None:
    resp = await client.get(f"{BASE}/loan-types", headers=auth("u"))
    assert resp.status_code == 200
    items = {t["loan_type"]: t for t in resp.json()}
    assert {"credit_card", "personal_installment", "bnpl", "student", "auto"} <= set(items)
    assert items["credit_card"]["revolving"] is True
    assert items["auto"]["default_assumptions"]["prepayment"]["type"] == "abs"
    for t in items.values():
        assert set(t) == {
            "loan_type",
            "description",
            "revolving",
            "parameters",
            "default_assumptions",
        }


async def test_analyze_inline_panel_end_to_end(client, auth) -> None:
    cols = panel_columns()
    body = {
        "loan_type": "personal_installment",
        "performance": {"columns": cols},
        "roll_rates": {"method": "cohort", "weight": "count", "segment_by": ["grade"]},
        "pipeline": {"start_balances": {"current": 1_000_000}, "months": 24, "amortize": True},
        "discount_rate": 0.08,
    }
    resp = await client.post(f"{BASE}/analyze", json=body, headers=auth("u"))
    assert resp.status_code == 200, resp.text
    out = resp.json()
    for key in (
        "roll_rates",
        "pipeline",
        "vintages",
        "score_migration",
        "macro",
        "revolving",
        "cashflows",
        "analytics",
    ):
        assert key in out
    rr = out["roll_rates"]
    assert {
        "method",
        "weight",
        "states",
        "matrix",
        "counts",
        "row_totals",
        "ci_low",
        "ci_high",
        "segments",
    } <= set(rr)
    assert len(rr["segments"]) == 3 and set(rr["segments"][0]) >= {"segment", "matrix", "counts"}
    p = np.array(rr["matrix"])
    assert np.allclose(p.sum(axis=1), 1.0)
    pipe = out["pipeline"]
    assert pipe["months"] == list(range(1, 25)) and set(pipe["balances"]) == set(rr["states"])
    assert len(out["cashflows"]["total_cashflow"]) == 24
    mdr = np.array(pipe["mdr"])
    beg = np.array(out["cashflows"]["beginning_balance"])
    assert np.allclose(np.array(out["cashflows"]["default"]), mdr * beg)
    assert out["analytics"]["npv"] is not None and out["analytics"]["wal"] > 0


async def test_given_matrix_and_macro_from_saved_scenarios(client, auth) -> None:
    user = auth("macro-user")
    ids = []
    for name, path in (
        ("base", [0.04]),
        ("adverse", [0.04, 0.06, 0.07]),
        ("severely adverse", [0.04, 0.08, 0.10]),
    ):
        resp = await client.post(
            "/api/v1/scenarios/",
            json={"name": name, "macro": {"paths": {"unemployment": path}}},
            headers=user,
        )
        assert resp.status_code == 201, resp.text
        ids.append(resp.json()["scenario_id"])
    body = {
        "roll_rates": {"matrix": TRUE_P.tolist()},
        "pipeline": {
            "start_balances": {"current": 1e6},
            "months": 12,
            "rate": 0.1,
            "term_months": 36,
        },
        "macro": {"link": "logit", "coefficients": {"unemployment": 12.0}, "scenarios": ids},
    }
    resp = await client.post(f"{BASE}/analyze", json=body, headers=user)
    assert resp.status_code == 200, resp.text
    runs = {r["name"]: r for r in resp.json()["macro"]["scenarios"]}
    assert list(runs) == ["unstressed", "base", "adverse", "severely adverse"]
    co = {k: r["cumulative_charge_off"][-1] for k, r in runs.items()}
    assert co["base"] == co["unstressed"]  # no change in unemployment from the reference
    assert co["unstressed"] < co["adverse"] < co["severely adverse"]
    assert runs["base"]["cashflows"] == runs["unstressed"]["cashflows"]
    # zero coefficients: every scenario is exactly the unstressed forecast
    body["macro"]["coefficients"] = {"unemployment": 0.0}
    runs0 = (await client.post(f"{BASE}/analyze", json=body, headers=user)).json()["macro"][
        "scenarios"
    ]
    assert all(r["cashflows"] == runs0[0]["cashflows"] for r in runs0)
    assert (
        resp.json()["pipeline"]["balances"]
        == (
            await client.post(f"{BASE}/analyze", json={**body, "macro": None}, headers=user)
        ).json()["pipeline"]["balances"]
    )


def _bad(cols_patch: dict, **extra) -> dict:
    cols = {
        "loan_id": ["a", "a", "b"],
        "period": [1, 2, 1],
        "state": ["current", "dpd30", "current"],
        "balance": [10.0, 9.0, 5.0],
    }
    cols.update(cols_patch)
    return {"performance": {"columns": cols}, "roll_rates": {}, **extra}


@pytest.mark.parametrize(
    ("body", "loc", "words"),
    [
        (
            _bad({"state": ["current", "late", "current"]}),
            ["body", "performance", "columns", "state", 1],
            "unknown state",
        ),
        (
            _bad({"period": [1, 1, 1]}),
            ["body", "performance", "columns", "period", 1],
            "duplicated",
        ),
        (
            _bad({"state": ["charged_off", "current", "current"]}),
            ["body", "performance", "columns", "state", 1],
            "absorbing",
        ),
        (
            _bad({"balance": [10.0, -9.0, 5.0]}),
            ["body", "performance", "columns", "balance", 1],
            ">= 0",
        ),
        (
            {
                "roll_rates": {"matrix": (TRUE_P + np.eye(7) * 1e-6).tolist()},
                "pipeline": {"start_balances": {"current": 1}},
            },
            ["body", "roll_rates", "matrix", 0],
            "sums to",
        ),
        (
            {
                "roll_rates": {
                    "matrix": np.vstack([TRUE_P[:5], [0.1, 0, 0, 0, 0, 0.9, 0], TRUE_P[6]]).tolist()
                }
            },
            ["body", "roll_rates", "matrix", 5],
            "absorbing",
        ),
        (
            {
                "roll_rates": {"matrix": TRUE_P.tolist()},
                "pipeline": {"start_balances": {"current": -5}},
            },
            ["body", "pipeline", "start_balances", "current"],
            ">= 0",
        ),
    ],
)
async def test_bad_input_is_a_422_naming_field_row_and_reason(
    client, auth, body, loc, words
) -> None:
    resp = await client.post(f"{BASE}/analyze", json=body, headers=auth("u"))
    assert resp.status_code == 422, resp.text
    detail = resp.json()["detail"]
    assert detail[0]["loc"] == loc and words in detail[0]["msg"], detail


async def test_panel_upload_then_analyze_by_id_and_as_a_job(tmp_path: Path) -> None:
    app = create_app(
        make_settings(
            tmp_path,
            jobs_embedded_workers=1,
            rate_limit_enabled=False,
            consumer_credit_sync_max_rows=1000,
        )
    )
    user = unique_user("panel")
    cols = panel_columns(300, 6)
    buf = io.BytesIO()
    pq.write_table(
        pa.table(
            {
                "acct": cols["loan_id"],
                "month": cols["period"],
                "status": cols["state"],
                "balance": cols["balance"],
            }
        ),
        buf,
    )
    async with running_client(app) as c:
        bad = await c.post(
            f"{BASE}/panels",
            headers=H(user),
            files={
                "file": ("p.csv", b"loan_id,period,state,balance\na,1,current,5\na,1,dpd30,4\n")
            },
        )
        assert bad.status_code == 422 and "duplicated" in bad.json()["detail"][0]["msg"]
        resp = await c.post(
            f"{BASE}/panels",
            headers=H(user),
            files={"file": ("p.parquet", buf.getvalue())},
            data={"column_map": '{"acct": "loan_id", "month": "period", "status": "state"}'},
        )
        assert resp.status_code == 201, resp.text
        pid = resp.json()["panel_id"]
        assert resp.json()["n_rows"] == 1800 and resp.json()["n_loans"] == 300
        # 1800 rows > CONSUMER_CREDIT_SYNC_MAX_ROWS=1000: a job whose result is the response
        resp = await c.post(
            f"{BASE}/analyze", json={"panel_id": pid, "roll_rates": {}}, headers=H(user)
        )
        assert resp.status_code == 202, resp.text
        job = await wait_state(c, user, resp.json()["job_id"])
        assert job["state"] == "succeeded", job
        result = (await c.get(f"/api/v1/jobs/{job['job_id']}/result", headers=H(user))).json()
        assert "roll_rates" in result, (job, str(result)[:500])
        direct = analyze({"roll_rates": {}}, panel_columns=cols)  # the same panel, in process
        assert result["roll_rates"]["counts"] == direct["roll_rates"]["counts"].tolist()
        # a panel is not a pool, and another user's panel is not found
        fc = await c.post(
            "/api/v1/cashflow/forecast",
            json={"name": "f", "pool": {"pool_id": pid}},
            headers=H(user),
        )
        assert fc.status_code == 404, fc.text
        assert (
            await c.post(f"{BASE}/analyze", json={"panel_id": pid}, headers=H("someone-else"))
        ).status_code == 404


async def test_pool_without_panel_projects_each_loan_at_its_type(client, auth) -> None:
    from app.assets.consumer_credit.loan_types import LOAN_TYPES, LoanType
    from app.engine.pool import LoanPool
    from app.engine.projection import project_pool

    loans = [
        {
            "loan_id": "car",
            "balance": 20000,
            "rate": 0.07,
            "original_term_months": 60,
            "loan_type": "auto",
            "credit_score": 710,
            "grade": "B",
            "origination_date": "2024-05",
        },
        {
            "loan_id": "pl",
            "balance": 10000,
            "rate": 0.12,
            "original_term_months": 36,
            "loan_type": "personal_installment",
        },
    ]
    resp = await client.post(f"{BASE}/analyze", json={"pool": {"loans": loans}}, headers=auth("u"))
    assert resp.status_code == 200, resp.text
    cf = resp.json()["cashflows"]
    n = len(cf["period"])
    expect = np.zeros(n)
    for row, t in ((0, LoanType.AUTO), (1, LoanType.PERSONAL_INSTALLMENT)):
        one = {
            k: [v]
            for k, v in loans[row].items()
            if k in ("balance", "rate", "original_term_months")
        }
        expect += project_pool(
            LoanPool.from_columns(one), LOAN_TYPES[t].assumptions(n_periods=n)
        ).columns["prepayment"]
    assert np.allclose(cf["prepayment"], expect)
    bad = await client.post(
        f"{BASE}/analyze",
        json={"pool": {"loans": [{**loans[0], "loan_type": "boat"}]}},
        headers=auth("u"),
    )
    # loan_type is a field of the consumer loan schema (issue 17): refused where it is sent
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == [
        "body",
        "pool",
        "loans",
        0,
        "loan_type",
    ]


@pytest.mark.parametrize(
    ("cols", "loc"),
    [
        (
            {"loan_id": [1, "a"], "period": [1, 2], "state": ["current", "current"]},
            ["body", "performance", "columns", "loan_id"],
        ),
        (
            {
                "loan_id": [1, 1],
                "period": [1, 2],
                "state": ["current", "current"],
                "balance": ["x", 1],
            },
            ["body", "performance", "columns", "balance"],
        ),
        (
            {"loan_id": [1], "period": [1], "state": ["current", "dpd30"]},
            ["body", "performance", "columns", "state"],
        ),
    ],
)
async def test_malformed_columns_are_422_not_500(client, auth, cols, loc) -> None:
    resp = await client.post(
        f"{BASE}/analyze",
        json={"performance": {"columns": cols}, "roll_rates": {}},
        headers=auth("u"),
    )
    assert resp.status_code == 422, resp.text
    assert resp.json()["detail"][0]["loc"] == loc
