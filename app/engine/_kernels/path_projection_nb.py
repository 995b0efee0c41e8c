"""Numba kernels of the Monte Carlo projection: rep-lines × paths under SIFMA rules (DOMAIN.md §3).

Each path is projected month by month for every rep-line with its own SMM from the
rate-driven prepayment model (app/engine/prepayment_model.py) and MDR (times an optional macro
multiplier), and reduced to per-path figures inside the kernel, so no (paths × months × loans)
array is ever stored. Paths are projected in groups of GROUP: the inner loops run over the
group's paths (SIMD lanes) with each line's and month's values hoisted, per path-month values
(mortgage rate, exp(k·m), discount factor) are computed once for all lines, and every path
goes through the same IEEE operations as alone, so grouping and threads never change a bit.
`error_model="numpy"` drops Python's zero-division check (which blocks vectorisation); no
divisor in the group kernel can be zero (1 + positive terms; WAL's is guarded).
Timing: month i = 1..N ends at t_i = i/12 years; the path's discount factor to t_i is
exp(−Δ·Σ_{j<i} r_j) (continuous compounding, rates held over each month).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

DT = 1.0 / 12.0
EXP_CLIP = 350.0
GROUP = 64  # paths projected together: SIMD lanes of the inner loops (32, 128 were slower)


@njit(cache=True, nogil=True)
def mortgage_yield_nb(cf: np.ndarray, price: float, guess: float) -> float:
    """Monthly-compounded annual yield y with price = Σ_k cf_k·(1 + y/12)^−k, k = 1..N.

    Newton on v = 1/(1 + y/12) from `guess` (an annual yield): f(v) = Σ cf_k v^k is increasing
    and convex for v > 0 when cf >= 0, so Newton converges monotonically after at most one
    step. The polynomial is evaluated as even and odd halves in w = v² (four independent
    Horner chains). NaN when Σ cf = 0 or price <= 0.
    """
    n = cf.shape[0]
    total = 0.0
    for k in range(n):
        total += cf[k]
    if total <= 0.0 or price <= 0.0:
        return np.nan
    v = 1.0 / (1.0 + guess / 12.0)
    if not v > 0.0:
        v = 1.0
    n_even = (n + 1) // 2
    n_odd = n // 2
    for _ in range(100):
        w = v * v
        e = 0.0  # E(w) = Σ cf[2m]·w^m
        de = 0.0  # E'(w)
        for m in range(n_even - 1, -1, -1):
            de = de * w + e
            e = e * w + cf[2 * m]
        o = 0.0  # O(w) = Σ cf[2m+1]·w^m
        do = 0.0
        for m in range(n_odd - 1, -1, -1):
            do = do * w + o
            o = o * w + cf[2 * m + 1]
        g = e + v * o  # g(v) = Σ cf[k]·v^k, f = v·g
        dg = 2.0 * v * de + o + 2.0 * w * do
        f = v * g - price
        step = f / (g + v * dg)
        v -= step
        if abs(step) <= 1e-14 * v:
            break
    return 12.0 * (1.0 / v - 1.0)


@njit(cache=True, nogil=True, error_model="numpy")
def _yields_nb(cf: np.ndarray, price: float, guess: float, out: np.ndarray) -> None:
    """`mortgage_yield_nb` for the columns of cf (N, w) at once, written to out (w,).

    The paths are the SIMD lanes of the Horner loops; each lane runs exactly the scalar
    solver's operations and stops at the same iteration (its v is frozen once converged), so
    out[q] equals mortgage_yield_nb(cf[:, q], price, guess) bit for bit.
    """
    n, w = cf.shape
    v = np.empty(w)
    active = np.zeros(w, dtype=np.bool_)
    valid = np.zeros(w, dtype=np.bool_)
    e = np.empty(w)
    de = np.empty(w)
    o = np.empty(w)
    do = np.empty(w)
    w2 = np.empty(w)
    v0 = 1.0 / (1.0 + guess / 12.0)
    if not v0 > 0.0:
        v0 = 1.0
    n_active = 0
    for q in range(w):
        total = 0.0
        for k in range(n):
            total += cf[k, q]
        v[q] = v0
        if total <= 0.0 or price <= 0.0:
            out[q] = np.nan
        else:
            active[q] = True
            valid[q] = True
            n_active += 1
    n_even = (n + 1) // 2
    n_odd = n // 2
    for _ in range(100):
        if n_active == 0:
            break
        for q in range(w):
            w2[q] = v[q] * v[q]
            e[q] = 0.0
            de[q] = 0.0
            o[q] = 0.0
            do[q] = 0.0
        for m in range(n_even - 1, -1, -1):
            row = cf[2 * m]
            for q in range(w):
                de[q] = de[q] * w2[q] + e[q]
                e[q] = e[q] * w2[q] + row[q]
        for m in range(n_odd - 1, -1, -1):
            row = cf[2 * m + 1]
            for q in range(w):
                do[q] = do[q] * w2[q] + o[q]
                o[q] = o[q] * w2[q] + row[q]
        for q in range(w):
            if active[q]:
                vq = v[q]
                g = e[q] + vq * o[q]
                dg = 2.0 * vq * de[q] + o[q] + 2.0 * w2[q] * do[q]
                f = vq * g - price
                step = f / (g + vq * dg)
                vq -= step
                v[q] = vq
                if abs(step) <= 1e-14 * vq:
                    active[q] = False
                    n_active -= 1
    for q in range(w):
        if valid[q]:
            out[q] = 12.0 * (1.0 / v[q] - 1.0)


@njit(cache=True, nogil=True)
def _setup_nb(
    note_rate: np.ndarray,
    mdr: np.ndarray,
    lag: int,
    refi_steepness: float,
    refi_midpoint: float,
    seasoning_months: float,
) -> tuple[np.ndarray, bool, float]:
    """Per-line exp(−k(c − I_mid)), whether any default can occur, and the ramp factor."""
    n, n_loans = mdr.shape
    # with no ramp, any factor >= 1 makes min((age + month)·inv_seas, 1) equal 1
    inv_seas = 1.0 / seasoning_months if seasoning_months > 0.0 else 1.0
    loan_e = np.empty(n_loans)
    for j in range(n_loans):
        z = -refi_steepness * (note_rate[j] - refi_midpoint)
        loan_e[j] = math.exp(min(max(z, -EXP_CLIP), EXP_CLIP))
    has_defaults = lag > 0
    for i in range(n):
        for j in range(n_loans):
            if mdr[i, j] > 0.0:
                has_defaults = True
    return loan_e, has_defaults, inv_seas


@njit(cache=True, nogil=True, error_model="numpy")
def _group_nb(
    p0: int,
    p1: int,
    short_rates: np.ndarray,
    mort_c: np.ndarray,
    mort_d: float,
    macro_mult: np.ndarray,
    balance: np.ndarray,
    note_rate: np.ndarray,
    net_rate: np.ndarray,
    age: np.ndarray,
    liq_ratio: np.ndarray,
    af: np.ndarray,
    mdr: np.ndarray,
    severity: np.ndarray,
    lag: int,
    advancing: bool,
    turnover_smm: float,
    refi_smm_max: float,
    refi_steepness: float,
    burnout: float,
    pv_disc: np.ndarray,
    yield_price: float,
    yield_guess: float,
    out_cfd: np.ndarray,
    out_cf: np.ndarray,
    out_pv: np.ndarray,
    out_wal: np.ndarray,
    out_loss: np.ndarray,
    out_yield: np.ndarray,
    loan_e: np.ndarray,
    has_defaults: bool,
    inv_seas: float,
) -> None:
    """Project paths p0..p1−1 together and write their outputs (see `mc_project_nb`).

    The paths of a group are the SIMD lanes: every inner loop runs over the group's paths
    with the line's and month's scalars hoisted, and each path sees exactly the same sequence
    of IEEE operations as when projected alone (no reassociation, no fastmath), so the
    results do not depend on how paths are grouped. Per path-month values (mortgage rate,
    its S-curve factor exp(k·m), the discount factor) are computed once, not per line.
    """
    w = p1 - p0
    n = short_rates.shape[1]
    n_loans = balance.shape[0]
    has_macro = macro_mult.shape[0] > 0
    keep_cf = out_cf.shape[0] > 0
    ring = lag + 1
    perf = np.empty((n_loans, w))
    for j in range(n_loans):
        for q in range(w):
            perf[j, q] = balance[j]
    fcl = np.zeros((n_loans, w))
    expo = np.zeros((n_loans, w))
    hist = np.zeros((ring, n_loans, w))
    cfbuf = np.empty((n, w))
    m_q = np.empty(w)
    big_m = np.empty(w)
    mult_q = np.ones(w)
    log_df = np.zeros(w)
    df = np.empty(w)
    cf = np.empty(w)
    prin = np.empty(w)
    loss_m = np.empty(w)
    nd_q = np.empty(w)
    flow_q = np.empty(w)
    prin_q = np.empty(w)
    pv = np.zeros(w)
    wal_num = np.zeros(w)
    wal_den = np.zeros(w)
    loss_tot = np.zeros(w)
    keep = 1.0 if advancing else 0.0
    for i in range(n):
        month = i + 1.0
        mc = mort_c[i]
        for q in range(w):
            r = short_rates[p0 + q, i]
            m = mc + mort_d * r
            m_q[q] = m
            big_m[q] = math.exp(min(max(refi_steepness * m, -EXP_CLIP), EXP_CLIP))
            log_df[q] -= DT * r
            df[q] = math.exp(log_df[q])
            cf[q] = 0.0
            prin[q] = 0.0
            loss_m[q] = 0.0
        if has_macro:
            for q in range(w):
                mult_q[q] = macro_mult[p0 + q, i]
        slot_now = (i + 1) % ring
        slot_old = (i + 1 - lag) % ring
        for j in range(n_loans):
            a = af[i, j]
            one_a = 1.0 - a
            base_md = mdr[i, j]
            ramp = min((age[j] + month) * inv_seas, 1.0)
            le = loan_e[j]
            c = note_rate[j]
            nr = net_rate[j]
            pj = perf[j]
            ej = expo[j]
            # 1) performing balances (branch-free over the group's paths)
            for q in range(w):
                pb = pj[q]
                md = min(base_md * mult_q[q], 1.0)
                s_b = 1.0 / ((1.0 + le * big_m[q]) * (1.0 + burnout * ej[q]))
                smm = min(ramp * (turnover_smm + refi_smm_max * s_b), 1.0 - md)
                ej[q] += max(c - m_q[q], 0.0) * DT
                nd = md * pb
                pp = smm * pb * a
                sc = (pb - nd) * one_a
                pj[q] = pb - nd - pp - sc
                nd_q[q] = nd
                prin_q[q] = sc + pp
                flow_q[q] = (pb - nd) * nr * DT + sc + pp
            if has_defaults and lag == 0:
                # 2a) no lag: defaults liquidate at once, ADB = NEW_DEF, FCL stays 0
                sev = severity[j]
                for q in range(w):
                    nd = nd_q[q]
                    loss = min(sev * nd, nd)
                    prin_q[q] += nd - loss
                    flow_q[q] += nd - loss
                    loss_m[q] += loss
            elif has_defaults:
                # 2b) liquidation `lag` months later (DOMAIN.md §3); the ring slot of month
                # i+1−lag is still zero while i+1 <= lag, so no branch is needed for it
                sev = severity[j]
                lr = liq_ratio[i, j]
                h_now = hist[slot_now, j]
                h_old = hist[slot_old, j]
                fj = fcl[j]
                for q in range(w):
                    nd = nd_q[q]
                    old = h_old[q]
                    h_now[q] = nd
                    adb = old * lr
                    am_def = keep * (nd + fj[q] - adb) * one_a
                    fj[q] = fj[q] + nd - adb - am_def
                    loss = min(sev * old, adb)
                    extra = am_def + adb - loss
                    prin_q[q] += extra
                    flow_q[q] += extra
                    loss_m[q] += loss
            # 3) sums over lines in line order
            for q in range(w):
                cf[q] += flow_q[q]
                prin[q] += prin_q[q]
        t_i = month * DT
        disc = pv_disc[i]
        for q in range(w):
            cfd = cf[q] * df[q]
            cfbuf[i, q] = cf[q]
            out_cfd[p0 + q, i] = cfd
            pv[q] += cfd * disc
            wal_num[q] += t_i * prin[q]
            wal_den[q] += prin[q]
            loss_tot[q] += loss_m[q]
        if keep_cf:
            for q in range(w):
                out_cf[p0 + q, i] = cf[q]
    for q in range(w):
        p = p0 + q
        out_pv[p] = pv[q]
        out_wal[p] = wal_num[q] / wal_den[q] if wal_den[q] > 0.0 else 0.0
        out_loss[p] = loss_tot[q]
    _yields_nb(cfbuf, yield_price, yield_guess, out_yield[p0:p1])


@njit(cache=True, nogil=True, parallel=True)
def mc_project_nb(
    short_rates: np.ndarray,
    mort_c: np.ndarray,
    mort_d: float,
    macro_mult: np.ndarray,
    balance: np.ndarray,
    note_rate: np.ndarray,
    net_rate: np.ndarray,
    age: np.ndarray,
    liq_ratio: np.ndarray,
    af: np.ndarray,
    mdr: np.ndarray,
    severity: np.ndarray,
    lag: int,
    advancing: bool,
    turnover_smm: float,
    refi_smm_max: float,
    refi_steepness: float,
    refi_midpoint: float,
    burnout: float,
    seasoning_months: float,
    pv_disc: np.ndarray,
    yield_price: float,
    yield_guess: float,
    out_cfd: np.ndarray,
    out_cf: np.ndarray,
    out_pv: np.ndarray,
    out_wal: np.ndarray,
    out_loss: np.ndarray,
    out_yield: np.ndarray,
) -> None:
    """Project every path; write per-path results.

    short_rates (P, N); mort_c (N,), mort_d: mortgage rate m = mort_c[i] + mort_d·r;
    macro_mult (P, N) default multipliers or shape (0, 0) for none; per loan (L,): balance,
    note_rate (gross, for incentive), net_rate (paid to investors), age (months), severity;
    liq_ratio (N, L) liquidated share of a defaulted balance in month i: SCH(i−1)/SCH(i−1−L) with
    advancing and lag > 0, else 1 (0 where undefined); af (N, L) AF(i) = SCH(i)/SCH(i−1);
    mdr (N, L) base monthly default rates (zero in the last `lag` months of each term);
    pv_disc (N,) extra discount exp(−s·t_i) for the PV spread s; yield_price, yield_guess: the
    price at which each path's yield is solved and the solver's starting yield.
    Outputs: out_cfd (P, N) path-discounted total cash flow (spread 0), out_cf (P, N) the
    undiscounted total cash flow or shape (0, N) to skip, out_pv/out_wal (years)/out_loss/
    out_yield (P,).
    """
    loan_e, has_defaults, inv_seas = _setup_nb(
        note_rate, mdr, lag, refi_steepness, refi_midpoint, seasoning_months
    )
    n_paths = short_rates.shape[0]
    for g in prange((n_paths + GROUP - 1) // GROUP):
        p0 = g * GROUP
        _group_nb(
            p0,
            min(p0 + GROUP, n_paths),
            short_rates,
            mort_c,
            mort_d,
            macro_mult,
            balance,
            note_rate,
            net_rate,
            age,
            liq_ratio,
            af,
            mdr,
            severity,
            lag,
            advancing,
            turnover_smm,
            refi_smm_max,
            refi_steepness,
            burnout,
            pv_disc,
            yield_price,
            yield_guess,
            out_cfd,
            out_cf,
            out_pv,
            out_wal,
            out_loss,
            out_yield,
            loan_e,
            has_defaults,
            inv_seas,
        )


@njit(cache=True, nogil=True)
def mc_project_serial_nb(
    short_rates: np.ndarray,
    mort_c: np.ndarray,
    mort_d: float,
    macro_mult: np.ndarray,
    balance: np.ndarray,
    note_rate: np.ndarray,
    net_rate: np.ndarray,
    age: np.ndarray,
    liq_ratio: np.ndarray,
    af: np.ndarray,
    mdr: np.ndarray,
    severity: np.ndarray,
    lag: int,
    advancing: bool,
    turnover_smm: float,
    refi_smm_max: float,
    refi_steepness: float,
    refi_midpoint: float,
    burnout: float,
    seasoning_months: float,
    pv_disc: np.ndarray,
    yield_price: float,
    yield_guess: float,
    out_cfd: np.ndarray,
    out_cf: np.ndarray,
    out_pv: np.ndarray,
    out_wal: np.ndarray,
    out_loss: np.ndarray,
    out_yield: np.ndarray,
) -> None:
    """`mc_project_nb` on the calling thread only (for worker threads and small blocks)."""
    loan_e, has_defaults, inv_seas = _setup_nb(
        note_rate, mdr, lag, refi_steepness, refi_midpoint, seasoning_months
    )
    n_paths = short_rates.shape[0]
    for p0 in range(0, n_paths, GROUP):
        _group_nb(
            p0,
            min(p0 + GROUP, n_paths),
            short_rates,
            mort_c,
            mort_d,
            macro_mult,
            balance,
            note_rate,
            net_rate,
            age,
            liq_ratio,
            af,
            mdr,
            severity,
            lag,
            advancing,
            turnover_smm,
            refi_smm_max,
            refi_steepness,
            burnout,
            pv_disc,
            yield_price,
            yield_guess,
            out_cfd,
            out_cf,
            out_pv,
            out_wal,
            out_loss,
            out_yield,
            loan_e,
            has_defaults,
            inv_seas,
        )


def mc_project_ref(
    short_rates: np.ndarray,
    mort_c: np.ndarray,
    mort_d: float,
    macro_mult: np.ndarray,
    balance: np.ndarray,
    note_rate: np.ndarray,
    net_rate: np.ndarray,
    age: np.ndarray,
    sch: np.ndarray,
    af: np.ndarray,
    mdr: np.ndarray,
    severity: np.ndarray,
    lag: int,
    advancing: bool,
    turnover_smm: float,
    refi_smm_max: float,
    refi_steepness: float,
    refi_midpoint: float,
    burnout: float,
    seasoning_months: float,
    pv_disc: np.ndarray,
    yield_price: float,
) -> dict[str, np.ndarray]:
    """Plain NumPy reference of `mc_project_nb` (vectorised over paths × loans, loop on months).

    Returns cfd, cf (P, N) and pv, wal, loss, yield (P,); yields by a separate bisection.
    """
    n_paths, n = short_rates.shape
    n_loans = balance.shape[0]
    perf = np.tile(balance, (n_paths, 1))
    fcl = np.zeros((n_paths, n_loans))
    expo = np.zeros((n_paths, n_loans))
    hist = np.zeros((n + 1, n_paths, n_loans))
    log_df = np.zeros(n_paths)
    cf_all = np.zeros((n_paths, n))
    cfd = np.zeros((n_paths, n))
    prin_all = np.zeros((n_paths, n))
    loss_tot = np.zeros(n_paths)
    z = np.clip(-refi_steepness * (note_rate - refi_midpoint), -EXP_CLIP, EXP_CLIP)
    loan_e = np.exp(z)
    for i in range(n):
        month = i + 1
        r = short_rates[:, i]
        m = mort_c[i] + mort_d * r
        big_m = np.exp(np.clip(refi_steepness * m, -EXP_CLIP, EXP_CLIP))
        mult = macro_mult[:, i] if macro_mult.shape[0] else np.ones(n_paths)
        log_df -= DT * r
        a = af[i][None, :]
        md = np.minimum(mdr[i][None, :] * mult[:, None], 1.0)
        ramp: np.ndarray | float
        if seasoning_months > 0:
            ramp = np.minimum((age + month) / seasoning_months, 1.0)[None, :]
        else:
            ramp = 1.0
        s_b = 1.0 / ((1.0 + loan_e[None, :] * big_m[:, None]) * (1.0 + burnout * expo))
        smm = np.minimum(ramp * (turnover_smm + refi_smm_max * s_b), 1.0 - md)
        expo += np.maximum(note_rate[None, :] - m[:, None], 0.0) * DT
        nd = md * perf
        pp = smm * perf * a
        sc = (perf - nd) * (1.0 - a)
        interest = (perf - nd) * net_rate[None, :] * DT
        perf = perf - nd - pp - sc
        hist[month] = nd
        if month > lag:
            old = hist[month - lag]
            if advancing and lag > 0:
                den = sch[i - lag]
                ratio = np.divide(sch[i], den, out=np.zeros_like(den), where=den > 0)
                adb = old * ratio[None, :]
            else:
                adb = old
        else:
            old = np.zeros_like(nd)
            adb = old
        am_def = (nd + fcl - adb) * (1.0 - a) if advancing else np.zeros_like(nd)
        fcl = fcl + nd - adb - am_def
        loss = np.minimum(severity[None, :] * old, adb)
        principal = sc + pp + am_def + adb - loss
        cf = (interest + principal).sum(axis=1)
        cf_all[:, i] = cf
        cfd[:, i] = cf * np.exp(log_df)
        prin_all[:, i] = principal.sum(axis=1)
        loss_tot += loss.sum(axis=1)
    t = np.arange(1, n + 1) * DT
    pv = cfd @ pv_disc
    den = prin_all.sum(axis=1)
    wal = np.where(den > 0, (prin_all @ t) / np.where(den > 0, den, 1.0), 0.0)
    yld = np.array([_yield_bisect(row, yield_price) for row in cf_all])
    return {"cfd": cfd, "cf": cf_all, "pv": pv, "wal": wal, "loss": loss_tot, "yield": yld}


def _yield_bisect(cf: np.ndarray, price: float) -> float:
    """Independent monthly-compounded yield by bisection on v = 1/(1 + y/12) in (0, 2]."""
    if cf.sum() <= 0 or price <= 0:
        return float("nan")
    k = np.arange(1, cf.size + 1)
    lo, hi = 1e-9, 2.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if float(np.sum(cf * mid**k)) > price:
            hi = mid
        else:
            lo = mid
    return 12.0 * (1.0 / (0.5 * (lo + hi)) - 1.0)
