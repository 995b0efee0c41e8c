"""NOI-haircut x cap-rate-shift stress of DSCR and LTV, vectorised over loans.

A cell (h, s) takes NOI to NOI (1 - h) and the cap rate to cap_rate + s (value = NOI / cap
rate x value_factor), today's balances and debt service unchanged. Then
dscr(h) = dscr (1 - h) and ltv(h, s) = ltv (1 + s / cap_rate) / (1 - h): DSCR percentiles
scale exactly with (1 - h), and one sort of each shifted LTV column answers every haircut, so
a 10 x 10 grid over 10,000 loans costs ten sorts. Percentiles are over loans (linear
interpolation, NumPy's default); means and the balances beyond thresholds are balance-weighted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from app.engine.errors import FieldProblem, InvalidInput

DSCR_THRESHOLDS = (1.0, 1.25)
LTV_THRESHOLDS = (0.8, 1.0)
PERCENTILES = (5.0, 25.0, 50.0, 75.0, 95.0)


@dataclass(frozen=True)
class StressGrid:
    """Results per cell, arrays of shape (n_haircuts, n_shifts); percentiles add a last axis.

    dscr_percentiles/ltv_percentiles: (H, S, len(PERCENTILES)); dscr_mean/ltv_mean balance-
    weighted; balance_dscr_below[k]/balance_ltv_above[k] per threshold (currency).
    """

    noi_haircuts: np.ndarray
    cap_rate_shifts: np.ndarray
    dscr_percentiles: np.ndarray
    ltv_percentiles: np.ndarray
    dscr_mean: np.ndarray
    ltv_mean: np.ndarray
    balance_dscr_below: dict[float, np.ndarray]
    balance_ltv_above: dict[float, np.ndarray]
    total_balance: float


def validate_grid(
    haircuts: np.ndarray, shifts: np.ndarray, cap_rate: np.ndarray, *, path: str = "stress"
) -> None:
    """Haircuts in [0, 1); every shifted cap rate > 0 (InvalidInput naming the field)."""
    problems: list[FieldProblem] = []
    if haircuts.ndim != 1 or haircuts.size == 0 or not np.all((haircuts >= 0) & (haircuts < 1)):
        problems.append(
            FieldProblem(None, f"{path}.noi_haircuts", "each haircut must be a decimal in [0, 1)")
        )
    lowest = float(cap_rate.min()) if cap_rate.size else 0.0
    if (
        shifts.ndim != 1
        or shifts.size == 0
        or not np.all(np.isfinite(shifts))
        or np.any(lowest + shifts <= 0)
    ):
        problems.append(
            FieldProblem(
                None,
                f"{path}.cap_rate_shifts",
                f"each shifted cap rate must stay > 0 (lowest cap rate {lowest:g})",
            )
        )
    if problems:
        raise InvalidInput(problems)


def stress_grid(
    balance: np.ndarray,
    dscr: np.ndarray,
    ltv: np.ndarray,
    cap_rate: np.ndarray,
    noi_haircuts: Sequence[float] | np.ndarray,
    cap_rate_shifts: Sequence[float] | np.ndarray,
    percentiles: Sequence[float] = PERCENTILES,
) -> StressGrid:
    """The grid of every (haircut, shift) cell (module docstring for the formulas)."""
    h = np.asarray(noi_haircuts, dtype=np.float64)
    s = np.asarray(cap_rate_shifts, dtype=np.float64)
    validate_grid(h, s, cap_rate)
    keep = 1.0 - h  # (H,)
    total = float(balance.sum())
    q = np.asarray(percentiles, dtype=np.float64)

    # DSCR: independent of the cap-rate shift
    order = np.argsort(dscr, kind="stable")
    d_sorted = dscr[order]
    cum_b = np.concatenate([[0.0], np.cumsum(balance[order])])
    d_pct = np.percentile(d_sorted, q)[None, :] * keep[:, None]  # (H, P)
    d_mean = float(np.dot(balance, dscr)) / total * keep
    below = {}
    for thr in DSCR_THRESHOLDS:
        idx = np.searchsorted(d_sorted, thr / keep, side="left")
        below[thr] = np.repeat(cum_b[idx][:, None], s.size, axis=1)

    # LTV: one sorted column per shift
    x = ltv[:, None] * (1.0 + s[None, :] / cap_rate[:, None])  # (n, S), ltv at haircut 0
    l_pct = np.empty((h.size, s.size, q.size))
    l_mean = np.empty((h.size, s.size))
    above = {thr: np.empty((h.size, s.size)) for thr in LTV_THRESHOLDS}
    for b in range(s.size):
        o = np.argsort(x[:, b], kind="stable")
        xs = x[o, b]
        # balance of the loans from position k on (a suffix sum: exactly 0 past the last loan)
        tail = np.concatenate([np.cumsum(balance[o][::-1])[::-1], [0.0]])
        l_pct[:, b, :] = np.percentile(xs, q)[None, :] / keep[:, None]
        l_mean[:, b] = float(np.dot(balance, x[:, b])) / total / keep
        for thr in LTV_THRESHOLDS:
            idx = np.searchsorted(xs, thr * keep, side="right")
            above[thr][:, b] = tail[idx]
    return StressGrid(
        noi_haircuts=h,
        cap_rate_shifts=s,
        dscr_percentiles=np.repeat(d_pct[:, None, :], s.size, axis=1),
        ltv_percentiles=l_pct,
        dscr_mean=np.repeat(d_mean[:, None], s.size, axis=1),
        ltv_mean=l_mean,
        balance_dscr_below=below,
        balance_ltv_above=above,
        total_balance=total,
    )


def cell_json(
    g: StressGrid, a: int, b: int, percentiles: Sequence[float] = PERCENTILES
) -> dict[str, object]:
    """One cell as JSON: the stress, DSCR/LTV distributions and balances beyond thresholds."""
    pct = [f"p{q:g}".replace(".", "_") for q in percentiles]
    tot = g.total_balance
    return {
        "noi_haircut": float(g.noi_haircuts[a]),
        "cap_rate_shift": float(g.cap_rate_shifts[b]),
        "dscr": {
            "mean": float(g.dscr_mean[a, b]),
            **dict(zip(pct, g.dscr_percentiles[a, b].tolist(), strict=True)),
        },
        "ltv": {
            "mean": float(g.ltv_mean[a, b]),
            **dict(zip(pct, g.ltv_percentiles[a, b].tolist(), strict=True)),
        },
        "balance_dscr_below_1_00": float(g.balance_dscr_below[1.0][a, b]),
        "balance_dscr_below_1_25": float(g.balance_dscr_below[1.25][a, b]),
        "balance_ltv_above_80": float(g.balance_ltv_above[0.8][a, b]),
        "balance_ltv_above_100": float(g.balance_ltv_above[1.0][a, b]),
        "share_dscr_below_1_00": float(g.balance_dscr_below[1.0][a, b]) / tot,
        "share_ltv_above_100": float(g.balance_ltv_above[1.0][a, b]) / tot,
    }


def grid_json(g: StressGrid) -> dict[str, object]:
    """The whole grid: axes and one cell object per (haircut, shift), haircut-major."""
    return {
        "noi_haircuts": g.noi_haircuts.tolist(),
        "cap_rate_shifts": g.cap_rate_shifts.tolist(),
        "cells": [
            cell_json(g, a, b)
            for a in range(g.noi_haircuts.size)
            for b in range(g.cap_rate_shifts.size)
        ],
    }
