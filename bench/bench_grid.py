"""Benchmark of sensitivity grids, stress tests and break-even solving on a 10,000-loan pool.

Plain script (no pytest): medians of several runs after a warm-up (JIT compile), against a
reference measured in the same run: one compiled projection of the same pool, so that
grid time / (cells x one projection) shows what the grid adds on top of the projections.

    PYTHONPATH=. .venv/bin/python bench/bench_grid.py [--loans 10000] [--size 20] [--runs 3]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from collections.abc import Callable

import numba
import numpy as np

from app.engine import Assumptions, LoanPool, Speed, SpeedKind, project_pool
from app.engine.sensitivity import (
    GridAxis,
    Valuation,
    break_even,
    sensitivity_grid,
    standard_stresses,
    stress_test,
)

MEASURES = ["npv", "yield", "wal", "cumulative_loss", "modified_duration"]


def make_pool(n: int, seed: int = 7) -> LoanPool:
    """Heterogeneous fixed-rate level-pay loans: random balances, rates, terms and ages."""
    rng = np.random.default_rng(seed)
    term = rng.choice(np.array([120, 180, 240, 300, 360]), size=n, p=[0.1, 0.2, 0.1, 0.1, 0.5])
    age = (rng.random(n) * term * 0.5).astype(np.int64)
    rate = np.round(rng.uniform(0.03, 0.09, n), 5)
    return LoanPool.from_columns(
        {
            "balance": np.round(rng.uniform(50_000, 800_000, n), 2),
            "rate": rate,
            "net_rate": rate - 0.0025,
            "original_term_months": term,
            "age_months": age,
        }
    )


BASE = Assumptions(
    prepayment=Speed(SpeedKind.PSA, speed=150.0),
    default=Speed(SpeedKind.CDR, rate=0.01),
    severity=0.35,
    recovery_lag_months=6,
)


def median_time(fn: Callable[[], object], runs: int) -> tuple[float, list[float]]:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--loans", type=int, default=10_000)
    ap.add_argument("--size", type=int, default=20, help="grid is size x size")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()

    pool = make_pool(args.loans)
    price = pool.total_balance
    val = Valuation(discount_rate=0.055, price=price)
    cpr = GridAxis("cpr", tuple(np.linspace(0.0, 0.30, args.size)))
    cdr = GridAxis("cdr", tuple(np.linspace(0.0, 0.10, args.size)))
    cells = args.size * args.size
    print(
        f"python {platform.python_version()}, numba {numba.__version__}, "
        f"{numba.get_num_threads()} threads; {args.loans} loans, "
        f"{int(pool.remaining_term_months.sum())} loan-months"
    )

    project_pool(pool, BASE)  # warm-up: JIT compile / cache load
    sensitivity_grid(pool, BASE, GridAxis("cpr", (0.1,)), GridAxis("cdr", (0.01,)), MEASURES, val)

    one, _ = median_time(lambda: project_pool(pool, BASE), max(5, args.runs))
    print(f"reference: one compiled projection            median {one * 1e3:8.1f} ms")

    grid_t, grid_all = median_time(
        lambda: sensitivity_grid(pool, BASE, cpr, cdr, MEASURES, val), args.runs
    )
    print(
        f"{args.size}x{args.size} CPR x CDR grid ({cells} projections, {len(MEASURES)} measures) "
        f"median {grid_t:6.2f} s  runs {[round(t, 2) for t in grid_all]}  "
        f"= {grid_t / cells * 1e3:.1f} ms/cell, ratio to {cells} x one projection "
        f"{grid_t / (cells * one):.2f}"
    )

    psa = GridAxis("psa", tuple(np.linspace(50, 500, args.size)))
    sda = GridAxis("sda", tuple(np.linspace(0, 1000, args.size)))
    ps_t, _ = median_time(lambda: sensitivity_grid(pool, BASE, psa, sda, MEASURES, val), args.runs)
    print(
        f"{args.size}x{args.size} PSA x SDA grid (loans grouped by age and term)      "
        f"median {ps_t:6.2f} s"
    )
    sev = GridAxis("severity", tuple(np.linspace(0.1, 0.9, args.size)))
    pv_t, _ = median_time(lambda: sensitivity_grid(pool, BASE, psa, sev, MEASURES, val), args.runs)
    print(
        f"{args.size}x{args.size} PSA x severity grid                            median {pv_t:6.2f} s"
    )

    shift = GridAxis("rate_shift_bp", tuple(np.linspace(-300, 300, args.size)))
    mult = GridAxis("prepayment_multiplier", tuple(np.linspace(0.25, 2.5, args.size)))
    res = sensitivity_grid(pool, BASE, shift, mult, ["npv", "effective_duration"], val)
    rs_t, _ = median_time(
        lambda: sensitivity_grid(pool, BASE, shift, mult, ["npv", "effective_duration"], val),
        args.runs,
    )
    print(
        f"{args.size}x{args.size} rate shift x prepay multiplier ({res.projections} projections) "
        f"median {rs_t:6.2f} s"
    )

    shocks = standard_stresses()
    st_t, _ = median_time(
        lambda: stress_test(pool, BASE, shocks, ["npv", "effective_duration", "wal"], val),
        args.runs,
    )
    print(f"stress test, {len(shocks)} standard shocks + base               median {st_t:6.2f} s")

    be = break_even(pool, BASE, variable="cdr", measure="cumulative_loss_fraction", target=0.05)
    be_t, _ = median_time(
        lambda: break_even(
            pool, BASE, variable="cdr", measure="cumulative_loss_fraction", target=0.05
        ),
        args.runs,
    )
    print(
        f"break-even CDR for 5% cumulative loss = {be.value:.6f} "
        f"({be.iterations} Brent iterations, {be.evaluations} projections)  median {be_t:6.2f} s"
    )


if __name__ == "__main__":
    main()
