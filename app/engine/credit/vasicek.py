"""The Vasicek single-factor (ASRF, Basel IRB) closed forms for portfolio credit loss.

Loan j defaults when sqrt(rho_j) Z + sqrt(1 - rho_j) e_j < Phi^-1(PD_j). Conditional on the factor
Z = z, PD_j(z) = Phi((Phi^-1(PD_j) - sqrt(rho_j) z) / sqrt(1 - rho_j)). In an infinitely granular
pool the loss is L(z) = sum_j EAD_j LGD_j PD_j(z), decreasing in z, so its q-quantile is
L(-Phi^-1(q)) = sum_j EAD_j LGD_j Phi((Phi^-1(PD_j) + sqrt(rho_j) Phi^-1(q)) / sqrt(1 - rho_j))
(for one loan type: LGD Phi((Phi^-1(PD) + sqrt(rho) Phi^-1(q)) / sqrt(1 - rho)) per unit EAD).
ES_q = E[L | L >= VaR_q] = (1 / (1 - q)) int_q^1 VaR_u du, by Gauss-Legendre quadrature over z.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from app.engine._lazy import lazy_function

ndtr = lazy_function("scipy.special", "ndtr")  # SciPy imported at the first call
ndtri = lazy_function("scipy.special", "ndtri")  # SciPy imported at the first call

PERCENTILE_KEYS: dict[str, float] = {"p50": 0.50, "p95": 0.95, "p99": 0.99, "p99_9": 0.999}


def conditional_pd(
    pd: np.ndarray | float, rho: np.ndarray | float, z: np.ndarray | float
) -> np.ndarray:
    """PD given the factor value z: Phi((Phi^-1(pd) - sqrt(rho) z) / sqrt(1 - rho)).

    >>> round(float(conditional_pd(0.02, 0.15, 0.0)), 6)
    0.013102
    """
    pd = np.asarray(pd, dtype=np.float64)
    rho = np.asarray(rho, dtype=np.float64)
    return ndtr((ndtri(pd) - np.sqrt(rho) * np.asarray(z)) / np.sqrt(1.0 - rho))


def loss_quantile(
    ead: np.ndarray, lgd: np.ndarray, pd: np.ndarray, rho: np.ndarray, q: float | np.ndarray
) -> np.ndarray:
    """Large-pool loss quantile(s) (currency) at confidence q in (0, 1) (module docstring)."""
    qq = np.atleast_1d(np.asarray(q, dtype=np.float64))
    w = (np.asarray(ead) * np.asarray(lgd))[None, :]
    inner = (ndtri(np.asarray(pd))[None, :] + np.sqrt(rho)[None, :] * ndtri(qq)[:, None]) / np.sqrt(
        1.0 - rho
    )[None, :]
    out = np.sum(w * ndtr(inner), axis=1)
    return out if np.ndim(q) else out[:1]


def loss_given_factor(
    ead: np.ndarray, lgd: np.ndarray, pd: np.ndarray, rho: np.ndarray, z: np.ndarray
) -> np.ndarray:
    """Large-pool loss L(z) = sum_j EAD_j LGD_j PD_j(z) at each factor value of `z` (currency)."""
    w = (np.asarray(ead) * np.asarray(lgd))[None, :]
    inner = (
        ndtri(np.asarray(pd))[None, :] - np.sqrt(rho)[None, :] * np.asarray(z)[:, None]
    ) / np.sqrt(1.0 - rho)[None, :]
    return np.sum(w * ndtr(inner), axis=1)


def expected_shortfall(
    ead: np.ndarray, lgd: np.ndarray, pd: np.ndarray, rho: np.ndarray, q: float, n_nodes: int = 96
) -> float:
    """ES_q = (1/(1-q)) int_q^1 VaR_u du = (1/(1-q)) int_{-inf}^{z_q} L(z) phi(z) dz with
    z_q = Phi^-1(1 - q) (L decreasing in z): Gauss-Legendre in z on [-9, z_q]."""
    x, wts = np.polynomial.legendre.leggauss(n_nodes)
    zq = float(ndtri(1.0 - q))
    lo = -9.0
    z = lo + (zq - lo) * (x + 1.0) / 2.0
    vals = loss_given_factor(ead, lgd, pd, rho, z) * np.exp(-0.5 * z * z) / np.sqrt(2.0 * np.pi)
    return float(np.sum(wts * vals) * (zq - lo) / 2.0 / (1.0 - q))


def large_pool_distribution(
    ead: np.ndarray,
    lgd: np.ndarray,
    pd: np.ndarray,
    rho: np.ndarray,
    edges: Sequence[float] | np.ndarray | None = None,
) -> dict[str, Any]:
    """`expected_loss`, `percentiles` (p50, p95, p99, p99_9), `var_99`, `es_99` (currency) and,
    with histogram `edges`, the probability of each loss bin, P(L <= x) = Phi(-z(x)) where
    L(z(x)) = x (z(x) interpolated on a grid of 721 factor values in [-9, 9], L decreasing in z)."""
    ead, lgd, pd, rho = (np.asarray(a, dtype=np.float64) for a in (ead, lgd, pd, rho))
    qs = np.array(list(PERCENTILE_KEYS.values()))
    vals = loss_quantile(ead, lgd, pd, rho, qs)
    out: dict[str, Any] = {
        "expected_loss": float(np.sum(ead * lgd * pd)),
        "percentiles": {k: float(v) for k, v in zip(PERCENTILE_KEYS, vals.tolist(), strict=True)},
        "var_99": float(vals[2]),
        "es_99": expected_shortfall(ead, lgd, pd, rho, 0.99),
    }
    if edges is not None:
        e = np.asarray(edges, dtype=np.float64)
        z = np.linspace(9.0, -9.0, 721)  # L(z) increases along this grid
        lz = loss_given_factor(ead, lgd, pd, rho, z)
        cdf = ndtr(-np.interp(e, lz, z))  # P(L <= x) = P(Z >= z(x))
        out["histogram"] = {"probabilities": np.diff(cdf).tolist(), "edges": e.tolist()}
    return out
