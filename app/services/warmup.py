"""Engine warm-up: run a tiny instance of every kernel a first request can reach, so Numba
compiles it (or loads it from its on-disk cache, `cache=True`) before any user waits for it.

`cashflow-engine warm-up` runs this during set-up (scripts/serve.sh), so the cache exists before
the server starts; the server runs it again in a background thread, where it only loads the cache.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import numpy as np

log = logging.getLogger(__name__)


def _projection_and_analytics() -> None:
    from app.services.forecasts import warm_up

    warm_up()


def _monte_carlo() -> None:
    from app.engine.montecarlo import MonteCarloRequest, RepLines, run_monte_carlo
    from app.engine.rates.curve import FlatCurve

    pool = RepLines.from_columns(
        balance=np.array([1000.0]), note_rate=np.array([0.06]), remaining_term=np.array([12])
    )
    req = MonteCarloRequest(
        pool=pool, curve=FlatCurve(0.04), n_paths=8, block_size=8, price=990.0, default_cdr=0.01
    )
    run_monte_carlo(req)


def _deals() -> None:
    from app.services import deals

    deals.warm_up()


def _commercial() -> None:
    from app.services import commercial

    commercial.warm_up()


def _consumer_credit() -> None:
    from app.services import consumer_credit

    consumer_credit.warm_up()


STEPS: tuple[tuple[str, Callable[[], None]], ...] = (
    ("projection and analytics", _projection_and_analytics),
    ("monte carlo", _monte_carlo),
    ("deals and CLO", _deals),
    ("commercial loans", _commercial),
    ("consumer credit", _consumer_credit),
)


def warm_up_all() -> dict[str, float]:
    """Run every warm-up step; returns seconds per step. A failing step is logged and skipped
    (it only means that kernel compiles on its first request)."""
    seconds: dict[str, float] = {}
    for name, step in STEPS:
        start = time.perf_counter()
        try:
            step()
        except Exception:
            log.exception("warm-up of %s failed", name)
            continue
        seconds[name] = time.perf_counter() - start
    return seconds
