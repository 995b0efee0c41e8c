"""The Vasicek single-factor (ASRF, Basel IRB) closed forms for portfolio credit loss.

Loan j defaults when sqrt(rho_j) Z + sqrt(1 - rho_j) e_j < Phi^-1(PD_j). Conditional on the factor
Z = z, PD_j(z) = Phi((Phi^-1(PD_j) - sqrt(rho_j) z) / sqrt(1 - rho_j)). In an infinitely granular
pool the loss is L(z) = sum_j EAD_j LGD_j PD_j(z), decreasing in z, so its q-quantile is
L(-Phi^-1(q)) = sum_j EAD_j LGD_j Phi((Phi^-1(PD_j) + sqrt(rho_j) Phi^-1(q)) / sqrt(1 - rho_j))
(for one loan type: LGD Phi((Phi^-1(PD) + sqrt(rho) Phi^-1(q)) / sqrt(1 - rho)) per unit EAD).
ES_q = E[L | L >= VaR_q] = (1 / (1 - q)) int_q^1 VaR_u du, by Gauss-Legendre quadrature in u.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.special import ndtr, ndtri

PERCENTILE_KEYS: dict[str, float] = {"p50": 0.50, "p95": 0.95, "p99": 0.99, "p99_9": 0.999}


def conditional_pd(pd: np.ndarray | float, rho: np.ndarray | float, z: np.ndarray | float) -> np.ndarray:
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
    inner = (ndtri(np.asarray(pd))[None, :] + np.sqrt(rho)[None, :] * ndtri(qq)[:, None]) / np.sqrt(1.0 - rho)[None, :]
    out = np.sum(w * ndtr(inner), axis=1)
    return out if np.ndim(q) else out[:1]


def expected_shortfall(
    ead: np.ndarray, lgd: np.ndarray, pd: np.ndarray, rho: np.ndarray, q: float, n_nodes: int = 200
) -> float:
    """ES_q = (1/(1-q)) int_q^1 VaR_u du (Gauss-Legendre in u on [q, 1], n_nodes nodes)."""
    x, wts = np.polynomial.legendre.leggauss(n_nodes)
    u = q + (1.0 - q) * (x + 1.0) / 2.0
    vals = loss_quantile(ead, lgd, pd, rho, u)
    return float(np.sum(wts * vals) / 2.0)


def large_pool_distribution(
    ead: np.ndarray,
    lgd: np.ndarray,
    pd: np.ndarray,
    rho: np.ndarray,
    edges: Sequence[float] | np.ndarray | None = None,
) -> dict[str, object]:
    """`expected_loss`, `percentiles` (p50, p95, p99, p99_9), `var_99`, `es_99` (currency) and,
    with histogram `edges`, the probability of each loss bin, P(L <= x) = Phi(-z(x)) where
    L(z(x)) = x (found on a fine grid of z, L being decreasing in z)."""
    ead, lgd, pd, rho = (np.asarray(a, dtype=np.float64) for a in (ead, lgd, pd, rho))
    qs = np.array(list(PERCENTILE_KEYS.values()))
    vals = loss_quantile(ead, lgd, pd, rho, qs)
    out: dict[str, object] = {
        "expected_loss": float(np.sum(ead * lgd * pd)),
        "percentiles": {k: float(v) for k, v in zip(PERCENTILE_KEYS, vals.tolist(), strict=True)},
        "var_99": float(vals[2]),
        "es_99": expected_shortfall(ead, lgd, pd, rho, 0.99),
    }
    if edges is not None:
        e = np.asarray(edges, dtype=np.float64)
        u = np.linspace(0.0, 1.0, 4001)[1:-1]
        lq = loss_quantile(ead, lgd, pd, rho, u)  # increasing in u
        cdf = np.interp(e, lq, u, left=0.0, right=1.0)
        cdf[-1] = 1.0 if e[-1] >= lq[-1] else cdf[-1]
        out["histogram"] = {"probabilities": np.diff(cdf).tolist(), "edges": e.tolist()}
    return out
