"""Numba kernel of the scheduled-balance batch (app/engine/scheduled_batch.py): the pool columns
of one assumption set from the group aggregates, in one fused pass over groups × periods.

Conventions are the batch's (DOMAIN.md §3, SIFMA): per group g and period i (0-based here,
period i + 1 of the projection), s and d are the monthly prepayment and default rates already
capped (d ≤ 1, s ≤ 1 − d), Q the survival factor, D = d·Q(i−1) the defaulted fraction, L the
recovery lag. The NumPy reference `combine_ref` evaluates the same expressions on whole
(groups, periods) matrices; both sum the groups in order, so they agree to the last bit on the
tested inputs (the test allows 1e-12 relative).
"""

from __future__ import annotations

import numpy as np
from numba import njit

COLUMNS = (
    "ending_balance",
    "default",
    "scheduled_principal",
    "prepayment",
    "defaulted_amortization",
    "foreclosure_balance",
    "liquidated_balance",
    "loss",
    "expected_interest",
    "lost_interest",
    "servicing_fee",
)
"""Row order of the kernel's output (currency per period)."""


@njit(cache=True, nogil=True)
def combine_nb(
    smm_table: np.ndarray,
    smm_offset: np.ndarray,
    smm_cut: np.ndarray,
    mdr_table: np.ndarray,
    mdr_offset: np.ndarray,
    mdr_cut: np.ndarray,
    b_prev: np.ndarray,
    b_now: np.ndarray,
    bn_prev: np.ndarray,
    bs_prev: np.ndarray,
    ml: np.ndarray,
    lag: int,
    advancing: bool,
    severity: float,
    out: np.ndarray,
) -> None:
    """Add every group's columns into `out` (len(COLUMNS), periods), zeroed by the caller.

    Monthly rates of group g in period i: SMM = smm_table[smm_offset[g] + i] while
    i < smm_cut[g], else 0 (MDR likewise); d = min(MDR, 1), s = min(SMM, 1, 1 − d).
    b_prev/b_now: scheduled balance B(i−1), B(i);
    bn_prev, bs_prev: Σ b·net/12 and Σ b·strip/12 at i−1; ml: advanced loss cap per group,
    ML(k) in column k, zero beyond its width (advancing only; any shape otherwise).
    """
    n_groups, n = b_prev.shape
    cum = np.empty(n)  # Σ_{k ≤ i} D(k) (advancing) or Σ db(k) (not advancing)
    cum2 = np.empty(n)  # Σ_{k ≤ i} D(k)·Bn(k−1) (not advancing)
    hist = np.empty(n)  # D(i) (advancing) or db(i) (not advancing)
    for g in range(n_groups):
        q_prev = 1.0
        run = 0.0
        run2 = 0.0
        u_prev = 0.0
        fcn_prev = 0.0
        so = smm_offset[g]
        mo = mdr_offset[g]
        for i in range(n):
            di = min(mdr_table[mo + i], 1.0) if i < mdr_cut[g] else 0.0
            si = min(min(smm_table[so + i], 1.0), 1.0 - di) if i < smm_cut[g] else 0.0
            q = q_prev * (1.0 - si - di)
            dd = di * q_prev
            bp = b_prev[g, i]
            bw = b_now[g, i]
            bnp = bn_prev[g, i]
            out[0, i] += q * bw
            out[1, i] += dd * bp
            out[2, i] += q_prev * (1.0 - di) * (bp - bw)
            out[3, i] += si * q_prev * bw
            if advancing:
                hist[i] = dd
                run = run + dd
                cum[i] = run
                u = (cum[i] - (cum[i - lag] if i >= lag else 0.0)) if lag > 0 else 0.0
                d_lag = hist[i - lag] if i >= lag else 0.0
                fc_int = u_prev * bnp
                out[4, i] += u * (bp - bw)
                out[5, i] += u * bw
                out[6, i] += d_lag * bp
                out[7, i] += d_lag * (ml[g, i + 1] if i + 1 < ml.shape[1] else 0.0)
                u_prev = u
            else:
                db = dd * bp
                hist[i] = db
                run = run + db
                cum[i] = run
                run2 = run2 + dd * bnp
                cum2[i] = run2
                adb = hist[i - lag] if i >= lag else 0.0
                if lag > 0:
                    fcl = cum[i] - (cum[i - lag] if i >= lag else 0.0)
                    fcn = cum2[i] - (cum2[i - lag] if i >= lag else 0.0)
                else:
                    fcl = 0.0
                    fcn = 0.0
                fc_int = fcn_prev
                out[5, i] += fcl
                out[6, i] += adb
                out[7, i] += severity * adb
                fcn_prev = fcn
            out[8, i] += q_prev * bnp + fc_int
            out[9, i] += dd * bnp + fc_int
            out[10, i] += q_prev * bs_prev[g, i]
            q_prev = q


