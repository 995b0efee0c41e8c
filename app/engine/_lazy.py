"""Deferred imports of heavy optional libraries (SciPy): the module is imported on first use,
so importing the service (`import app.main`) does not pay for solvers a request may never call.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from types import ModuleType
from typing import Any

__all__ = ["lazy_function", "lazy_module"]


class _LazyModule(ModuleType):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self._target: ModuleType | None = None

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__") or attr == "_target":
            raise AttributeError(attr)
        if self._target is None:
            self._target = importlib.import_module(self.__name__)
        return getattr(self._target, attr)


def lazy_module(name: str) -> Any:
    """A stand-in for module `name` that imports it at the first attribute access."""
    return _LazyModule(name)


def lazy_function(module: str, name: str) -> Callable[..., Any]:
    """A function that imports `module` at its first call and forwards to `module.name`."""
    target: list[Callable[..., Any]] = []

    def call(*args: Any, **kwargs: Any) -> Any:
        if not target:
            target.append(getattr(importlib.import_module(module), name))
        return target[0](*args, **kwargs)

    call.__name__ = call.__qualname__ = name
    call.__doc__ = f"{module}.{name}, imported at the first call."
    return call
