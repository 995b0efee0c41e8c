"""Spreads of a Monte Carlo run: the OAS (constant continuously compounded spread over the
path short rates) and the Z-spread of the zero-volatility cash flows (DOMAIN.md §5)."""

from __future__ import annotations

import numpy as np

from app.engine._lazy import lazy_function
from app.engine.analytics.conventions import Compounding
from app.engine.analytics.measures import z_spread as analytics_z_spread
from app.engine.errors import ConvergenceError, UnreachablePrice
from app.engine.montecarlo.preparation import prepare, project_paths, zero_vol
from app.engine.montecarlo.request import (
    MonteCarloRequest,
)
from app.engine.rates.curve import DiscountCurve
from app.engine.rates.models import (
    calibrate,
)
from app.engine.rates.paths import block_rng, simulate_short_rates

brentq = lazy_function("scipy.optimize", "brentq")  # SciPy imported at the first call


def solve_spread(
    discounted: np.ndarray, times: np.ndarray, target: float, *, field: str = "price"
) -> float:
    """Constant continuously compounded spread s with Σ_i discounted_i·e^{−s·t_i} = target.

    Brent's method on a bracket grown from [−0.05, 0.05]; the sum is decreasing in s when the
    discounted amounts are non-negative. Raises UnreachablePrice when no s in [−1, 5] works.
    """
    d = np.ascontiguousarray(discounted, dtype=np.float64)
    t = np.ascontiguousarray(times, dtype=np.float64)

    def f(s: float) -> float:
        return float(d @ np.exp(-s * t)) - target

    lo, hi = -0.05, 0.05
    flo, fhi = f(lo), f(hi)
    while flo * fhi > 0:
        if flo < 0 and fhi < 0 and lo > -1.0:
            lo, hi, fhi = max(lo * 2, -1.0), lo, flo
            flo = f(lo)
        elif flo > 0 and fhi > 0 and hi < 5.0:
            lo, hi, flo = hi, min(hi * 2, 5.0), fhi
            fhi = f(hi)
        else:
            raise UnreachablePrice(f"no spread in [-1, 5] reprices to {target!r}", field=field)
    if flo == 0.0:
        return lo
    if fhi == 0.0:
        return hi
    s, info = brentq(f, lo, hi, xtol=1e-15, rtol=8.9e-16, maxiter=200, full_output=True)
    if not info.converged:
        raise ConvergenceError("spread solver did not converge", field=field)
    return float(s)


def solve_oas(mean_discounted_cashflow: np.ndarray, times: np.ndarray, price: float) -> float:
    """OAS: s with mean_p PV_p(s) = price, from the mean over paths of CF·D per month."""
    return solve_spread(mean_discounted_cashflow, times, price)


def deterministic_cashflows(req: MonteCarloRequest) -> np.ndarray:
    """Total cash flow per month on the zero-volatility path (for Hull-White: the forward
    curve) with no macro shock: the static projection behind the Z-spread."""
    prep = prepare(req)
    cal = calibrate(zero_vol(req.rate_model), req.curve, prep.n, req.mortgage_rate)
    rates = simulate_short_rates(cal, block_rng(req.seed, 0, 0), 1)
    return project_paths(req, prep, cal, rates, np.empty((0, 0)), keep_cf=True)["cf"][0]


def z_spread(cashflows: np.ndarray, times: np.ndarray, curve: DiscountCurve, price: float) -> float:
    """Z-spread: constant continuously compounded spread added to the curve's zero rates that
    prices `cashflows` (at `times`, years) to `price` (DOMAIN.md §5); the analytics solver."""
    return float(
        analytics_z_spread(
            np.asarray(cashflows, dtype=np.float64),
            np.asarray(times, dtype=np.float64),
            curve,  # type: ignore[arg-type]  # only discount(t) is used
            float(price),
            Compounding.CONTINUOUS,
        )
    )
