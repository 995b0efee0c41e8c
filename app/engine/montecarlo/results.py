"""What Monte Carlo runs hand back: per-figure distributions, one chunk's results for the
merge, and the merged run (distributions, OAS, Z-spread, option cost, effective duration)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Distribution:
    """Statistics of one per-path figure over all paths.

    standard_error: of the mean; with antithetic variates it is computed from the pair means.
    std: sample standard deviation (ddof = 1) of the path values. percentiles: NumPy's default
    (linear) method. histogram: counts over `histogram_edges` (NumPy's bin rule).
    """

    mean: float
    standard_error: float
    std: float
    percentiles: dict[float, float]
    histogram_counts: np.ndarray
    histogram_edges: np.ndarray


@dataclass(frozen=True)
class ChunkResult:
    """What one chunk (blocks block_start..block_stop−1) hands to the merge.

    pv, wal, loss, yld: per-path values in path order. cfd_*: per block, the path-ordered sum
    over the block's paths of CF·D per month (base curve and the ±h shifted curves).
    """

    chunk_index: int
    n_chunks: int
    block_start: int
    block_stop: int
    pv: np.ndarray
    wal: np.ndarray
    loss: np.ndarray
    yld: np.ndarray
    cfd_base: np.ndarray
    cfd_up: np.ndarray | None
    cfd_down: np.ndarray | None


@dataclass(frozen=True)
class MonteCarloResult:
    """Merged run. pv at `pv_spread`, wal in years, loss in currency (cumulative), yield the
    monthly-compounded annual yield of each path's cash flows at `price` (or par when no
    price). mean_discounted_cashflow: mean over paths of CF·D per month (spread 0)."""

    n_paths: int
    n_months: int
    pv: Distribution
    wal: Distribution
    loss: Distribution
    yield_: Distribution | None
    mean_discounted_cashflow: np.ndarray
    oas: float | None
    z_spread: float | None
    option_cost: float | None
    effective_duration: float | None
    effective_convexity: float | None
    path_values: dict[str, np.ndarray]
