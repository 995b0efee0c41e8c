"""Scenarios API: CRUD on SQLite and PostgreSQL, ownership, optimistic versioning, templates,
inheritance, validation, and runs (one and many scenarios) that create forecasts."""

from __future__ import annotations

import pytest

from app.main import create_app
from app.services.templates import TEMPLATES
from tests.conftest import running_client, unique_user
from tests.factories import LOAN_A1, LOAN_A2, LOAN_A3
from tests.factories import bearer as H

S = "/api/v1/scenarios/"


LOANS = [LOAN_A1, {**LOAN_A2, "servicing_fee": 0.0025}, LOAN_A3]


@pytest.fixture
async def db_client(any_db_settings):
    async with running_client(create_app(any_db_settings)) as c:
        yield c


async def _create(client, user: str, **fields) -> dict:
    body = {"name": "s", **fields}
    r = await client.post(S, json=body, headers=H(user))
    assert r.status_code == 201, r.text
    return r.json()


# ---- CRUD ---------------------------------------------------------------------------------
async def test_crud_round_trip_with_versions(db_client) -> None:
    user = unique_user()
    created = await _create(
        db_client,
        user,
        name="house view",
        description="adverse mortgages, faster defaults",
        tags=["mortgage", "2027"],
        template="mortgage_adverse",
        assumptions={"default": {"type": "sda", "speed": 250}},
    )
    sid = created["scenario_id"]
    assert created["version"] == 1
    res = created["resolved"]["assumptions"]
    tpl = TEMPLATES["mortgage_adverse"].assumptions
    assert res["default"] == {"type": "sda", "speed": 250.0}
    assert res["prepayment"] == tpl.prepayment.model_dump()
    assert res["severity"] == tpl.severity
    assert created["resolved"]["rate_shocks"][0]["parallel_bp"] == 100.0
    assert created["resolved"]["lineage"] == ["template:mortgage_adverse", f"scenario:{sid}"]

    got = (await db_client.get(f"{S}{sid}", headers=H(user))).json()
    assert got == created

    put = await db_client.put(
        f"{S}{sid}",
        json={
            "name": "house view v2",
            "version": 1,
            "tags": ["mortgage"],
            "assumptions": {"severity": 0.5},
        },
        headers=H(user),
    )
    assert put.status_code == 200, put.text
    assert put.json()["version"] == 2
    assert put.json()["resolved"]["assumptions"]["severity"] == 0.5
    assert put.json()["resolved"]["assumptions"]["default"] == {"type": "cdr", "rate": 0.0}

    stale = await db_client.put(f"{S}{sid}", json={"name": "x", "version": 1}, headers=H(user))
    assert stale.status_code == 409
    assert stale.json()["error"] == "conflict"
    assert (await db_client.get(f"{S}{sid}", headers=H(user))).json()["name"] == "house view v2"

    assert (await db_client.delete(f"{S}{sid}", headers=H(user))).status_code == 204
    assert (await db_client.get(f"{S}{sid}", headers=H(user))).status_code == 404
    assert (await db_client.delete(f"{S}{sid}", headers=H(user))).status_code == 404


async def test_list_paginates_and_filters_by_name_and_tag(db_client) -> None:
    user = unique_user()
    for i in range(5):
        await _create(db_client, user, name=f"Alpha {i}", tags=["even" if i % 2 == 0 else "odd"])
    await _create(db_client, user, name="beta", tags=["even"])
    page = (await db_client.get(S, params={"limit": 2, "offset": 0}, headers=H(user))).json()
    assert page["total"] == 6 and len(page["items"]) == 2
    rest = (await db_client.get(S, params={"limit": 10, "offset": 2}, headers=H(user))).json()
    assert len(rest["items"]) == 4
    ids = {i["scenario_id"] for i in page["items"]} | {i["scenario_id"] for i in rest["items"]}
    assert len(ids) == 6
    by_name = (await db_client.get(S, params={"name": "alpha"}, headers=H(user))).json()
    assert by_name["total"] == 5
    by_tag = (await db_client.get(S, params={"tag": "even"}, headers=H(user))).json()
    assert sorted(i["name"] for i in by_tag["items"]) == ["Alpha 0", "Alpha 2", "Alpha 4", "beta"]
    both = (await db_client.get(S, params={"tag": "even", "name": "beta"}, headers=H(user))).json()
    assert [i["name"] for i in both["items"]] == ["beta"]


