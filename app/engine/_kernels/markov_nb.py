"""Numba kernels of the Markov-chain tools (app/engine/markov.py): one pass over a sorted panel
that counts month-to-month transitions and time spent in each state, and the state pipeline.

Panel conventions (the caller sorts by (loan, period) and validates first): `state[r] = -1` marks
a row whose state is missing; a pair of rows (r, r + 1) of the same loan whose periods differ by
exactly 1 is one monthly transition, a larger difference is a gap of `diff - 1` missing months
(counted, never used as a one-month transition). Weights are the from-row's weight (1 for counts,
the balance at the start of the month for balance weighting). Time in state uses the mid-month
convention: a month that stays in i adds w to i's exposure; a move i -> j adds w/2 to i and, if
j is not absorbing, w/2 to j. The NumPy twins in markov.py compute the same sums with bincount.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def panel_counts_nb(
    loan: np.ndarray,
    period: np.ndarray,
    state: np.ndarray,
    weight: np.ndarray,
    seg: np.ndarray,
    absorbing: np.ndarray,
    n_states: int,
    n_segments: int,
    counts: np.ndarray,
    n_obs: np.ndarray,
    sq: np.ndarray,
    exposure: np.ndarray,
    gaps: np.ndarray,
) -> None:
    """Accumulate into the zeroed outputs (flat, segment-major):
    counts[(g*S + i)*S + j] Σw and n_obs[...] number of i -> j transitions; sq[g*S + i] Σw²;
    exposure[g*S + i] weighted months in i; gaps = [pairs with a gap, missing months,
    pairs skipped for a missing state]."""
    n = loan.shape[0]
    for r in range(n - 1):
        if loan[r + 1] != loan[r]:
            continue
        d = period[r + 1] - period[r]
        if d != 1:
            gaps[0] += 1
            gaps[1] += d - 1
            continue
        i = state[r]
        j = state[r + 1]
        if i < 0 or j < 0:
            gaps[2] += 1
            continue
        g = seg[r]
        w = weight[r]
        k = (g * n_states + i) * n_states + j
        counts[k] += w
        n_obs[k] += 1
        row = g * n_states + i
        sq[row] += w * w
        if absorbing[i]:
            continue
        if i == j:
            exposure[row] += w
        else:
            exposure[row] += 0.5 * w
            if not absorbing[j]:
                exposure[g * n_states + j] += 0.5 * w


@njit(cache=True, nogil=True)
def pipeline_nb(v0: np.ndarray, p: np.ndarray, keep: np.ndarray, out: np.ndarray) -> None:
    """out[k] = (out[k-1] @ p[k]) * keep[k] with out[-1] = v0: balances by state after month
    k + 1; p (T, S, S) the month's transition matrix, keep (T, S) the fraction of each state's
    balance left after scheduled amortisation (1 for states that do not amortise)."""
    t_n, s_n = keep.shape
    prev = v0.copy()
    for t in range(t_n):
        for j in range(s_n):
            acc = 0.0
            for i in range(s_n):
                acc += prev[i] * p[t, i, j]
            out[t, j] = acc * keep[t, j]
        for j in range(s_n):
            prev[j] = out[t, j]


@njit(cache=True, nogil=True)
def panel_check_nb(
    loan: np.ndarray,
    period: np.ndarray,
    state: np.ndarray,
    absorbing: np.ndarray,
    bad_row: np.ndarray,
    bad_kind: np.ndarray,
) -> tuple[int, int]:
    """One pass over a panel: (1, n_bad) when sorted by (loan, period), with the first
    len(bad_row) problems recorded as (row, kind) — kind 1 a duplicated (loan, period), kind 2 a
    move out of an absorbing state; (0, 0) as soon as the rows are found not sorted."""
    n = loan.shape[0]
    n_bad = 0
    for r in range(n - 1):
        if loan[r + 1] < loan[r] or (loan[r + 1] == loan[r] and period[r + 1] < period[r]):
            return 0, 0
        if loan[r + 1] != loan[r]:
            continue
        kind = 0
        if period[r + 1] == period[r]:
            kind = 1
        elif (
            state[r] >= 0 and state[r + 1] >= 0 and absorbing[state[r]] and state[r + 1] != state[r]
        ):
            kind = 2
        if kind:
            if n_bad < bad_row.shape[0]:
                bad_row[n_bad] = r + 1
                bad_kind[n_bad] = kind
            n_bad += 1
    return 1, n_bad


@njit(cache=True, nogil=True)
def panel_counts_unit_nb(
    loan: np.ndarray,
    period: np.ndarray,
    state: np.ndarray,
    seg: np.ndarray,
    absorbing: np.ndarray,
    n_states: int,
    n_obs: np.ndarray,
    half_months: np.ndarray,
    gaps: np.ndarray,
) -> None:
    """`panel_counts_nb` with every weight 1 (count weighting): integer transition counts and
    exposure in half-months (so the sums are exact integers); Σw² equals the row counts."""
    n = loan.shape[0]
    for r in range(n - 1):
        if loan[r + 1] != loan[r]:
            continue
        d = period[r + 1] - period[r]
        if d != 1:
            gaps[0] += 1
            gaps[1] += d - 1
            continue
        i = np.int64(state[r])
        j = np.int64(state[r + 1])
        if i < 0 or j < 0:
            gaps[2] += 1
            continue
        row = np.int64(seg[r]) * n_states + i
        n_obs[row * n_states + j] += 1
        if absorbing[i]:
            continue
        if i == j:
            half_months[row] += 2
        else:
            half_months[row] += 1
            if not absorbing[j]:
                half_months[np.int64(seg[r]) * n_states + j] += 1
