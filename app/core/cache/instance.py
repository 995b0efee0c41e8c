"""The process-wide cache instance: built from the settings on first use, replaceable."""

from __future__ import annotations

import threading

from app.core.cache.config import CacheConfig
from app.core.cache.service import CacheService

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
