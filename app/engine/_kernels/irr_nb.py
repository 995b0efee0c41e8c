"""Vectorised IRR and XIRR: one Numba kernel call solves many cash-flow vectors.

Per row: check inputs, Newton from a cheap guess until the step is tiny, then prove a bracket
(a sign change of NPV across an interval of width ~1e-13 around the root) and polish inside it
with safeguarded Newton (bisection when Newton would leave the bracket). A row that cannot be
bracketed or does not converge gets a status code instead of a number: nothing is silent.
The plain references are `app.engine.analytics.measures.irr` / `xirr` (Brent on NumPy).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

OK = 0
EMPTY = 1  # no non-zero flow
NON_FINITE = 2  # NaN or inf among the flows
NO_SIGN_CHANGE = 3
NO_BRACKET = 4  # no sign change of NPV found in the rate range
NOT_CONVERGED = 5
BAD_DATES = 6  # dates not ascending (XIRR)

STATUS_TEXT = {
    OK: "ok",
    EMPTY: "empty cash flow",
    NON_FINITE: "NaN or infinite amount",
    NO_SIGN_CHANGE: "amounts never change sign",
    NO_BRACKET: "no rate in range sets NPV to zero",
    NOT_CONVERGED: "solver did not converge",
    BAD_DATES: "dates must be ascending",
}

R_MIN = -0.999  # lowest periodic (IRR) or annual (XIRR) rate searched
R_MAX = 100.0
LR_MIN = math.log1p(R_MIN)  # the solver works on lr = ln(1 + r)
LR_MAX = math.log1p(R_MAX)
INV365 = 1.0 / 365.0
MAX_ITER = 100
LADDER = np.log1p(
    np.array([0.0, 0.05, -0.05, 0.2, -0.2, 0.5, -0.5, 1.0, -0.8, 3.0, -0.95, 10.0, -0.99, 100.0])
)


@njit(cache=True, fastmath={"contract"})
def _poly(c, x, reverse):
    """P(x) = Σ_k a_k x^k with a_k = c[k] (or c[m−1−k] when `reverse`), with P'(x), P''(x).

    Split into four interleaved polynomials in u = x^4, P = Σ_s x^s E_s(u), each evaluated
    with its derivatives by Horner's rule, so the floating-point pipeline stays full.
    """
    m = c.shape[0]
    base = m - 1 if reverse else 0
    sgn = -1 if reverse else 1
    u = (x * x) * (x * x)
    e0 = e1 = e2 = e3 = 0.0
    f0 = f1 = f2 = f3 = 0.0  # E_s'(u)
    h0 = h1 = h2 = h3 = 0.0  # E_s''(u) / 2
    nb = (m + 3) // 4
    # Top block: lanes past the last coefficient contribute zero.
    k = 4 * (nb - 1)
    e0 = c[base + sgn * k]
    e1 = c[base + sgn * (k + 1)] if k + 1 < m else 0.0
    e2 = c[base + sgn * (k + 2)] if k + 2 < m else 0.0
    e3 = c[base + sgn * (k + 3)] if k + 3 < m else 0.0
    for b in range(nb - 2, -1, -1):
        j = base + sgn * 4 * b
        h0 = h0 * u + f0
        h1 = h1 * u + f1
        h2 = h2 * u + f2
        h3 = h3 * u + f3
        f0 = f0 * u + e0
        f1 = f1 * u + e1
        f2 = f2 * u + e2
        f3 = f3 * u + e3
        e0 = e0 * u + c[j]
        e1 = e1 * u + c[j + sgn]
        e2 = e2 * u + c[j + 2 * sgn]
        e3 = e3 * u + c[j + 3 * sgn]
    x2 = x * x
    x3 = x2 * x
    ux = 4.0 * x3  # du/dx
    uxx = 12.0 * x2
    h0 *= 2.0
    h1 *= 2.0
    h2 *= 2.0
    h3 *= 2.0
    p = e0 + x * e1 + x2 * e2 + x3 * e3
    dp = (e1 + 2.0 * x * e2 + 3.0 * x2 * e3) + ux * (f0 + x * f1 + x2 * f2 + x3 * f3)
    d2p = (
        (2.0 * e2 + 6.0 * x * e3)
        + 2.0 * ux * (f1 + 2.0 * x * f2 + 3.0 * x2 * f3)
        + (ux * ux) * (h0 + x * h1 + x2 * h2 + x3 * h3)
        + uxx * (f0 + x * f1 + x2 * f2 + x3 * f3)
    )
    return p, dp, d2p


@njit(cache=True)
def _irr_eval(c, lr):
    """Sign-preserving NPV g of flows c at periods 0..m−1 as a function of the log growth
    lr = ln(1 + r), with dg/dlr and d²g/dlr².

    lr >= 0: g = Σ c_k x^k, x = e^(−lr) = 1/(1+r) (the NPV itself, bounded by Σ|c|).
    lr < 0:  g = Σ c_k x^(m−1−k), x = e^(lr) = 1+r: (1+r)^(m−1) × NPV, same sign and roots.
    """
    if lr >= 0.0:
        x = math.exp(-lr)
        p, dp, d2p = _poly(c, x, False)
        # dx/dlr = −x, d²x/dlr² = x
        return p, -dp * x, d2p * x * x + dp * x
    x = math.exp(lr)
    p, dp, d2p = _poly(c, x, True)
    return p, dp * x, d2p * x * x + dp * x


@njit(cache=True, fastmath={"contract"})
def _xirr_eval(c, d, gaps, lr, table):
    """g = Σ c_i e^(−lr·t_i), t_i = d_i/365 (d ascending integer days from the first flow),
    lr = ln(1 + r), with dg/dlr and d²g/dlr².

    Two interleaved lanes (even and odd i) each build their powers along the two-step day gaps
    (`gaps[i]` = d_i − d_i−2, or −1 when too long for the table) from a table of q^gap,
    q = e^(−lr/365), so no exp() is needed per flow and the multiply chains overlap.
    """
    m = c.shape[0]
    lq = -lr / 365.0
    gmax = table.shape[0] - 1
    q = math.exp(lq)
    table[0] = 1.0
    for g in range(1, gmax + 1):
        table[g] = table[g - 1] * q
    w0 = math.exp(lq * d[0])
    w1 = math.exp(lq * d[1]) if m > 1 else 0.0
    s_0 = s_1 = 0.0
    a_0 = a_1 = 0.0  # Σ t·c·w
    b_0 = b_1 = 0.0  # Σ t²·c·w
    for i in range(0, m - 1, 2):
        if i >= 2:
            g0 = gaps[i]
            g1 = gaps[i + 1]
            w0 = w0 * table[g0] if g0 >= 0 else math.exp(lq * d[i])
            w1 = w1 * table[g1] if g1 >= 0 else math.exp(lq * d[i + 1])
        t0 = d[i] * INV365
        t1 = d[i + 1] * INV365
        cw0 = c[i] * w0
        cw1 = c[i + 1] * w1
        s_0 += cw0
        s_1 += cw1
        a_0 += t0 * cw0
        a_1 += t1 * cw1
        b_0 += (t0 * t0) * cw0
        b_1 += (t1 * t1) * cw1
    if m % 2 == 1:
        i = m - 1
        if i >= 2:
            g0 = gaps[i]
            w0 = w0 * table[g0] if g0 >= 0 else math.exp(lq * d[i])
        t0 = d[i] * INV365
        cw0 = c[i] * w0
        s_0 += cw0
        a_0 += t0 * cw0
        b_0 += (t0 * t0) * cw0
    return s_0 + s_1, -(a_0 + a_1), b_0 + b_1


@njit(cache=True)
def _check_and_guess(c, d, use_dates):
    """(status, guess) in one pass: status OK if the row is usable; the guess is the log growth
    ln(1 + r) that grows the outflows into the inflows over the gap between their mean times
    (t = period index, or day/365 for XIRR)."""
    pos = False
    neg = False
    a_in = 0.0
    a_out = 0.0
    t_in = 0.0
    t_out = 0.0
    for k in range(c.shape[0]):
        x = c[k]
        if not math.isfinite(x):
            return NON_FINITE, 0.0
        t = d[k] * INV365 if use_dates else float(k)
        if x > 0.0:
            pos = True
            a_in += x
            t_in += x * t
        elif x < 0.0:
            neg = True
            a_out -= x
            t_out -= x * t
    if not (pos or neg):
        return EMPTY, 0.0
    if not (pos and neg):
        return NO_SIGN_CHANGE, 0.0
    span = t_in / a_in - t_out / a_out
    if span <= 0.0:
        return OK, 0.01
    # exact for one outflow and one inflow
    return OK, min(max(math.log(a_in / a_out) / span, -0.7), 0.7)


@njit(cache=True)
def _eval(c, d, gaps, r, table, use_dates):
    if use_dates:
        return _xirr_eval(c, d, gaps, r, table)
    return _irr_eval(c, r)


@njit(cache=True)
def _solve_row(c, d, gaps, table, use_dates):
    """Return (rate, status) for one row: Halley on lr = ln(1 + r) from a guess, bracket,
    polish; the rate is expm1(lr)."""
    lr, st = _solve_log_rate(c, d, gaps, table, use_dates)
    return (math.expm1(lr) if st == OK else np.nan), st


@njit(cache=True)
def _solve_log_rate(c, d, gaps, table, use_dates):
    """(lr, status): the root lr = ln(1 + r) of g, proven by a sign change of g across a
    bracket before it is returned."""
    st, r = _check_and_guess(c, d, use_dates)
    if st != OK:
        return np.nan, st
    g, g1, g2 = _eval(c, d, gaps, r, table, use_dates)
    if g == 0.0:
        return r, OK
    bracketed = False
    a = b = g_a = g_b = g1_b = 0.0
    # Phase 1: Halley (cubic) steps; stop when an iterate crosses the root or the step is tiny.
    for _ in range(40):
        if not (math.isfinite(g) and math.isfinite(g1) and math.isfinite(g2)) or g1 == 0.0:
            break
        den = 2.0 * g1 * g1 - g * g2
        step = -2.0 * g * g1 / den if den != 0.0 and den * g1 * g1 > 0.0 else -g / g1
        if abs(step) <= 1e-7 * (1.0 + abs(r)):
            # Close a bracket just past the root: one probe beyond the next step.
            width = max(2.0 * abs(step), 2e-14 * (1.0 + abs(r)))
            probe = r + (width if step >= 0.0 else -width)
            gp, g1p, _d2 = _eval(c, d, gaps, probe, table, use_dates)
            if gp == 0.0:
                return probe, OK
            if math.isfinite(gp) and (gp > 0.0) != (g > 0.0):
                # the cubic step from r is far inside this bracket's precision
                return min(max(r + step, min(r, probe)), max(r, probe)), OK
            break
        r_new = r + step
        if r_new <= LR_MIN:
            r_new = 0.5 * (r + LR_MIN)
        elif r_new > LR_MAX:
            r_new = 0.5 * (r + LR_MAX)
        g_new, g1_new, g2_new = _eval(c, d, gaps, r_new, table, use_dates)
        if g_new == 0.0:
            return r_new, OK
        if math.isfinite(g_new) and (g_new > 0.0) != (g > 0.0):
            a, g_a, b, g_b, g1_b = r, g, r_new, g_new, g1_new
            bracketed = True
            break
        r, g, g1, g2 = r_new, g_new, g1_new, g2_new
    # Phase 1b: a fixed ladder of rates when Halley did not produce a bracket.
    if not bracketed:
        prev_r = np.nan
        prev_g = 0.0
        for j in range(LADDER.shape[0]):
            rr = LADDER[j]
            gg, gg1, _d2 = _eval(c, d, gaps, rr, table, use_dates)
            if not math.isfinite(gg):
                continue
            if gg == 0.0:
                return rr, OK
            if not math.isnan(prev_r) and (gg > 0.0) != (prev_g > 0.0):
                a, g_a, b, g_b, g1_b = prev_r, prev_g, rr, gg, gg1
                bracketed = True
                break
            prev_r, prev_g = rr, gg
        if not bracketed:
            return np.nan, NO_BRACKET
    lo = min(a, b)
    hi = max(a, b)
    pos_lo = (g_a > 0.0) if lo == a else (g_b > 0.0)
    # Phase 2: safeguarded Newton inside [lo, hi] from b (bisection when Newton leaves it).
    r, g, g1 = b, g_b, g1_b
    for _ in range(MAX_ITER):
        if g == 0.0:
            return r, OK
        if (g > 0.0) == pos_lo:
            lo = r
        else:
            hi = r
        tol = 1e-12 * (1.0 + abs(r))
        if g1 != 0.0 and math.isfinite(g1):
            r_new = r - g / g1
            if lo < r_new < hi and abs(r_new - r) <= tol:
                return r_new, OK  # quadratic: the error after this step is ~tol²
        else:
            r_new = 0.5 * (lo + hi)
        if not (lo < r_new < hi):
            r_new = 0.5 * (lo + hi)
        if hi - lo <= 4e-16 * (1.0 + abs(r)):
            return r, OK
        r = r_new
        g, g1, _g2 = _eval(c, d, gaps, r, table, use_dates)
    return np.nan, NOT_CONVERGED


@njit(cache=True, parallel=True)
def irr_many_nb(flows, out, status):
    """Periodic IRR of each row of `flows` (n, m), flows at periods 0..m−1, into out / status."""
    n = flows.shape[0]
    no_days = np.empty(0)
    no_gaps = np.empty(0, dtype=np.int64)
    for i in prange(n):
        table = np.empty(1)
        out[i], status[i] = _solve_row(flows[i], no_days, no_gaps, table, False)


@njit(cache=True)
def _gaps(d, max_gap, gaps):
    """Two-step day gaps d_i − d_i−2 into `gaps` (−1 when beyond the table); False if d
    descends anywhere."""
    gaps[0] = 0
    if d.shape[0] > 1:
        gaps[1] = 0
        if d[1] < d[0]:
            return False
    for k in range(2, d.shape[0]):
        if d[k] < d[k - 1]:
            return False
        g = d[k] - d[k - 2]
        gaps[k] = int(g) if g <= max_gap else -1
    return True


@njit(cache=True, parallel=True)
def xirr_many_nb(flows, days, shared_days, max_gap, out, status):
    """XIRR (annual, ACT/365F) of each row of `flows` (n, m) at integer `days` counted from the
    row's first date ((n, m), or (1, m) when `shared_days`); days ascending per row.
    `max_gap` sizes the power table for two-step gaps d_i − d_i−2 (longer ones use exp)."""
    n, m = flows.shape
    shared_gaps = np.empty(m, dtype=np.int64)
    shared_ok = _gaps(days[0], max_gap, shared_gaps)
    for i in prange(n):
        table = np.empty(max_gap + 1)
        if shared_days:
            d = days[0]
            gaps = shared_gaps
            ok = shared_ok
        else:
            d = days[i]
            gaps = np.empty(m, dtype=np.int64)
            ok = _gaps(d, max_gap, gaps)
        if not ok:
            out[i] = np.nan
            status[i] = BAD_DATES
            continue
        out[i], status[i] = _solve_row(flows[i], d, gaps, table, True)
