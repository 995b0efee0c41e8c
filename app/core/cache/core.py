"""The shared core of the result cache: an in-process LRU in front of Redis, with a circuit
breaker so that a slow or dead Redis never fails (or noticeably slows) a request: every Redis
problem becomes a cache miss and the caller computes the value directly.

Library choices: pybreaker (pinned) is the circuit breaker; its ``calling()`` context manager
guards both the sync and the asyncio Redis calls, so one breaker per process covers both. Redis
retries are redis-py's own ``Retry`` with exponential backoff, kept short (one retry by default)
because the breaker, not retries, is what protects us from an outage. redis-py and pybreaker
are imported at the first Redis call (a memory-only cache never loads them: ~0.13 s of start).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
import weakref
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

from app.core import metrics
from app.core.cache.codec import Codec, CodecError, get_serializer
from app.core.cache.config import CacheConfig, RedisConfig
from app.core.cache.keys import fingerprint
from app.core.cache.memory import MemoryLRU

if TYPE_CHECKING:
    import pybreaker
    import redis
    import redis.asyncio as aioredis

log = logging.getLogger("app.core.cache")
MISSING = object()
_BREAKER_CODES = {"closed": 0, "half-open": 1, "open": 2}


@cache
def redis_errors() -> tuple[type[BaseException], ...]:
    """Errors that mean "Redis is unavailable or misbehaving" (counted by the breaker)."""
    import redis

    return (redis.RedisError, OSError)  # OSError covers TimeoutError


@cache
def cache_failures() -> tuple[type[BaseException], ...]:
    """What a cache call swallows (as a miss): Redis errors and an open breaker."""
    import pybreaker

    return (*redis_errors(), pybreaker.CircuitBreakerError)


def _new_breaker(fail_max: int, reset_seconds: float) -> pybreaker.CircuitBreaker:
    import pybreaker

    class BreakerMetrics(pybreaker.CircuitBreakerListener):
        def state_change(self, cb: Any, old_state: Any, new_state: Any) -> None:
            name = new_state.name if new_state is not None else "closed"
            metrics.CACHE_BREAKER_STATE.set(_BREAKER_CODES.get(name, 0))
            log.warning(
                "redis cache circuit breaker %s -> %s",
                old_state.name if old_state is not None else "?",
                name,
            )

    return pybreaker.CircuitBreaker(
        fail_max=fail_max,
        reset_timeout=reset_seconds,
        listeners=[BreakerMetrics()],
        # A request cancelled mid-call (client gone) says nothing about Redis' health.
        exclude=[asyncio.CancelledError],
        name="redis-cache",
    )


@dataclass
class CacheStats:
    """Per-process counters (Prometheus has the same numbers summed over workers)."""

    hits_memory: int = 0
    hits_redis: int = 0
    misses: int = 0
    sets: int = 0
    errors: int = 0
    bytes_written: int = 0
    redis_seconds: float = 0.0
    redis_calls: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, **deltas: float) -> None:
        with self._lock:
            for name, delta in deltas.items():
                setattr(self, name, getattr(self, name) + delta)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            lookups = self.hits_memory + self.hits_redis + self.misses
            return {
                "hits_memory": self.hits_memory,
                "hits_redis": self.hits_redis,
                "misses": self.misses,
                "hit_ratio": round((self.hits_memory + self.hits_redis) / lookups, 4)
                if lookups
                else None,
                "sets": self.sets,
                "errors": self.errors,
                "bytes_written": self.bytes_written,
                "redis_mean_ms": round(1000 * self.redis_seconds / self.redis_calls, 3)
                if self.redis_calls
                else None,
            }


class CacheCore:
    """What the sync and async faces of the cache share: configuration, the memory tier, the
    codec, the circuit breaker, statistics and metrics, and every step of a lookup or a store
    that is not the Redis call itself. `CacheService` adds the two faces.

    Two-level cache (process LRU, then Redis) with sync and async APIs.

    Every method swallows Redis and decoding failures: a failure is a miss (or a skipped
    write), counted in ``cache_errors_total``. With no Redis URL the service is memory-only;
    with ``enabled=False`` it caches nothing and ``get_or_compute`` simply computes.
    """

    def __init__(self, config: CacheConfig | RedisConfig | None = None) -> None:
        if isinstance(config, RedisConfig):
            config = config.to_cache_config()
        self.config = config or CacheConfig()
        self.codec = Codec(
            get_serializer(self.config.serializer),
            self.config.compress_threshold,
            self.config.compress_level,
        )
        self.memory = MemoryLRU(self.config.memory_max_items, self.config.memory_max_bytes)
        self._breaker: pybreaker.CircuitBreaker | None = None
        self.stats = CacheStats()
        self._sync_client: redis.Redis | None = None
        self._sync_lock = threading.Lock()
        self._async_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aioredis.Redis]
        self._async_clients = weakref.WeakKeyDictionary()
        metrics.CACHE_BREAKER_STATE.set(0)

    # ------------------------------------------------------------------ configuration
    @property
    def breaker(self) -> pybreaker.CircuitBreaker:
        """The circuit breaker of the Redis calls, made (pybreaker imported) at first use."""
        if self._breaker is None:
            with self._sync_lock:
                if self._breaker is None:
                    self._breaker = _new_breaker(
                        self.config.breaker_fail_max, self.config.breaker_reset_seconds
                    )
        return self._breaker

    @property
    def backend(self) -> str:
        """ "redis", "memory" (no Redis configured) or "disabled"."""
        if not self.config.enabled:
            return "disabled"
        return "redis" if self.config.redis_url else "memory"

    def key(self, namespace: str, *parts: Any) -> str:
        """Versioned key ``<prefix>:<version>:<namespace>:<content hash of parts>``."""
        return f"{self.config.key_prefix}:{self.config.version}:{namespace}:{fingerprint(*parts)}"

    def _ttl(self, ttl: float | None) -> float:
        value = self.config.default_ttl if ttl is None else ttl
        if value <= 0:
            raise ValueError("cache ttl must be positive seconds")
        return value

    def _memory_ttl(self, ttl: float) -> float:
        cap = self.config.memory_ttl
        return ttl if cap is None else min(ttl, cap)

    def _memory_ttl_left(self, pttl_ms: int) -> float:
        # PTTL: ms left, -1 no expiry, -2 gone (raced with expiry): keep it briefly at most.
        left = self.config.default_ttl if pttl_ms == -1 else max(pttl_ms, 0) / 1000.0
        return self._memory_ttl(left)

    def _pool_kwargs(self) -> dict[str, Any]:
        c = self.config
        return {
            "max_connections": c.max_connections,
            "timeout": c.pool_timeout,
            "socket_timeout": c.socket_timeout,
            "socket_connect_timeout": c.connect_timeout,
            "socket_keepalive": c.keepalive,
            "health_check_interval": c.health_check_interval,
        }

    def _client(self) -> redis.Redis:
        if self._sync_client is None:
            with self._sync_lock:
                if self._sync_client is None:
                    import redis
                    from redis.backoff import ExponentialBackoff
                    from redis.retry import Retry

                    pool = redis.BlockingConnectionPool.from_url(
                        str(self.config.redis_url),
                        retry=Retry(ExponentialBackoff(cap=0.1, base=0.01), self.config.retries),
                        **self._pool_kwargs(),
                    )
                    self._sync_client = redis.Redis(connection_pool=pool)
        return self._sync_client

    def _aclient(self) -> aioredis.Redis:
        # redis.asyncio connections belong to the loop that opened them: one client per loop.
        loop = asyncio.get_running_loop()
        client = self._async_clients.get(loop)
        if client is None:
            import redis.asyncio as aioredis
            from redis.asyncio.retry import Retry as AsyncRetry
            from redis.backoff import ExponentialBackoff

            pool = aioredis.BlockingConnectionPool.from_url(
                str(self.config.redis_url),
                retry=AsyncRetry(ExponentialBackoff(cap=0.1, base=0.01), self.config.retries),
                **self._pool_kwargs(),
            )
            client = aioredis.Redis(connection_pool=pool)
            self._async_clients[loop] = client
        return client

    # ------------------------------------------------------------------ failure handling
    def _failed(self, operation: str, exc: BaseException) -> None:
        import pybreaker

        reason = "breaker_open" if isinstance(exc, pybreaker.CircuitBreakerError) else "redis"
        if isinstance(exc, CodecError):
            reason = "codec"
        metrics.CACHE_ERRORS.labels(operation, reason).inc()
        self.stats.add(errors=1)
        if reason == "breaker_open":
            log.debug("cache %s skipped: circuit open", operation)
        else:
            log.warning("cache %s failed (%s): %s", operation, reason, exc)

    def _timed(self, operation: str, start: float) -> None:
        seconds = time.perf_counter() - start
        metrics.CACHE_LATENCY.labels(operation).observe(seconds)
        self.stats.add(redis_seconds=seconds, redis_calls=1)

    def _hit(self, namespace: str, where: str) -> None:
        metrics.CACHE_REQUESTS.labels(namespace, f"hit_{where}").inc()
        self.stats.add(**{f"hits_{where}": 1})

    def _miss(self, namespace: str) -> None:
        metrics.CACHE_REQUESTS.labels(namespace, "miss").inc()
        self.stats.add(misses=1)

    def _decode(self, key: str, blob: bytes) -> Any:
        try:
            return self.codec.decode(blob)
        except CodecError as exc:
            self._failed("decode", exc)
            self.memory.delete(key)
            return MISSING

    def _encode(self, value: Any) -> bytes | None:
        try:
            blob = self.codec.encode(value)
        except CodecError as exc:
            self._failed("encode", exc)
            return None
        metrics.CACHE_VALUE_BYTES.observe(len(blob))
        return blob

    # ------------------------------------------------------------------ steps shared by both faces
    def _memory_lookup(self, key: str, namespace: str) -> Any:
        """The value in the memory tier (a hit is counted), else MISSING."""
        blob = self.memory.get(key)
        if blob is not None:
            value = self._decode(key, blob)
            if value is not MISSING:
                self._hit(namespace, "memory")
                return value
        return MISSING

    def _redis_found(self, key: str, namespace: str, raw: bytes | None, pttl: int) -> Any:
        """The value of a Redis GET (kept in memory no longer than in Redis), else MISSING."""
        if raw is not None:
            value = self._decode(key, raw)
            if value is not MISSING:
                self.memory.set(key, raw, self._memory_ttl_left(pttl))
                self._hit(namespace, "redis")
                return value
        return MISSING

    def _store_memory(self, key: str, blob: bytes, ttl: float) -> None:
        self.memory.set(key, blob, self._memory_ttl(ttl))
        self.stats.add(sets=1, bytes_written=len(blob))

    def _key_or_none(self, namespace: str, payload: Any) -> str | None:
        """The key of `payload` in `namespace`, or None (logged) when it cannot be hashed."""
        try:
            return self.key(namespace, payload)
        except TypeError as exc:
            log.error("cache key for %s failed, computing directly: %s", namespace, exc)
            return None

    def _returned(self, fresh: Any, blob: bytes) -> Any:
        """What a fresh value is returned as: itself, or its round trip with a lossy codec."""
        return fresh if self.codec.serializer.exact else self.codec.decode(blob)

    # ------------------------------------------------------------------ health and lifecycle
    def health(self) -> dict[str, Any]:
        """Configuration, breaker state, memory-layer size and hit/miss statistics."""
        items, nbytes = self.memory.size
        return {
            "backend": self.backend,
            "breaker": "closed" if self._breaker is None else self._breaker.current_state,
            "memory_items": items,
            "memory_bytes": nbytes,
            **self.stats.snapshot(),
        }

    async def aping(self, timeout: float = 1.0) -> dict[str, Any]:
        """Health plus a live Redis PING (``status`` up/down/memory-only/disabled)."""
        info = self.health()
        if self.backend != "redis":
            info["status"] = "up" if self.backend == "memory" else "disabled"
            return info
        start = time.perf_counter()
        try:
            await asyncio.wait_for(self._aclient().ping(), timeout)
            info["status"] = "up"
            info["latency_ms"] = round(1000 * (time.perf_counter() - start), 3)
        except redis_errors() as exc:
            # The cache degrades to memory-only; the service itself is still up.
            info["status"] = "degraded"
            info["error"] = type(exc).__name__
        return info

    def clear_memory(self) -> None:
        """Empty the in-process layer (Redis entries are left alone)."""
        self.memory.clear()

    def close(self) -> None:
        """Close the sync Redis pool."""
        if self._sync_client is not None:
            self._sync_client.close()
            self._sync_client = None

    async def aclose(self) -> None:
        """Close this loop's async Redis pool and the sync one."""
        with contextlib.suppress(RuntimeError):  # no running loop: nothing async to close
            loop = asyncio.get_running_loop()
            client = self._async_clients.pop(loop, None)
            if client is not None:
                await client.aclose()
        self.close()
