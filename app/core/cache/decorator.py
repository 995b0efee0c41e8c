"""`@cached(ttl=...)`: cache a sync or async function's results by the content of its
arguments, through the same service core as direct calls."""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable
from typing import Any, get_type_hints

from pydantic import BaseModel

from app.core.cache.instance import get_cache
from app.core.cache.keys import call_fingerprint
from app.core.cache.service import CacheService

log = logging.getLogger("app.core.cache")


def cached(
    ttl: float | None = None,
    *,
    namespace: str | None = None,
    cache: CacheService | Callable[[], CacheService] | None = None,
    ignore: tuple[str, ...] = (),
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
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
            return (
                model.model_validate(value)
                if model is not None and isinstance(value, dict)
                else value
            )

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
                remembered = await svc._aremember(key, fresh, ttl)
                return fresh if remembered is fresh else revive(remembered)

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
