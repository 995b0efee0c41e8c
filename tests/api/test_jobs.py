"""Jobs REST API through the ASGI app in embedded mode (the service's own process pool): large
or `async` runs answer 202 and finish as jobs, the forecast job's result is a stored forecast
with the same numbers as a direct run, bad payloads are 422 before any job exists, a run that
raises ends `failed` with its error, and another user's job is a 404."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx

from app.main import create_app
from tests.api.test_forecasts import body as forecast_body
from tests.conftest import make_settings, running_client, unique_user
from tests.factories import bearer as H
from tests.tasks.conftest import mc_payload


async def wait_state(c: httpx.AsyncClient, user: str, job_id: str, timeout: float = 90) -> dict:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        job = (await c.get(f"/api/v1/jobs/{job_id}", headers=H(user))).json()
        if job["state"] in ("succeeded", "failed", "cancelled"):
            return job
        assert asyncio.get_running_loop().time() < deadline, job
        await asyncio.sleep(0.1)


def mc_route_body(**extra: Any) -> dict[str, Any]:
    b = {
        "pool": {"balance": [1_000_000.0], "note_rate": [0.06], "remaining_term": [120]},
        "curve": {"times": [1.0, 10.0], "rates": [0.04, 0.045]},
        "n_paths": 1000,
        "seed": 3,
    }
    b.update(extra)
    return b


async def test_jobs_api_end_to_end_embedded(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path, jobs_embedded_workers=1, rate_limit_enabled=False))
    alice, bob = unique_user("alice"), unique_user("bob")
    async with running_client(app) as c:
        # a forecast with "async": true is a job whose result is a stored forecast
        resp = await c.post(
            "/api/v1/cashflow/forecast", json={**forecast_body(), "async": True}, headers=H(alice)
        )
        assert resp.status_code == 202, resp.text
        fjob_id = resp.json()["job_id"]
        # the same request run directly, for comparison
        direct = (
            await c.post("/api/v1/cashflow/forecast", json=forecast_body(), headers=H(alice))
        ).json()

        # a Monte Carlo run with "async": true through the Monte Carlo route
        resp = await c.post(
            "/api/v1/cashflow/monte-carlo", json=mc_route_body(**{"async": True}), headers=H(alice)
        )
        assert resp.status_code == 202, resp.text
        mjob_id = resp.json()["job_id"]
        small = (
            await c.post("/api/v1/cashflow/monte-carlo", json=mc_route_body(), headers=H(alice))
        ).json()

        # a run that raises in the worker (no spread reprices to this price): failed + error
        resp = await c.post(
            "/api/v1/jobs/",
            json={"kind": "monte_carlo", "payload": mc_payload(2000, n_chunks=2, price=1e-6)},
            headers=H(alice),
        )
        assert resp.status_code == 202, resp.text
        bad_id = resp.json()["job_id"]

        fjob = await wait_state(c, alice, fjob_id)
        assert fjob["state"] == "succeeded", fjob
        assert fjob["result_url"] == f"/api/v1/forecasts/{fjob['result_id']}"
        stored = await c.get(f"/api/v1/forecasts/{fjob['result_id']}/projections", headers=H(alice))
        assert stored.status_code == 200
        by_name = {s["name"]: s["cashflows"] for s in stored.json()["scenarios"]}
        for sc in direct["scenarios"]:
            assert by_name[sc["name"]] == sc["cashflows"]
        redirect = await c.get(f"/api/v1/jobs/{fjob_id}/result", headers=H(alice))
        assert redirect.status_code == 303
        assert redirect.headers["location"] == fjob["result_url"]

        mjob = await wait_state(c, alice, mjob_id)
        assert mjob["state"] == "succeeded", mjob
        result = (await c.get(f"/api/v1/jobs/{mjob_id}/result", headers=H(alice))).json()
        assert result == small  # the job's merged chunks == the direct single run

        bad = await wait_state(c, alice, bad_id)
        assert bad["state"] == "failed"
        assert bad["error"]["type"] == "UnreachablePrice"
        assert "reprices" in bad["error"]["message"]
        assert bad["finished_at"] is not None
        assert (await c.get(f"/api/v1/jobs/{bad_id}/result", headers=H(alice))).status_code == 409
        assert (await c.delete(f"/api/v1/jobs/{bad_id}", headers=H(alice))).status_code == 409

        # listing, filtering, isolation
        page = (await c.get("/api/v1/jobs/?limit=2", headers=H(alice))).json()
        assert page["total"] == 3 and len(page["items"]) == 2
        failed = (await c.get("/api/v1/jobs/?state=failed", headers=H(alice))).json()
        assert [j["job_id"] for j in failed["items"]] == [bad_id]
        assert (await c.get("/api/v1/jobs/", headers=H(bob))).json()["total"] == 0
        for path in (f"/api/v1/jobs/{mjob_id}", f"/api/v1/jobs/{mjob_id}/result"):
            assert (await c.get(path, headers=H(bob))).status_code == 404
        assert (await c.delete(f"/api/v1/jobs/{mjob_id}", headers=H(bob))).status_code == 404
        assert (await c.get("/api/v1/jobs/")).status_code == 401

        # job counts, durations and failures are in the service's Prometheus metrics
        metrics = (await c.get("/metrics")).text
        assert 'jobs_total{state="succeeded"}' in metrics
        assert 'job_duration_seconds_count{kind="monte_carlo",state="succeeded"}' in metrics
        assert 'job_failures_total{error="UnreachablePrice",kind="monte_carlo"}' in metrics


async def test_bad_payloads_are_422_before_any_job(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path, rate_limit_enabled=False))
    user = unique_user()
    async with running_client(app) as c:
        resp = await c.post(
            "/api/v1/jobs/",
            json={"kind": "monte_carlo", "payload": mc_payload(1000, severity=2.0)},
            headers=H(user),
        )
        assert resp.status_code == 422
        assert resp.json()["detail"][0]["loc"][:2] == ["body", "payload"]
        resp = await c.post(
            "/api/v1/jobs/", json={"kind": "forecast", "payload": {"name": "x"}}, headers=H(user)
        )
        assert resp.status_code == 422
        assert resp.json()["detail"][0]["loc"] == ["body", "payload", "pool"]
        resp = await c.post("/api/v1/jobs/", json={"kind": "nope", "payload": {}}, headers=H(user))
        assert resp.status_code == 422
        resp = await c.post(
            "/api/v1/cashflow/monte-carlo",
            json=mc_route_body(**{"async": True, "n_paths": 1}),
            headers=H(user),
        )
        assert resp.status_code == 422
        assert (await c.get("/api/v1/jobs/", headers=H(user))).json()["total"] == 0


async def test_forecast_over_the_size_threshold_becomes_a_job(tmp_path: Path) -> None:
    # 3 loans x 2 scenarios = 6 loan-scenarios > 4
    app = create_app(make_settings(tmp_path, jobs_forecast_async_loans=4, rate_limit_enabled=False))
    user = unique_user()
    async with running_client(app) as c:
        resp = await c.post("/api/v1/cashflow/forecast", json=forecast_body(), headers=H(user))
        assert resp.status_code == 202, resp.text
        job = (await c.get(resp.headers["location"], headers=H(user))).json()
        assert job["kind"] == "forecast" and job["name"] == "pool A"
        one = forecast_body(scenarios=[])  # 3 loans x 1 scenario: answered directly
        assert (
            await c.post("/api/v1/cashflow/forecast", json=one, headers=H(user))
        ).status_code == 201
