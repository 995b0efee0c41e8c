"""The deal waterfall over flat arrays: one deal, one collateral path, all periods.

`waterfall_nb` runs the priority of payments period by period exactly as the readable reference
`app.engine.deals.reference.run_reference` does (docs/methodology/deals.md); `paths_nb` runs it
for many collateral paths in parallel (Monte Carlo) and keeps per-path tranche losses and the
equity cash flows. Arrays are laid out by `app.engine.deals.compile.DealArrays`.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

# step kinds (schema.KindCode), sources, principal modes
FEES, INTEREST, PRINCIPAL, CURE, DEPOSIT, WITHDRAW, REINVEST, RESIDUAL = range(8)
SEQUENTIAL, PRO_RATA, TO_TARGET = range(3)
OC, IC = 0, 1
CURE_FULL, CURE_EXACT = 0, 1
PAYDOWN, BUY = 0, 1

# rows of the output blocks
T_BAL, T_DUE, T_IPAID, T_SHORT, T_PPAID, T_WD, T_PIK, T_RESID = range(8)
C_BAL, C_INT, C_PRIN, C_LOSS, C_REINV, C_CARRY_IN, C_CARRY_OUT, C_REINV_PAR = range(8)
N_TR_ROWS, N_COLL_ROWS = 8, 8
EPS = 1e-9
PASS_RTOL = 1e-12  # a ratio this close below its trigger passes (cure-mode rounding)


@njit(cache=True)
def _test_value(k, kind, member, bal, coll_now, prin_cash, haircut, int_coll, fee_int, cur):
    """(value, numerator, denominator) of test k at this point of the waterfall."""
    n = bal.size
    den = 0.0
    if kind[k] == OC:
        for j in range(n):
            if member[k, j]:
                den += bal[j]
        num = coll_now + prin_cash - haircut
    else:
        for j in range(n):
            if member[k, j]:
                den += cur[j]
        num = int_coll - fee_int
    if den <= EPS:
        return np.inf, num, den
    return num / den, num, den


@njit(cache=True)
def waterfall_nb(
    coll_int,
    coll_prin,
    coll_loss,
    coll_bal0,
    oc_haircut,
    tr_bal0,
    tr_rate,
    tr_acc,
    tr_defer,
    tr_compound,
    fee_rate,
    fee_amt,
    acc_init,
    acc_pct,
    acc_amt,
    test_kind,
    test_trig,
    test_member,
    st_kind,
    st_src,
    st_mode,
    st_cure,
    st_action,
    st_test,
    st_account,
    st_to,
    st_tpct,
    st_tamt,
    st_share,
    st_start,
    st_len,
    st_list,
    rb_rate,
    rb_acc,
    rb_smm,
    rb_mdr,
    rb_rec,
    rb_price,
    rb_end,
    rb_mat,
    writedown,
    tr_out,
    test_out,
    fee_out,
    acc_out,
    coll_out,
):
    """Run the waterfall for periods 1..T; fills tr_out (8, n, T), test_out (3, k, T),
    fee_out (2, f, T), acc_out (a, T), coll_out (8, T). Interest accrues on balances at the start
    of each period; collateral balance for OC is the end-of-period balance plus principal cash
    not yet paid out; see docs/methodology/deals.md."""
    T = coll_int.size
    n = tr_bal0.size
    nf = fee_rate.size
    na = acc_init.size
    nk = test_trig.size
    ns = st_kind.size
    bal = tr_bal0.copy()
    short = np.zeros(n)
    fee_unpaid = np.zeros(nf)
    acc = acc_init.copy()
    rem = np.zeros(n)  # interest still due this period
    cur = np.zeros(n)  # current-period interest due (IC denominators)
    fee_rem = np.zeros(nf)
    evaluated = np.zeros(nk, dtype=np.bool_)
    given_bal = coll_bal0
    rb = 0.0
    carry_i = 0.0
    carry_p = 0.0
    cash = np.zeros(2)
    for t in range(T):
        per = t + 1
        # collateral: the given flows and the reinvested bucket
        c0 = given_bal + rb
        given_bal = given_bal - coll_prin[t] - coll_loss[t]
        rb_int = rb * rb_rate[t] * rb_acc
        d = rb * rb_mdr
        rb_pp = rb - d if per >= rb_mat else (rb - d) * rb_smm
        rb_prin = d * rb_rec + rb_pp
        rb_loss = d * (1.0 - rb_rec)
        rb = rb - d - rb_pp
        int_coll = coll_int[t] + rb_int
        coll_out[C_INT, t] = int_coll
        coll_out[C_PRIN, t] = coll_prin[t] + rb_prin
        coll_out[C_LOSS, t] = coll_loss[t] + rb_loss
        coll_out[C_CARRY_IN, t] = carry_i + carry_p
        cash[0] = int_coll + carry_i
        cash[1] = coll_prin[t] + rb_prin + carry_p
        fee_int = 0.0
        for j in range(n):
            r = tr_rate[j, t] * tr_acc[j, t]
            c = bal[j] * r
            if tr_compound[j]:
                c += short[j] * r
            cur[j] = c
            rem[j] = c + short[j]
            tr_out[T_DUE, j, t] = rem[j]
        for f in range(nf):
            fee_rem[f] = fee_rate[f] * c0 / 12.0 + fee_amt[f] + fee_unpaid[f]
        for k in range(nk):
            evaluated[k] = False
        reinvested = 0.0
        reinv_par = 0.0
        for s in range(ns):
            kind = st_kind[s]
            src = st_src[s]
            a0 = st_start[s]
            m = st_len[s]
            if kind == FEES:
                for q in range(m):
                    f = st_list[a0 + q]
                    x = min(cash[src], fee_rem[f])
                    fee_rem[f] -= x
                    cash[src] -= x
                    fee_out[0, f, t] += x
                    if src == 0:
                        fee_int += x
            elif kind == INTEREST:
                tot = 0.0
                for q in range(m):
                    tot += rem[st_list[a0 + q]]
                if tot > EPS:
                    pay = min(cash[src], tot)
                    frac = pay / tot
                    for q in range(m):
                        j = st_list[a0 + q]
                        x = rem[j] * frac
                        rem[j] -= x
                        tr_out[T_IPAID, j, t] += x
                    cash[src] -= pay
            elif kind == PRINCIPAL:
                mode = st_mode[s]
                if mode == PRO_RATA:
                    tot = 0.0
                    for q in range(m):
                        tot += bal[st_list[a0 + q]]
                    if tot > EPS:
                        pay = min(cash[src], tot)
                        frac = pay / tot
                        for q in range(m):
                            j = st_list[a0 + q]
                            x = bal[j] * frac
                            bal[j] -= x
                            tr_out[T_PPAID, j, t] += x
                        cash[src] -= pay
                else:
                    limit = cash[src]
                    if mode == TO_TARGET:
                        tot = 0.0
                        for q in range(m):
                            tot += bal[st_list[a0 + q]]
                        target = st_tpct[s] * (given_bal + rb) + st_tamt[s]
                        limit = min(limit, max(0.0, tot - target))
                    for q in range(m):
                        j = st_list[a0 + q]
                        x = min(limit, bal[j])
                        bal[j] -= x
                        limit -= x
                        cash[src] -= x
                        tr_out[T_PPAID, j, t] += x
            elif kind == CURE:
                k = st_test[s]
                val, num, den = _test_value(
                    k,
                    test_kind,
                    test_member,
                    bal,
                    given_bal + rb,
                    cash[1],
                    oc_haircut[t],
                    int_coll,
                    fee_int,
                    cur,
                )
                trig = test_trig[k]
                if not evaluated[k]:
                    evaluated[k] = True
                    test_out[0, k, t] = val
                    test_out[1, k, t] = 1.0 if val >= trig * (1.0 - PASS_RTOL) else 0.0
                if val >= trig * (1.0 - PASS_RTOL):
                    continue
                avail = cash[src] * st_share[s]
                buy = st_action[s] == BUY
                if buy and per > rb_end:
                    continue
                need = np.inf
                if st_cure[s] == CURE_EXACT:
                    if test_kind[k] == OC:
                        gap = trig * den - num
                        if buy:
                            gain = 1.0 / rb_price - (1.0 if src == 1 else 0.0)
                            need = gap / gain if gain > EPS else np.inf
                        elif src == 1:
                            need = gap / (trig - 1.0) if trig > 1.0 + EPS else np.inf
                        else:
                            need = den - num / trig if trig > EPS else 0.0
                    elif not buy:
                        need = -1.0  # IC: paid tranche by tranche below
                x_total = 0.0
                if buy:
                    x_total = min(avail, need)
                    reinvested += x_total
                    par = x_total / rb_price
                    reinv_par += par
                    rb += par
                elif need < 0.0:
                    gap_due = 0.0
                    for j in range(n):
                        if test_member[k, j]:
                            gap_due += cur[j]
                    gap_due -= num / trig
                    left = avail
                    for q in range(m):
                        j = st_list[a0 + q]
                        rr = tr_rate[j, t] * tr_acc[j, t]
                        if gap_due <= EPS or left <= EPS:
                            break
                        x = bal[j] if rr <= 0.0 else min(bal[j], gap_due / rr)
                        x = min(x, left)
                        bal[j] -= x
                        left -= x
                        gap_due -= x * rr
                        x_total += x
                        tr_out[T_PPAID, j, t] += x
                else:
                    left = min(avail, need)
                    for q in range(m):
                        j = st_list[a0 + q]
                        x = min(left, bal[j])
                        bal[j] -= x
                        left -= x
                        x_total += x
                        tr_out[T_PPAID, j, t] += x
                cash[src] -= x_total
                test_out[2, k, t] += x_total
            elif kind == DEPOSIT:
                i = st_account[s]
                if acc_pct[i] == 0.0 and acc_amt[i] == 0.0:
                    x = cash[src]
                else:
                    x = min(cash[src], max(0.0, acc_pct[i] * c0 + acc_amt[i] - acc[i]))
                acc[i] += x
                cash[src] -= x
            elif kind == WITHDRAW:
                i = st_account[s]
                if m == 0:
                    x = acc[i]
                else:
                    need_w = 0.0
                    for q in range(m):
                        need_w += rem[st_list[a0 + q]]
                    x = min(acc[i], max(0.0, need_w - cash[src]))
                acc[i] -= x
                cash[src] += x
            elif kind == REINVEST:
                if per <= rb_end:
                    x = cash[src]
                    cash[src] = 0.0
                    reinvested += x
                    par = x / rb_price
                    reinv_par += par
                    rb += par
            elif kind == RESIDUAL:
                j = st_to[s]
                tr_out[T_RESID, j, t] += cash[src]
                cash[src] = 0.0
        # tests no cure step evaluated: as they stand after the waterfall
        for k in range(nk):
            if not evaluated[k]:
                val, num, den = _test_value(
                    k,
                    test_kind,
                    test_member,
                    bal,
                    given_bal + rb,
                    cash[1],
                    oc_haircut[t],
                    int_coll,
                    fee_int,
                    cur,
                )
                test_out[0, k, t] = val
                test_out[1, k, t] = 1.0 if val >= test_trig[k] * (1.0 - PASS_RTOL) else 0.0
        for j in range(n):
            if tr_defer[j]:
                tr_out[T_PIK, j, t] = rem[j]
                bal[j] += rem[j]
                short[j] = 0.0
            else:
                short[j] = rem[j]
            tr_out[T_SHORT, j, t] = short[j]
        for f in range(nf):
            fee_unpaid[f] = fee_rem[f]
            fee_out[1, f, t] = fee_rem[f]
        carry_i = cash[0]
        carry_p = cash[1]
        coll_now = given_bal + rb
        if writedown:
            excess = -(coll_now + carry_p)
            for j in range(n):
                excess += bal[j]
            j = n - 1
            while excess > EPS and j >= 0:
                x = min(excess, bal[j])
                bal[j] -= x
                excess -= x
                tr_out[T_WD, j, t] = x
                j -= 1
        for j in range(n):
            tr_out[T_BAL, j, t] = bal[j]
        for i in range(na):
            acc_out[i, t] = acc[i]
        coll_out[C_BAL, t] = coll_now
        coll_out[C_REINV, t] = reinvested
        coll_out[C_REINV_PAR, t] = reinv_par
        coll_out[C_CARRY_OUT, t] = carry_i + carry_p


@njit(cache=True, parallel=True)
def paths_nb(
    p_int,
    p_prin,
    p_loss,
    coll_bal0,
    p_haircut,
    tr_bal0,
    tr_rate,
    tr_acc,
    tr_defer,
    tr_compound,
    fee_rate,
    fee_amt,
    acc_init,
    acc_pct,
    acc_amt,
    test_kind,
    test_trig,
    test_member,
    st_kind,
    st_src,
    st_mode,
    st_cure,
    st_action,
    st_test,
    st_account,
    st_to,
    st_tpct,
    st_tamt,
    st_share,
    st_start,
    st_len,
    st_list,
    rb_rate,
    rb_acc,
    rb_smm,
    rb_mdr,
    rb_rec,
    rb_price,
    rb_end,
    rb_mat,
    writedown,
    equity,
    loss_out,
    cash_out,
    cushion_out,
):
    """The waterfall for each collateral path (rows of p_int, p_prin, p_loss, p_haircut), in
    parallel. loss_out[p, j]: tranche j's loss = original balance not repaid as principal
    (max(0, balance − Σ principal paid); writedowns and par left at the end both count, repaid
    PIK does not) + unpaid interest shortfall left after the last period (currency). cash_out[p, j, t]: cash paid to tranche j in
    period t (interest + principal + residual). cushion_out[p, k]: the lowest value of test k."""
    P, T = p_int.shape
    n = tr_bal0.size
    nk = test_trig.size
    for p in prange(P):
        tr_out = np.zeros((N_TR_ROWS, n, T))
        test_out = np.zeros((3, nk, T))
        fee_out = np.zeros((2, fee_rate.size, T))
        acc_out = np.zeros((acc_init.size, T))
        coll_out = np.zeros((N_COLL_ROWS, T))
        waterfall_nb(
            p_int[p],
            p_prin[p],
            p_loss[p],
            coll_bal0,
            p_haircut[p],
            tr_bal0,
            tr_rate,
            tr_acc,
            tr_defer,
            tr_compound,
            fee_rate,
            fee_amt,
            acc_init,
            acc_pct,
            acc_amt,
            test_kind,
            test_trig,
            test_member,
            st_kind,
            st_src,
            st_mode,
            st_cure,
            st_action,
            st_test,
            st_account,
            st_to,
            st_tpct,
            st_tamt,
            st_share,
            st_start,
            st_len,
            st_list,
            rb_rate,
            rb_acc,
            rb_smm,
            rb_mdr,
            rb_rec,
            rb_price,
            rb_end,
            rb_mat,
            writedown,
            tr_out,
            test_out,
            fee_out,
            acc_out,
            coll_out,
        )
        for t in range(T):
            cash_out[p, t] = tr_out[T_RESID, equity, t] if equity >= 0 else 0.0
        for j in range(n):
            paid = 0.0
            for t in range(T):
                paid += tr_out[T_PPAID, j, t]
            loss_out[p, j] = max(0.0, tr_bal0[j] - paid) + tr_out[T_SHORT, j, T - 1]
        for k in range(nk):
            lo = np.inf
            for t in range(T):
                if test_out[0, k, t] < lo:
                    lo = test_out[0, k, t]
            cushion_out[p, k] = lo
