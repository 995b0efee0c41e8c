"""`CacheService`: the shared core under two thin faces, sync (`lookup`, `get`, `set`,
`delete`, `get_or_compute`) and async (`alookup`, `aget`, `aset`, `adelete`,
`aget_or_compute`). Each face only makes the Redis call; memory tier, decoding, hit/miss
counting, the breaker and failure handling are the core's (app/core/cache/core.py)."""

from __future__ import annotations

import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from app.core.cache.core import MISSING, CacheCore, cache_failures

T = TypeVar("T")

__all__ = ["CacheService"]


class CacheService(CacheCore):
    """Two-level cache (process LRU, then Redis) with sync and async APIs.

    Every method swallows Redis and decoding failures: a failure is a miss (or a skipped
    write), counted in ``cache_errors_total``. With no Redis URL the service is memory-only;
    with ``enabled=False`` it caches nothing and ``get_or_compute`` simply computes.
    """

    # ------------------------------------------------------------------ sync face
    def lookup(self, key: str, namespace: str = "default") -> tuple[bool, Any]:
        """(found, value) for ``key``: memory first, then Redis; failures are misses."""
        if not self.config.enabled:
            return False, None
        value = self._memory_lookup(key, namespace)
        if value is MISSING and self.config.redis_url:
            start = time.perf_counter()
            try:
                with self.breaker.calling():
                    # GET and PTTL in one round trip: the memory copy must not outlive Redis'.
                    pipe = self._client().pipeline(transaction=False)
                    pipe.get(key)
                    pipe.pttl(key)
                    raw, pttl = pipe.execute()
                self._timed("get", start)
            except cache_failures() as exc:
                self._failed("get", exc)
                raw, pttl = None, -2
            value = self._redis_found(key, namespace, raw, pttl)
        if value is MISSING:
            self._miss(namespace)
            return False, None
        return True, value

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
        self._store_memory(key, blob, ttl)
        if not self.config.redis_url:
            return True
        start = time.perf_counter()
        try:
            with self.breaker.calling():
                self._client().set(key, blob, px=max(1, int(ttl * 1000)))
            self._timed("set", start)
            return True
        except cache_failures() as exc:
            self._failed("set", exc)
            return False

    def delete(self, key: str) -> None:
        """Remove ``key`` from both layers (best effort for Redis)."""
        self.memory.delete(key)
        if self.config.redis_url and self.config.enabled:
            try:
                with self.breaker.calling():
                    self._client().delete(key)
            except cache_failures() as exc:
                self._failed("delete", exc)

    def get_or_compute(
        self, namespace: str, payload: Any, fn: Callable[[], T], ttl: float | None = None
    ) -> T:
        """The value for ``payload`` in ``namespace``: cached if present, else ``fn()`` (then
        stored). The key is the content hash of the full ``payload``. A cached value equals a
        fresh one exactly (the default serialiser is lossless; with a lossy one the fresh value
        is round-tripped too)."""
        key = self._key_or_none(namespace, payload) if self.config.enabled else None
        if key is None:
            return fn()
        found, value = self.lookup(key, namespace)
        if found:
            return value  # type: ignore[no-any-return]
        return self._remember(key, fn(), ttl)  # type: ignore[no-any-return]

    def _remember(self, key: str, fresh: Any, ttl: float | None) -> Any:
        blob = self._encode(fresh)
        if blob is None:
            return fresh
        self._store(key, blob, self._ttl(ttl))
        return self._returned(fresh, blob)

    # ------------------------------------------------------------------ async face
    async def alookup(self, key: str, namespace: str = "default") -> tuple[bool, Any]:
        """Async :meth:`lookup`."""
        if not self.config.enabled:
            return False, None
        value = self._memory_lookup(key, namespace)
        if value is MISSING and self.config.redis_url:
            start = time.perf_counter()
            try:
                with self.breaker.calling():
                    async with self._aclient().pipeline(transaction=False) as pipe:
                        pipe.get(key)
                        pipe.pttl(key)
                        raw, pttl = await pipe.execute()
                self._timed("get", start)
            except cache_failures() as exc:
                self._failed("get", exc)
                raw, pttl = None, -2
            value = self._redis_found(key, namespace, raw, pttl)
        if value is MISSING:
            self._miss(namespace)
            return False, None
        return True, value

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
        self._store_memory(key, blob, ttl)
        if not self.config.redis_url:
            return True
        start = time.perf_counter()
        try:
            with self.breaker.calling():
                await self._aclient().set(key, blob, px=max(1, int(ttl * 1000)))
            self._timed("set", start)
            return True
        except cache_failures() as exc:
            self._failed("set", exc)
            return False

    async def adelete(self, key: str) -> None:
        """Async :meth:`delete`."""
        self.memory.delete(key)
        if self.config.redis_url and self.config.enabled:
            try:
                with self.breaker.calling():
                    await self._aclient().delete(key)
            except cache_failures() as exc:
                self._failed("delete", exc)

    async def aget_or_compute(
        self,
        namespace: str,
        payload: Any,
        fn: Callable[[], T | Awaitable[T]],
        ttl: float | None = None,
    ) -> T:
        """Async :meth:`get_or_compute`; ``fn`` may be sync or async. A CPU-heavy sync ``fn``
        blocks the event loop: pass ``lambda: run_in_threadpool(...)``-style wrappers for those."""
        key = self._key_or_none(namespace, payload) if self.config.enabled else None
        if key is None:
            return await _maybe_await(fn())  # type: ignore[no-any-return]
        found, value = await self.alookup(key, namespace)
        if found:
            return value  # type: ignore[no-any-return]
        return await self._aremember(key, await _maybe_await(fn()), ttl)  # type: ignore[no-any-return]

    async def _aremember(self, key: str, fresh: Any, ttl: float | None) -> Any:
        blob = self._encode(fresh)
        if blob is None:
            return fresh
        await self._astore(key, blob, self._ttl(ttl))
        return self._returned(fresh, blob)


async def _maybe_await(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value