async def test_another_users_scenario_is_404_everywhere(db_client) -> None:
    a, b = unique_user("a"), unique_user("b")
    sid = (await _create(db_client, a, name="mine"))["scenario_id"]
    assert (await db_client.get(f"{S}{sid}", headers=H(b))).status_code == 404
    assert (
        await db_client.put(f"{S}{sid}", json={"name": "x", "version": 1}, headers=H(b))
    ).status_code == 404
    assert (await db_client.delete(f"{S}{sid}", headers=H(b))).status_code == 404
    run = await db_client.post(f"{S}{sid}/run", json={"pool": {"loans": LOANS}}, headers=H(b))
    assert run.status_code == 404
    assert (await db_client.get(f"{S}{sid}/runs", headers=H(b))).status_code == 404
    assert (await db_client.get(S, headers=H(b))).json()["total"] == 0
    # nor can b extend it or run it among many
    ext = await db_client.post(S, json={"name": "x", "extends": sid}, headers=H(b))
    assert ext.status_code == 422 and ext.json()["detail"][0]["loc"] == ["body", "extends"]
    many = await db_client.post(
        f"{S}run", json={"scenario_ids": [sid], "pool": {"loans": LOANS}}, headers=H(b)
    )
    assert many.status_code == 404
    assert (await db_client.get(f"{S}{sid}", headers=H(a))).status_code == 200
    assert (await db_client.get(S, headers={})).status_code == 401


async def test_templates_listed_and_unknown_template_is_422(client) -> None:
    user = unique_user()
    r = await client.get(f"{S}templates", headers=H(user))
    assert r.status_code == 200
    keys = {t["key"] for t in r.json()}
    for asset in ("mortgage", "auto", "consumer", "commercial"):
        for level in ("base", "adverse", "severely_adverse"):
            assert f"{asset}_{level}" in keys
    bad = await client.post(S, json={"name": "x", "template": "nope"}, headers=H(user))
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["body", "template"]


@pytest.mark.parametrize(
    ("fields", "loc_tail"),
    [
        ({"assumptions": {"prepayment": {"type": "psa", "speed": -50}}}, "speed"),
        ({"assumptions": {"default": {"type": "cdr", "rate": -0.01}}}, "rate"),
        ({"assumptions": {"severity": 1.2}}, "severity"),
        ({"vectors": {"cdr": [0.01, 1.5]}}, 1),
        ({"rate_shocks": [{"short_tenor_years": 5, "long_tenor_years": 2}]}, "rate_shocks"),
        ({"template": "mortgage_base", "extends": "x"}, None),
    ],
)
async def test_validation_422_names_the_field(client, fields, loc_tail) -> None:
    r = await client.post(S, json={"name": "x", **fields}, headers=H(unique_user()))
    assert r.status_code == 422, r.text
    locs = [p["loc"] for p in r.json()["detail"]]
    assert all(loc[0] == "body" for loc in locs)
    if loc_tail is not None:
        assert any(loc_tail in loc for loc in locs), locs


