"""Stage breakdown of one `project_pool` call: validation, speed tables, per-loan arrays, term
grouping, kernel + pool reduction (medians of wall and process CPU time over several runs).

    NUMBA_NUM_THREADS=2 PYTHONPATH=. .venv/bin/python bench/bench_projection_stages.py [--loans N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import numba as nb
import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from bench_projection import ASSUMPTIONS, make_columns  # noqa: E402

from app.engine import LoanPool, project_pool  # noqa: E402
from app.engine import projection as proj  # noqa: E402
from app.engine._kernels import projection_nb as knl  # noqa: E402
from app.engine.speeds import speed_table, validate_speed  # noqa: E402


def timed(fn: Callable[[], Any], runs: int) -> tuple[float, float]:
    """Median wall and median process-CPU seconds of `runs` calls."""
    wall, cpu = [], []
    for _ in range(runs):
        c0, t0 = time.process_time(), time.perf_counter()
        fn()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return statistics.median(wall), statistics.median(cpu)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--loans", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    a = ASSUMPTIONS
    lag = int(a.recovery_lag_months)
    pool = LoanPool.from_columns(make_columns(args.loans))
    project_pool(pool.take(np.arange(1000)), a)  # warm-up
    n_per = proj.horizon(pool, a)
    pre = speed_table(a.prepayment, pool.age_months, n_per)
    dft = speed_table(a.default, pool.age_months, n_per, recovery_lag=lag)
    la = knl._loan_arrays(pool)

    def validate() -> None:
        proj._validate(pool, a)
        validate_speed(a.prepayment, len(pool), name="prepayment", default=False)
        validate_speed(a.default, len(pool), name="default", default=True)

    stages: dict[str, Callable[[], Any]] = {
        "validation": validate,
        "speed tables": lambda: (
            speed_table(a.prepayment, pool.age_months, n_per),
            speed_table(a.default, pool.age_months, n_per, recovery_lag=lag),
        ),
        "per-loan arrays": lambda: (
            knl._loan_arrays(pool),
            knl._float_arrays(pool, a.index_paths, n_per),
        ),
        "term grouping (argsort)": lambda: np.argsort(
            np.minimum(la["term_left"] // 12, 32_000).astype(np.int16), kind="stable"
        ),
        "kernel + reduction": lambda: knl.run_tables(
            pool, pre, dft, a, n_per, loan_level=False, balance_paths=False
        ),
        "whole project_pool": lambda: project_pool(pool, a),
    }
    print(
        f"{args.loans:,} loans, {nb.get_num_threads()} threads, load average {os.getloadavg()[0]:.1f}"
    )
    for name, fn in stages.items():
        w, c = timed(fn, args.runs)
        print(f"{name:26s} wall {w * 1e3:9.1f} ms   CPU {c * 1e3:9.1f} ms")


if __name__ == "__main__":
    main()
