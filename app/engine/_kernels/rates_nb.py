"""Numba kernels for short-rate paths on the monthly grid (see app/engine/rates/models.py)."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def gaussian_short_rates_nb(
    eps: np.ndarray,
    alpha: np.ndarray,
    phi: float,
    step_sd: float,
    antithetic: bool,
    out: np.ndarray,
) -> None:
    """r[p, i] = α_i + x_i, x_0 = 0, x_{i+1} = φ·x_i + s·ε; writes `out` (n_paths, n_months).

    eps: (n_draws, n_months − 1) standard normals; with `antithetic`, path 2j uses row j and
    path 2j+1 uses −row j (n_paths = 2·n_draws), else path p uses row p.
    """
    n_paths, n_months = out.shape
    for p in range(n_paths):
        row = p // 2 if antithetic else p
        sign = -1.0 if (antithetic and (p % 2 == 1)) else 1.0
        x = 0.0
        out[p, 0] = alpha[0]
        for i in range(1, n_months):
            x = phi * x + step_sd * sign * eps[row, i - 1]
            out[p, i] = alpha[i] + x


def gaussian_short_rates_ref(
    eps: np.ndarray, alpha: np.ndarray, phi: float, step_sd: float, antithetic: bool, n_months: int
) -> np.ndarray:
    """Plain NumPy reference of `gaussian_short_rates_nb` (vectorised over paths)."""
    if antithetic:
        shocks = np.empty((2 * eps.shape[0], eps.shape[1]))
        shocks[0::2] = eps
        shocks[1::2] = -eps
    else:
        shocks = eps
    n_paths = shocks.shape[0]
    out = np.empty((n_paths, n_months))
    x = np.zeros(n_paths)
    out[:, 0] = alpha[0]
    for i in range(1, n_months):
        x = phi * x + step_sd * shocks[:, i - 1]
        out[:, i] = alpha[i] + x
    return out