# ---- inheritance --------------------------------------------------------------------------
async def test_extends_overrides_only_some_fields_and_guards_cycles(client) -> None:
    user = unique_user()
    parent = await _create(
        client,
        user,
        name="parent",
        assumptions={"prepayment": {"type": "cpr", "rate": 0.08}, "severity": 0.3},
        rate_shocks=[{"parallel_bp": 50}],
    )
    pid = parent["scenario_id"]
    child = await _create(
        client,
        user,
        name="child",
        extends=pid,
        assumptions={"severity": 0.6},
        vectors={"cdr": [0.01, 0.03]},
    )
    cid = child["scenario_id"]
    res = child["resolved"]
    assert res["assumptions"]["prepayment"] == {"type": "cpr", "rate": 0.08}
    assert res["assumptions"]["severity"] == 0.6
    assert res["assumptions"]["default"] == {"type": "cdr_vector", "values": [0.01, 0.03]}
    assert res["rate_shocks"][0]["parallel_bp"] == 50
    assert res["lineage"] == [f"scenario:{pid}", f"scenario:{cid}"]
    assert child["assumptions"] == {"severity": 0.6}

    # the child follows its parent's updates
    await client.put(
        f"{S}{pid}",
        json={
            "name": "parent",
            "version": 1,
            "assumptions": {"prepayment": {"type": "psa", "speed": 200}},
        },
        headers=H(user),
    )
    again = (await client.get(f"{S}{cid}", headers=H(user))).json()["resolved"]["assumptions"]
    assert again["prepayment"] == {"type": "psa", "speed": 200.0}
    assert again["severity"] == 0.6

    grandchild = await _create(client, user, name="gc", extends=cid)
    cycle = await client.put(
        f"{S}{pid}",
        json={"name": "parent", "version": 2, "extends": grandchild["scenario_id"]},
        headers=H(user),
    )
    assert cycle.status_code == 422
    assert cycle.json()["detail"][0]["loc"] == ["body", "extends"]
    self_ref = await client.put(
        f"{S}{pid}", json={"name": "p", "version": 2, "extends": pid}, headers=H(user)
    )
    assert self_ref.status_code == 422
    # a parent with children cannot be deleted
    assert (await client.delete(f"{S}{pid}", headers=H(user))).status_code == 409


# ---- runs ---------------------------------------------------------------------------------
async def test_run_creates_a_forecast_and_records_the_version(db_client) -> None:
    user = unique_user()
    sc = await _create(db_client, user, name="adverse", template="mortgage_adverse")
    sid = sc["scenario_id"]
    body = {"pool": {"loans": LOANS}, "valuation": {"discount_rate": 0.055}}
    r = await db_client.post(f"{S}{sid}/run", json=body, headers=H(user))
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["scenarios"][0]["scenario_version"] == 1
    assert out["scenarios"][0]["name"] == "adverse"
    risk = out["scenarios"][0]["risk"]
    for key in (
        "dv01",
        "effective_duration",
        "effective_convexity",
        "spread_duration",
        "wal",
        "wal_change",
        "cumulative_loss",
        "loss_wal_years",
        "loss_half_period",
    ):
        assert key in risk
    assert risk["cumulative_loss"] == pytest.approx(
        sum(out["scenarios"][0]["cashflows"]["loss"]), rel=1e-12
    )
    assert out["summary"][0]["name"] == "adverse"

    fc = await db_client.get(f"/api/v1/forecasts/{out['forecast_id']}", headers=H(user))
    assert fc.status_code == 200
    stored = fc.json()["scenarios"][0]["assumptions"]
    assert stored == sc["resolved"]["assumptions"]
    proj = (
        await db_client.get(f"/api/v1/forecasts/{out['forecast_id']}/projections", headers=H(user))
    ).json()
    assert (
        proj["scenarios"][0]["cashflows"]["total_cashflow"]
        == out["scenarios"][0]["cashflows"]["total_cashflow"]
    )

    await db_client.put(
        f"{S}{sid}",
        json={
            "name": "adverse",
            "version": 1,
            "template": "mortgage_adverse",
            "assumptions": {"severity": 0.6},
        },
        headers=H(user),
    )
    r2 = (await db_client.post(f"{S}{sid}/run", json=body, headers=H(user))).json()
    assert r2["scenarios"][0]["scenario_version"] == 2
    assert r2["scenarios"][0]["risk"]["cumulative_loss"] > risk["cumulative_loss"]
    runs = (await db_client.get(f"{S}{sid}/runs", headers=H(user))).json()
    assert runs["total"] == 2
    assert [i["scenario_version"] for i in runs["items"]] == [2, 1]
    # deleting the scenario keeps its runs (and the forecasts)
    assert (await db_client.delete(f"{S}{sid}", headers=H(user))).status_code == 204
    assert (
        await db_client.get(f"/api/v1/forecasts/{out['forecast_id']}", headers=H(user))
    ).status_code == 200


