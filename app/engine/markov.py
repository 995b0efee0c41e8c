"""Discrete-time Markov chains over integer-coded states: transition counts from a panel, the
cohort and duration (Aalen-Johansen) estimators, per-cell confidence intervals, matrix powers,
the stationary distribution and the balance pipeline v_{k+1} = (v_k P_k) * keep_k.

Time is in months (one panel period = one month). Probabilities are decimals. Every function
takes flat NumPy arrays; the panel pass is a Numba kernel (`_kernels/markov_nb.py`) with a NumPy
twin (`engine="reference"`) that computes the same sums with `np.bincount`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Literal

import numpy as np

from app.engine._lazy import lazy_module
from app.engine.errors import FieldProblem, InvalidInput

scipy_linalg = lazy_module("scipy.linalg")  # SciPy imported at the first use
stats = lazy_module("scipy.stats")

Engine = Literal["numba", "reference"]


class Interval(str, Enum):  # noqa: UP042 - the str mixin keeps format() of the value
    """How the 95% interval of a transition probability is computed."""

    WILSON = "wilson"
    CLOPPER_PEARSON = "clopper_pearson"


@dataclass(frozen=True)
class PanelCounts:
    """Sums over the monthly transitions of a panel, per segment g, from-state i, to-state j.

    counts[g, i, j]: Σ weight; n_obs[g, i, j]: number of transitions; sq[g, i]: Σ weight²;
    exposure[g, i]: weighted months spent in i (mid-month convention); n_gap_pairs: consecutive
    rows of a loan more than one month apart; n_missing_months: months missing inside them;
    n_missing_state: monthly pairs skipped because one of the two states is missing.
    """

    counts: np.ndarray
    n_obs: np.ndarray
    sq: np.ndarray
    exposure: np.ndarray
    n_gap_pairs: int
    n_missing_months: int
    n_missing_state: int


def sort_order(loan: np.ndarray, period: np.ndarray) -> np.ndarray | None:
    """None when rows are already sorted by (loan, period), else the stable sorting order."""
    if loan.shape[0] < 2:
        return None
    dl = np.diff(loan)
    if not (np.any(dl < 0) or np.any((dl == 0) & (np.diff(period) < 0))):
        return None
    return np.lexsort((period, loan))


def check_panel(
    loan: np.ndarray, period: np.ndarray, state: np.ndarray, absorbing: np.ndarray, rows: np.ndarray
) -> list[FieldProblem]:
    """Problems of a sorted panel: duplicated (loan, period) rows and moves out of an absorbing
    state (any later row of the loan in another state). `rows` maps sorted position -> input row."""
    problems: list[FieldProblem] = []
    same = loan[1:] == loan[:-1]
    dup = np.flatnonzero(same & (period[1:] == period[:-1]))
    for r in dup[:20].tolist():
        problems.append(
            FieldProblem(int(rows[r + 1]), "period", "duplicated (loan_id, period) row")
        )
    s0, s1 = state[:-1], state[1:]
    out = same & (s0 >= 0) & (s1 >= 0) & absorbing[np.maximum(s0, 0)] & (s1 != s0)
    for r in np.flatnonzero(out)[:20].tolist():
        problems.append(
            FieldProblem(int(rows[r + 1]), "state", "a transition out of an absorbing state")
        )
    return problems


def sorted_and_checked(
    loan: np.ndarray,
    period: np.ndarray,
    state: np.ndarray,
    absorbing: np.ndarray,
    *,
    engine: Engine = "numba",
) -> tuple[np.ndarray | None, list[FieldProblem]]:
    """(order, problems): order None when the rows are already sorted by (loan, period), else
    the stable sorting order (apply it before counting); problems as `check_panel` (rows are
    input rows). One fused Numba pass on sorted input; the NumPy path is `sort_order` +
    `check_panel`."""
    if engine == "reference" or loan.shape[0] < 2:
        order = sort_order(loan, period)
        rows = np.arange(loan.shape[0]) if order is None else order
        if order is not None:
            loan, period, state = loan[order], period[order], state[order]
        return order, check_panel(loan, period, state, absorbing, rows)
    from app.engine._kernels.markov_nb import panel_check_nb

    loan, period, state = _ints(loan), _ints(period), _ints(state)
    absorbing = np.ascontiguousarray(absorbing, dtype=np.bool_)
    bad_row = np.zeros(40, dtype=np.int64)
    bad_kind = np.zeros(40, dtype=np.int64)
    ok, n_bad = panel_check_nb(loan, period, state, absorbing, bad_row, bad_kind)
    order = None
    if not ok:
        order = np.lexsort((period, loan))
        ok, n_bad = panel_check_nb(
            loan[order], period[order], state[order], absorbing, bad_row, bad_kind
        )
    rows = np.arange(loan.shape[0]) if order is None else order
    problems = []
    for r, k in zip(
        bad_row[: min(n_bad, 40)].tolist(), bad_kind[: min(n_bad, 40)].tolist(), strict=True
    ):
        if k == 1:
            problems.append(
                FieldProblem(int(rows[r]), "period", "duplicated (loan_id, period) row")
            )
        else:
            problems.append(
                FieldProblem(int(rows[r]), "state", "a transition out of an absorbing state")
            )
    return order, problems


def _ints(a: np.ndarray) -> np.ndarray:
    """A contiguous integer array, its dtype kept (int8 states, int32 loan codes stream less)."""
    a = np.ascontiguousarray(a)
    return a if np.issubdtype(a.dtype, np.integer) else a.astype(np.int64)


def panel_counts(
    loan: np.ndarray,
    period: np.ndarray,
    state: np.ndarray,
    weight: np.ndarray | None,
    seg: np.ndarray,
    absorbing: np.ndarray,
    n_states: int,
    n_segments: int,
    *,
    engine: Engine = "numba",
) -> PanelCounts:
    """Count the monthly transitions of a panel sorted by (loan, period) (see module docstring
    of `_kernels/markov_nb` for the gap, missing-state and exposure conventions).
    weight None: every transition weighs 1 (count weighting, an integer-only kernel)."""
    s, g = int(n_states), int(n_segments)
    loan, period, state, seg = (_ints(a) for a in (loan, period, state, seg))
    absorbing = np.ascontiguousarray(absorbing, dtype=np.bool_)
    if engine == "reference":
        w = np.ones(loan.shape[0]) if weight is None else np.asarray(weight, dtype=np.float64)
        return _panel_counts_ref(
            loan.astype(np.int64),
            period.astype(np.int64),
            state.astype(np.int64),
            w,
            seg.astype(np.int64),
            absorbing,
            s,
            g,
        )
    from app.engine._kernels.markov_nb import panel_counts_nb, panel_counts_unit_nb

    if weight is None:  # count weighting: integer sums, no weight array streamed
        n_obs = np.zeros(g * s * s, dtype=np.int64)
        half = np.zeros(g * s, dtype=np.int64)
        gaps = np.zeros(3, dtype=np.int64)
        panel_counts_unit_nb(loan, period, state, seg, absorbing, s, n_obs, half, gaps)
        obs = n_obs.reshape(g, s, s)
        return PanelCounts(
            obs.astype(np.float64),
            obs,
            obs.sum(axis=2).astype(np.float64),
            half.reshape(g, s) / 2.0,
            int(gaps[0]),
            int(gaps[1]),
            int(gaps[2]),
        )
    weight = np.ascontiguousarray(weight, dtype=np.float64)
    counts = np.zeros(g * s * s)
    n_obs = np.zeros(g * s * s, dtype=np.int64)
    sq = np.zeros(g * s)
    exposure = np.zeros(g * s)
    gaps = np.zeros(3, dtype=np.int64)
    panel_counts_nb(
        loan, period, state, weight, seg, absorbing, s, g, counts, n_obs, sq, exposure, gaps
    )
    return PanelCounts(
        counts.reshape(g, s, s),
        n_obs.reshape(g, s, s),
        sq.reshape(g, s),
        exposure.reshape(g, s),
        int(gaps[0]),
        int(gaps[1]),
        int(gaps[2]),
    )


def _panel_counts_ref(
    loan: np.ndarray,
    period: np.ndarray,
    state: np.ndarray,
    weight: np.ndarray,
    seg: np.ndarray,
    absorbing: np.ndarray,
    s: int,
    g: int,
) -> PanelCounts:
    same = loan[1:] == loan[:-1]
    d = period[1:] - period[:-1]
    gap = same & (d != 1)
    i, j = state[:-1], state[1:]
    monthly = same & (d == 1)
    miss = monthly & ((i < 0) | (j < 0))
    ok = monthly & ~miss
    i, j, w, gs = i[ok], j[ok], weight[:-1][ok], seg[:-1][ok]
    row = gs * s + i
    counts = np.bincount(row * s + j, weights=w, minlength=g * s * s)
    n_obs = np.bincount(row * s + j, minlength=g * s * s).astype(np.int64)
    sq = np.bincount(row, weights=w * w, minlength=g * s)
    live = ~absorbing[i]
    stay = live & (i == j)
    move = live & (i != j)
    into = move & ~absorbing[j]
    exposure = (
        np.bincount(row[stay], weights=w[stay], minlength=g * s)
        + np.bincount(row[move], weights=0.5 * w[move], minlength=g * s)
        + np.bincount(gs[into] * s + j[into], weights=0.5 * w[into], minlength=g * s)
    )
    return PanelCounts(
        counts.reshape(g, s, s),
        n_obs.reshape(g, s, s),
        sq.reshape(g, s),
        exposure.reshape(g, s),
        int(gap.sum()),
        int((d[gap] - 1).sum()),
        int(miss.sum()),
    )


def cohort_matrix(counts: np.ndarray, absorbing: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cohort estimator P[i, j] = counts[i, j] / Σ_j counts[i, j] for one (S, S) count matrix.

    Absorbing rows are the identity by definition. Returns (P, row_totals); a non-absorbing row
    with no observations is NaN (the caller reports it as null with a warning).
    """
    totals = counts.sum(axis=1)
    p = np.full(counts.shape, np.nan)
    has = totals > 0
    p[has] = counts[has] / totals[has, None]
    p[absorbing] = np.eye(counts.shape[0])[absorbing]
    return p, totals


