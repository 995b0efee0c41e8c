"""Result cache: an in-process LRU in front of Redis behind a circuit breaker (a Redis problem
is a miss, never a failed request), with sync and async APIs and a decorator.

Use ``get_cache()`` for the process-wide service (built from the settings), ``cache.get_or_compute``
/ ``await cache.aget_or_compute`` from services, and ``@cached(ttl=...)`` on functions. The
documented public face is `app.core.cache_service` (`CacheService`, `RedisConfig`, `cached`).

Modules: config (CacheConfig, RedisConfig), memory (the LRU tier), codec and keys (values and
their content-hash keys), core (what both faces share), service (the sync and async faces),
instance (the process-wide one), decorator (`@cached`).
"""

from app.core.cache.config import CacheConfig, RedisConfig
from app.core.cache.core import CacheStats
from app.core.cache.decorator import cached
from app.core.cache.instance import get_cache, set_cache
from app.core.cache.service import CacheService

__all__ = [
    "CacheConfig",
    "CacheService",
    "CacheStats",
    "RedisConfig",
    "cached",
    "get_cache",
    "set_cache",
]
