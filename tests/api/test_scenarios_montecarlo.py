"""A scenario's Monte Carlo block: stored, versioned and inherited like the other fields; a run
with it reports the same numbers as POST /cashflow/monte-carlo (and the engine) for the same
inputs; large blocks become monte_carlo jobs; a bad block is a 422 naming the field."""

from __future__ import annotations

import pytest

from app.engine.montecarlo import run_monte_carlo
from app.main import create_app
from app.services.montecarlo import build_request, result_json
from tests.conftest import make_settings, running_client, unique_user
from tests.factories import bearer as H

S = "/api/v1/scenarios/"
MC = "/api/v1/cashflow/monte-carlo"
CURVE = {"times": [0.25, 1, 2, 5, 10, 30], "rates": [0.045, 0.044, 0.043, 0.043, 0.044, 0.046]}
LOANS = [
    {"balance": 300000, "rate": 0.065, "original_term_months": 120},
    {
        "balance": 150000,
        "rate": 0.055,
        "original_term_months": 96,
        "age_months": 24,
        "servicing_fee": 0.0025,
    },
]
# the same loans as Monte Carlo rep-lines, written out by hand
REP_LINES = {
    "balance": [300000.0, 150000.0],
    "note_rate": [0.065, 0.055],
    "net_rate": [0.065, 0.055 - 0.0025],
    "remaining_term": [120, 72],
    "age": [0, 24],
}
BLOCK = {
    "rate_model": {"type": "hull_white", "mean_reversion": 0.05, "volatility": 0.012},
    "prepayment_model": {"turnover_cpr": 0.05, "refi_cpr_max": 0.3},
    "default": {"cdr": 0.02, "severity": 0.4, "recovery_lag_months": 3},
    "n_paths": 120,
    "block_size": 40,
    "seed": 5,
    "percentiles": [10, 50, 90],
    "price": 452_000.0,
}


async def _create(client, user: str, **fields) -> dict:
    r = await client.post(S, json={"name": "s", **fields}, headers=H(user))
    assert r.status_code == 201, r.text
    return r.json()


@pytest.fixture
async def db_client(any_db_settings):
    async with running_client(create_app(any_db_settings)) as c:
        yield c


async def test_block_round_trips_and_is_inherited(db_client) -> None:
    client = db_client
    user = unique_user()
    parent = await _create(client, user, name="parent", monte_carlo={**BLOCK, "curve": CURVE})
    pid = parent["scenario_id"]
    block = parent["monte_carlo"]
    # stored with its defaults written out; the given fields are as sent
    assert block["seed"] == 5 and block["n_paths"] == 120 and block["percentiles"] == [10, 50, 90]
    assert block["rate_model"] == BLOCK["rate_model"]
    assert block["curve"]["rates"] == CURVE["rates"]
    assert block["mortgage_rate"] == {"spread": 0.0175, "tenor_years": 10.0}
    assert parent["resolved"]["monte_carlo"] == block
    assert (await client.get(f"{S}{pid}", headers=H(user))).json() == parent

    child = await _create(client, user, name="child", extends=pid, assumptions={"severity": 0.5})
    cid = child["scenario_id"]
    assert child["monte_carlo"] is None
    assert child["resolved"]["monte_carlo"] == block  # inherited

    # the parent's update reaches the child; the version moves
    put = await client.put(
        f"{S}{pid}",
        json={"name": "parent", "version": 1, "monte_carlo": {**BLOCK, "seed": 9}},
        headers=H(user),
    )
    assert put.status_code == 200, put.text
    assert put.json()["version"] == 2 and put.json()["monte_carlo"]["seed"] == 9
    assert put.json()["monte_carlo"]["curve"] is None
    got = (await client.get(f"{S}{cid}", headers=H(user))).json()
    assert got["resolved"]["monte_carlo"]["seed"] == 9

    # the child's own block replaces the inherited one wholesale
    put = await client.put(
        f"{S}{cid}",
        json={
            "name": "child",
            "version": 1,
            "extends": pid,
            "monte_carlo": {"n_paths": 64, "rate_model": {"type": "cir"}},
        },
        headers=H(user),
    )
    assert put.status_code == 200, put.text
    res = put.json()["resolved"]["monte_carlo"]
    assert res["n_paths"] == 64 and res["rate_model"]["type"] == "cir" and res["seed"] == 0
    assert res["price"] is None
    listed = (await client.get(S, params={"name": "child"}, headers=H(user))).json()
    assert listed["items"][0]["resolved"]["monte_carlo"] == res


