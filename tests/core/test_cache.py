"""CacheService against the real local Redis: exact NumPy round trips, TTL expiry, compression,
cross-process key stability, the @cached decorator and the circuit breaker (closed port, then a
TCP proxy that we start and stop to make Redis "come back" and "go away")."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import redis
from prometheus_client import REGISTRY
from pydantic import BaseModel

from app.core.cache import CacheConfig, CacheService, cached
from app.core.cache.codec import Codec

pytestmark = pytest.mark.redis
ROOT = Path(__file__).resolve().parents[2]


# ---------------------------------------------------------------------------- helpers
@pytest.fixture
def prefix(redis_url: str) -> Iterator[str]:
    """A unique key prefix; every key under it is deleted afterwards."""
    p = f"test-cache-{uuid.uuid4().hex[:12]}"
    yield p
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=f"{p}:*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


def make(redis_url: str | None, prefix: str, **kw: object) -> CacheService:
    return CacheService(CacheConfig(redis_url=redis_url, key_prefix=prefix, **kw))  # type: ignore[arg-type]


def projection_like(n: int = 360) -> dict[str, object]:
    """A result shaped like a forecast: float columns with NaN, ints, bools, dates, strings."""
    rng = np.random.default_rng(7)
    bal = np.cumsum(rng.random(n))[::-1].copy()
    bal[5] = np.nan
    return {
        "columns": {
            "period": np.arange(1, n + 1, dtype=np.int64),
            "beginning_balance": bal,
            "interest": rng.random(n).astype(np.float32),
            "flags": rng.random(n) > 0.5,
            "dates": np.arange(n).astype("datetime64[D]"),
            "grid": np.asfortranarray(rng.random((12, 30))),
        },
        "analytics": {"wal": 4.25, "irr": None, "yield": float("nan"), "n": np.int64(n)},
        "scenario": ("base", 1),
        "as_of": dt.date(2026, 11, 27),
        "ids": np.array(["L1", "L22", "L333"]),
    }


def assert_identical(a: object, b: object) -> None:
    assert type(a) is type(b), (type(a), type(b))
    if isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray)
        assert a.dtype == b.dtype and a.shape == b.shape
        # byte-level equality: NaN payloads and -0.0 survive too
        assert np.ascontiguousarray(a).tobytes() == np.ascontiguousarray(b).tobytes()
    elif isinstance(a, dict):
        assert isinstance(b, dict) and list(a) == list(b)
        for k in a:
            assert_identical(a[k], b[k])
    elif isinstance(a, list | tuple):
        assert isinstance(b, list | tuple) and len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            assert_identical(x, y)
    elif isinstance(a, float) and np.isnan(a):
        assert isinstance(b, float) and np.isnan(b)
    else:
        assert a == b


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TcpProxy:
    """A tiny thread-based TCP forwarder to the real Redis, started and stopped by a test."""

    def __init__(self, port: int, target: tuple[str, int]) -> None:
        self.port, self.target = port, target
        self._listener: socket.socket | None = None
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()

    def start(self) -> None:
        ls = socket.socket()
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(("127.0.0.1", self.port))
        ls.listen(16)
        self._listener = ls
        threading.Thread(target=self._accept, args=(ls,), daemon=True).start()

    def _accept(self, ls: socket.socket) -> None:
        while True:
            try:
                client, _ = ls.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            with self._lock:
                self._conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def stop(self) -> None:
        if self._listener is not None:
            # shutdown wakes the thread blocked in accept(); close alone would not
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
            self._listener = None
        with self._lock:
            for c in self._conns:
                with contextlib.suppress(OSError):
                    c.shutdown(socket.SHUT_RDWR)
                c.close()
            self._conns.clear()


def metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


# ---------------------------------------------------------------------------- round trips
def test_numpy_heavy_round_trip_through_redis(redis_url: str, prefix: str) -> None:
    writer = make(redis_url, prefix)
    value = projection_like()
    key = writer.key("forecast", {"pool": "p1"})
    assert writer.set(key, value, ttl=60)
    reader = make(redis_url, prefix)  # empty memory layer: must come from Redis
    found, got = reader.lookup(key, "forecast")
    assert found and reader.stats.hits_redis == 1
    assert_identical(value, got)
    # second read is served by the memory layer, still identical
    found, again = reader.lookup(key, "forecast")
    assert found and reader.stats.hits_memory == 1
    assert_identical(value, again)


async def test_async_round_trip_and_delete(redis_url: str, prefix: str) -> None:
    svc = make(redis_url, prefix)
    value = projection_like(120)
    key = svc.key("analytics", [1, 2, 3])
    assert await svc.aset(key, value, ttl=60)
    other = make(redis_url, prefix)
    assert_identical(value, await other.aget(key))
    await svc.adelete(key)
    assert await make(redis_url, prefix).aget(key, "gone") == "gone"
    await svc.aclose()
    await other.aclose()


def test_ttl_expiry(redis_url: str, prefix: str) -> None:
    svc = make(redis_url, prefix)
    key = svc.key("ttl", "x")
    svc.set(key, np.arange(10.0), ttl=0.4)
    pttl = redis.Redis.from_url(redis_url).pttl(key)
    assert 0 < pttl <= 400
    assert svc.get(key) is not None
    time.sleep(0.6)
    assert svc.get(key, "expired") == "expired"  # gone from memory layer
    assert make(redis_url, prefix).get(key, "expired") == "expired"  # and from Redis

    # A copy pulled from Redis into another process' memory layer expires with the Redis entry.
    key2 = svc.key("ttl", "y")
    svc.set(key2, 1, ttl=0.5)
    reader = make(redis_url, prefix)
    assert reader.get(key2) == 1 and reader.stats.hits_redis == 1
    time.sleep(0.7)
    assert reader.get(key2, "expired") == "expired"


@pytest.mark.parametrize("threshold", [1024, None])
def test_compression_on_and_off(redis_url: str, prefix: str, threshold: int | None) -> None:
    svc = make(redis_url, prefix, compress_threshold=threshold)
    value = {"zeros": np.zeros(50_000), "ramp": np.repeat(np.arange(100.0), 500)}
    key = svc.key("compress", threshold)
    svc.set(key, value, ttl=60)
    raw = redis.Redis.from_url(redis_url).get(key)
    assert raw is not None
    plain = len(svc.codec.serializer.dumps(value))
    if threshold is None:
        assert not Codec.is_compressed(raw) and len(raw) == plain + 1  # type: ignore[arg-type]
    else:
        assert Codec.is_compressed(raw) and len(raw) < plain / 20  # type: ignore[arg-type]
    assert_identical(value, make(redis_url, prefix).get(key))


def test_incompressible_payload_is_stored_plain(redis_url: str, prefix: str) -> None:
    svc = make(redis_url, prefix, compress_threshold=16)
    noise = np.random.default_rng(1).random(20_000)  # random mantissas barely compress
    key = svc.key("noise", 1)
    svc.set(key, noise, ttl=60)
    raw = redis.Redis.from_url(redis_url).get(key)
    assert raw is not None and not Codec.is_compressed(raw)  # type: ignore[arg-type]


def test_corrupt_redis_value_is_a_miss(redis_url: str, prefix: str) -> None:
    svc = make(redis_url, prefix)
    key = svc.key("corrupt", 1)
    redis.Redis.from_url(redis_url).set(key, b"\x11garbage", px=60_000)
    before = metric("cache_errors_total", operation="decode", reason="codec")
    assert svc.get_or_compute("corrupt", 1, lambda: 42) == 42
    assert metric("cache_errors_total", operation="decode", reason="codec") == before + 1


# ---------------------------------------------------------------------------- keys
KEY_SCRIPT = r"""
import json, sys
import numpy as np
from pydantic import BaseModel
from app.core.cache import CacheConfig, CacheService
from app.core.cache.keys import call_fingerprint

