"""Numba kernel of the pool projection (same rules as app.engine.reference.project_reference).

Shape of the computation: loans are split into chunks of CHUNK loans; chunks are spread over
threads (prange over blocks, each block taking every n_blocks-th chunk so long and short loans
mix). Inside a chunk the loop runs period-outer, loan-inner over small contiguous state arrays,
so the per-period update of CHUNK independent loans is a straight run of multiplies the compiler
can pipeline. Powers are computed once per loan (and at floating-rate resets); every other month
the annuity factor (1 + p)^Q moves by one multiply. Nothing of size loans x periods is
allocated unless balance paths are requested.
"""

from __future__ import annotations

from typing import Any

import numba as nb
import numpy as np

from app.engine.pool import LoanPool
from app.engine.reference import LOAN_TOTAL_COLUMNS
from app.engine.speeds import SpeedTable
from app.engine.types import Amortization, Assumptions, RateType

CHUNK = 128
# pool accumulator rows
_END, _DEF, _PRE, _SCH, _ADB, _AMD, _LOSS, _EXP, _LOST, _SERV, _FCL = range(11)
N_ACC = 11
# loan total columns: LOAN_TOTAL_COLUMNS order, then the WAL numerator
N_TOT = len(LOAN_TOTAL_COLUMNS) + 1
_FASTMATH = {"reassoc", "contract", "nsz", "arcp"}


