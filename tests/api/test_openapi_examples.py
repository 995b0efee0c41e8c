"""Every request-body example of the OpenAPI document runs as it stands on a fresh install
(issue 17, item 1): a fresh in-process app on a temp SQLite file; each JSON example is sent to
its operation and must get the operation's documented success status (its first 2xx). Path ids
are the built-in demo pool and scenario (`app.models.demo`), except for writes to a scenario,
which go to a scenario the caller creates from the POST example (the demo is read-only)."""

from __future__ import annotations

from typing import Any

from app.models.demo import DEMO_POOL_ID, DEMO_SCENARIO_ID

SCENARIOS = "/api/v1/scenarios/"


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _examples(spec: dict[str, Any], media: dict[str, Any]) -> list[Any]:
    found: list[Any] = []
    if "example" in media:
        found.append(media["example"])
    found += [e["value"] for e in media.get("examples", {}).values() if "value" in e]
    schema = _resolve(spec, media.get("schema", {}))
    found += list(schema.get("examples", []))
    if "example" in schema:
        found.append(schema["example"])
    return found


def _success(op: dict[str, Any]) -> int:
    return next(int(code) for code in op["responses"] if code.startswith("2"))


def _json_operations(spec: dict[str, Any]) -> list[tuple[str, str, int, list[Any]]]:
    ops = []
    for path, item in spec["paths"].items():
        for method, op in item.items():
            media = op.get("requestBody", {}).get("content", {}).get("application/json")
            if media is not None:
                ops.append((path, method, _success(op), _examples(spec, media)))
    return ops


async def test_every_request_example_runs_on_a_fresh_install(client, auth) -> None:
    headers = auth("first-hour")
    spec = (await client.get("/openapi.json")).json()
    ops = _json_operations(spec)
    assert len(ops) >= 15
    missing = [(m, p) for p, m, _, ex in ops if not ex]
    assert missing == [], f"operations without a request example: {missing}"

    own = await client.post(
        SCENARIOS,
        json=_examples(
            spec, spec["paths"][SCENARIOS]["post"]["requestBody"]["content"]["application/json"]
        )[0],
        headers=headers,
    )
    assert own.status_code == 201, own.text
    own_id = own.json()["scenario_id"]

    failures = []
    for path, method, status, examples in ops:
        writes_scenario = method in ("put", "delete") and "{scenario_id}" in path
        url = path.replace("{pool_id}", DEMO_POOL_ID).replace(
            "{scenario_id}", own_id if writes_scenario else DEMO_SCENARIO_ID
        )
        for example in examples:
            resp = await client.request(method.upper(), url, json=example, headers=headers)
            if resp.status_code != status:
                failures.append((method.upper(), path, status, resp.status_code, resp.text[:300]))
    assert failures == [], failures


async def test_demo_pool_and_scenario_are_readable_by_anyone_and_read_only(client, auth) -> None:
    for user in ("alice", "bob"):
        pool = await client.get(f"/api/v1/pools/{DEMO_POOL_ID}", headers=auth(user))
        assert pool.status_code == 200, pool.text
        assert pool.json()["n_loans"] == 4
        sc = await client.get(f"{SCENARIOS}{DEMO_SCENARIO_ID}", headers=auth(user))
        assert sc.status_code == 200, sc.text
    body = {"name": "mine now", "version": 1}
    put = await client.put(f"{SCENARIOS}{DEMO_SCENARIO_ID}", json=body, headers=auth("alice"))
    assert put.status_code == 403 and "read-only" in put.json()["detail"], put.text
    gone = await client.delete(f"{SCENARIOS}{DEMO_SCENARIO_ID}", headers=auth("alice"))
    assert gone.status_code == 403, gone.text
    still = await client.get(f"{SCENARIOS}{DEMO_SCENARIO_ID}", headers=auth("bob"))
    assert still.json()["version"] == 1 and still.json()["name"] == "demo: moderate credit"
    # a caller may build on the demo: extends makes their own, writable, scenario
    child = await client.post(
        SCENARIOS, json={"name": "my take", "extends": DEMO_SCENARIO_ID}, headers=auth("alice")
    )
    assert child.status_code == 201, child.text
    assert child.json()["resolved"]["assumptions"]["severity"] == 0.35


async def test_demo_rows_are_seeded_once_on_every_database(any_db_settings, auth) -> None:
    from app.main import create_app
    from tests.conftest import running_client

    for _start in range(2):  # a restart finds the rows and adds nothing
        async with running_client(create_app(any_db_settings)) as c:
            resp = await c.get(f"/api/v1/pools/{DEMO_POOL_ID}", headers=auth("anyone"))
            assert resp.status_code == 200, resp.text
            run = await c.post(
                f"{SCENARIOS}{DEMO_SCENARIO_ID}/run",
                json={"pool": {"pool_id": DEMO_POOL_ID}},
                headers=auth("anyone"),
            )
            assert run.status_code == 201, run.text
            runs = await c.get(f"{SCENARIOS}{DEMO_SCENARIO_ID}/runs", headers=auth("anyone"))
            assert runs.status_code == 200, runs.text
