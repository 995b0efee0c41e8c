"""Cache settings: `CacheConfig` (every knob, built from the app Settings) and `RedisConfig`,
the connection-shaped form the product README documents (`RedisConfig(url=..., ...)`).
Sizes in bytes, times in seconds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


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


@dataclass(frozen=True)
class RedisConfig:
    """A Redis-connection view of the cache settings: `CacheService(RedisConfig(url=...))`.

    url: the Redis URL (None: memory-only); default_ttl: seconds; default_compression: zlib
    for values over 32 KiB; socket timeouts in seconds; retry_on_timeout: one quick retry of a
    timed-out call (the circuit breaker, not retries, protects from an outage);
    health_check_interval: seconds between connection health checks.
    """

    url: str | None = None
    default_ttl: int = 3600
    default_compression: bool = True
    socket_timeout: float = 0.5
    socket_connect_timeout: float = 0.5
    socket_keepalive: bool = True
    retry_on_timeout: bool = True
    health_check_interval: int = 30
    key_prefix: str = "cfe"

    def to_cache_config(self) -> CacheConfig:
        """The equivalent CacheConfig (the other knobs at their defaults)."""
        base = CacheConfig()
        return CacheConfig(
            redis_url=self.url,
            key_prefix=self.key_prefix,
            default_ttl=self.default_ttl,
            compress_threshold=base.compress_threshold if self.default_compression else None,
            socket_timeout=self.socket_timeout,
            connect_timeout=self.socket_connect_timeout,
            keepalive=self.socket_keepalive,
            retries=1 if self.retry_on_timeout else 0,
            health_check_interval=self.health_check_interval,
        )