def _lagged(x: np.ndarray, k: int) -> np.ndarray:
    """x shifted right by k periods (zeros in front): x(i − k)."""
    if k == 0:
        return x
    out = np.zeros_like(x)
    if k < x.shape[1]:
        out[:, k:] = x[:, :-k]
    return out


def rates_ref(table: np.ndarray, offset: np.ndarray, cut: np.ndarray, n: int) -> np.ndarray:
    """The (groups, periods) matrix of rates that `combine_nb` reads from a table."""
    i = np.arange(n)
    out = table[offset[:, None] + i[None, :]]
    return np.where(i[None, :] < cut[:, None], out, 0.0)


def combine_ref(
    smm_table: np.ndarray,
    smm_offset: np.ndarray,
    smm_cut: np.ndarray,
    mdr_table: np.ndarray,
    mdr_offset: np.ndarray,
    mdr_cut: np.ndarray,
    b_prev: np.ndarray,
    b_now: np.ndarray,
    bn_prev: np.ndarray,
    bs_prev: np.ndarray,
    ml: np.ndarray,
    lag: int,
    advancing: bool,
    severity: float,
) -> np.ndarray:
    """Plain NumPy reference of `combine_nb` (whole matrices, then a sum over groups)."""
    n = b_prev.shape[1]
    d = np.minimum(rates_ref(mdr_table, mdr_offset, mdr_cut, n), 1.0)
    s = np.minimum(np.minimum(rates_ref(smm_table, smm_offset, smm_cut, n), 1.0), 1.0 - d)
    q = np.cumprod(1.0 - s - d, axis=1)
    q_prev = np.hstack([np.ones((q.shape[0], 1)), q[:, :-1]])  # Q(i−1)
    dd = d * q_prev  # D(i)
    if advancing:
        cum = np.cumsum(dd, axis=1)
        u = cum - _lagged(cum, lag) if lag > 0 else np.zeros_like(dd)  # Σ_{k=i−L+1..i} D(k)
        d_lag = _lagged(dd, lag) if lag > 0 else dd  # D(i − L)
        adb = d_lag * b_prev
        amd = u * (b_prev - b_now)
        fcl = u * b_now
        ml_i = np.zeros_like(dd)  # ML(i + 1) for period index i
        w = max(0, min(n, ml.shape[1] - 1))
        ml_i[:, :w] = ml[:, 1 : w + 1]
        loss = d_lag * ml_i
        fc_int = _lagged(u, 1) * bn_prev
    else:
        db = dd * b_prev  # defaulted balance of period i
        adb = _lagged(db, lag)
        amd = np.zeros_like(adb)
        cdb = np.cumsum(db, axis=1)
        fcl = cdb - _lagged(cdb, lag) if lag > 0 else np.zeros_like(db)
        loss = severity * adb
        cdbn = np.cumsum(dd * bn_prev, axis=1)
        fcn = cdbn - _lagged(cdbn, lag) if lag > 0 else np.zeros_like(db)
        fc_int = _lagged(fcn, 1)
    cols = (
        q * b_now,
        dd * b_prev,
        q_prev * (1.0 - d) * (b_prev - b_now),
        s * q_prev * b_now,
        amd,
        fcl,
        adb,
        loss,
        q_prev * bn_prev + fc_int,
        dd * bn_prev + fc_int,
        q_prev * bs_prev,
    )
    return np.stack([c.sum(axis=0) for c in cols])


@njit(cache=True, nogil=True)
def loss_cap_nb(
    paths: np.ndarray, group: np.ndarray, severity: float, lag: int, out: np.ndarray
) -> None:
    """Advanced loss cap per group: out[g, i] += Σ_{j in g} min(severity·b_j(i−L−1), b_j(i−1))
    for i = 1..out.shape[1] − 1, with b_j(k) = 0 outside 0..T (paths: (loans, T + 1) scheduled
    balances; group: each loan's group). One pass over loans × periods, no temporaries."""
    n, width = paths.shape
    total = out.shape[1]
    for j in range(n):
        g = group[j]
        for i in range(1, total):
            k = i - lag - 1
            at_default = severity * paths[j, k] if 0 <= k < width else 0.0
            at_liq = paths[j, i - 1] if i - 1 < width else 0.0
            out[g, i] += min(at_default, at_liq)


def loss_cap_ref(
    paths: np.ndarray, group: np.ndarray, n_groups: int, severity: float, lag: int
) -> np.ndarray:
    """Plain NumPy reference of `loss_cap_nb` (padded matrices, then a sum per group);
    returns (n_groups, T + L + 2) with column 0 zero."""
    n, width = paths.shape
    total = width + lag + 1
    padded = np.zeros((n, total + lag + 1))
    padded[:, lag + 1 : lag + 1 + width] = paths  # padded[:, k + lag + 1] = b(k)
    i = np.arange(1, total)
    m = np.minimum(severity * padded[:, i], padded[:, i + lag])  # b(i − L − 1), b(i − 1)
    out = np.zeros((n_groups, total))
    np.add.at(out[:, 1:], group, m)
    return out