async def test_run_with_block_equals_the_monte_carlo_route(client) -> None:
    user = unique_user()
    sid = (await _create(client, user, name="mc", monte_carlo=BLOCK))["scenario_id"]
    run = await client.post(
        f"{S}{sid}/run",
        json={"pool": {"loans": LOANS}, "valuation": {"discount_rate": 0.05, "curve": CURVE}},
        headers=H(user),
    )
    assert run.status_code == 201, run.text
    sc = run.json()["scenarios"][0]
    assert sc["cashflows"]["period"][0] == 1  # the deterministic forecast is there too
    assert sc["monte_carlo"]["job"] is None
    got = sc["monte_carlo"]["result"]

    body = {**BLOCK, "pool": REP_LINES, "curve": CURVE}
    route = await client.post(MC, json=body, headers=H(user))
    assert route.status_code == 200, route.text
    assert got == route.json()
    req = build_request(body)  # computed here, not read from any cache
    assert got == result_json(req, run_monte_carlo(req))
    assert got["n_paths"] == 120 and set(got["pv"]["percentiles"]) == {"10", "50", "90"}
    assert got["oas"] is not None

    # the same block inline among many scenarios: the same numbers; others have no block
    many = await client.post(
        f"{S}run",
        json={
            "inline": [
                {"name": "plain"},
                {"name": "mc", "monte_carlo": {**BLOCK, "curve": CURVE}},
            ],
            "pool": {"loans": LOANS},
        },
        headers=H(user),
    )
    assert many.status_code == 201, many.text
    plain, with_mc = many.json()["scenarios"]
    assert plain["monte_carlo"] is None
    assert with_mc["monte_carlo"]["result"] == got


async def test_run_over_the_sync_limit_becomes_a_job(tmp_path) -> None:
    app = create_app(make_settings(tmp_path, monte_carlo_sync_max_cells=1_000))
    user = unique_user()
    async with running_client(app) as c:
        sid = (await _create(c, user, monte_carlo={**BLOCK, "curve": CURVE}))["scenario_id"]
        run = await c.post(f"{S}{sid}/run", json={"pool": {"loans": LOANS}}, headers=H(user))
        assert run.status_code == 201, run.text
        mc = run.json()["scenarios"][0]["monte_carlo"]
        assert mc["result"] is None
        job = await c.get(mc["job"]["status_url"], headers=H(user))
        assert job.status_code == 200 and job.json()["kind"] == "monte_carlo"
        # the same body on the Monte Carlo route is a job too
        body = {**BLOCK, "pool": REP_LINES, "curve": CURVE}
        assert (await c.post(MC, json=body, headers=H(user))).status_code == 202


@pytest.mark.parametrize(
    ("block", "loc"),
    [
        ({"n_paths": 1}, ["body", "monte_carlo", "n_paths"]),
        ({"rate_model": {"type": "black"}}, ["body", "monte_carlo", "rate_model"]),
        ({"percentiles": [5, 150]}, ["body", "monte_carlo", "percentiles", 1]),
        ({"default": {"severity": 1.5}}, ["body", "monte_carlo", "default", "severity"]),
        ({"paths": 100}, ["body", "monte_carlo", "paths"]),
    ],
)
async def test_bad_block_is_422_naming_the_field(client, block, loc) -> None:
    r = await client.post(S, json={"name": "x", "monte_carlo": block}, headers=H(unique_user()))
    assert r.status_code == 422, r.text
    locs = [p["loc"] for p in r.json()["detail"]]
    assert any(got[: len(loc)] == loc for got in locs), locs


async def test_run_time_problems_are_422_naming_the_field(client) -> None:
    user = unique_user()
    here = ["path", "scenario_id", "monte_carlo"]
    sid = (await _create(client, user, monte_carlo=BLOCK))["scenario_id"]
    # no curve in the block nor in the valuation
    r = await client.post(f"{S}{sid}/run", json={"pool": {"loans": LOANS}}, headers=H(user))
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == [*here, "curve"]
    # the engine's checks, under the block's field (odd paths with antithetic; a price no
    # spread reaches)
    for fields, field in (
        ({"antithetic": True, "n_paths": 121}, "n_paths"),
        ({"price": 1e12}, "price"),
    ):
        sid = (await _create(client, user, monte_carlo={**BLOCK, **fields, "curve": CURVE}))[
            "scenario_id"
        ]
        r = await client.post(f"{S}{sid}/run", json={"pool": {"loans": LOANS}}, headers=H(user))
        assert r.status_code == 422, r.text
        assert r.json()["detail"][0]["loc"] == [*here, field]
    # a pool the Monte Carlo projection cannot take (an interest-only loan)
    io = [
        *LOANS,
        {
            "balance": 1000,
            "rate": 0.05,
            "original_term_months": 60,
            "amortization": "interest_only",
            "io_months": 12,
        },
    ]
    r = await client.post(
        f"{S}run",
        json={
            "inline": [{"name": "m", "monte_carlo": {**BLOCK, "curve": CURVE}}],
            "pool": {"loans": io},
        },
        headers=H(user),
    )
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "pool"]
    assert "rows [2]" in r.json()["detail"][0]["msg"]
