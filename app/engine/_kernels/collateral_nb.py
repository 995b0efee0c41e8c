"""Collateral cash flows of many default paths from per-asset no-default flows.

Each path starts from the pool's no-default totals; an asset defaulting in month τ loses its
interest, principal and balance from τ on, and returns recovery × its balance at the start of
τ as principal in τ (loss the rest). The plain twin is `collateral_paths_reference`.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(cache=True, parallel=True)
def collateral_paths_nb(
    a_int,
    a_prin,
    a_loss,
    a_start,
    a_bal,
    tot_int,
    tot_prin,
    tot_loss,
    tot_bal,
    tau,
    rec,
    out_int,
    out_prin,
    out_loss,
    out_bal,
):
    """a_*: (assets, T) no-default flows (a_loss: losses a sale at the call realises); tot_*: (T,) pool totals; tau, rec: (P, assets);
    fills out_*: (P, T)."""
    P, A = tau.shape
    T = tot_int.size
    for p in prange(P):
        for t in range(T):
            out_int[p, t] = tot_int[t]
            out_prin[p, t] = tot_prin[t]
            out_loss[p, t] = tot_loss[t]
            out_bal[p, t] = tot_bal[t]
        for i in range(A):
            d = tau[p, i]
            if d <= 0 or d > T:
                continue
            t0 = d - 1
            b = a_start[i, t0]
            if b <= 0.0:
                continue
            for t in range(t0, T):
                out_int[p, t] -= a_int[i, t]
                out_prin[p, t] -= a_prin[i, t]
                out_loss[p, t] -= a_loss[i, t]
                out_bal[p, t] -= a_bal[i, t]
            out_prin[p, t0] += b * rec[p, i]
            out_loss[p, t0] += b * (1.0 - rec[p, i])


def collateral_paths_reference(
    a_int, a_prin, a_loss, a_start, a_bal, tot_int, tot_prin, tot_loss, tot_bal, tau, rec
):
    """NumPy twin: the same flows built asset by asset with masks (no shared loops)."""
    P, A = tau.shape
    T = tot_int.size
    t = np.arange(1, T + 1)
    after = (tau[:, :, None] >= 1) & (t[None, None, :] >= tau[:, :, None])  # (P, A, T)
    at = (tau[:, :, None] >= 1) & (t[None, None, :] == tau[:, :, None])
    start = (at * a_start[None]).sum(axis=2)  # balance at default, (P, A)
    out_int = tot_int[None] - (after * a_int[None]).sum(axis=1)
    out_prin = (
        tot_prin[None]
        - (after * a_prin[None]).sum(axis=1)
        + (at * (start * rec)[:, :, None]).sum(axis=1)
    )
    out_loss = (
        tot_loss[None]
        - (after * a_loss[None]).sum(axis=1)
        + (at * (start * (1.0 - rec))[:, :, None]).sum(axis=1)
    )
    out_bal = tot_bal[None] - (after * a_bal[None]).sum(axis=1)
    return out_int, out_prin, out_loss, out_bal
