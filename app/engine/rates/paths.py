"""Seeded short-rate and mortgage-rate paths on the monthly grid.

Reproducibility: the random numbers of path block b come only from
SeedSequence(seed, spawn_key=(b,)) (PCG64), so a block's paths are the same whichever worker
runs it and however the blocks are grouped into chunks.
"""

from __future__ import annotations

import math

import numpy as np

from app.engine._lazy import lazy_function
from app.engine.errors import FieldProblem, InvalidInput
from app.engine.rates.models import DT, CalibratedModel

gaussian_short_rates_nb = lazy_function("app.engine._kernels.rates_nb", "gaussian_short_rates_nb")


def block_rng(seed: int, block_index: int, stream: int = 0) -> np.random.Generator:
    """The generator of path block `block_index` (stream 0: rates, 1: macro factor)."""
    ss = np.random.SeedSequence(int(seed), spawn_key=(int(block_index), int(stream)))
    return np.random.Generator(np.random.PCG64(ss))


def simulate_short_rates(
    model: CalibratedModel, rng: np.random.Generator, n_paths: int, *, antithetic: bool = False
) -> np.ndarray:
    """Short rates r[p, i] (decimal per year, held over month i+1), shape (n_paths, n_months).

    Antithetic pairs are adjacent paths (2j, 2j+1) driven by ε and −ε; n_paths must be even.
    Zero volatility draws nothing and returns identical deterministic paths.
    """
    n = model.n_months
    if antithetic and n_paths % 2:
        raise InvalidInput([FieldProblem(None, "n_paths", "must be even with antithetic variates")])
    if model.kind == "gaussian":
        out = np.empty((n_paths, n))
        if model.step_sd == 0.0:
            out[:] = model.alpha[:n]
            return out
        n_draws = n_paths // 2 if antithetic else n_paths
        eps = rng.standard_normal((n_draws, max(n - 1, 0)))
        gaussian_short_rates_nb(eps, model.alpha, model.phi, model.step_sd, antithetic, out)
        return out
    if antithetic:
        raise InvalidInput(
            [FieldProblem(None, "antithetic", "not available for CIR (exact chi-square sampling)")]
        )
    return _cir_paths(model, rng, n_paths)


def _cir_paths(model: CalibratedModel, rng: np.random.Generator, n_paths: int) -> np.ndarray:
    """Exact CIR transition: r_{i+1} = c·χ'²(d, λ), c = σ²(1−e^{−κΔ})/(4κ), d = 4κθ/σ²,
    λ = r_i·e^{−κΔ}/c. Zero σ follows the deterministic ODE solution."""
    k, theta, sigma = model.cir_kappa, model.cir_theta, model.cir_sigma
    n = model.n_months
    out = np.empty((n_paths, n))
    out[:, 0] = model.cir_r0
    decay = math.exp(-k * DT)
    if sigma == 0.0:
        for i in range(1, n):
            out[:, i] = theta + (out[:, i - 1] - theta) * decay
        return out
    c = sigma * sigma * (-math.expm1(-k * DT)) / (4.0 * k)
    d = 4.0 * k * theta / (sigma * sigma)
    for i in range(1, n):
        out[:, i] = c * rng.noncentral_chisquare(d, out[:, i - 1] * (decay / c))
    return out


def path_discount_factors(short_rates: np.ndarray) -> np.ndarray:
    """D[p, k] = exp(−Δ·Σ_{i<k} r[p, i]) for k = 1..n_months (continuous, left-point rule)."""
    return np.exp(-DT * np.cumsum(short_rates, axis=1))


def mortgage_rates(model: CalibratedModel, short_rates: np.ndarray) -> np.ndarray:
    """Mortgage (refinancing) rate per path and month: m = mort_c[i] + mort_d·r[p, i]."""
    return model.mort_c[None, :] + model.mort_d * short_rates
