"""Every dependency of every route runs on the event loop: FastAPI sends a plain `def`
dependency (or endpoint) to its thread pool, a thread hop on each request that uses it
(~0.1-0.5 ms over loopback for nothing when the function only reads app state)."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from app.main import create_app
from tests.conftest import make_settings


def _runs_on_the_loop(call: Any) -> bool:
    if inspect.iscoroutinefunction(call) or inspect.isasyncgenfunction(call):
        return True
    # security schemes (HTTPBearer) are instances whose class has an async __call__
    return inspect.iscoroutinefunction(type(call).__call__)


def _calls(dependant: Dependant) -> Iterator[tuple[str, Any]]:
    for dep in dependant.dependencies:
        if dep.call is not None:
            yield getattr(dep.call, "__qualname__", type(dep.call).__name__), dep.call
        yield from _calls(dep)


def _api_routes(routes: list[Any]) -> Iterator[APIRoute]:
    """The APIRoutes of the app, inside included routers too."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        inner = getattr(route, "original_router", route)  # an included router
        if inner is not route or not isinstance(route, APIRoute):
            yield from _api_routes(list(getattr(inner, "routes", [])))


def test_no_route_dependency_or_endpoint_needs_the_thread_pool(tmp_path) -> None:
    app = create_app(make_settings(tmp_path))
    routes = list(_api_routes(app.routes))
    assert len(routes) > 30  # the API routes, not only the health probe
    sync = sorted(
        {
            f"{route.path}: {name}"
            for route in routes
            for name, call in [
                (route.endpoint.__qualname__, route.endpoint),
                *_calls(route.dependant),
            ]
            if not _runs_on_the_loop(call)
        }
    )
    assert sync == []