def generator(jumps: np.ndarray, exposure: np.ndarray, absorbing: np.ndarray) -> np.ndarray:
    """Aalen-Johansen / maximum-likelihood generator of a time-homogeneous chain: off-diagonal
    Q[i, j] = N[i, j] / R_i (N weighted jumps i -> j, R_i weighted months spent in i), diagonal
    -Σ_{j≠i} Q[i, j]; absorbing rows are zero; a row with no time in it is NaN. Per month."""
    s = jumps.shape[0]
    q = np.where(np.eye(s, dtype=bool), 0.0, jumps)
    q = np.divide(q, exposure[:, None], out=np.full((s, s), np.nan), where=exposure[:, None] > 0)
    q[absorbing] = 0.0
    q[np.diag_indices(s)] = 0.0
    q[np.diag_indices(s)] = -q.sum(axis=1)
    return q


def duration_matrix(q: np.ndarray, months: float = 1.0) -> np.ndarray:
    """P(t) = expm(Q t) (scipy.linalg.expm), t in months; NaN rows of Q stay NaN."""
    bad = ~np.all(np.isfinite(q), axis=1)
    p = scipy_linalg.expm(np.where(bad[:, None], 0.0, q) * months)
    p[bad] = np.nan
    return p


def interval(
    p: np.ndarray, n: np.ndarray, kind: Interval = Interval.WILSON, level: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Two-sided `level` interval of a binomial proportion p from n trials, per cell.

    Wilson score: (p + z²/2n ± z sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n).
    Clopper-Pearson (exact): Beta(α/2; k, n-k+1), Beta(1-α/2; k+1, n-k) with k = p n.
    n may be fractional (an effective sample size). Cells with n = 0 or NaN p are NaN.
    """
    p = np.asarray(p, dtype=np.float64)
    n = np.broadcast_to(np.asarray(n, dtype=np.float64), p.shape)
    ok = (n > 0) & np.isfinite(p)
    nn = np.where(ok, n, 1.0)
    pp = np.where(ok, np.clip(p, 0.0, 1.0), 0.0)
    alpha = 1.0 - level
    if kind == Interval.WILSON:
        z = float(stats.norm.ppf(1.0 - alpha / 2.0))
        den = 1.0 + z * z / nn
        mid = (pp + z * z / (2 * nn)) / den
        half = z * np.sqrt(pp * (1 - pp) / nn + z * z / (4 * nn * nn)) / den
        lo, hi = np.clip(mid - half, 0.0, 1.0), np.clip(mid + half, 0.0, 1.0)
    else:
        k = pp * nn
        with np.errstate(invalid="ignore"):
            lo = np.where(k > 0, stats.beta.ppf(alpha / 2, np.maximum(k, 1e-300), nn - k + 1), 0.0)
            hi = np.where(
                k < nn, stats.beta.ppf(1 - alpha / 2, k + 1, np.maximum(nn - k, 1e-300)), 1.0
            )
    return np.where(ok, lo, np.nan), np.where(ok, hi, np.nan)


def check_stochastic(p: np.ndarray, field: str, tol: float = 1e-9) -> None:
    """InvalidInput naming each row that is not a probability vector (entries in [0, 1], sum 1 ± tol)."""
    problems = []
    for i in np.flatnonzero(~np.all(np.isfinite(p) & (p >= 0) & (p <= 1), axis=1)).tolist():
        problems.append(FieldProblem(i, field, "entries must be finite probabilities in [0, 1]"))
    sums = p.sum(axis=1)
    for i in np.flatnonzero(np.abs(sums - 1.0) > tol).tolist():
        problems.append(
            FieldProblem(i, field, f"row sums to {float(sums[i])!r}, not 1 (± {tol:g})")
        )
    if problems:
        raise InvalidInput(sorted(problems, key=lambda p: p.row or 0))


def matrix_powers(p: np.ndarray, ks: list[int]) -> dict[int, np.ndarray]:
    """P^k for each k (numpy.linalg.matrix_power, repeated squaring)."""
    return {int(k): np.linalg.matrix_power(p, int(k)) for k in ks}


def stationary(p: np.ndarray) -> tuple[np.ndarray | None, str | None]:
    """The stationary distribution π = π P, Σπ = 1, by least squares on [Pᵀ - I; 1ᵀ].

    Returns (π, None), or (None, reason) when it is not unique (more than one eigenvalue 1, as
    in a chain with several absorbing states or closed classes)."""
    s = p.shape[0]
    ev = np.linalg.eigvals(p)
    if int(np.sum(np.abs(ev - 1.0) < 1e-10)) > 1:
        return None, "the chain has more than one closed class: no unique stationary distribution"
    a = np.vstack([p.T - np.eye(s), np.ones((1, s))])
    b = np.zeros(s + 1)
    b[-1] = 1.0
    pi = np.linalg.lstsq(a, b, rcond=None)[0]
    pi = np.where(np.abs(pi) < 1e-15, 0.0, pi)
    return pi, None


def pipeline(
    v0: np.ndarray, p: np.ndarray, keep: np.ndarray, *, engine: Engine = "numba"
) -> np.ndarray:
    """Balances by state after months 1..T: v_k = (v_{k-1} P_k) * keep_k (elementwise).

    v0 (S,) start balances; p (S, S) one matrix or (T, S, S) one per month; keep (T, S) the
    fraction of each state's balance left after the month's scheduled amortisation (all ones:
    v_k = v0 P^k). Returns (T, S)."""
    keep = np.ascontiguousarray(keep, dtype=np.float64)
    t_n, s_n = keep.shape
    pm = np.ascontiguousarray(np.broadcast_to(p, (t_n, s_n, s_n)), dtype=np.float64)
    v0 = np.ascontiguousarray(v0, dtype=np.float64)
    out = np.empty((t_n, s_n))
    if engine == "reference":
        prev = v0
        for t in range(t_n):
            prev = (prev @ pm[t]) * keep[t]
            out[t] = prev
        return out
    from app.engine._kernels.markov_nb import pipeline_nb

    pipeline_nb(v0, pm, keep, out)
    return out
