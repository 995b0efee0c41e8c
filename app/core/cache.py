"""Result cache: an in-process LRU in front of Redis, with a circuit breaker so that a slow or
dead Redis never fails (or noticeably slows) a request: every Redis problem becomes a cache miss
and the caller computes the value directly.

Library choices: pybreaker (pinned) is the circuit breaker; its ``calling()`` context manager
guards both the sync and the asyncio Redis calls, so one breaker per process covers both. Redis
retries are redis-py's own ``Retry`` with exponential backoff, kept short (one retry by default)
because the breaker, not retries, is what protects us from an outage.

Use ``get_cache()`` for the process-wide service (built from the settings), ``cache.get_or_compute``
/ ``await cache.aget_or_compute`` from services, and ``@cached(ttl=...)`` on functions.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import logging
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar, get_type_hints

import pybreaker
import redis
import redis.asyncio as aioredis
from pydantic import BaseModel
from redis.backoff import ExponentialBackoff

from app.core import metrics
from app.core.cache_codec import Codec, CodecError, get_serializer
from app.core.cache_keys import call_fingerprint, fingerprint

__all__ = [
    "CacheConfig",
    "CacheService",
    "cached",
    "get_cache",
    "set_cache",
]

log = logging.getLogger(__name__)
T = TypeVar("T")
_MISSING = object()
_BREAKER_CODES = {"closed": 0, "half-open": 1, "open": 2}
# Errors that mean "Redis is unavailable or misbehaving" (counted by the breaker).
_REDIS_ERRORS = (redis.RedisError, OSError)  # OSError covers TimeoutError
_CACHE_FAILURES = (redis.RedisError, OSError, pybreaker.CircuitBreakerError)


@dataclass(frozen=True)
class CacheConfig:
    """Cache settings. Sizes in bytes, times in seconds."""

    redis_url: str | None = None
    enabled: bool = True
    key_prefix: str = "cfe"
    version: str = "1"
    default_ttl: int = 3600
    memory_max_items: int = 1024
    memory_max_bytes: int = 64 * 1024 * 1024
    memory_ttl: float | None = 300.0
    compress_threshold: int | None = 32_768
    compress_level: int = 1
    serializer: str = "msgpack"
    socket_timeout: float = 0.5
    connect_timeout: float = 0.5
    max_connections: int = 32
    pool_timeout: float = 0.5
    health_check_interval: int = 30
    keepalive: bool = True
    retries: int = 1
    breaker_fail_max: int = 5
    breaker_reset_seconds: float = 30.0

    @classmethod
    def from_settings(cls, settings: Any) -> CacheConfig:
        """Build from the app ``Settings``: Redis from ``effective_redis_url`` (REDIS_URL or the
        Upstash host/port/password form over TLS), TTL from REDIS_CACHE_TTL, the rest from the
        CACHE_* and REDIS_* fields (a field missing there keeps the default here)."""
        d = cls()

        def g(name: str) -> Any:
            return getattr(settings, name, getattr(d, name.removeprefix("cache_"), None))

        threshold = getattr(settings, "cache_compress_threshold", d.compress_threshold)
        memory_ttl = getattr(settings, "cache_memory_ttl", d.memory_ttl)
        return cls(
            redis_url=getattr(settings, "effective_redis_url", None),
            enabled=g("cache_enabled"),
            key_prefix=g("cache_key_prefix"),
            version=str(g("cache_version")),
            default_ttl=int(getattr(settings, "redis_cache_ttl", d.default_ttl)) or d.default_ttl,
            memory_max_items=g("cache_memory_max_items"),
            memory_max_bytes=g("cache_memory_max_bytes"),
            memory_ttl=None if memory_ttl is None or memory_ttl <= 0 else memory_ttl,
            compress_threshold=None if threshold is None or threshold < 0 else threshold,
            serializer=g("cache_serializer"),
            socket_timeout=getattr(settings, "redis_socket_timeout", d.socket_timeout),
            connect_timeout=getattr(settings, "redis_connect_timeout", d.connect_timeout),
            max_connections=getattr(settings, "redis_max_connections", d.max_connections),
            pool_timeout=getattr(settings, "redis_pool_timeout", d.pool_timeout),
            keepalive=getattr(settings, "redis_keepalive", d.keepalive),
            retries=getattr(settings, "redis_retries", d.retries),
            breaker_fail_max=g("cache_breaker_fail_max"),
            breaker_reset_seconds=g("cache_breaker_reset_seconds"),
        )


class _MemoryLRU:
    """Thread-safe LRU of encoded blobs, bounded by entry count and total bytes, with expiry."""

    def __init__(self, max_items: int, max_bytes: int) -> None:
        self.max_items = max_items
        self.max_bytes = max_bytes
        self._data: OrderedDict[str, tuple[bytes, float]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        now = time.monotonic()
        with self._lock:
            item = self._data.get(key)
            if item is None:
                return None
            blob, expires = item
            if expires <= now:
                self._drop(key)
                return None
            self._data.move_to_end(key)
            return blob

    def set(self, key: str, blob: bytes, ttl: float) -> None:
        if self.max_items <= 0 or len(blob) > self.max_bytes:
            return
        expires = time.monotonic() + ttl
        with self._lock:
            if key in self._data:
                self._drop(key)
            self._data[key] = (blob, expires)
            self._bytes += len(blob)
            while len(self._data) > self.max_items or self._bytes > self.max_bytes:
                self._drop(next(iter(self._data)))

    def delete(self, key: str) -> None:
        with self._lock:
            if key in self._data:
                self._drop(key)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self._bytes = 0

    def _drop(self, key: str) -> None:
        blob, _ = self._data.pop(key)
        self._bytes -= len(blob)

    @property
    def size(self) -> tuple[int, int]:
        """(entries, bytes) currently held."""
        with self._lock:
            return len(self._data), self._bytes


class _BreakerMetrics(pybreaker.CircuitBreakerListener):
    def state_change(self, cb: pybreaker.CircuitBreaker, old_state: Any, new_state: Any) -> None:
        name = new_state.name if new_state is not None else "closed"
        metrics.CACHE_BREAKER_STATE.set(_BREAKER_CODES.get(name, 0))
        log.warning("redis cache circuit breaker %s -> %s",
                    old_state.name if old_state is not None else "?", name)


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
                if lookups else None,
                "sets": self.sets,
                "errors": self.errors,
                "bytes_written": self.bytes_written,
                "redis_mean_ms": round(1000 * self.redis_seconds / self.redis_calls, 3)
                if self.redis_calls else None,
            }


class CacheService:
    """Two-level cache (process LRU, then Redis) with sync and async APIs.

    Every method swallows Redis and decoding failures: a failure is a miss (or a skipped
    write), counted in ``cache_errors_total``. With no Redis URL the service is memory-only;
    with ``enabled=False`` it caches nothing and ``get_or_compute`` simply computes.
    """

    def __init__(self, config: CacheConfig | None = None) -> None:
        self.config = config or CacheConfig()
        self.codec = Codec(get_serializer(self.config.serializer), self.config.compress_threshold,
                           self.config.compress_level)
        self.memory = _MemoryLRU(self.config.memory_max_items, self.config.memory_max_bytes)
        self.breaker = pybreaker.CircuitBreaker(
            fail_max=self.config.breaker_fail_max,
            reset_timeout=self.config.breaker_reset_seconds,
            listeners=[_BreakerMetrics()],
            # A request cancelled mid-call (client gone) says nothing about Redis' health.
            exclude=[asyncio.CancelledError],
            name="redis-cache",
        )
        self.stats = CacheStats()
        self._sync_client: redis.Redis | None = None
        self._sync_lock = threading.Lock()
        self._async_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aioredis.Redis]
        self._async_clients = weakref.WeakKeyDictionary()
        metrics.CACHE_BREAKER_STATE.set(0)

    # ------------------------------------------------------------------ configuration
    @property
    def backend(self) -> str:
        """"redis", "memory" (no Redis configured) or "disabled"."""
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
            from redis.asyncio.retry import Retry as AsyncRetry

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
            return _MISSING

    def _encode(self, value: Any) -> bytes | None:
        try:
            blob = self.codec.encode(value)
        except CodecError as exc:
            self._failed("encode", exc)
            return None
        metrics.CACHE_VALUE_BYTES.observe(len(blob))
        return blob

    # ------------------------------------------------------------------ sync API
    def lookup(self, key: str, namespace: str = "default") -> tuple[bool, Any]:
        """(found, value) for ``key``: memory first, then Redis; failures are misses."""
        if not self.config.enabled:
            return False, None
        blob = self.memory.get(key)
        if blob is not None:
            value = self._decode(key, blob)
            if value is not _MISSING:
                self._hit(namespace, "memory")
                return True, value
        if self.config.redis_url:
            start = time.perf_counter()
            try:
                with self.breaker.calling():
                    # GET and PTTL in one round trip: the memory copy must not outlive Redis'.
                    pipe = self._client().pipeline(transaction=False)
                    pipe.get(key)
                    pipe.pttl(key)
                    raw, pttl = pipe.execute()
                self._timed("get", start)
            except _CACHE_FAILURES as exc:
                self._failed("get", exc)
                raw, pttl = None, -2
            if raw is not None:
                value = self._decode(key, raw)
                if value is not _MISSING:
                    self.memory.set(key, raw, self._memory_ttl_left(pttl))
                    self._hit(namespace, "redis")
                    return True, value
        self._miss(namespace)
        return False, None

    def get(self, key: str, default: Any = None, namespace: str = "default") -> Any:
        """The cached value of ``key``, or ``default``."""
        found, value = self.lookup(key, namespace)
        return value if found else default

    def set(self, key: str, value: Any, ttl: float | None = None) -> bool:
        """Store ``value`` for ``ttl`` seconds (default ``REDIS_CACHE_TTL``); True if stored in
        every configured layer."""
        if not self.config.enabled:
            return False
        ttl = self._ttl(ttl)
        blob = self._encode(value)
        if blob is None:
            return False
        return self._store(key, blob, ttl)

    def _store(self, key: str, blob: bytes, ttl: float) -> bool:
        self.memory.set(key, blob, self._memory_ttl(ttl))
        self.stats.add(sets=1, bytes_written=len(blob))
        if not self.config.redis_url:
            return True
        start = time.perf_counter()
        try:
            with self.breaker.calling():
                self._client().set(key, blob, px=max(1, int(ttl * 1000)))
            self._timed("set", start)
            return True
        except _CACHE_FAILURES as exc:
            self._failed("set", exc)
            return False

    def delete(self, key: str) -> None:
        """Remove ``key`` from both layers (best effort for Redis)."""
        self.memory.delete(key)
        if self.config.redis_url and self.config.enabled:
            try:
                with self.breaker.calling():
                    self._client().delete(key)
            except _CACHE_FAILURES as exc:
                self._failed("delete", exc)

    def get_or_compute(self, namespace: str, payload: Any, fn: Callable[[], T],
                       ttl: float | None = None) -> T:
        """The value for ``payload`` in ``namespace``: cached if present, else ``fn()`` (then
        stored). The key is the content hash of the full ``payload``. A cached value equals a
        fresh one exactly (the default serialiser is lossless; with a lossy one the fresh value
        is round-tripped too)."""
        if not self.config.enabled:
            return fn()
        try:
            key = self.key(namespace, payload)
        except TypeError as exc:
            log.error("cache key for %s failed, computing directly: %s", namespace, exc)
            return fn()
        found, value = self.lookup(key, namespace)
        if found:
            return value
        fresh = fn()
        return self._remember(key, fresh, ttl)

    def _remember(self, key: str, fresh: Any, ttl: float | None) -> Any:
        blob = self._encode(fresh)
        if blob is None:
            return fresh
        self._store(key, blob, self._ttl(ttl))
        if not self.codec.serializer.exact:
            return self.codec.decode(blob)
        return fresh

    # ------------------------------------------------------------------ async API
    async def alookup(self, key: str, namespace: str = "default") -> tuple[bool, Any]:
        """Async :meth:`lookup`."""
        if not self.config.enabled:
            return False, None
        blob = self.memory.get(key)
        if blob is not None:
            value = self._decode(key, blob)
            if value is not _MISSING:
                self._hit(namespace, "memory")
                return True, value
        if self.config.redis_url:
            start = time.perf_counter()
            try:
                with self.breaker.calling():
                    async with self._aclient().pipeline(transaction=False) as pipe:
                        pipe.get(key)
                        pipe.pttl(key)
                        raw, pttl = await pipe.execute()
                self._timed("get", start)
            except _CACHE_FAILURES as exc:
                self._failed("get", exc)
                raw, pttl = None, -2
            if raw is not None:
                value = self._decode(key, raw)
                if value is not _MISSING:
                    self.memory.set(key, raw, self._memory_ttl_left(pttl))
                    self._hit(namespace, "redis")
                    return True, value
        self._miss(namespace)
        return False, None

    async def aget(self, key: str, default: Any = None, namespace: str = "default") -> Any:
        """Async :meth:`get`."""
        found, value = await self.alookup(key, namespace)
        return value if found else default

    async def aset(self, key: str, value: Any, ttl: float | None = None) -> bool:
        """Async :meth:`set`."""
        if not self.config.enabled:
            return False
        ttl = self._ttl(ttl)
        blob = self._encode(value)
        if blob is None:
            return False
        return await self._astore(key, blob, ttl)

    async def _astore(self, key: str, blob: bytes, ttl: float) -> bool:
        self.memory.set(key, blob, self._memory_ttl(ttl))
        self.stats.add(sets=1, bytes_written=len(blob))
        if not self.config.redis_url:
            return True
        start = time.perf_counter()
        try:
            with self.breaker.calling():
                await self._aclient().set(key, blob, px=max(1, int(ttl * 1000)))
            self._timed("set", start)
            return True
        except _CACHE_FAILURES as exc:
            self._failed("set", exc)
            return False

    async def adelete(self, key: str) -> None:
        """Async :meth:`delete`."""
        self.memory.delete(key)
        if self.config.redis_url and self.config.enabled:
            try:
                with self.breaker.calling():
                    await self._aclient().delete(key)
            except _CACHE_FAILURES as exc:
                self._failed("delete", exc)

    async def aget_or_compute(self, namespace: str, payload: Any,
                              fn: Callable[[], T | Awaitable[T]],
                              ttl: float | None = None) -> T:
        """Async :meth:`get_or_compute`; ``fn`` may be sync or async. A CPU-heavy sync ``fn``
        blocks the event loop: pass ``lambda: run_in_threadpool(...)``-style wrappers for those."""
        if not self.config.enabled:
            return await _maybe_await(fn())
        try:
            key = self.key(namespace, payload)
        except TypeError as exc:
            log.error("cache key for %s failed, computing directly: %s", namespace, exc)
            return await _maybe_await(fn())
        found, value = await self.alookup(key, namespace)
        if found:
            return value
        fresh = await _maybe_await(fn())
        blob = self._encode(fresh)
        if blob is None:
            return fresh
        await self._astore(key, blob, self._ttl(ttl))
        return fresh if self.codec.serializer.exact else self.codec.decode(blob)

    # ------------------------------------------------------------------ health and lifecycle
    def health(self) -> dict[str, Any]:
        """Configuration, breaker state, memory-layer size and hit/miss statistics."""
        items, nbytes = self.memory.size
        return {
            "backend": self.backend,
            "breaker": self.breaker.current_state,
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
        except _REDIS_ERRORS as exc:
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


async def _maybe_await(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


# ---------------------------------------------------------------------- process-wide instance
_instance: CacheService | None = None
_instance_lock = threading.Lock()


def get_cache() -> CacheService:
    """The process-wide cache, built from ``get_settings()`` on first use."""
    global _instance
    if _instance is None:
        with _instance_lock:
            if _instance is None:
                from app.core.config import get_settings

                _instance = CacheService(CacheConfig.from_settings(get_settings()))
    return _instance


def set_cache(cache: CacheService | None) -> None:
    """Replace the process-wide cache (``None`` rebuilds it from the settings on next use)."""
    global _instance
    _instance = cache


# ---------------------------------------------------------------------- decorator
def cached(ttl: float | None = None, *, namespace: str | None = None,
           cache: CacheService | Callable[[], CacheService] | None = None,
           ignore: tuple[str, ...] = ()) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Cache a sync or async function's results by the content of its arguments.

    The key is the function's namespace (default ``module.qualname``) plus a hash of the bound
    arguments with defaults applied, so positional/keyword spelling and keyword order do not
    matter; NumPy arrays and pydantic models are hashed by content. Names in ``ignore`` (e.g.
    ``"self"``, a session) are left out of the key. If the return annotation is a pydantic model,
    cached values are revalidated into that model.
    """

    def resolve() -> CacheService:
        if cache is None:
            return get_cache()
        return cache if isinstance(cache, CacheService) else cache()

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        ns = namespace or f"{fn.__module__}.{fn.__qualname__}"
        model = _return_model(fn)

        def key_for(svc: CacheService, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str | None:
            try:
                digest = call_fingerprint(fn, args, kwargs, ignore)
            except TypeError as exc:
                log.error("cache key for %s failed, computing directly: %s", ns, exc)
                return None
            return f"{svc.config.key_prefix}:{svc.config.version}:{ns}:{digest}"

        def revive(value: Any) -> Any:
            return model.model_validate(value) if model is not None and isinstance(value, dict) else value

        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                svc = resolve()
                key = key_for(svc, args, kwargs) if svc.config.enabled else None
                if key is None:
                    return await fn(*args, **kwargs)
                found, value = await svc.alookup(key, ns)
                if found:
                    return revive(value)
                fresh = await fn(*args, **kwargs)
                blob = svc._encode(fresh)
                if blob is not None:
                    await svc._astore(key, blob, svc._ttl(ttl))
                    if not svc.codec.serializer.exact:
                        return revive(svc.codec.decode(blob))
                return fresh

            async_wrapper.cache_namespace = ns  # type: ignore[attr-defined]
            return async_wrapper

        @functools.wraps(fn)
        def sync_wrapper(*args: Any, **kwargs: Any) -> Any:
            svc = resolve()
            key = key_for(svc, args, kwargs) if svc.config.enabled else None
            if key is None:
                return fn(*args, **kwargs)
            found, value = svc.lookup(key, ns)
            if found:
                return revive(value)
            fresh = fn(*args, **kwargs)
            remembered = svc._remember(key, fresh, ttl)
            return fresh if remembered is fresh else revive(remembered)

        sync_wrapper.cache_namespace = ns  # type: ignore[attr-defined]
        return sync_wrapper

    return decorate


def _return_model(fn: Callable[..., Any]) -> type[BaseModel] | None:
    try:
        hint = get_type_hints(fn).get("return")
    except Exception:  # unresolvable forward references: no model revival
        return None
    return hint if isinstance(hint, type) and issubclass(hint, BaseModel) else None
