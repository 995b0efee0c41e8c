"""A Monte Carlo result as the route's JSON body (the same body a `monte_carlo` job stores).

Floats are exact (JSON round-trips float64); NaN and ±inf become null.
"""

from __future__ import annotations

import math
from typing import Any

from app.engine.montecarlo import Distribution, MonteCarloRequest, MonteCarloResult


def _num(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def _dist(d: Distribution | None) -> dict[str, Any] | None:
    if d is None:
        return None
    return {
        "mean": _num(d.mean),
        "standard_error": _num(d.standard_error),
        "std": _num(d.std),
        "percentiles": {f"{q:g}": _num(v) for q, v in d.percentiles.items()},
        "histogram": {
            "counts": [int(c) for c in d.histogram_counts],
            "edges": [_num(float(e)) for e in d.histogram_edges],
        },
    }


def result_json(req: MonteCarloRequest, res: MonteCarloResult) -> dict[str, Any]:
    """The route's response body (NaN/inf never appear: they become null)."""
    return {
        "n_paths": res.n_paths,
        "n_months": res.n_months,
        "pv": _dist(res.pv),
        "wal": _dist(res.wal),
        "loss": _dist(res.loss),
        "yield": _dist(res.yield_),
        "oas": _num(res.oas),
        "z_spread": _num(res.z_spread),
        "option_cost": _num(res.option_cost),
        "effective_duration": _num(res.effective_duration),
        "effective_convexity": _num(res.effective_convexity),
        "mean_discounted_cashflow": [_num(float(v)) for v in res.mean_discounted_cashflow],
    }