async def test_multi_scenario_run_equals_runs_one_by_one(client) -> None:
    user = unique_user()
    ids = []
    for key in ("mortgage_base", "mortgage_adverse", "mortgage_severely_adverse"):
        ids.append((await _create(client, user, name=key, template=key))["scenario_id"])
    inline = {
        "name": "my view",
        "extends": ids[0],
        "assumptions": {"default": {"type": "cdr", "rate": 0.03}},
    }
    pool = {"loans": LOANS}
    valuation = {"discount_rate": 0.06}
    many = await client.post(
        f"{S}run",
        json={"scenario_ids": ids, "inline": [inline], "pool": pool, "valuation": valuation},
        headers=H(user),
    )
    assert many.status_code == 201, many.text
    m = many.json()
    assert [s["name"] for s in m["scenarios"]] == [
        "mortgage_base",
        "mortgage_adverse",
        "mortgage_severely_adverse",
        "my view",
    ]
    assert [r["name"] for r in m["summary"]] == [s["name"] for s in m["scenarios"]]
    fc = (await client.get(f"/api/v1/forecasts/{m['forecast_id']}", headers=H(user))).json()
    assert fc["n_scenarios"] == 4

    singles = []
    for sid in ids:
        r = await client.post(
            f"{S}{sid}/run", json={"pool": pool, "valuation": valuation}, headers=H(user)
        )
        assert r.status_code == 201
        singles.append(r.json()["scenarios"][0])
    inline_id = (await _create(client, user, **inline))["scenario_id"]
    r = await client.post(
        f"{S}{inline_id}/run", json={"pool": pool, "valuation": valuation}, headers=H(user)
    )
    singles.append(r.json()["scenarios"][0])

    # the same projection and risk code per scenario: equal to the last bit, not approximately
    for multi, single in zip(m["scenarios"], singles, strict=True):
        assert multi["cashflows"] == single["cashflows"]
        assert multi["analytics"] == single["analytics"]
        assert multi["risk"] == single["risk"]
        assert multi["n_periods"] == single["n_periods"]
    # rising-rate templates: the adverse scenarios are valued at higher rates, so worth less
    npv = [row["npv"] for row in m["summary"]]
    assert npv[0] > npv[1] > npv[2]


async def test_run_validation(client) -> None:
    user = unique_user()
    sid = (await _create(client, user, name="x"))["scenario_id"]
    bad_pool = await client.post(
        f"{S}{sid}/run",
        json={"pool": {"loans": [{"balance": -5, "rate": 0.05, "original_term_months": 360}]}},
        headers=H(user),
    )
    assert bad_pool.status_code == 422
    assert bad_pool.json()["detail"][0]["loc"][:3] == ["body", "pool", "loans"]
    missing = await client.post(f"{S}{sid}/run", json={}, headers=H(user))
    assert missing.status_code == 422
    none = await client.post(f"{S}run", json={"pool": {"loans": LOANS}}, headers=H(user))
    assert none.status_code == 422


async def test_scenario_routes_and_schemas_are_documented(client) -> None:
    spec = (await client.get("/openapi.json")).json()
    ops = {
        (path, method): op
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if "scenarios" in op.get("tags", [])
    }
    expected = {
        ("/api/v1/scenarios/", "post"),
        ("/api/v1/scenarios/", "get"),
        ("/api/v1/scenarios/templates", "get"),
        ("/api/v1/scenarios/{scenario_id}", "get"),
        ("/api/v1/scenarios/{scenario_id}", "put"),
        ("/api/v1/scenarios/{scenario_id}", "delete"),
        ("/api/v1/scenarios/{scenario_id}/run", "post"),
        ("/api/v1/scenarios/{scenario_id}/runs", "get"),
        ("/api/v1/scenarios/run", "post"),
        ("/api/v1/scenarios/grid", "post"),
        ("/api/v1/scenarios/stress", "post"),
        ("/api/v1/scenarios/breakeven", "post"),
    }
    assert expected <= set(ops)
    for key, op in ops.items():
        assert op.get("summary") and op.get("description"), key
    assert "409" in ops[("/api/v1/scenarios/{scenario_id}", "put")]["responses"]
    schemas = spec["components"]["schemas"]
    for name in (
        "ScenarioCreate",
        "ScenarioOut",
        "ScenarioPage",
        "TemplateOut",
        "ScenarioRunRequest",
        "MultiRunRequest",
        "RunResponse",
        "GridRequest",
        "GridResponse",
        "StressRequest",
        "StressResponse",
        "BreakEvenRequest",
        "BreakEvenResponse",
    ):
        assert schemas[name].get("examples"), name
