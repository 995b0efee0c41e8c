"""Numba kernel of the pool projection (same rules as app.engine.projection_reference.project_reference).

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
from app.engine.projection_reference import LOAN_TOTAL_COLUMNS
from app.engine.speeds import SpeedTable
from app.engine.types import Amortization, Assumptions, RateType

CHUNK = 64
MIN_ANNUITY_RATE = 1e-9
"""Periodic coupons below this amortise straight line: the annuity and straight-line schedules
then differ by less than p x payments / 2 (< 2e-7 relative over 360 payments), while the annuity's
1 - (1 + p)^-Q would lose its digits to cancellation."""
# pool accumulator rows
_END, _DEF, _PRE, _SCH, _ADB, _AMD, _LOSS, _EXP, _LOST, _SERV, _FCL = range(11)
N_ACC = 11
# loan total columns: LOAN_TOTAL_COLUMNS order, then the WAL numerator
N_TOT = len(LOAN_TOTAL_COLUMNS) + 1
# rows of the per-chunk state array
(
    R_X,
    R_Z,
    R_G,
    R_C0,
    R_MUL,
    R_ADD,
    R_FU,
    R_FCL,
    R_NETM,
    R_SERVM,
    R_CPN,
    R_CNT,
    R_F,
    R_IO,
    R_T,
    R_TZ,
    R_MP,
    R_MD,
    R_SMM,
    R_MDR,
) = range(20)
_TOT = 20
R_FLOW = _TOT + N_TOT
_ROWS = R_FLOW + 9
# No "reassoc" (sums reordered by vector width) and no "contract" (FMA only where the CPU has
# it): both make the numbers depend on the machine that compiled the kernel (DOMAIN.md §8;
# measured in docs/benchmarks.md, "fastmath in the projection kernel").
_FASTMATH = {"nsz", "arcp"}


@nb.njit(cache=True, fastmath=_FASTMATH)
def _period_nb(
    st: np.ndarray,
    r_nd: np.ndarray,
    r_y: np.ndarray,
    k: int,
    fi: float,
    lag0: bool,
    advancing: bool,
    severity: float,
    loan_level: bool,
) -> tuple[float, float, float, float, float, float, float, float, float, float, float]:
    """One month for the k loans of a chunk (state rows of `st`); returns the 11 pool sums.

    Rows R_SMM / R_MDR hold this month's monthly rates, already multiplied and capped at 1.

    A separate function so that the loan loop compiles to packed (SIMD) arithmetic.
    """
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
        d = 0.0 if fi > st[R_TZ * CHUNK + jj] else st[R_MDR * CHUNK + jj]
        s = min(st[R_SMM * CHUNK + jj], 1.0 - d)
        cn = st[R_CNT * CHUNK + jj]
        z = st[R_Z * CHUNK + jj]
        z = (
            z * st[R_MUL * CHUNK + jj] + st[R_ADD * CHUNK + jj]
            if (cn == 0.0 and fi > st[R_IO * CHUNK + jj])
            else z
        )
        st[R_Z * CHUNK + jj] = z
        g1 = st[R_G * CHUNK + jj]
        g2 = 0.0 if fi >= st[R_T * CHUNK + jj] else st[R_C0 * CHUNK + jj] - z
        st[R_G * CHUNK + jj] = g2
        x = st[R_X * CHUNK + jj]
        pb = x * g1
        nd = d * pb
        yd = d * x
        pre = s * x * g2
        sch = (x - yd) * (g1 - g2)
        x2 = x * (1.0 - s - d)
        st[R_X * CHUNK + jj] = x2
        pn = x2 * g2
        fc = st[R_FCL * CHUNK + jj]
        ndl = nd if lag0 else r_nd[jj]
        r_nd[jj] = nd
        yl = yd if lag0 else r_y[jj]
        r_y[jj] = yd
        fu2 = st[R_FU * CHUNK + jj] + yd - yl
        st[R_FU * CHUNK + jj] = fu2
        adb = yl * g1 if advancing else ndl
        amd = fu2 * (g1 - g2) if advancing else 0.0
        fcn = fu2 * g2 if advancing else fc + nd - adb
        st[R_FCL * CHUNK + jj] = fcn
        loss = min(severity * ndl, adb)
        nm = st[R_NETM * CHUNK + jj]
        ei = (pb + fc) * nm
        li = (nd + fc) * nm
        sv = pb * st[R_SERVM * CHUNK + jj]
        c1 = cn + 1.0
        st[R_CNT * CHUNK + jj] = 0.0 if c1 == st[R_F * CHUNK + jj] else c1
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
            st[(R_FLOW + 0) * CHUNK + jj] = nd
            st[(R_FLOW + 1) * CHUNK + jj] = sch
            st[(R_FLOW + 2) * CHUNK + jj] = pre
            st[(R_FLOW + 3) * CHUNK + jj] = amd
            st[(R_FLOW + 4) * CHUNK + jj] = adb
            st[(R_FLOW + 5) * CHUNK + jj] = loss
            st[(R_FLOW + 6) * CHUNK + jj] = ei
            st[(R_FLOW + 7) * CHUNK + jj] = li
            st[(R_FLOW + 8) * CHUNK + jj] = sv
    return s_end, s_def, s_pre, s_sch, s_adb, s_amd, s_loss, s_exp, s_lost, s_serv, s_fcl


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
    kind: np.ndarray,
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

    totals and paths are empty (0 rows) unless requested; `order` only groups similar remaining
    terms into the same chunk. State per loan: the performing balance is X * g, with g the
    scheduled balance in the loan's own units (g = c0 - z, z <- z * mul + add at each amortising
    payment: mul = 1 + p for an annuity, add = 1 for straight line; g = 0 from maturity on) and X
    the surviving fraction of scheduled units (X <- X * (1 - SMM' - MDR)). With advancing, the
    defaulted balance awaiting liquidation is F * g, F the defaulted units. Then, as in the
    reference: NEW_DEF = MDR X g(i-1); PREPAY = SMM' X g(i); SCHED = (1 - MDR) X (g(i-1) - g(i));
    ADB = Y(i-L) g(i-1) (Y = MDR X, units) when advancing, else NEW_DEF(i-L); AM_DEF =
    F(i) (g(i-1) - g(i)).
    """
    n = order.shape[0]
    n_chunks = (n + CHUNK - 1) // CHUNK
    acc = np.zeros((n_blocks, N_ACC, n_periods))
    totals = np.zeros((n if loan_level else 0, N_TOT))
    paths = np.zeros((n if want_paths else 0, n_periods if want_paths else 0))
    ring = max(lag, 1)
    lag0 = lag == 0
    # months after maturity in which liquidations can still happen (none when the default
    # rate is already zero in the last `lag` months, as SDA is)
    tail = max(lag - ztail_d, 0)
    for blk in nb.prange(n_blocks):
        # all per-loan chunk state in one flat array, rows at constant offsets, so the
        # compiler sees one base pointer in the hot loop (no aliasing checks between rows)
        st = np.zeros(_ROWS * CHUNK)
        nd_ring = np.zeros((ring, CHUNK))
        y_ring = np.zeros((ring, CHUNK))
        l_sp = np.empty(CHUNK, dtype=np.int64)
        l_lp = np.empty(CHUNK, dtype=np.int64)
        l_sd = np.empty(CHUNK, dtype=np.int64)
        l_ld = np.empty(CHUNK, dtype=np.int64)
        l_age = np.empty(CHUNK, dtype=np.int64)
        flt_pos = np.empty(CHUNK, dtype=np.int64)
        out = acc[blk]
        for ch in range(blk, n_chunks, n_blocks):
            j0 = ch * CHUNK
            k = min(CHUNK, n - j0)
            nflt = 0
            imax = 0
            stop_p = 1
            stop_d = 1
            st[:] = 0.0
            nd_ring[:] = 0.0
            y_ring[:] = 0.0
            for jj in range(k):
                j = order[j0 + jj]
                f = freq[j]
                a = age[j]
                c = coupon0[j]
                st[R_CPN * CHUNK + jj] = c
                st[R_NETM * CHUNK + jj] = (c - strip[j]) / 12.0
                st[R_SERVM * CHUNK + jj] = strip[j] / 12.0
                r_left = min(q_end[j] - a // f, q_end[j] - io_age[j] // f)
                kd = kind[j]
                p = c * f / 12.0
                if kd == 2:  # bullet: flat until maturity
                    c0, z0, m0, a0 = 1.0, 0.0, 1.0, 0.0
                elif kd == 1 or p < MIN_ANNUITY_RATE:  # straight line (also a ~0% annuity)
                    c0, z0, m0, a0 = float(r_left), 0.0, 1.0, 1.0
                else:  # annuity
                    c0, z0, m0, a0 = 1.0, (1.0 + p) ** (-float(r_left)), 1.0 + p, 0.0
                st[R_C0 * CHUNK + jj] = c0
                st[R_Z * CHUNK + jj] = z0
                st[R_MUL * CHUNK + jj] = m0
                st[R_ADD * CHUNK + jj] = a0
                st[R_G * CHUNK + jj] = c0 - z0
                st[R_X * CHUNK + jj] = bal[j] / (c0 - z0)
                st[R_CNT * CHUNK + jj] = float((a + 1) % f)
                st[R_F * CHUNK + jj] = float(f)
                st[R_IO * CHUNK + jj] = float(io_age[j] - a)
                st[R_T * CHUNK + jj] = float(term_left[j])
                st[R_TZ * CHUNK + jj] = float(term_left[j] - ztail_d)
                st[R_MP * CHUNK + jj] = mult_p[j]
                st[R_MD * CHUNK + jj] = mult_d[j]
                l_age[jj] = a
                l_sp[jj] = start_p[j] + shift_p[j] - 1
                l_lp[jj] = start_p[j] + w_p - 1
                l_sd[jj] = start_d[j] + shift_d[j] - 1
                l_ld[jj] = start_d[j] + w_d - 1
                if floating[j]:
                    flt_pos[nflt] = jj
                    nflt += 1
                imax = max(imax, term_left[j] + tail)
                # last month in which this loan's speed pointers still move along their tables
                stop_p = max(stop_p, l_lp[jj] - l_sp[jj])
                stop_d = max(stop_d, l_ld[jj] - l_sd[jj])
            imax = min(imax, n_periods)
            for i in range(1, imax + 1):
                ii = i - 1
                slot = i % ring
                fi = float(i)
                t_years = i / 12.0
                for q_i in range(nflt):
                    jj = flt_pos[q_i]
                    j = order[j0 + jj]
                    prev_age = l_age[jj] + ii
                    if prev_age > 0 and prev_age % reset[j] == 0:
                        cprev = st[R_CPN * CHUNK + jj]
                        new = idx_tab[idx_row[j], ii] + margin[j]
                        new = min(max(new, cprev - pfloor[j]), cprev + pcap[j])
                        new = min(max(new, lfloor[j]), lcap[j])
                        st[R_CPN * CHUNK + jj] = new
                        st[R_NETM * CHUNK + jj] = (new - strip[j]) / 12.0
                        kd = kind[j]
                        if (kd == 0 or kd == 3) and i <= term_left[j]:
                            # re-amortise the scheduled balance at the new coupon: same balance,
                            # new units (X, F and the pending defaulted units rescale)
                            f = freq[j]
                            r_left = min(q_end[j] - prev_age // f, q_end[j] - io_age[j] // f)
                            p = new * f / 12.0
                            if p < MIN_ANNUITY_RATE:
                                c0, z0, m0, a0 = float(r_left), 0.0, 1.0, 1.0
                            else:
                                c0, z0, m0, a0 = 1.0, (1.0 + p) ** (-float(r_left)), 1.0 + p, 0.0
                            st[R_C0 * CHUNK + jj] = c0
                            st[R_Z * CHUNK + jj] = z0
                            st[R_MUL * CHUNK + jj] = m0
                            st[R_ADD * CHUNK + jj] = a0
                            ratio = st[R_G * CHUNK + jj] / (c0 - z0)
                            st[R_G * CHUNK + jj] = c0 - z0
                            st[R_X * CHUNK + jj] *= ratio
                            st[R_FU * CHUNK + jj] *= ratio
                            for r_i in range(ring):
                                y_ring[r_i, jj] *= ratio
                # speeds stay in the state rows once every pointer has reached its table's end
                if i <= stop_p:
                    for jj in range(k):
                        st[R_SMM * CHUNK + jj] = min(
                            tab_p[min(l_sp[jj] + i, l_lp[jj])] * st[R_MP * CHUNK + jj], 1.0
                        )
                if i <= stop_d:
                    for jj in range(k):
                        st[R_MDR * CHUNK + jj] = min(
                            tab_d[min(l_sd[jj] + i, l_ld[jj])] * st[R_MD * CHUNK + jj], 1.0
                        )
                r_nd = nd_ring[slot]
                r_y = y_ring[slot]
                # literal flags at the call sites: each call inlines with its branches folded
                # away, which lets the loan loop pipeline (about 2x faster than runtime flags);
                # the per-loan flows are always stored, so the pool sums are the same
                # instructions (same summation order) with or without loan-level output
                if advancing:
                    sums = _period_nb(st, r_nd, r_y, k, fi, lag0, True, severity, True)
                else:
                    sums = _period_nb(st, r_nd, r_y, k, fi, lag0, False, severity, True)
                (s_end, s_def, s_pre, s_sch, s_adb, s_amd, s_loss, s_exp, s_lost, s_serv, s_fcl) = (
                    sums
                )
                if loan_level:
                    for jj in range(k):
                        nd = st[(R_FLOW + 0) * CHUNK + jj]
                        sch = st[(R_FLOW + 1) * CHUNK + jj]
                        pre = st[(R_FLOW + 2) * CHUNK + jj]
                        amd = st[(R_FLOW + 3) * CHUNK + jj]
                        adb = st[(R_FLOW + 4) * CHUNK + jj]
                        loss = st[(R_FLOW + 5) * CHUNK + jj]
                        ei = st[(R_FLOW + 6) * CHUNK + jj]
                        li = st[(R_FLOW + 7) * CHUNK + jj]
                        rec = adb - loss
                        st[(_TOT + 0) * CHUNK + jj] += nd
                        st[(_TOT + 1) * CHUNK + jj] += sch
                        st[(_TOT + 2) * CHUNK + jj] += pre
                        st[(_TOT + 3) * CHUNK + jj] += amd
                        st[(_TOT + 4) * CHUNK + jj] += adb
                        st[(_TOT + 5) * CHUNK + jj] += loss
                        st[(_TOT + 6) * CHUNK + jj] += rec
                        st[(_TOT + 7) * CHUNK + jj] += ei
                        st[(_TOT + 8) * CHUNK + jj] += li
                        st[(_TOT + 9) * CHUNK + jj] += ei - li
                        st[(_TOT + 10) * CHUNK + jj] += st[(R_FLOW + 8) * CHUNK + jj]
                        st[(_TOT + 11) * CHUNK + jj] += t_years * (sch + pre + amd + rec)
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
                        paths[order[j0 + jj], ii] = st[R_X * CHUNK + jj] * st[R_G * CHUNK + jj]
            if loan_level:
                for jj in range(k):
                    j = order[j0 + jj]
                    for c_i in range(N_TOT):
                        totals[j, c_i] = st[(_TOT + c_i) * CHUNK + jj]
    return acc, totals, paths


_SCHEDULE_KIND = np.zeros(max(Amortization) + 1, dtype=np.int64)
"""The kernel's schedule kind of each amortization code: 0 level (also interest-only, whose
IO months are `io_age`), 1 linear, 2 bullet, 3 balloon."""
_SCHEDULE_KIND[[Amortization.LINEAR, Amortization.BULLET, Amortization.BALLOON]] = [1, 2, 3]


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
        np.where(
            amort == Amortization.BALLOON, pool.amortization_term_months, pool.original_term_months
        )
        // f
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
        "kind": _SCHEDULE_KIND[amort],
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
    # Chunks of similar remaining term stop early together. Year buckets keep the sort a radix
    # sort on int16 and leave loans of one bucket in pool order (near-sequential reads).
    bucket = np.minimum(la["term_left"] // 12, 32_000).astype(np.int16)
    order = np.argsort(bucket, kind="stable").astype(np.int64)
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
        la["kind"],
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
