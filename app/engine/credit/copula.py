"""Correlated defaults: one-factor Gaussian copula with optional sector factors, Monte Carlo of
portfolio losses over a horizon.

Loan j's latent variable is X_j = sqrt(rho_j) Z + sqrt(s_j) S_sector(j) + sqrt(1 - rho_j - s_j) e_j
(Z global, S_k one factor per sector, e_j idiosyncratic; independent N(0, 1)); it defaults within
the horizon when X_j < Phi^-1(PD_j), PD_j the horizon PD; the loss is EAD_j x LGD_j. Without sectors
(s_j = 0) this is Vasicek's model (app.engine.credit.vasicek). Seeded per path (see
_kernels/portfolio_loss_nb.py): the same seed gives the same losses for any chunking or thread count.
`simulate_losses_numpy` is the plain NumPy twin (direct simulation, paths in blocks).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from app.engine._lazy import lazy_function
from app.engine.errors import FieldProblem, InvalidInput

ndtri = lazy_function("scipy.special", "ndtri")  # SciPy imported at the first call

LOAN_BLOCK = 64  # loans per thinning block of the kernel
_PCT = {"p50": 50.0, "p95": 95.0, "p99": 99.0, "p99_9": 99.9}


@dataclass(frozen=True, eq=False)
class CopulaPortfolio:
    """Loans of the simulation (arrays of length n).

    ead: exposure at default (currency, >= 0); lgd: loss given default (decimal in [0, 1]);
    pd: default probability over the horizon ([0, 1]); rho: global-factor correlation ([0, 1));
    sector: sector index per loan (-1: none); sector_rho: correlation with the sector factor
    (>= 0, rho + sector_rho < 1).
    """

    ead: np.ndarray
    lgd: np.ndarray
    pd: np.ndarray
    rho: np.ndarray
    sector: np.ndarray
    sector_rho: np.ndarray

    @classmethod
    def build(
        cls,
        ead: np.ndarray,
        lgd: np.ndarray | float,
        pd: np.ndarray | float,
        rho: np.ndarray | float,
        sector: np.ndarray | None = None,
        sector_rho: np.ndarray | float = 0.0,
    ) -> CopulaPortfolio:
        """Broadcast scalars, validate every loan (InvalidInput with row, field and reason)."""
        n = np.asarray(ead).shape[0]

        def arr(x: np.ndarray | float, dtype: type = np.float64) -> np.ndarray:
            return np.broadcast_to(np.asarray(x, dtype=dtype), (n,)).copy()

        p = cls(
            ead=arr(ead),
            lgd=arr(lgd),
            pd=arr(pd),
            rho=arr(rho),
            sector=arr(-1 if sector is None else sector, np.int64),
            sector_rho=arr(sector_rho),
        )
        p.validate()
        return p

    def __len__(self) -> int:
        return int(self.ead.shape[0])

    def validate(self) -> None:
        problems: list[FieldProblem] = []

        def flag(name: str, bad: np.ndarray, reason: str) -> None:
            problems.extend(FieldProblem(int(r), name, reason) for r in np.flatnonzero(bad)[:100])

        flag("ead", ~(np.isfinite(self.ead) & (self.ead >= 0)), "must be finite and >= 0")
        flag("lgd", ~((self.lgd >= 0) & (self.lgd <= 1)), "must be a decimal in [0, 1]")
        flag("pd", ~((self.pd >= 0) & (self.pd <= 1)), "must be a probability in [0, 1]")
        flag(
            "correlation", ~((self.rho >= 0) & (self.rho < 1)), "must satisfy 0 <= correlation < 1"
        )
        flag("sector_correlation", ~(self.sector_rho >= 0), "must be >= 0")
        flag(
            "sector_correlation",
            (self.sector_rho > 0) & ~(self.rho + self.sector_rho < 1),
            "correlation + sector_correlation must be < 1",
        )
        if len(self) == 0:
            problems.append(FieldProblem(None, "ead", "the portfolio has no loans"))
        if problems:
            raise InvalidInput(problems)


@dataclass(frozen=True, eq=False)
class _Prepared:
    order: np.ndarray
    c: np.ndarray
    loss: np.ndarray
    blk_start: np.ndarray
    blk_end: np.ndarray
    blk_group: np.ndarray
    grp_a: np.ndarray
    grp_b: np.ndarray
    grp_d: np.ndarray
    grp_sector: np.ndarray
    n_sectors: int


def _prepare(p: CopulaPortfolio) -> _Prepared:
    """Groups of equal loadings and sector, loans sorted by threshold inside, cut into blocks."""
    sec = np.where(p.sector_rho > 0, p.sector, -1)
    b2 = np.where(sec >= 0, p.sector_rho, 0.0)
    keys = np.column_stack([p.rho, b2, sec.astype(np.float64)])
    uniq, grp = np.unique(keys, axis=0, return_inverse=True)
    grp = grp.reshape(-1)
    with np.errstate(divide="ignore"):
        c = ndtri(p.pd)
    # loans that cannot lose anything are left out of the simulation
    live = (p.ead * p.lgd > 0) & (p.pd > 0)
    idx = np.flatnonzero(live)
    order = idx[np.lexsort((c[idx], grp[idx]))]
    g_sorted = grp[order]
    starts: list[int] = []
    ends: list[int] = []
    groups: list[int] = []
    bounds = np.flatnonzero(np.diff(g_sorted)) + 1
    for lo, hi in zip(np.r_[0, bounds], np.r_[bounds, order.size], strict=True):
        for s in range(int(lo), int(hi), LOAN_BLOCK):
            starts.append(s)
            ends.append(min(s + LOAN_BLOCK, int(hi)))
            groups.append(int(g_sorted[s]))
    a = np.sqrt(uniq[:, 0])
    b = np.sqrt(uniq[:, 1])
    d = np.sqrt(np.maximum(1.0 - uniq[:, 0] - uniq[:, 1], 0.0))
    sectors = uniq[:, 2].astype(np.int64)
    remap = {int(k): i for i, k in enumerate(np.unique(sectors[sectors >= 0]).tolist())}
    grp_sector = np.array([remap.get(int(k), -1) for k in sectors.tolist()], dtype=np.int64)
    return _Prepared(
        order=order.astype(np.int64),
        c=np.ascontiguousarray(c),
        loss=np.ascontiguousarray(p.ead * p.lgd),
        blk_start=np.asarray(starts, dtype=np.int64),
        blk_end=np.asarray(ends, dtype=np.int64),
        blk_group=np.asarray(groups, dtype=np.int64),
        grp_a=a,
        grp_b=b,
        grp_d=d,
        grp_sector=grp_sector,
        n_sectors=len(remap),
    )


def _seed(seed: int) -> np.uint64:
    return np.uint64(int(seed) & 0xFFFFFFFFFFFFFFFF)


def simulate_losses(
    p: CopulaPortfolio, n_paths: int, seed: int, *, path_start: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """(loss per path in currency, default count per path) for paths path_start .. +n_paths-1."""
    from app.engine._kernels.portfolio_loss_nb import portfolio_losses_nb

    q = _prepare(p)
    return portfolio_losses_nb(
        _seed(seed),
        int(path_start),
        int(n_paths),
        q.n_sectors,
        q.order,
        q.c,
        q.loss,
        q.blk_start,
        q.blk_end,
        q.blk_group,
        q.grp_a,
        q.grp_b,
        q.grp_d,
        q.grp_sector,
    )


def simulate_losses_numpy(
    p: CopulaPortfolio, n_paths: int, seed: int, *, block: int = 256
) -> tuple[np.ndarray, np.ndarray]:
    """Plain NumPy twin: draw every factor and every e_j, in blocks of `block` paths (a
    block x loans array at a time). Same model, its own random numbers (NumPy PCG64)."""
    rng = np.random.default_rng(seed)
    with np.errstate(divide="ignore"):
        c = ndtri(p.pd)
    sec = np.where(p.sector_rho > 0, p.sector, -1)
    codes, sec_idx = np.unique(sec, return_inverse=True)
    a, b = np.sqrt(p.rho), np.sqrt(np.where(sec >= 0, p.sector_rho, 0.0))
    d = np.sqrt(np.maximum(1.0 - p.rho - b * b, 0.0))
    w = p.ead * p.lgd
    losses = np.empty(n_paths)
    counts = np.empty(n_paths, dtype=np.int64)
    for lo in range(0, n_paths, block):
        k = min(block, n_paths - lo)
        z = rng.standard_normal((k, 1))
        s = rng.standard_normal((k, codes.size))
        e = rng.standard_normal((k, len(p)))
        x = a * z + b * s[:, sec_idx] + d * e
        dflt = x < c
        losses[lo : lo + k] = dflt @ w
        counts[lo : lo + k] = dflt.sum(axis=1)
    return losses, counts


def chunk_paths(n_paths: int, n_chunks: int, k: int) -> tuple[int, int]:
    """(first path, number of paths) of chunk k of n_chunks (contiguous, sizes differ by <= 1)."""
    base, rem = divmod(n_paths, n_chunks)
    start = k * base + min(k, rem)
    return start, base + (1 if k < rem else 0)


def loss_summary(losses: np.ndarray, bins: int = 50) -> dict[str, Any]:
    """`expected_loss` (mean), `standard_error`, `percentiles` p50/p95/p99/p99_9 (NumPy linear
    interpolation), `var_99` (= p99), `es_99` (mean of the path losses >= var_99) and a
    `histogram` of `bins` equal bins from 0 to the largest loss (currency)."""
    n = losses.size
    pct = np.percentile(losses, list(_PCT.values()))
    var99 = float(pct[2])
    top = float(losses.max(initial=0.0))
    edges = np.linspace(0.0, top if top > 0 else 1.0, bins + 1)
    counts, _ = np.histogram(losses, bins=edges)
    return {
        "n_paths": int(n),
        "expected_loss": float(losses.mean()),
        "standard_error": float(losses.std(ddof=1) / np.sqrt(n)) if n > 1 else None,
        "percentiles": {k: float(v) for k, v in zip(_PCT, pct.tolist(), strict=True)},
        "var_99": var99,
        "es_99": float(losses[losses >= var99].mean()),
        "histogram": {"counts": counts.tolist(), "edges": edges.tolist()},
    }
