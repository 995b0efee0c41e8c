"""Correlated asset defaults: a one-factor (optionally industry-sector) Gaussian copula of
default times, with beta-distributed recoveries (DOMAIN.md §7).

Asset i's latent variable is X_i = √ρ_g·G + √(ρ_s − ρ_g)·S_{sector(i)} + √(1 − ρ_s)·ε_i with
G, S, ε independent standard normals (ρ_s = ρ_g gives the one-factor model). With a constant
annual default probability p_i the cumulative PD to month t is F_i(t) = 1 − (1 − p_i)^(t/12);
the asset defaults in the first month t with Φ(X_i) ≤ F_i(t), i.e.
t = ⌈12·ln(1 − Φ(X_i)) / ln(1 − p_i)⌉, if that is no later than its maturity and the horizon
(0 otherwise). Recovery ~ Beta with the asset's mean and a common standard deviation.

Paths come in blocks of `block_size`; block b draws from `default_rng([seed, b])`, so a path's
numbers depend only on (seed, block size, its index): any chunking of blocks gives the same.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from app.engine._lazy import lazy_function
from app.engine.errors import EngineError

default_months_nb = lazy_function("app.engine._kernels.copula_nb", "default_months_nb")

ndtr = lazy_function("scipy.special", "ndtr")  # SciPy imported at the first call


@dataclass(frozen=True)
class CopulaModel:
    """pd: (assets,) annual default probabilities; maturity: (assets,) last month an asset can
    default in; sector: (assets,) int sector ids; recovery_mean: (assets,); horizon: months."""

    pd: np.ndarray
    maturity: np.ndarray
    recovery_mean: np.ndarray
    horizon: int
    correlation: float
    sector: np.ndarray | None = None
    sector_correlation: float | None = None
    recovery_std: float = 0.0

    def validate(self) -> None:
        if not 0.0 <= self.correlation <= 1.0:
            raise EngineError("correlation must be in [0, 1]", field="correlation")
        if self.sector_correlation is not None and not (
            self.correlation <= self.sector_correlation <= 1.0
        ):
            raise EngineError(
                "sector_correlation must be in [correlation, 1]", field="sector_correlation"
            )
        if np.any((self.pd < 0.0) | (self.pd > 1.0)):
            raise EngineError("default probabilities must be in [0, 1]", field="pd")
        m = self.recovery_mean
        if self.recovery_std > 0.0 and np.any(self.recovery_std**2 >= m * (1.0 - m)):
            raise EngineError(
                "recovery_std is too large for a beta with these means "
                "(needs std² < mean·(1 − mean))",
                field="recovery_std",
            )


def _lam(pd: np.ndarray) -> np.ndarray:
    """−ln(1 − p): the constant default intensity per year (inf for p = 1)."""
    with np.errstate(divide="ignore"):
        return -np.log1p(-np.asarray(pd, dtype=np.float64))


def default_months_reference(x: np.ndarray, pd: np.ndarray, limit: np.ndarray) -> np.ndarray:
    """NumPy twin of `_kernels.copula_nb.default_months_nb` (scipy's ndtr for Φ)."""
    lam = _lam(pd)
    u = ndtr(x)
    with np.errstate(divide="ignore", invalid="ignore"):
        months = np.ceil(-12.0 * np.log1p(-u) / np.where(lam > 0.0, lam, np.nan))
    months = np.where(np.isfinite(months), np.maximum(months, 1.0), np.inf)
    tau = np.where(months <= limit[None, :], months, 0.0).astype(np.int64)
    tau[:, np.isinf(lam)] = 1
    return tau


def n_blocks(n_paths: int, block_size: int) -> int:
    return -(-n_paths // block_size)


def block_paths(n_paths: int, block_size: int, block: int) -> int:
    return min(block_size, n_paths - block * block_size)


def simulate_block(
    model: CopulaModel, seed: int, block: int, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """(default month (n, assets) int64, 0 = survives; recovery (n, assets)) of block `block`."""
    rng = np.random.default_rng([seed, block])
    a = model.pd.size
    rho_g = model.correlation
    g = rng.standard_normal((n, 1))
    x = math.sqrt(rho_g) * g
    if model.sector is not None and model.sector_correlation is not None:
        n_sec = int(model.sector.max()) + 1
        s = rng.standard_normal((n, n_sec))
        x = x + math.sqrt(model.sector_correlation - rho_g) * s[:, model.sector]
        idio = math.sqrt(1.0 - model.sector_correlation)
    else:
        idio = math.sqrt(1.0 - rho_g)
    x = x + idio * rng.standard_normal((n, a))
    tau = np.empty((n, a), dtype=np.int64)
    default_months_nb(
        x, _lam(model.pd), np.minimum(model.maturity, model.horizon).astype(np.float64), tau
    )
    if model.recovery_std > 0.0:
        m = np.broadcast_to(model.recovery_mean, (n, a))
        k = m * (1.0 - m) / model.recovery_std**2 - 1.0
        rec = rng.beta(np.maximum(m * k, 1e-12), np.maximum((1.0 - m) * k, 1e-12))
    else:
        rec = np.broadcast_to(model.recovery_mean, (n, a)).copy()
    return tau, rec