class Assumptions(BaseModel):
    cpr: float
    severity: float
    curve: list[float]

def forecast(pool, assumptions, *, loan_level=False, horizon=360):
    pass

svc = CacheService(CacheConfig(key_prefix="k", version="7"))
payload = {
    "pool": {"balance": np.linspace(1e5, 2e5, 1000), "ids": np.array(["a", "b"], dtype=object)},
    "assumptions": Assumptions(cpr=0.06, severity=0.35, curve=[0.01, 0.02]),
    "set": {3, 1, 2},
}
if sys.argv[1] == "reordered":
    payload = {"set": {2, 3, 1}, "assumptions": payload["assumptions"], "pool": {
        "ids": payload["pool"]["ids"], "balance": payload["pool"]["balance"]}}
    call = call_fingerprint(forecast, (), {"horizon": 360, "assumptions": 1, "pool": 2})
else:
    call = call_fingerprint(forecast, (2, 1), {})
print(json.dumps({"key": svc.key("forecast", payload), "call": call}))
"""


def _key_in_subprocess(variant: str, seed: str) -> dict[str, str]:
    env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", KEY_SCRIPT, variant],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return json.loads(out.stdout)


def test_keys_stable_across_processes() -> None:
    a = _key_in_subprocess("original", "1")
    b = _key_in_subprocess("reordered", "4242")
    assert a == b
    assert a["key"].startswith("k:7:forecast:") and len(a["key"].rsplit(":", 1)[1]) == 64


def test_keys_depend_on_content_and_version() -> None:
    svc = make(None, "k")
    base = {"balance": np.arange(5.0), "rate": 0.05}
    k = svc.key("ns", base)
    assert svc.key("ns", {"rate": 0.05, "balance": np.arange(5.0)}) == k
    assert svc.key("ns", {"balance": np.arange(5.0) + 1e-12, "rate": 0.05}) != k
    assert svc.key("ns", {"balance": np.arange(5.0).astype(np.float32), "rate": 0.05}) != k
    assert svc.key("ns", {"balance": np.arange(5.0).reshape(1, 5), "rate": 0.05}) != k
    assert svc.key("other", base) != k
    assert make(None, "k", version="2").key("ns", base) != k
    ids = np.array(["L1", "L2", "L3"], dtype=object)
    assert svc.key("ns", ids) != svc.key("ns", np.array(["L1", "L2L3"], dtype=object))
    assert svc.key("ns", np.array(["a\x00b", "c"], dtype=object)) != svc.key(
        "ns", np.array(["a", "b\x00c"], dtype=object)
    )
    assert svc.key("ns", ids) != svc.key("ns", np.array(["L1", "L2", "L3"]))  # dtype matters
    with pytest.raises(TypeError):
        svc.key("ns", object())


@dataclasses.dataclass(frozen=True)
class _Leg:
    name: str
    rates: np.ndarray


@dataclasses.dataclass(frozen=True)
class _OtherLeg:
    name: str
    rates: np.ndarray


class _Quote(BaseModel, extra="allow"):
    price: float
    tag: str = "x"


def test_keys_of_dataclasses_and_models_follow_every_field() -> None:
    """Fields are fed in declared order with their names: every field value, the class and
    the split of text between fields all change the key; extra fields count in any order."""
    svc = make(None, "k")
    leg = _Leg("a", np.array([0.01, 0.02]))
    k = svc.key("ns", leg)
    assert svc.key("ns", _Leg("a", np.array([0.01, 0.02]))) == k
    assert svc.key("ns", _Leg("b", np.array([0.01, 0.02]))) != k
    assert svc.key("ns", _Leg("a", np.array([0.01, 0.03]))) != k
    assert svc.key("ns", _OtherLeg("a", np.array([0.01, 0.02]))) != k  # same fields, other class
    assert svc.key("ns", {"name": "a", "rates": np.array([0.01, 0.02])}) != k  # not a dict
    q = svc.key("ns", _Quote(price=99.5))
    assert svc.key("ns", _Quote(price=99.5, tag="x")) == q
    assert svc.key("ns", _Quote(price=99.5, tag="xy")) != q
    assert svc.key("ns", _Quote(price=99.5, u=1, v=2)) == svc.key(
        "ns", _Quote(price=99.5, v=2, u=1)
    )
    assert svc.key("ns", _Quote(price=99.5, u=1)) != q


# ---------------------------------------------------------------------------- decorator
class Result(BaseModel):
    total: float
    periods: list[int]


def test_cached_decorator_sync(redis_url: str, prefix: str) -> None:
    svc = make(redis_url, prefix)
    calls: list[tuple[object, ...]] = []

    @cached(ttl=60, cache=svc)
    def project(balances: np.ndarray, rate: float, *, months: int = 12) -> dict[str, np.ndarray]:
        calls.append((rate, months))
        return {"bal": balances * (1 + rate / 12) ** np.arange(1, months + 1)[:, None]}

    bal = np.array([100.0, 200.0])
    first = project(bal, 0.06)
    same = project(balances=bal.copy(), months=12, rate=0.06)  # spelled differently
    assert len(calls) == 1
    assert_identical(first, same)
    project(bal, 0.07)
    assert len(calls) == 2
    svc.clear_memory()
    project(rate=0.06, balances=bal)  # from Redis now
    assert len(calls) == 2 and svc.stats.hits_redis == 1


async def test_cached_decorator_async_and_pydantic(redis_url: str, prefix: str) -> None:
    svc = make(redis_url, prefix)
    calls = 0

    @cached(ttl=60, cache=svc)
    async def summarise(periods: list[int], scale: float = 1.0) -> Result:
        nonlocal calls
        calls += 1
        return Result(total=scale * sum(periods), periods=periods)

    fresh = await summarise([1, 2, 3], scale=2.0)
    svc.clear_memory()
    again = await summarise(scale=2.0, periods=[1, 2, 3])
    assert calls == 1
    assert isinstance(again, Result) and again == fresh
    await svc.aclose()


def test_lossy_serializer_returns_the_same_for_fresh_and_cached(prefix: str) -> None:
    svc = make(None, prefix, serializer="orjson")
    fresh = svc.get_or_compute("ns", 1, lambda: {"a": (1, 2), "b": np.arange(3)})
    cached_value: object = svc.get_or_compute("ns", 1, lambda: pytest.fail("recomputed"))
    assert fresh == cached_value == {"a": [1, 2], "b": [0, 1, 2]}


# ---------------------------------------------------------------------------- memory layer
def test_memory_only_and_lru_bounds() -> None:
    svc = CacheService(CacheConfig(redis_url=None, memory_max_items=3, memory_max_bytes=10_000))
    assert svc.backend == "memory"
    for i in range(5):
        svc.set(f"k{i}", i, ttl=60)
    assert [svc.get(f"k{i}") for i in range(5)] == [None, None, 2, 3, 4]
    svc.get("k2")  # touch: k3 becomes least recently used
    svc.set("k5", 5, ttl=60)
    assert svc.get("k3") is None and svc.get("k2") == 2
    svc.set("big", np.random.default_rng(0).random(5_000), ttl=60)  # 40 kB > budget: not kept
    assert svc.get("big") is None
    assert svc.health()["memory_items"] == 3


def test_disabled_cache_always_computes() -> None:
    svc = CacheService(CacheConfig(enabled=False))
    n = 0

    def compute() -> int:
        nonlocal n
        n += 1
        return n

    assert svc.get_or_compute("ns", 1, compute) == 1
    assert svc.get_or_compute("ns", 1, compute) == 2
    assert svc.backend == "disabled"


# ---------------------------------------------------------------------------- circuit breaker
def _redis_target(redis_url: str) -> tuple[str, int]:
    client = redis.Redis.from_url(redis_url)
    kw = client.connection_pool.connection_kwargs
    client.close()
    return kw.get("host", "127.0.0.1"), int(kw.get("port", 6379))


def test_breaker_opens_on_dead_redis_and_closes_when_it_returns(
    redis_url: str, prefix: str
) -> None:
    port = closed_port()
    db = redis.Redis.from_url(redis_url).connection_pool.connection_kwargs.get("db", 0)
    svc = make(
        f"redis://127.0.0.1:{port}/{db}",
        prefix,
        breaker_fail_max=3,
        breaker_reset_seconds=0.5,
        memory_max_items=0,
    )
    opened_before = metric("cache_errors_total", operation="get", reason="breaker_open")

    # Redis down: every call still answers, computed directly.
    for i in range(6):
        assert svc.get_or_compute("br", i, lambda i=i: i * 10) == i * 10  # type: ignore[misc]
    assert svc.breaker.current_state == "open"
    assert metric("cache_errors_total", operation="get", reason="breaker_open") > opened_before
    # While open, calls do not even try the network: they are fast.
    start = time.perf_counter()
    for i in range(50):
        assert svc.get_or_compute("br", i, lambda i=i: i) == i  # type: ignore[misc]
    assert time.perf_counter() - start < 0.5

    # Redis "comes back" on that port (a proxy to the real one); after the reset timeout the
    # next call is the half-open trial, succeeds, and closes the breaker.
    proxy = TcpProxy(port, _redis_target(redis_url))
    proxy.start()
    try:
        time.sleep(0.6)
        assert svc.get_or_compute("br", 100, lambda: "fresh") == "fresh"
        assert svc.breaker.current_state == "closed"
        assert svc.get_or_compute("br", 100, lambda: "recomputed") == "fresh"  # served by Redis
        assert svc.stats.hits_redis == 1
    finally:
        proxy.stop()
        svc.close()

    # And it goes away again: requests keep succeeding and the breaker re-opens.
    for i in range(6):
        assert svc.get_or_compute("br", 200 + i, lambda: "ok") == "ok"
    assert svc.breaker.current_state == "open"


async def test_breaker_async_path(redis_url: str, prefix: str) -> None:
    port = closed_port()
    svc = make(
        f"redis://127.0.0.1:{port}/0",
        prefix,
        breaker_fail_max=2,
        breaker_reset_seconds=0.3,
        memory_max_items=0,
    )

    async def compute() -> str:
        return "computed"

    for i in range(4):
        assert await svc.aget_or_compute("abr", i, compute) == "computed"  # type: ignore[arg-type]
    assert svc.breaker.current_state == "open"
    proxy = TcpProxy(port, _redis_target(redis_url))
    proxy.start()
    try:
        import asyncio

        await asyncio.sleep(0.4)
        assert await svc.aget_or_compute("abr", "k", compute) == "computed"  # type: ignore[arg-type]
        assert svc.breaker.current_state == "closed"
        health = await svc.aping()
        assert health["status"] == "up" and health["breaker"] == "closed"
    finally:
        await svc.aclose()
        proxy.stop()


async def test_cancelled_calls_do_not_open_the_breaker(redis_url: str, prefix: str) -> None:
    import asyncio

    svc = make(redis_url, prefix, breaker_fail_max=2)
    for i in range(4):
        task = asyncio.create_task(svc.aget(svc.key("cancel", i)))
        await asyncio.sleep(0)  # let it reach the Redis call, then cancel it there
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert svc.breaker.current_state == "closed"
    assert await svc.aset(svc.key("cancel", "x"), 1, ttl=60)
    await svc.aclose()


def test_config_from_settings_upstash_tls(tmp_path: Path) -> None:
    from tests.conftest import make_settings

    s = make_settings(
        tmp_path,
        upstash_redis_host="eu1-x.upstash.io",
        upstash_redis_port=6380,
        upstash_redis_password="pw",
        redis_cache_ttl=120,
        cache_version="9",
        cache_compress_threshold=-1,
        redis_max_connections=7,
        redis_socket_timeout=0.2,
        cache_memory_ttl=0,
    )
    cfg = CacheConfig.from_settings(s)
    assert cfg.redis_url == "rediss://default:pw@eu1-x.upstash.io:6380"
    assert (cfg.default_ttl, cfg.version, cfg.compress_threshold) == (120, "9", None)
    assert (cfg.max_connections, cfg.socket_timeout, cfg.memory_ttl) == (7, 0.2, None)
    svc = CacheService(cfg)
    assert svc.backend == "redis" and svc.key("ns", 1).startswith("cfe:9:ns:")
    kwargs = svc._pool_kwargs()
    assert kwargs["max_connections"] == 7 and kwargs["socket_keepalive"] is True
    assert CacheConfig.from_settings(make_settings(tmp_path)).redis_url is None  # memory-only
