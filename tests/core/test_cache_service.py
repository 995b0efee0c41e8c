"""The cache's documented public face: `from app.core.cache_service import CacheService,
RedisConfig, cached`, `CacheService(RedisConfig(url=..., ...))` exactly as the README writes it,
and `@cached(ttl=...)` on async and sync functions, against the real local Redis."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import numpy as np
import pytest
import redis

from app.core.cache_service import CacheService, RedisConfig, cached

pytestmark = pytest.mark.redis


@pytest.fixture
def svc(redis_url: str) -> Iterator[CacheService]:
    prefix = f"test-cachesvc-{uuid.uuid4().hex[:12]}"
    config = RedisConfig(
        url=redis_url,
        default_ttl=3600,
        default_compression=True,
        socket_timeout=5.0,
        socket_connect_timeout=3.0,
        socket_keepalive=True,
        retry_on_timeout=True,
        health_check_interval=30,
        key_prefix=prefix,
    )
    service = CacheService(config)
    yield service
    service.close()
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


def test_redis_config_maps_onto_the_cache_settings(redis_url: str) -> None:
    c = RedisConfig(
        url=redis_url,
        default_ttl=120,
        default_compression=False,
        socket_timeout=5.0,
        socket_connect_timeout=3.0,
        socket_keepalive=False,
        retry_on_timeout=False,
        health_check_interval=15,
    ).to_cache_config()
    assert (c.redis_url, c.default_ttl, c.compress_threshold) == (redis_url, 120, None)
    assert (c.socket_timeout, c.connect_timeout, c.keepalive) == (5.0, 3.0, False)
    assert (c.retries, c.health_check_interval) == (0, 15)
    assert RedisConfig().to_cache_config().compress_threshold == 32_768


def test_service_from_redis_config_round_trips_through_redis(svc: CacheService) -> None:
    assert svc.backend == "redis"
    value = {"x": np.arange(5, dtype=np.float64) / 3.0}
    assert svc.set(svc.key("ns", 1), value)
    svc.clear_memory()  # the next read must come from Redis
    found, back = svc.lookup(svc.key("ns", 1), "ns")
    assert found and np.array_equal(back["x"], value["x"])
    assert svc.stats.snapshot()["hits_redis"] == 1


async def test_cached_decorates_async_and_sync_functions(svc: CacheService) -> None:
    calls = {"a": 0, "s": 0}

    @cached(ttl=60, cache=svc)
    async def a(x: int) -> int:
        calls["a"] += 1
        return x * 2

    @cached(ttl=60, cache=svc)
    def s(x: int) -> int:
        calls["s"] += 1
        return x * 3

    assert [await a(2), await a(x=2), s(2), s(x=2)] == [4, 4, 6, 6]
    assert calls == {"a": 1, "s": 1}
