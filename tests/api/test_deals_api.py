"""POST /api/v1/deals/run end to end: a two-note deal over given flows (numbers by hand), a
pool projected by the engine, scenarios, and 422s that name the path in the deal."""

from __future__ import annotations

import json

import pytest

URL = "/api/v1/deals/run"


def _deal(**extra):
    return {
        "name": "two notes",
        "tranches": [
            {"name": "A", "balance": 80, "coupon": {"type": "fixed", "rate": 0.06}},
            {
                "name": "B",
                "balance": 10,
                "coupon": {"type": "floating", "index": "SOFR", "margin": 0.02},
                "deferrable": True,
            },
            {"name": "E", "role": "equity"},
        ],
        "fees": [{"name": "admin", "amount": 0.05}],
        "tests": [{"name": "oc", "type": "oc", "tranches": ["A", "B"], "trigger": 1.05}],
        "waterfall": [
            {
                "source": "principal",
                "pay": "principal",
                "tranches": ["A", "B"],
                "mode": "sequential",
            },
            {"source": "principal", "pay": "residual", "to": "E"},
            {"source": "interest", "pay": "fees", "fees": ["admin"]},
            {"source": "interest", "pay": "interest", "tranches": ["A"]},
            {"source": "interest", "pay": "interest", "tranches": ["B"]},
            {
                "source": "interest",
                "pay": "cure",
                "test": "oc",
                "mode": "cure",
                "tranches": ["A", "B"],
            },
            {"source": "interest", "pay": "residual", "to": "E"},
        ],
        **extra,
    }


def _body(**extra):
    return {
        "deal": _deal(),
        "index_paths": {"SOFR": [0.04]},
        "collateral_cashflows": {
            "balance": 100,
            "interest": [0.7, 0.7, 0.7],
            "principal": [2, 2, 2],
            "losses": [0, 0, 0],
        },
        **extra,
    }


async def _post(client, auth, body):
    return await client.post(
        URL,
        content=json.dumps(body),
        headers={**auth("dealer"), "content-type": "application/json"},
    )


async def test_run_given_flows_matches_hand_numbers(client, auth) -> None:
    resp = await _post(client, auth, _body())
    assert resp.status_code == 200, resp.text
    out = resp.json()
    a, b, e = out["tranches"]["A"], out["tranches"]["B"], out["tranches"]["E"]
    # period 1: A is due 80 x 0.06/12 = 0.4, B 10 x 0.06/12 = 0.05, admin 0.05; principal 2 to A
    assert a["interest_due"][0] == pytest.approx(0.4)
    assert b["interest_due"][0] == pytest.approx(0.05)
    assert a["principal_paid"] == pytest.approx([2, 2, 2])
    assert a["balance"] == pytest.approx([78, 76, 74])
    assert e["cash"][0] == pytest.approx(0.7 - 0.05 - 0.4 - 0.05)
    assert out["tests"]["oc"]["value"][0] == pytest.approx(98 / 88)
    assert out["tests"]["oc"]["passed"] == [True, True, True]
    assert out["fees"]["admin"]["paid"] == pytest.approx([0.05] * 3)
    assert out["collateral"]["balance"] == pytest.approx([98, 96, 94])
    assert out["checks"]["cash_in_equals_cash_out"] is True
    assert out["checks"]["max_abs_difference"] < 1e-12
    assert out["periods"] == [1, 2, 3]


async def test_run_pool_and_scenarios(client, auth) -> None:
    pool = {"loans": [{"balance": 100, "rate": 0.07, "original_term_months": 12}]}
    body = {
        "deal": _deal(),
        "pool": pool,
        "index_paths": {"SOFR": [0.04]},
        "assumptions": {"prepayment": {"type": "cpr", "rate": 0.0}},
        "scenarios": [
            {"name": "base"},
            {
                "name": "stress",
                "assumptions": {"default": {"type": "cdr", "rate": 0.3}, "severity": 0.6},
            },
        ],
    }
    resp = await _post(client, auth, body)
    assert resp.status_code == 200, resp.text
    out = resp.json()
    base, stress = out["scenarios"]
    assert base["name"] == "base" and base["n_periods"] == 12
    # a 12-month level loan repays in full: collateral principal sums to 100, A is retired
    assert sum(base["collateral"]["principal"]) == pytest.approx(100.0)
    assert base["tranches"]["A"]["balance"][-1] == pytest.approx(0.0, abs=1e-9)
    assert sum(stress["collateral"]["losses"]) > 0
    assert sum(stress["tranches"]["E"]["cash"]) < sum(base["tranches"]["E"]["cash"])


@pytest.mark.parametrize(
    ("mutate", "loc", "words"),
    [
        (
            lambda b: b["deal"]["waterfall"][3].update(tranches=["Z"]),
            ["body", "deal", "waterfall", 3, "tranches", 0],
            "unknown tranche",
        ),
        (
            lambda b: b["deal"]["tests"][0].pop("trigger"),
            ["body", "deal", "tests", 0, "trigger"],
            "trigger",
        ),
        (
            lambda b: b["collateral_cashflows"]["interest"].__setitem__(1, -1.0),
            ["body", "collateral_cashflows", "interest", 1],
            "negative",
        ),
        (
            lambda b: b.update(index_paths={}),
            ["body", "deal", "tranches", 1, "coupon", "index"],
            "SOFR",
        ),
        (
            lambda b: (
                b["deal"].update(
                    tranches=b["deal"]["tranches"][:2], waterfall=b["deal"]["waterfall"][2:5]
                )
                or b["collateral_cashflows"].update(balance=50)
            ),
            ["body", "deal", "tranches"],
            "no equity",
        ),
        (
            lambda b: b["deal"].update(reinvestment={"end_period": 5, "maturity_period": 3}),
            ["body", "deal", "reinvestment", "end_period"],
            "circular",
        ),
        (
            lambda b: b["deal"]["waterfall"][0].update(pay="teleport"),
            ["body", "deal", "waterfall", 0, "pay"],
            "",
        ),
    ],
)
async def test_bad_deal_is_422_naming_the_path(client, auth, mutate, loc, words) -> None:
    body = _body()
    mutate(body)
    resp = await _post(client, auth, body)
    assert resp.status_code == 422, resp.text
    detail = resp.json()["detail"]
    assert detail[0]["loc"] == loc, detail
    assert words in detail[0]["msg"]
