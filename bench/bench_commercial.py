"""Benchmark of the commercial-loan hot paths: the Gaussian-copula Monte Carlo (Numba kernel
against its plain NumPy twin in the same run, and its growth from 10,000 to 100,000 paths) and the
10 x 10 DSCR/LTV stress grid over 10,000 loans (against a plain per-cell NumPy loop).

Plain script (no pytest): medians of several runs after a warm-up (JIT compile).

    PYTHONPATH=. .venv/bin/python bench/bench_commercial.py [--loans 10000] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from collections.abc import Callable

import numba
import numpy as np

from app.assets.commercial.stress import stress_grid
from app.engine.credit.copula import CopulaPortfolio, simulate_losses, simulate_losses_numpy

CPU: dict[str, float] = {}


def median_time(fn: Callable[[], object], runs: int, label: str = "") -> float:
    """Median wall time of `runs` calls; the median CPU time (all threads) goes to CPU[label]."""
    ts, cs = [], []
    for _ in range(runs):
        c = time.process_time()
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
        cs.append(time.process_time() - c)
    CPU[label] = statistics.median(cs)
    return statistics.median(ts)


def make_portfolio(n: int, seed: int = 7) -> CopulaPortfolio:
    """Heterogeneous book: balances 1-50M, PD 0.2%-6%, LGD 20-60%, 8 property-type sectors."""
    rng = np.random.default_rng(seed)
    return CopulaPortfolio.build(
        rng.uniform(1e6, 5e7, n),
        rng.uniform(0.2, 0.6, n),
        rng.uniform(0.002, 0.06, n),
        rng.choice([0.12, 0.15, 0.18, 0.2, 0.24], n),
        rng.integers(0, 8, n),
        0.05,
    )


def grid_reference(bal, dscr, ltv, cap, hs, ss) -> np.ndarray:
    """Plain NumPy per cell: recompute every loan's DSCR and LTV and reduce (same outputs)."""
    out = np.empty((hs.size, ss.size, 14))
    for a, h in enumerate(hs):
        for b, s in enumerate(ss):
            d = dscr * (1 - h)
            lv = ltv * (1 + s / cap) / (1 - h)
            out[a, b, :5] = np.percentile(d, [5, 25, 50, 75, 95])
            out[a, b, 5:10] = np.percentile(lv, [5, 25, 50, 75, 95])
            out[a, b, 10] = bal[d < 1.0].sum()
            out[a, b, 11] = bal[d < 1.25].sum()
            out[a, b, 12] = bal[lv > 0.8].sum()
            out[a, b, 13] = bal[lv > 1.0].sum()
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--loans", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    n = args.loans
    print(
        f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cpus, numba {numba.__version__}, "
        f"threads {numba.get_num_threads()}, load {os.getloadavg()}"
    )

    port = make_portfolio(n)
    simulate_losses(port, 256, seed=1)  # compile / load the cache
    print("\n## copula Monte Carlo (kernel), loans =", n)
    base = None
    for paths in (10_000, 20_000, 50_000, 100_000):
        t = median_time(lambda p=paths: simulate_losses(port, p, seed=7), args.runs, "k")
        base = base or t
        print(
            f"paths {paths:>7}: {t * 1000:9.1f} ms wall, {CPU['k'] * 1000:9.1f} ms CPU "
            f"({t / base:4.1f}x the 10k time, {t / paths * 1e6:6.1f} us/path)"
        )
    t_nb = median_time(lambda: simulate_losses(port, 10_000, seed=7), args.runs, "nb")
    t_np = median_time(lambda: simulate_losses_numpy(port, 10_000, seed=7), 1, "np")
    print(
        f"NumPy twin 10k paths: {t_np * 1000:9.1f} ms wall ({CPU['np'] * 1000:.0f} ms CPU); kernel "
        f"{t_nb * 1000:.1f} ms wall ({CPU['nb'] * 1000:.0f} ms CPU); ratio {t_np / t_nb:.1f}x wall, "
        f"{CPU['np'] / CPU['nb']:.1f}x CPU"
    )
    a, _ = simulate_losses(port, 10_000, seed=7)
    b, _ = simulate_losses_numpy(port, 10_000, seed=8)
    print(
        f"mean loss kernel {a.mean():.4g} vs twin {b.mean():.4g}; exact EL {np.sum(port.ead * port.lgd * port.pd):.4g}"
    )

    print("\n## stress grid 10 x 10, loans =", n)
    rng = np.random.default_rng(3)
    bal = rng.uniform(1e6, 5e7, n)
    dscr = rng.uniform(0.8, 2.5, n)
    cap = rng.uniform(0.045, 0.09, n)
    ltv = rng.uniform(0.4, 0.95, n)
    hs, ss = np.linspace(0.0, 0.45, 10), np.linspace(-0.005, 0.03, 10)
    t_grid = median_time(lambda: stress_grid(bal, dscr, ltv, cap, hs, ss), max(args.runs, 7), "g")
    t_ref = median_time(lambda: grid_reference(bal, dscr, ltv, cap, hs, ss), max(args.runs, 7), "r")
    g = stress_grid(bal, dscr, ltv, cap, hs, ss)
    ref = grid_reference(bal, dscr, ltv, cap, hs, ss)
    assert np.allclose(g.ltv_percentiles, ref[..., 5:10]) and np.allclose(
        g.balance_ltv_above[1.0], ref[..., 13]
    )
    print(
        f"grid {t_grid * 1000:.1f} ms wall ({CPU['g'] * 1000:.1f} ms CPU); per-cell NumPy reference "
        f"{t_ref * 1000:.1f} ms ({CPU['r'] * 1000:.1f} ms CPU); ratio {t_ref / t_grid:.1f}x"
    )
    print(f"# load after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
