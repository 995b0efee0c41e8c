"""Issue 12 item 6: ENV=testing, the token size cap, /metrics protection, loopback-only serving
without auth whatever uvicorn binds, and pool ownership checked when a job is submitted."""

from __future__ import annotations

import socket

import httpx
import pytest

from app.core.config import Settings
from app.main import create_app
from tests.conftest import make_settings, running_client, sign_token, unique_user
from tests.hardening._server import serving

CSV = b"balance,rate,original_term_months\n1000,0.05,360\n"


def H(sub: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {sign_token(sub)}"}


def test_env_testing_is_the_test_environment() -> None:
    assert Settings(_env_file=None, env="testing").env == "test"  # type: ignore[call-arg]
    assert Settings(_env_file=None, env="TESTING").env == "test"  # type: ignore[call-arg]
    with pytest.raises(ValueError):
        Settings(_env_file=None, env="staging")  # type: ignore[call-arg]


async def test_oversized_token_is_refused_before_parsing(client) -> None:
    huge = sign_token("u", padding="x" * 20_000)
    assert len(huge) > 16_384
    r = await client.get("/api/v1/pools/", headers={"Authorization": f"Bearer {huge}"})
    assert r.status_code == 401
    assert "JWT_MAX_BYTES" in r.json()["detail"]
    ok = await client.get("/api/v1/pools/", headers=H("u"))
    assert ok.status_code == 200


async def test_metrics_allow_list_and_token(tmp_path) -> None:
    app = create_app(make_settings(tmp_path, metrics_token="scrape-token-0123456789"))
    async with running_client(app) as c:  # in-process, client 127.0.0.1: allowed
        assert (await c.get("/metrics")).status_code == 200
    transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 5555))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as c,
    ):
        denied = await c.get("/metrics")
        assert denied.status_code == 403 and denied.json()["error"] == "forbidden"
        wrong = await c.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 403
        ok = await c.get("/metrics", headers={"Authorization": "Bearer scrape-token-0123456789"})
        assert ok.status_code == 200 and ok.text.startswith("#")


async def test_metrics_public_when_allow_is_star(tmp_path) -> None:
    app = create_app(make_settings(tmp_path, metrics_allow=["*"]))
    transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 5555))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as c,
    ):
        assert (await c.get("/metrics")).status_code == 200


def test_metrics_allow_rejects_bad_networks() -> None:
    with pytest.raises(ValueError):
        Settings(_env_file=None, metrics_allow="10.0.0.0/8,not-a-net")  # type: ignore[call-arg]
    s = Settings(_env_file=None, metrics_allow="10.0.0.0/8, ::1")  # type: ignore[call-arg]
    assert s.metrics_allow == ["10.0.0.0/8", "::1"]


def _non_loopback_address() -> str | None:
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("192.0.2.1", 9))  # no packet is sent: picks the outgoing interface
            address = s.getsockname()[0]
    except OSError:
        return None
    return None if address.startswith("127.") else address


def test_uvicorn_on_0_0_0_0_without_auth_serves_loopback_only(tmp_path) -> None:
    """`uvicorn --host 0.0.0.0` run directly (the bind guard at create_app sees HOST=127.0.0.1):
    loopback clients are served, a client on another interface gets 403 on every path."""
    address = _non_loopback_address()
    if address is None:
        pytest.skip("this machine has no non-loopback IPv4 address")
    app = create_app(make_settings(tmp_path, supabase_jwt_secret=None))
    with serving(app, host="0.0.0.0") as base:
        port = base.rsplit(":", 1)[1]
        assert httpx.get(f"http://127.0.0.1:{port}/api/v1/pools/").status_code == 200
        for path in ("/api/v1/pools/", "/health", "/openapi.json", "/metrics"):
            r = httpx.get(f"http://{address}:{port}{path}")
            assert r.status_code == 403, (path, r.status_code)


async def test_job_naming_another_users_pool_is_404_at_submission(client) -> None:
    alice, bob = unique_user("alice"), unique_user("bob")
    up = await client.post(
        "/api/v1/pools", files={"file": ("t.csv", CSV, "text/csv")}, headers=H(alice)
    )
    pool_id = up.json()["pool_id"]
    payload = {"name": "by id", "pool": {"pool_id": pool_id}}
    r = await client.post(
        "/api/v1/jobs/", json={"kind": "forecast", "payload": payload}, headers=H(bob)
    )
    assert r.status_code == 404, r.text
    assert (await client.get("/api/v1/jobs/", headers=H(bob))).json()["total"] == 0
    mine = await client.post(
        "/api/v1/jobs/", json={"kind": "forecast", "payload": payload}, headers=H(alice)
    )
    assert mine.status_code == 202, mine.text


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PATCH", "/api/v1/jobs/", "GET, POST"),  # two routes share the path
        ("DELETE", "/api/v1/pools/", "GET"),
        ("OPTIONS", "/health", "GET"),
    ],
)
async def test_405_allow_lists_every_method_of_the_path(client, method, path, allow) -> None:
    r = await client.request(method, path, headers=H("allow-user"))
    assert r.status_code == 405
    assert r.headers["allow"] == allow
    for m in allow.split(", "):  # and each listed method is really served there
        assert (await client.request(m, path, headers=H("allow-user"))).status_code != 405


async def test_async_forecast_naming_another_users_pool_is_404(client) -> None:
    alice, bob = unique_user("alice"), unique_user("bob")
    up = await client.post(
        "/api/v1/pools", files={"file": ("t.csv", CSV, "text/csv")}, headers=H(alice)
    )
    body = {"name": "x", "pool": {"pool_id": up.json()["pool_id"]}, "async": True}
    r = await client.post("/api/v1/cashflow/forecast", json=body, headers=H(bob))
    assert r.status_code == 404, r.text
    assert (await client.get("/api/v1/jobs/", headers=H(bob))).json()["total"] == 0


async def test_async_forecast_with_a_bad_inline_pool_is_422_at_submission(client) -> None:
    body = {"name": "x", "pool": {"columns": {"balance": [1000.0]}}, "async": True}
    r = await client.post("/api/v1/cashflow/forecast", json=body, headers=H("async-user"))
    assert r.status_code == 422, r.text
    locs = [p["loc"] for p in r.json()["detail"]]
    assert ["body", "pool", "columns", "rate"] in locs
    assert (await client.get("/api/v1/jobs/", headers=H("async-user"))).json()["total"] == 0


@pytest.mark.parametrize(("peer", "status"), [("testclient", 200), ("203.0.113.5", 403)])
async def test_without_auth_only_loopback_or_in_process_peers(tmp_path, peer, status) -> None:
    app = create_app(make_settings(tmp_path, supabase_jwt_secret=None))
    transport = httpx.ASGITransport(app=app, client=(peer, 5555))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as c,
    ):
        assert (await c.get("/health")).status_code == status
        assert (await c.get("/openapi.json")).status_code == status