@nb.njit(cache=True, parallel=True, fastmath=_FASTMATH)
def project_chunks_nb(
    order: np.ndarray,
    bal: np.ndarray,
    coupon0: np.ndarray,
    strip: np.ndarray,
    age: np.ndarray,
    term_left: np.ndarray,
    freq: np.ndarray,
    io_age: np.ndarray,
    q_end: np.ndarray,
    linear: np.ndarray,
    floating: np.ndarray,
    idx_row: np.ndarray,
    margin: np.ndarray,
    reset: np.ndarray,
    pcap: np.ndarray,
    pfloor: np.ndarray,
    lcap: np.ndarray,
    lfloor: np.ndarray,
    idx_tab: np.ndarray,
    tab_p: np.ndarray,
    w_p: int,
    start_p: np.ndarray,
    shift_p: np.ndarray,
    mult_p: np.ndarray,
    tab_d: np.ndarray,
    w_d: int,
    start_d: np.ndarray,
    shift_d: np.ndarray,
    mult_d: np.ndarray,
    ztail_d: int,
    severity: float,
    lag: int,
    advancing: bool,
    n_periods: int,
    n_blocks: int,
    loan_level: bool,
    want_paths: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Project loans in `order`; returns (acc[n_blocks, N_ACC, N], totals[n, N_TOT], paths[n, N]).

    totals and paths are empty (0 rows) unless requested. All arrays are flat per-loan inputs in
    pool order; `order` only groups similar remaining terms into the same chunk.
    """
    n = order.shape[0]
    n_chunks = (n + CHUNK - 1) // CHUNK
    acc = np.zeros((n_blocks, N_ACC, n_periods))
    totals = np.zeros((n if loan_level else 0, N_TOT))
    paths = np.zeros((n if want_paths else 0, n_periods if want_paths else 0))
    ring = max(lag, 1)
    for blk in nb.prange(n_blocks):
        perf = np.empty(CHUNK)
        fcl = np.empty(CHUNK)
        sfac = np.empty(CHUNK)
        wpow = np.empty(CHUNK)
        inv1p = np.empty(CHUNK)
        prate = np.empty(CHUNK)
        qrem = np.empty(CHUNK)
        cpn = np.empty(CHUNK)
        netm = np.empty(CHUNK)
        servm = np.empty(CHUNK)
        cnt = np.empty(CHUNK, dtype=np.int64)
        l_age = np.empty(CHUNK, dtype=np.int64)
        l_t = np.empty(CHUNK, dtype=np.int64)
        l_f = np.empty(CHUNK, dtype=np.int64)
        l_io = np.empty(CHUNK, dtype=np.int64)
        l_sp = np.empty(CHUNK, dtype=np.int64)
        l_lp = np.empty(CHUNK, dtype=np.int64)
        l_sd = np.empty(CHUNK, dtype=np.int64)
        l_ld = np.empty(CHUNK, dtype=np.int64)
        l_mp = np.empty(CHUNK)
        l_md = np.empty(CHUNK)
        flt_pos = np.empty(CHUNK, dtype=np.int64)
        nd_ring = np.zeros((ring, CHUNK))
        u_ring = np.zeros((ring, CHUNK))
        tot = np.zeros((N_TOT, CHUNK))
        out = acc[blk]
        for ch in range(blk, n_chunks, n_blocks):
            j0 = ch * CHUNK
            k = min(CHUNK, n - j0)
            nflt = 0
            imax = 0
            for jj in range(k):
                j = order[j0 + jj]
                f = freq[j]
                a = age[j]
                perf[jj] = bal[j]
                fcl[jj] = 0.0
                sfac[jj] = 1.0
                c = coupon0[j]
                cpn[jj] = c
                netm[jj] = (c - strip[j]) / 12.0
                servm[jj] = strip[j] / 12.0
                p = 0.0 if linear[j] else c * f / 12.0
                prate[jj] = p
                q = float(q_end[j] - a // f)
                qrem[jj] = q
                wpow[jj] = (1.0 + p) ** q if p > 0.0 else 2.0
                inv1p[jj] = 1.0 / (1.0 + p)
                cnt[jj] = (a + 1) % f
                l_age[jj] = a
                l_t[jj] = term_left[j]
                l_f[jj] = f
                l_io[jj] = io_age[j]
                l_sp[jj] = start_p[j] + shift_p[j] - 1
                l_lp[jj] = start_p[j] + w_p - 1
                l_sd[jj] = start_d[j] + shift_d[j] - 1
                l_ld[jj] = start_d[j] + w_d - 1
                l_mp[jj] = mult_p[j]
                l_md[jj] = mult_d[j]
                if floating[j]:
                    flt_pos[nflt] = jj
                    nflt += 1
                imax = max(imax, term_left[j] + lag)
            imax = min(imax, n_periods)
            nd_ring[:, :k] = 0.0
            u_ring[:, :k] = 0.0
            if loan_level:
                tot[:, :k] = 0.0
            for i in range(1, imax + 1):
                ii = i - 1
                slot = i % ring
                t_years = i / 12.0
                for q_i in range(nflt):
                    jj = flt_pos[q_i]
                    j = order[j0 + jj]
                    prev_age = l_age[jj] + i - 1
                    if prev_age > 0 and prev_age % reset[j] == 0:
                        cprev = cpn[jj]
                        new = idx_tab[idx_row[j], ii] + margin[j]
                        new = min(max(new, cprev - pfloor[j]), cprev + pcap[j])
                        new = min(max(new, lfloor[j]), lcap[j])
                        cpn[jj] = new
                        netm[jj] = (new - strip[j]) / 12.0
                        if not linear[j]:
                            p = new * l_f[jj] / 12.0
                            prate[jj] = p
                            wpow[jj] = (1.0 + p) ** qrem[jj] if p > 0.0 else 2.0
                            inv1p[jj] = 1.0 / (1.0 + p)
                s_end = 0.0
                s_def = 0.0
                s_pre = 0.0
                s_sch = 0.0
                s_adb = 0.0
                s_amd = 0.0
                s_loss = 0.0
                s_exp = 0.0
                s_lost = 0.0
                s_serv = 0.0
                s_fcl = 0.0
                for jj in range(k):
                    d = min(tab_d[min(l_sd[jj] + i, l_ld[jj])] * l_md[jj], 1.0)
                    if i > l_t[jj] - ztail_d:
                        d = 0.0
                    s = min(min(tab_p[min(l_sp[jj] + i, l_lp[jj])] * l_mp[jj], 1.0), 1.0 - d)
                    pay = cnt[jj] == 0
                    p = prate[jj]
                    q = qrem[jj]
                    ann = 1.0 - (p / (wpow[jj] - 1.0) if p > 0.0 else 1.0 / max(q, 1.0))
                    af = ann if (pay and l_age[jj] + i > l_io[jj]) else 1.0
                    if i >= l_t[jj]:
                        af = 0.0
                    pb = perf[jj]
                    nd = d * pb
                    pre = s * pb * af
                    sch = (pb - nd) * (1.0 - af)
                    pn = pb * af * (1.0 - s - d)
                    if lag > 0:
                        ndl = nd_ring[slot, jj]
                        adb = u_ring[slot, jj] * sfac[jj] if advancing else ndl
                        nd_ring[slot, jj] = nd
                        u_ring[slot, jj] = nd / sfac[jj] if sfac[jj] > 0.0 else 0.0
                    else:
                        ndl = nd
                        adb = nd
                    sfac[jj] *= af
                    fc = fcl[jj]
                    x = fc + nd - adb
                    amd = x * (1.0 - af) if advancing else 0.0
                    fcn = x - amd
                    loss = min(severity * ndl, adb)
                    nm = netm[jj]
                    ei = (pb + fc) * nm
                    li = (nd + fc) * nm
                    sv = pb * servm[jj]
                    perf[jj] = pn
                    fcl[jj] = fcn
                    if pay:
                        qrem[jj] = q - 1.0
                        wpow[jj] *= inv1p[jj]
                    c1 = cnt[jj] + 1
                    cnt[jj] = 0 if c1 == l_f[jj] else c1
                    s_end += pn
                    s_def += nd
                    s_pre += pre
                    s_sch += sch
                    s_adb += adb
                    s_amd += amd
                    s_loss += loss
                    s_exp += ei
                    s_lost += li
                    s_serv += sv
                    s_fcl += fcn
                    if loan_level:
                        rec = adb - loss
                        tot[0, jj] += nd
                        tot[1, jj] += sch
                        tot[2, jj] += pre
                        tot[3, jj] += amd
                        tot[4, jj] += adb
                        tot[5, jj] += loss
                        tot[6, jj] += rec
                        tot[7, jj] += ei
                        tot[8, jj] += li
                        tot[9, jj] += ei - li
                        tot[10, jj] += sv
                        tot[11, jj] += t_years * (sch + pre + amd + rec)
                out[_END, ii] += s_end
                out[_DEF, ii] += s_def
                out[_PRE, ii] += s_pre
                out[_SCH, ii] += s_sch
                out[_ADB, ii] += s_adb
                out[_AMD, ii] += s_amd
                out[_LOSS, ii] += s_loss
                out[_EXP, ii] += s_exp
                out[_LOST, ii] += s_lost
                out[_SERV, ii] += s_serv
                out[_FCL, ii] += s_fcl
                if want_paths:
                    for jj in range(k):
                        paths[order[j0 + jj], ii] = perf[jj]
            if loan_level:
                for jj in range(k):
                    j = order[j0 + jj]
                    for c_i in range(N_TOT):
                        totals[j, c_i] = tot[c_i, jj]
    return acc, totals, paths


def _loan_arrays(pool: LoanPool) -> dict[str, np.ndarray]:
    """Per-loan schedule parameters derived from the pool (vectorised)."""
    amort = pool.amortization
    f = pool.payment_frequency.astype(np.int64)
    io_age = np.where(
        amort == Amortization.INTEREST_ONLY,
        pool.io_months,
        np.where(amort == Amortization.BULLET, pool.original_term_months, 0),
    ).astype(np.int64)
    q_end = (
        np.where(amort == Amortization.BALLOON, pool.amortization_term_months, pool.original_term_months) // f
    ).astype(np.int64)
    return {
        "bal": np.ascontiguousarray(pool.balance, dtype=np.float64),
        "coupon0": np.ascontiguousarray(pool.rate, dtype=np.float64),
        "strip": np.ascontiguousarray(pool.rate - pool.net_rate, dtype=np.float64),
        "age": np.ascontiguousarray(pool.age_months, dtype=np.int64),
        "term_left": np.ascontiguousarray(pool.remaining_term_months, dtype=np.int64),
        "freq": f,
        "io_age": io_age,
        "q_end": q_end,
        "linear": amort == Amortization.LINEAR,
        "floating": pool.rate_type == RateType.FLOATING,
    }


def _float_arrays(pool: LoanPool, index_paths: Any, n_periods: int) -> dict[str, np.ndarray]:
    flt = pool.rate_type == RateType.FLOATING
    if not flt.any():
        one = np.zeros(len(pool))
        return {
            "idx_row": np.zeros(len(pool), dtype=np.int64),
            "margin": one,
            "reset": np.ones(len(pool), dtype=np.int64),
            "pcap": one,
            "pfloor": one,
            "lcap": one,
            "lfloor": one,
            "idx_tab": np.zeros((1, n_periods)),
        }
    names, inv = np.unique(pool.index_name, return_inverse=True)
    tab = np.zeros((names.shape[0], n_periods))
    for r, name in enumerate(names.tolist()):
        if name in index_paths:
            path = np.asarray(index_paths[name], dtype=np.float64)
            tab[r] = path[np.minimum(np.arange(n_periods), path.shape[0] - 1)]
    return {
        "idx_row": inv.reshape(-1).astype(np.int64),
        "margin": np.ascontiguousarray(pool.margin, dtype=np.float64),
        "reset": np.maximum(pool.reset_months, 1).astype(np.int64),
        "pcap": np.ascontiguousarray(pool.periodic_cap, dtype=np.float64),
        "pfloor": np.ascontiguousarray(pool.periodic_floor, dtype=np.float64),
        "lcap": np.ascontiguousarray(pool.life_cap, dtype=np.float64),
        "lfloor": np.ascontiguousarray(pool.life_floor, dtype=np.float64),
        "idx_tab": tab,
    }


def _run(
    pool: LoanPool,
    pre: SpeedTable,
    dft: SpeedTable,
    a: Assumptions,
    n_periods: int,
    loan_level: bool,
    balance_paths: bool,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray] | None, np.ndarray | None]:
    la = _loan_arrays(pool)
    fa = _float_arrays(pool, a.index_paths, n_periods)
    # Chunks of similar remaining term stop early together (stable radix sort on int64).
    order = np.argsort(la["term_left"], kind="stable").astype(np.int64)
    n_blocks = max(1, min(nb.get_num_threads() * 8, (len(pool) + CHUNK - 1) // CHUNK))
    acc, tot, paths = project_chunks_nb(
        order,
        la["bal"],
        la["coupon0"],
        la["strip"],
        la["age"],
        la["term_left"],
        la["freq"],
        la["io_age"],
        la["q_end"],
        la["linear"],
        la["floating"],
        fa["idx_row"],
        fa["margin"],
        fa["reset"],
        fa["pcap"],
        fa["pfloor"],
        fa["lcap"],
        fa["lfloor"],
        fa["idx_tab"],
        np.ascontiguousarray(pre.table, dtype=np.float64),
        int(pre.width),
        np.ascontiguousarray(pre.start, dtype=np.int64),
        np.ascontiguousarray(pre.shift, dtype=np.int64),
        np.ascontiguousarray(pre.mult, dtype=np.float64),
        np.ascontiguousarray(dft.table, dtype=np.float64),
        int(dft.width),
        np.ascontiguousarray(dft.start, dtype=np.int64),
        np.ascontiguousarray(dft.shift, dtype=np.int64),
        np.ascontiguousarray(dft.mult, dtype=np.float64),
        int(dft.zero_tail),
        float(a.severity),
        int(a.recovery_lag_months),
        bool(a.advancing),
        int(n_periods),
        int(n_blocks),
        bool(loan_level),
        bool(balance_paths),
    )
    s = acc.sum(axis=0)
    ending = s[_END]
    fcl_end = s[_FCL]
    cols = {
        "period": np.arange(1, n_periods + 1, dtype=np.float64),
        "beginning_balance": np.concatenate([[float(la["bal"].sum())], ending[:-1]]),
        "ending_balance": ending,
        "default": s[_DEF],
        "scheduled_principal": s[_SCH],
        "prepayment": s[_PRE],
        "defaulted_amortization": s[_AMD],
        "foreclosure_balance": fcl_end,
        "liquidated_balance": s[_ADB],
        "loss": s[_LOSS],
        "recovery": s[_ADB] - s[_LOSS],
        "expected_interest": s[_EXP],
        "lost_interest": s[_LOST],
        "interest": s[_EXP] - s[_LOST],
        "servicing_fee": s[_SERV],
    }
    cols["total_cashflow"] = (
        cols["interest"]
        + cols["scheduled_principal"]
        + cols["defaulted_amortization"]
        + cols["prepayment"]
        + cols["recovery"]
    )
    totals = None
    if loan_level:
        totals = {name: tot[:, c] for c, name in enumerate(LOAN_TOTAL_COLUMNS)}
        totals["wal_numerator"] = tot[:, len(LOAN_TOTAL_COLUMNS)]
    return cols, totals, (paths if balance_paths else None)


def run_tables(
    pool: LoanPool,
    pre: SpeedTable,
    dft: SpeedTable,
    assumptions: Assumptions,
    n_periods: int,
    *,
    loan_level: bool,
    balance_paths: bool,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray] | None, np.ndarray | None]:
    """Run the kernel with speeds packed as `SpeedTable`s; returns (columns, totals, paths)."""
    return _run(pool, pre, dft, assumptions, n_periods, loan_level, balance_paths)


def run_matrices(
    pool: LoanPool,
    smm: np.ndarray,
    mdr: np.ndarray,
    assumptions: Assumptions,
    *,
    loan_level: bool,
    balance_paths: bool,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray] | None, np.ndarray | None]:
    """Run the kernel with given (n_loans, n_periods) SMM and MDR arrays (rows read in place)."""
    n, n_periods = smm.shape
    start = np.arange(n, dtype=np.int64) * n_periods
    zeros = np.zeros(n, dtype=np.int64)
    ones = np.ones(n)
    pre = SpeedTable(smm.reshape(-1), n_periods, start, zeros, ones, 0)
    dft = SpeedTable(mdr.reshape(-1), n_periods, start, zeros, ones, 0)
    return _run(pool, pre, dft, assumptions, n_periods, loan_level, balance_paths)
