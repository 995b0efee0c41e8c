"""Forecast results through the result cache, against the real Redis: the second identical
POST is a cache hit whose response equals the fresh one (numbers bit for bit, analytics too),
another app instance (another worker) hits Redis, a changed input misses, and the engine
metrics only move for fresh runs."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from prometheus_client import REGISTRY

from tests.conftest import running_client, sign_token
from tests.core._platform import probe_app

pytestmark = pytest.mark.redis
FORECAST = "/api/v1/cashflow/forecast"


def body(cdr: float = 0.02) -> dict[str, Any]:
    return {
        "name": "cache test",
        "pool": {
            "loans": [
                {"loan_id": "C1", "balance": 250000, "rate": 0.06, "original_term_months": 360},
                {
                    "loan_id": "C2",
                    "balance": 120000,
                    "rate": 0.05,
                    "original_term_months": 180,
                    "age_months": 12,
                },
            ]
        },
        "assumptions": {
            "prepayment": {"type": "cpr", "rate": 0.08},
            "default": {"type": "cdr", "rate": cdr},
            "severity": 0.4,
            "recovery_lag_months": 6,
        },
        "scenarios": [
            {"name": "base", "assumptions": {}},
            {"name": "fast", "assumptions": {"prepayment": {"type": "psa", "speed": 300}}},
        ],
        "valuation": {"discount_rate": 0.055},
    }


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def results(resp: Any) -> list[dict[str, Any]]:
    assert resp.status_code == 201, resp.text
    data = resp.json()
    return [{k: v for k, v in sc.items()} for sc in data["scenarios"]]


@pytest.fixture
def cache_prefix(redis_url: str) -> Iterator[str]:
    prefix = f"test-fc-{uuid.uuid4().hex[:12]}"
    yield prefix
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


async def test_cached_forecast_equals_fresh(
    tmp_path: Path, redis_url: str, cache_prefix: str
) -> None:
    opts = {"redis_url": redis_url, "cache_key_prefix": cache_prefix}
    headers = {"Authorization": f"Bearer {sign_token('cache-user')}"}
    engine_runs = sample("engine_run_seconds_count", kind="forecast")
    misses = sample("cache_requests_total", namespace="forecast", result="miss")
    app1 = probe_app(tmp_path / "w1", **opts)
    async with running_client(app1) as c1:
        fresh = await c1.post(FORECAST, json=body(), headers=headers)
        again = await c1.post(FORECAST, json=body(), headers=headers)
        health = (await c1.get("/health")).json()
    assert fresh.json()["forecast_id"] != again.json()["forecast_id"]  # two stored runs
    assert results(again) == results(fresh)
    assert sample("engine_run_seconds_count", kind="forecast") == engine_runs + 1
    assert sample("cache_requests_total", namespace="forecast", result="miss") == misses + 1
    cache = health["details"]["cache"]
    assert (
        cache["backend"] == "redis" and cache["hits_memory"] == 1 and cache["breaker"] == "closed"
    )

    app2 = probe_app(tmp_path / "w2", **opts)  # a second worker: empty memory, same Redis
    async with running_client(app2) as c2:
        other = await c2.post(FORECAST, json=body(), headers=headers)
        changed = await c2.post(FORECAST, json=body(cdr=0.03), headers=headers)
        stored = await c2.get(
            f"/api/v1/forecasts/{other.json()['forecast_id']}/projections", headers=headers
        )
    assert app2.state.cache.stats.hits_redis == 1
    assert results(other) == results(fresh)
    assert results(changed) != results(fresh)
    assert sample("engine_run_seconds_count", kind="forecast") == engine_runs + 2
    assert stored.status_code == 200  # a cache hit is stored like a fresh run
    for sc_stored, sc_fresh in zip(
        stored.json()["scenarios"], fresh.json()["scenarios"], strict=True
    ):
        assert sc_stored["cashflows"] == sc_fresh["cashflows"]


async def test_forecast_succeeds_with_redis_down(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = probe_app(tmp_path, redis_url=f"redis://127.0.0.1:{port}/0", cache_breaker_fail_max=2)
    headers = {"Authorization": f"Bearer {sign_token('cache-user-2')}"}
    async with running_client(app) as client:
        codes = [
            (await client.post(FORECAST, json=body(), headers=headers)).status_code
            for _ in range(4)
        ]
        health = await client.get("/health")
    assert codes == [201] * 4
    assert app.state.cache.breaker.current_state == "open"
    assert health.status_code == 200 and health.json()["status"] == "degraded"


async def test_monte_carlo_result_cached_by_request(tmp_path: Path) -> None:
    from tests.api.test_montecarlo_api import URL
    from tests.api.test_montecarlo_api import body as mc_body

    app = probe_app(tmp_path)
    headers = {"Authorization": f"Bearer {sign_token('mc-cache-user')}"}
    hits = sample("cache_requests_total", namespace="montecarlo", result="hit_memory")
    runs = sample("engine_run_seconds_count", kind="montecarlo")
    async with running_client(app) as client:
        fresh = await client.post(URL, json=mc_body(), headers=headers)
        again = await client.post(URL, json=mc_body(), headers=headers)
        other_seed = await client.post(URL, json=mc_body(seed=12), headers=headers)
    assert fresh.status_code == again.status_code == other_seed.status_code == 200
    assert again.json() == fresh.json()
    assert other_seed.json() != fresh.json()
    assert sample("cache_requests_total", namespace="montecarlo", result="hit_memory") == hits + 1
    assert sample("engine_run_seconds_count", kind="montecarlo") == runs + 2


async def test_cashflow_analytics_cached_by_request(tmp_path: Path) -> None:
    url = "/api/v1/analytics/cashflows"
    flows = [{"amount": 3.0, "period": k} for k in range(1, 10)]
    flows.append({"amount": 103.0, "period": 10, "principal": 100.0})
    payload = {
        "cashflows": flows,
        "frequency": 2,
        "compounding": "compounded",
        "price": 99.0,
        "discount_rate": 0.05,
    }
    app = probe_app(tmp_path)
    headers = {"Authorization": f"Bearer {sign_token('analytics-cache-user')}"}
    hits = sample("cache_requests_total", namespace="analytics", result="hit_memory")
    misses = sample("cache_requests_total", namespace="analytics", result="miss")
    async with running_client(app) as client:
        fresh = await client.post(url, json=payload, headers=headers)
        again = await client.post(url, json=payload, headers=headers)
        other = await client.post(url, json={**payload, "price": 98.0}, headers=headers)
    assert fresh.status_code == again.status_code == other.status_code == 200, fresh.text
    assert again.content == fresh.content  # byte-identical response body
    assert other.json()["yield"] != fresh.json()["yield"]
    assert sample("cache_requests_total", namespace="analytics", result="hit_memory") == hits + 1
    assert sample("cache_requests_total", namespace="analytics", result="miss") == misses + 2


async def test_stress_results_cached_by_full_input(tmp_path: Path) -> None:
    from tests.api.test_scenarios_analysis import BASE, LOANS

    body = {
        "pool": {"loans": LOANS},
        "assumptions": BASE,
        "standard": False,
        "shocks": [{"name": "defaults x3", "default_multiplier": 3}],
        "measures": ["cumulative_loss", "npv"],
        "valuation": {"discount_rate": 0.06},
        "include_cashflows": True,
    }
    app = probe_app(tmp_path)
    headers = {"Authorization": f"Bearer {sign_token('stress-cache-user')}"}
    hits = sample("cache_requests_total", namespace="stress", result="hit_memory")
    async with running_client(app) as client:
        fresh = await client.post("/api/v1/scenarios/stress", json=body, headers=headers)
        again = await client.post("/api/v1/scenarios/stress", json=body, headers=headers)
        other_loans = [{**LOANS[0], "balance": 310000}, *LOANS[1:]]
        changed = await client.post(
            "/api/v1/scenarios/stress",
            json={**body, "pool": {"loans": other_loans}},
            headers=headers,
        )
    assert fresh.status_code == again.status_code == changed.status_code == 200, fresh.text
    strip = lambda r: {k: v for k, v in r.json().items() if k != "duration_ms"}  # noqa: E731
    assert strip(again) == strip(fresh)
    assert strip(changed) != strip(fresh)
    assert sample("cache_requests_total", namespace="stress", result="hit_memory") == hits + 1
