"""Benchmark of the Monte Carlo pipeline (rate paths + projection + OAS solve).

Prints medians of several runs after a warm-up (JIT compile), paths × months per second, and
the ratio against the plain NumPy reference kernel measured in the same run. Run:

    PYTHONPATH=. .venv/bin/python bench/bench_montecarlo.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

from app.engine._kernels.path_projection_nb import mc_project_ref
from app.engine.analytics.curves import ZeroCurve
from app.engine.montecarlo import (
    MonteCarloRequest,
    RepLines,
    prepare,
    project_paths,
    run_monte_carlo,
    solve_oas,
)
from app.engine.rates import HullWhite, block_rng, calibrate, simulate_short_rates

CURVE = ZeroCurve([0.25, 1, 2, 5, 10, 30], [0.043, 0.041, 0.040, 0.041, 0.043, 0.045])


def pool(n_lines: int) -> RepLines:
    rng = np.random.default_rng(n_lines)
    note = rng.uniform(0.05, 0.075, n_lines)
    return RepLines.from_columns(
        balance=rng.uniform(1e6, 5e6, n_lines),
        note_rate=note,
        net_rate=note - 0.005,
        remaining_term=np.full(n_lines, 360),
        age=rng.integers(0, 60, n_lines),
    )


def request(n_paths: int, n_lines: int, **kw) -> MonteCarloRequest:
    p = pool(n_lines)
    base = dict(
        pool=p,
        curve=CURVE,
        rate_model=HullWhite(0.03, 0.01),
        n_paths=n_paths,
        n_months=360,
        seed=7,
        block_size=1000,
        default_cdr=0.005,
        severity=0.35,
        price=p.total_balance * 1.01,
        duration_bump=None,
    )
    base.update(kw)
    return MonteCarloRequest(**base)


def median_time(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def median_wall_cpu(fn, runs: int) -> tuple[float, float]:
    """Medians of wall time and of process CPU time (all threads) over `runs` runs."""
    wall, cpu = [], []
    for _ in range(runs):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - w0)
        cpu.append(time.process_time() - c0)
    return statistics.median(wall), statistics.median(cpu)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="fewer runs")
    args = ap.parse_args()
    runs = 3 if args.quick else 5
    print(f"load average at start: {os.getloadavg()[0]:.2f} (2 cores)")
    run_monte_carlo(request(2000, 10))  # warm-up: JIT compile / cache load
    print(f"worker threads over path blocks: {os.cpu_count()}")
    print("full pipeline (rate paths + projection + OAS solve), 360 months, HW 1F:")
    for n_paths, n_lines, anti, k in (
        (10_000, 10, False, runs),
        (10_000, 10, True, runs),
        (10_000, 100, False, max(3, runs - 2)),
        (100_000, 10, False, 3),
    ):
        req = request(n_paths, n_lines, antithetic=anti)
        wall, cpu = median_wall_cpu(lambda req=req: run_monte_carlo(req), k)
        rate = n_paths * 360 / wall
        print(
            f"  {n_paths:>7} paths x {n_lines:>3} rep-lines antithetic={anti!s:5}: "
            f"median wall {wall:.3f} s, CPU {cpu:.3f} s  "
            f"({rate / 1e6:.2f} M path-months/s, {k} runs)"
        )

    # OAS solve alone on cached path cash flows (10,000 paths x 360 months)
    req = request(10_000, 10)
    prep = prepare(req)
    cal = calibrate(req.rate_model, req.curve, prep.n, req.mortgage_rate)
    rates = simulate_short_rates(cal, block_rng(1, 0), 10_000)
    cfd = project_paths(req, prep, cal, rates, np.empty((0, 0)))["cfd"]
    t_reduce = median_time(lambda: solve_oas(cfd.sum(axis=0) / 10_000, prep.times, req.price), 21)
    mean_cfd = cfd.sum(axis=0) / 10_000
    t_solve = median_time(lambda: solve_oas(mean_cfd, prep.times, req.price), 51)
    print(
        f"OAS solve on cached 10,000 x 360 path cash flows: {t_reduce * 1e3:.2f} ms (incl. path reduction)"
    )
    print(f"OAS solve on the cached mean discounted cash-flow vector: {t_solve * 1e3:.3f} ms")

    # NumPy reference ratio for the projection kernel on the same inputs
    sub = rates[:500]
    pm, p = req.prepayment, req.pool

    def ref() -> None:
        mc_project_ref(
            sub, cal.mort_c, cal.mort_d, np.empty((0, 0)), p.balance, p.note_rate, p.net_rate,
            prep.age, prep.sch, prep.af, prep.mdr, prep.severity, 0, True, pm.turnover_smm,
            pm.refi_smm_max, pm.refi_steepness, pm.refi_midpoint, pm.burnout,
            float(pm.seasoning_months), prep.pv_disc, prep.yield_price,
        )  # fmt: skip

    t_ref = median_time(ref, 3)  # vectorised over paths x lines, loop on months
    t_nb = median_time(lambda: project_paths(req, prep, cal, sub, np.empty((0, 0))), 11)
    print(
        f"projection kernel, 500 paths x 10 rep-lines x 360 months: numba {t_nb * 1e3:.1f} ms, "
        f"NumPy reference {t_ref * 1e3:.0f} ms, ratio {t_ref / t_nb:.0f}x"
    )
    print(f"load average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
