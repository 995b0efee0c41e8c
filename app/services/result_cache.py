"""Result caching of forecast computations, keyed by the hash of their full input.

The key covers everything the result depends on: the pool (every array, ride-along columns
included), each scenario's name and engine assumptions, the valuation, the options, whether the
analytics module is present, and a fingerprint of the source code that computes and shapes
results (engine, assets, models, services), so a deploy that changes it never serves results
computed by the old code (CACHE_VERSION is the manual switch on top). A hit returns the same columns (bit for bit) and analytics as a fresh run.

Loan-level runs are not cached: their per-loan results are large and are stored in chunks.
Fresh runs are timed into the engine throughput metrics (loans x periods x scenarios / s).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

import anyio

from app.core.cache import get_cache
from app.core.metrics import observe_engine_run
from app.engine.projection import Projection

__all__ = ["cached_compute_forecast", "cached_result", "engine_fingerprint"]

NAMESPACE = "forecast"
T = TypeVar("T")


_CODE_DIRS = ("engine", "assets", "models", "services")


@lru_cache(maxsize=1)
def engine_fingerprint() -> str:
    """SHA-256 of the Python sources that compute results (app/engine, app/assets, app/models,
    app/services), computed once per process: a deploy changing any of them starts afresh."""
    app_root = Path(__file__).resolve().parents[1]
    h = hashlib.sha256()
    for name in _CODE_DIRS:
        for path in sorted((app_root / name).rglob("*.py")):
            h.update(str(path.relative_to(app_root)).encode())
            h.update(path.read_bytes())
    return h.hexdigest()[:32]


def _key_payload(plan: Any, analytics: bool) -> dict[str, Any]:
    return {
        "engine": engine_fingerprint(),
        "analytics": analytics,
        "pool": plan.pool,
        "scenarios": [(sc.name, sc.assumptions) for sc in plan.scenarios],
        "valuation": plan.valuation,
        "options": plan.options,
    }


def cached_compute_forecast(plan: Any) -> list[Any]:
    """``forecasts.compute_forecast(plan)`` through the result cache (sync; run it in a worker
    thread like the computation itself). Cache failures fall back to computing."""
    from app.services import forecasts  # the service imports us: avoid an import cycle

    def fresh() -> list[Any]:
        start = time.perf_counter()
        outcomes = forecasts.compute_forecast(plan)
        observe_engine_run(
            len(plan.pool),
            max(o.projection.n_periods for o in outcomes),
            time.perf_counter() - start,
            kind="forecast",
            n_scenarios=len(outcomes),
        )
        return outcomes

    if plan.options.loan_level:
        return fresh()
    payload = _key_payload(plan, forecasts.analytics_available())

    def fresh_encoded() -> list[dict[str, Any]]:
        return [
            {
                "name": o.name,
                "columns": o.projection.columns,
                "n_periods": o.projection.n_periods,
                "analytics": o.analytics,
            }
            for o in fresh()
        ]

    encoded = get_cache().get_or_compute(NAMESPACE, payload, fresh_encoded)
    return [
        forecasts.ScenarioOutcome(
            e["name"],
            Projection(columns=e["columns"], n_periods=int(e["n_periods"])),
            e["analytics"],
        )
        for e in encoded
    ]


async def cached_result(
    namespace: str, key_input: Any, compute: Callable[[], T], *, work_cells: float | None = None
) -> T:
    """Any deterministic engine computation through the cache (async): ``compute()`` runs in
    a worker thread on a miss, keyed by ``key_input`` (its full input) and the engine source
    fingerprint. ``work_cells`` (loans x periods x paths, ...) feeds the engine throughput
    metric under ``kind=namespace`` for fresh runs. Exceptions from ``compute`` propagate."""

    async def fresh() -> T:
        start = time.perf_counter()
        value = await anyio.to_thread.run_sync(compute)
        if work_cells is not None:
            observe_engine_run(
                int(work_cells), 1, time.perf_counter() - start, kind=namespace, count_loans=False
            )
        return value

    payload = {"engine": engine_fingerprint(), "input": key_input}
    return await get_cache().aget_or_compute(namespace, payload, fresh)
