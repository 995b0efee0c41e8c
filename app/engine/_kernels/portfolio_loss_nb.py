"""Numba kernel of the Gaussian-copula portfolio-loss Monte Carlo (app.engine.credit.copula).

Loan j defaults on a path when a_g Z + b_g S_k + d_g e_j < c_j (c_j = Phi^-1(PD_j), Z the global
factor, S_k its sector's factor, e_j idiosyncratic, all N(0, 1); a, b, d the loadings of the
loan's group g, a^2 + b^2 + d^2 = 1). Given the factors, defaults are independent with
p_j = Phi((c_j - a_g Z - b_g S_k) / d_g). Loans are sorted by c within groups and cut into blocks:
in a block every p_j is at most p_max = p at the block's largest c, so candidates are drawn at
rate p_max by geometric skips (cost ~ the number of defaults, not of loans) and accepted with
p_j / p_max, which makes each loan default with probability exactly p_j (a candidate whose
uniform falls below p_min / p_max, p_min the block's smallest p, is accepted without computing its
own p). Blocks with p_max > DIRECT_ABOVE are drawn loan by loan.

Every path p has its own random stream, a SplitMix64 sequence started at mix(mix(seed) ^ p):
the losses of a path do not depend on which block, chunk or thread computes it. Only per-path
sums are kept (loss, default count): no paths x loans array exists.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

DIRECT_ABOVE = 0.25
PATH_BLOCK = 256  # paths per prange task

_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_INV53 = 1.0 / 9007199254740992.0
_SQRT1_2 = 0.7071067811865476


@njit(cache=True, inline="always")
def mix64(z: np.uint64) -> np.uint64:
    """SplitMix64 finaliser (Steele, Lea, Flood 2014)."""
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@njit(cache=True)
def path_state(seed: np.uint64, path: np.uint64) -> np.uint64:
    """Start of path `path`'s stream for `seed`."""
    return mix64(mix64(seed + _GAMMA) ^ (path * _GAMMA + np.uint64(1)))


@njit(cache=True, inline="always")
def next_uniform(state: np.ndarray) -> float:
    """A uniform in (0, 1) from the 53 high bits of the next SplitMix64 output; advances state[0]."""
    s = state[0] + _GAMMA
    state[0] = s
    return ((mix64(s) >> _S11) + 0.5) * _INV53


@njit(cache=True, inline="always")
def uniform_step(s: np.uint64) -> tuple[float, np.uint64]:
    """(uniform in (0, 1), next state): the same draw as `next_uniform`, state kept in a register."""
    s = s + _GAMMA
    return ((mix64(s) >> _S11) + 0.5) * _INV53, s


@njit(cache=True, inline="always")
def next_normal(state: np.ndarray) -> float:
    """A standard normal by Box-Muller (the cosine branch only)."""
    u1 = next_uniform(state)
    u2 = next_uniform(state)
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


@njit(cache=True, inline="always")
def norm_cdf(x: float) -> float:
    return 0.5 * math.erfc(-x * _SQRT1_2)


@njit(cache=True)
def _one_path(
    state: np.ndarray,
    factors: np.ndarray,
    order: np.ndarray,
    c: np.ndarray,
    loss: np.ndarray,
    blk_start: np.ndarray,
    blk_end: np.ndarray,
    blk_group: np.ndarray,
    grp_a: np.ndarray,
    grp_b: np.ndarray,
    grp_d: np.ndarray,
    grp_sector: np.ndarray,
) -> tuple[float, int]:
    n_sec = factors.shape[0] - 1
    for k in range(n_sec + 1):
        factors[k] = next_normal(state)
    total = 0.0
    count = 0
    for bl in range(blk_start.shape[0]):
        g = blk_group[bl]
        sec = grp_sector[g]
        shift = grp_a[g] * factors[0] + (grp_b[g] * factors[1 + sec] if sec >= 0 else 0.0)
        inv_d = 1.0 / grp_d[g]
        start = blk_start[bl]
        end = blk_end[bl]
        pmax = norm_cdf((c[order[end - 1]] - shift) * inv_d)
        if pmax <= 0.0:
            continue
        if pmax > DIRECT_ABOVE:
            for k in range(start, end):
                j = order[k]
                if next_uniform(state) < norm_cdf((c[j] - shift) * inv_d):
                    total += loss[j]
                    count += 1
            continue
        # p at the block's smallest c: a lower bound that accepts most candidates without
        # computing their own p (the squeeze); only those between the bounds need it
        pmin = -1.0  # computed at the block's first candidate (most blocks have none)
        inv_log_q = 1.0 / math.log1p(-pmax)
        k = start - 1
        st = state[0]
        while True:
            # the gap as a float first: a tiny p_max gives gaps beyond any int
            u, st = uniform_step(st)
            kf = k + 1.0 + math.floor(math.log(u) * inv_log_q)
            if kf >= end:
                break
            k = int(kf)
            j = order[k]
            u, st = uniform_step(st)
            v = u * pmax
            if pmin < 0.0:
                pmin = norm_cdf((c[order[start]] - shift) * inv_d)
            if v < pmin or v < norm_cdf((c[j] - shift) * inv_d):
                total += loss[j]
                count += 1
        state[0] = st
    return total, count


@njit(cache=True, parallel=True)
def portfolio_losses_nb(
    seed: np.uint64,
    path_start: int,
    n_paths: int,
    n_sectors: int,
    order: np.ndarray,
    c: np.ndarray,
    loss: np.ndarray,
    blk_start: np.ndarray,
    blk_end: np.ndarray,
    blk_group: np.ndarray,
    grp_a: np.ndarray,
    grp_b: np.ndarray,
    grp_d: np.ndarray,
    grp_sector: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Loss (currency) and default count of paths path_start .. path_start + n_paths - 1."""
    out_loss = np.empty(n_paths)
    out_count = np.empty(n_paths, dtype=np.int64)
    n_blocks = (n_paths + PATH_BLOCK - 1) // PATH_BLOCK
    for b in prange(n_blocks):
        state = np.empty(1, dtype=np.uint64)
        factors = np.empty(n_sectors + 1)
        lo = b * PATH_BLOCK
        hi = min(lo + PATH_BLOCK, n_paths)
        for i in range(lo, hi):
            state[0] = path_state(seed, np.uint64(path_start + i))
            tl, cnt = _one_path(
                state,
                factors,
                order,
                c,
                loss,
                blk_start,
                blk_end,
                blk_group,
                grp_a,
                grp_b,
                grp_d,
                grp_sector,
            )
            out_loss[i] = tl
            out_count[i] = cnt
    return out_loss, out_count
