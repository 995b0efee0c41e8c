"""Rate limits through the app: the N+1-th request in the window is a 429 with Retry-After and
the X-RateLimit-* headers; users do not share a budget; reads and runs have separate budgets;
memory storage and the real Redis (shared by two app instances = two workers); a dead Redis
never fails a request."""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from prometheus_client import REGISTRY

from tests.conftest import running_client, sign_token
from tests.core._platform import probe_app


def bearer(sub: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {sign_token(sub)}"}


def rejections(cls: str) -> float:
    return REGISTRY.get_sample_value("rate_limit_rejections_total", {"limit_class": cls}) or 0.0


@pytest.fixture
def rl_prefix(redis_url: str) -> Iterator[str]:
    prefix = f"test-rl-{uuid.uuid4().hex[:12]}"
    yield prefix
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=f"*{prefix}*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


async def test_n_plus_first_read_is_429_with_retry_after(tmp_path: Path) -> None:
    app = probe_app(tmp_path, rate_limit_read="3/minute", rate_limit_run="2/minute")
    before = rejections("read")
    async with running_client(app) as client:
        oks = [await client.get("/api/v1/_probe", headers=bearer("alice")) for _ in range(3)]
        over = await client.get("/api/v1/_probe", headers=bearer("alice"))
    assert [r.status_code for r in oks] == [200, 200, 200]
    assert [r.headers["x-ratelimit-remaining"] for r in oks] == ["2", "1", "0"]
    assert all(r.headers["x-ratelimit-limit"] == "3" for r in oks)
    assert over.status_code == 429
    retry_after = int(over.headers["retry-after"])
    assert 1 <= retry_after <= 60
    assert over.headers["x-ratelimit-limit"] == "3" and over.headers["x-ratelimit-remaining"] == "0"
    assert int(over.headers["x-ratelimit-reset"]) >= int(time.time())
    body = over.json()
    assert body["error"] == "rate_limited" and body["request_id"] == over.headers["x-request-id"]
    assert over.headers["x-content-type-options"] == "nosniff"  # security headers on 429 too
    assert rejections("read") == before + 1


async def test_users_do_not_share_a_budget_and_classes_are_separate(tmp_path: Path) -> None:
    app = probe_app(tmp_path, rate_limit_read="2/minute", rate_limit_run="1/minute")
    async with running_client(app) as client:
        a = [
            (await client.get("/api/v1/_probe", headers=bearer("alice"))).status_code
            for _ in range(3)
        ]
        b = [
            (await client.get("/api/v1/_probe", headers=bearer("bob"))).status_code
            for _ in range(2)
        ]
        runs = [
            (await client.post("/api/v1/_probe", headers=bearer("bob"))).status_code
            for _ in range(2)
        ]
        health = [(await client.get("/health")).status_code for _ in range(5)]  # exempt
    assert a == [200, 200, 429]
    assert b == [200, 200]  # alice's spent budget is not bob's
    assert runs == [200, 429]  # bob's runs have their own budget
    assert health == [200] * 5


async def test_bad_token_is_charged_to_the_ip(tmp_path: Path) -> None:
    app = probe_app(tmp_path, rate_limit_read="2/minute")
    bad = {"Authorization": "Bearer not-a-token"}
    async with running_client(app) as client:
        codes = [(await client.get("/api/v1/_probe", headers=bad)).status_code for _ in range(2)]
        forged_token = sign_token("mallory", secret="a-different-secret-0123456789abcdef")
        forged = await client.get(
            "/api/v1/_probe", headers={"Authorization": f"Bearer {forged_token}"}
        )
        anonymous = await client.get("/api/v1/_items/1")
        valid = await client.get("/api/v1/_probe", headers=bearer("carol"))
    assert codes == [401, 401]
    assert forged.status_code == 429  # a forged sub does not buy a fresh budget
    assert anonymous.status_code == 429  # same IP
    assert valid.status_code == 200  # a verified user has their own budget


async def test_redis_storage_is_shared_between_workers(
    tmp_path: Path, redis_url: str, rl_prefix: str
) -> None:
    opts = {
        "rate_limit_read": "3/minute",
        "rate_limit_storage_url": redis_url,
        "rate_limit_key_prefix": rl_prefix,
    }
    worker1, worker2 = probe_app(tmp_path, **opts), probe_app(tmp_path, **opts)
    user = f"u-{uuid.uuid4().hex[:8]}"
    async with running_client(worker1) as c1, running_client(worker2) as c2:
        codes = [
            (await c.get("/api/v1/_probe", headers=bearer(user))).status_code
            for c in (c1, c2, c1, c2)
        ]
        other = await c2.get("/api/v1/_probe", headers=bearer(user + "-b"))
    assert codes == [200, 200, 200, 429]
    assert other.status_code == 200
    keys = redis.Redis.from_url(redis_url).keys(f"*{rl_prefix}*")
    assert keys, "limits were not stored in Redis"


async def test_dead_redis_storage_never_fails_requests(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = probe_app(
        tmp_path, rate_limit_read="2/minute", rate_limit_storage_url=f"redis://127.0.0.1:{port}/0"
    )
    async with running_client(app) as client:
        codes = [
            (await client.get("/api/v1/_probe", headers=bearer("dave"))).status_code
            for _ in range(3)
        ]
    # Falls back to in-memory limits: requests pass and the budget is still enforced.
    assert codes == [200, 200, 429]


async def test_disabled_rate_limits(tmp_path: Path) -> None:
    app = probe_app(tmp_path, rate_limit_enabled=False, rate_limit_read="1/minute")
    async with running_client(app) as client:
        codes = [
            (await client.get("/api/v1/_probe", headers=bearer("erin"))).status_code
            for _ in range(3)
        ]
    assert codes == [200, 200, 200]


async def test_token_is_verified_once_per_request(tmp_path: Path, monkeypatch) -> None:
    """The rate limiter and the auth dependency share one verification of the bearer token.
    The spy only counts calls to the real TokenVerifier.verify; nothing is faked."""
    from app.core.auth import TokenVerifier

    calls: list[str] = []
    real_verify = TokenVerifier.verify

    async def counting_verify(self: TokenVerifier, token: str):  # type: ignore[no-untyped-def]
        calls.append(token)
        return await real_verify(self, token)

    monkeypatch.setattr(TokenVerifier, "verify", counting_verify)
    app = probe_app(tmp_path, rate_limit_read="5/minute")
    async with running_client(app) as client:
        first = await client.get("/api/v1/_probe", headers=bearer("carol"))
        second = await client.get("/api/v1/_probe", headers=bearer("dave"))
    assert first.json() == {"user": "carol"} and second.json() == {"user": "dave"}
    assert len(calls) == 2  # one verification per request, not one per consumer


async def test_refused_requests_are_not_counted_and_429_says_when(tmp_path: Path) -> None:
    app = probe_app(tmp_path, rate_limit_run="2/minute", rate_limit_read="2/minute")
    who = bearer("erin")
    async with running_client(app) as client:
        typos = [
            (
                await client.post("/api/v1/cashflow/forecast", json={"pool": {}}, headers=who)
            ).status_code
            for _ in range(5)
        ]
        bad_reads = [
            (await client.get("/api/v1/_items/not-a-number")).status_code for _ in range(4)
        ]
        runs = [(await client.post("/api/v1/_probe", headers=who)).status_code for _ in range(3)]
        reads = [(await client.get("/api/v1/_items/7")).status_code for _ in range(3)]
        unauthorised = [
            (await client.post("/api/v1/_probe", headers={"Authorization": "Bearer x"})).status_code
            for _ in range(3)
        ]
    assert typos == [422] * 5  # five refused runs cost nothing ...
    assert bad_reads == [422] * 4
    assert runs == [200, 200, 429]  # ... so the whole budget of 2 is still there
    assert reads == [200, 200, 429]
    assert unauthorised == [401, 401, 429]  # auth failures stay charged to the IP
    async with running_client(app) as client:
        last = await client.post("/api/v1/_probe", headers=who)
    assert last.status_code == 429
    assert "the next request is accepted in" in last.json()["detail"]
    assert "UTC" in last.json()["detail"]
