"""The cache's public face, as the README documents it::

    from app.core.cache_service import CacheService, RedisConfig, cached

    cache = CacheService(RedisConfig(url="redis://localhost:6379/0", default_ttl=3600,
                                     default_compression=True, socket_timeout=5.0,
                                     socket_connect_timeout=3.0, socket_keepalive=True,
                                     retry_on_timeout=True, health_check_interval=30))

    @cached(ttl=600)
    async def price(...): ...      # async and sync functions alike

The implementation is the `app.core.cache` package.
"""

from app.core.cache import CacheConfig, CacheService, RedisConfig, cached, get_cache, set_cache

__all__ = ["CacheConfig", "CacheService", "RedisConfig", "cached", "get_cache", "set_cache"]
