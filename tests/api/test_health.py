"""GET /health: database and each configured dependency, up/down with latency; 200 or 503."""

from __future__ import annotations

import socket

from app.main import create_app
from tests.conftest import make_settings, running_client


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_health_ok_on_sqlite(client) -> None:
    resp = await client.get("/health")
    assert resp.status_code == 200
    body = resp.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["status"] == "up"
    assert body["checks"]["database"]["latency_ms"] >= 0
    assert set(body["checks"]) == {"database"}  # nothing else configured


async def test_health_reports_real_redis_and_broker(tmp_path, redis_url) -> None:
    app = create_app(make_settings(tmp_path, redis_url=redis_url, celery_broker_url=redis_url))
    async with running_client(app) as c:
        body = (await c.get("/health")).json()
    assert body["checks"]["redis"]["status"] == "up"
    assert body["checks"]["broker"]["status"] == "up"
    assert body["status"] == "ok"


async def test_health_rabbitmq_broker(tmp_path) -> None:
    import pytest

    try:
        socket.create_connection(("127.0.0.1", 5672), 1.0).close()
    except OSError:
        pytest.skip("RabbitMQ on 127.0.0.1:5672 does not answer")
    app = create_app(
        make_settings(tmp_path, celery_broker_url="amqp://guest:guest@127.0.0.1:5672//")
    )
    async with running_client(app) as c:
        body = (await c.get("/health")).json()
    assert body["checks"]["broker"]["status"] == "up"


async def test_health_degraded_when_optional_dependency_down(tmp_path) -> None:
    port = _closed_port()
    app = create_app(make_settings(tmp_path, redis_url=f"redis://127.0.0.1:{port}/0"))
    async with running_client(app) as c:
        resp = await c.get("/health")
    assert resp.status_code == 200
    body = resp.json()
    assert body["status"] == "degraded"
    assert body["checks"]["redis"]["status"] == "down"
    assert body["checks"]["redis"]["error"]


async def test_health_503_when_database_down(tmp_path) -> None:
    port = _closed_port()
    settings = make_settings(
        tmp_path,
        database_url=f"postgresql://postgres@127.0.0.1:{port}/none",
        migrate_on_start=False,
        health_timeout_seconds=1.0,
    )
    app = create_app(settings)
    async with running_client(app) as c:
        resp = await c.get("/health")
    assert resp.status_code == 503
    body = resp.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"]["status"] == "down"
