"""Benchmark of the engine core: pool projection, loan-level output, tape loading, JIT cache.

Plain script (no pytest): medians of several runs after warm-up, loans x periods per second,
peak RSS, and the plain NumPy reference on the same tape with the ratio.

    PYTHONPATH=. .venv/bin/python bench/bench_projection.py [--loans 1000000] [--runs 5]
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import resource
import statistics
import subprocess
import sys
import time

import numba as nb
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from app.engine import Assumptions, LoanPool, Speed, SpeedKind, project_pool
from app.engine.tape import read_tape


def make_columns(n: int, seed: int = 7) -> dict[str, np.ndarray]:
    """Heterogeneous fixed-rate level-pay loans: random balances, rates, terms and ages."""
    rng = np.random.default_rng(seed)
    term = rng.choice(np.array([120, 180, 240, 300, 360]), size=n, p=[0.1, 0.2, 0.1, 0.1, 0.5])
    age = (rng.random(n) * term * 0.5).astype(np.int64)
    rate = np.round(rng.uniform(0.03, 0.09, n), 5)
    return {
        "loan_id": np.char.add("L", np.arange(n).astype(str)),
        "balance": np.round(rng.uniform(50_000, 800_000, n), 2),
        "rate": rate,
        "net_rate": rate - 0.0025,
        "original_term_months": term,
        "age_months": age,
    }


ASSUMPTIONS = Assumptions(
    prepayment=Speed(SpeedKind.PSA, speed=150.0),
    default=Speed(SpeedKind.SDA, speed=100.0),
    severity=0.35,
    recovery_lag_months=12,
    advancing=True,
    n_periods=360,
)


CPU: list[float] = []


def timed(fn, runs: int) -> list[float]:
    """Wall seconds of `runs` calls; the process CPU seconds of each call go to CPU."""
    out = []
    CPU.clear()
    for _ in range(runs):
        c0 = time.process_time()
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
        CPU.append(time.process_time() - c0)
    return out


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--loans", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--reference-loans", type=int, default=10_000)
    args = ap.parse_args()
    n, runs = args.loans, args.runs
    print(
        f"machine: {platform.processor() or platform.machine()}, {platform.python_version()}, numpy {np.__version__}"
    )
    print(
        f"date: {time.strftime('%Y-%m-%d %H:%M:%S')}, load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )

    # JIT cache: a fresh process importing the engine and running a tiny projection
    code = (
        "import time; t=time.perf_counter();"
        "from app.engine import LoanPool, Assumptions, project_pool;"
        "p=LoanPool.from_columns({'balance':[1.0],'rate':[0.05],'original_term_months':[12]});"
        "project_pool(p, Assumptions());print(time.perf_counter()-t)"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)  # fills cache
    start, cpu = [], []
    for _ in range(5):
        c0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        out = subprocess.run(
            [sys.executable, "-c", code], check=True, capture_output=True, text=True
        )
        c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        start.append(float(out.stdout))
        cpu.append(c1.ru_utime + c1.ru_stime - c0.ru_utime - c0.ru_stime)
    print(
        f"second process: import + first projection (cache hit): median {statistics.median(start):.3f} s "
        f"(whole process CPU {statistics.median(cpu):.3f} s)"
    )

    cols = make_columns(n)
    t0 = time.perf_counter()
    pool = LoanPool.from_columns(cols)
    print(f"from_columns ({n:,} rows, validated): {time.perf_counter() - t0:.3f} s")

    project_pool(pool.take(np.arange(1000)), ASSUMPTIONS, loan_level=True)  # warm-up
    for size in sorted({100_000, n}):
        sub = pool if size == n else pool.take(np.arange(size))
        t = timed(lambda s=sub: project_pool(s, ASSUMPTIONS), runs)
        med = statistics.median(t)
        print(
            f"pool-level {size:>9,} loans x 360: median {med:.3f} s (min {min(t):.3f}; "
            f"CPU {statistics.median(CPU):.3f} s on {nb.get_num_threads()} threads) "
            f"-> {size * 360 / med / 1e6:,.0f} M loan-months/s"
        )
    sub = pool.take(np.arange(min(n, 100_000)))
    t = timed(lambda: project_pool(sub, ASSUMPTIONS, loan_level=True), runs)
    print(
        f"loan-level totals+WAL {len(sub):,} loans: median {statistics.median(t):.3f} s "
        f"(CPU {statistics.median(CPU):.3f} s)"
    )

    m = min(args.reference_loans, n)
    ref_pool = pool.take(np.arange(m))
    t_ref = timed(lambda: project_pool(ref_pool, ASSUMPTIONS, engine="reference"), 3)
    t_nb = timed(lambda: project_pool(ref_pool, ASSUMPTIONS), runs)
    r, k = statistics.median(t_ref), statistics.median(t_nb)
    print(f"NumPy reference {m:,} loans: median {r:.3f} s; kernel {k:.4f} s; ratio {r / k:,.0f}x")

    # tape: CSV and Parquet in memory, load + validate
    table = pa.table(cols)
    buf = io.BytesIO()
    pacsv.write_csv(table, buf)
    csv_bytes = buf.getvalue()
    import pyarrow.parquet as pq

    pbuf = io.BytesIO()
    pq.write_table(table, pbuf)
    pq_bytes = pbuf.getvalue()
    t = timed(lambda: read_tape(csv_bytes, format="csv"), 3)
    print(
        f"read_tape CSV {n:,} rows ({len(csv_bytes) / 1e6:.0f} MB): median {statistics.median(t):.3f} s"
    )
    t = timed(lambda: read_tape(pq_bytes, format="parquet"), 3)
    print(f"read_tape Parquet {n:,} rows: median {statistics.median(t):.3f} s")
    print(f"peak RSS of this process: {peak_rss_mb():,.0f} MB")


if __name__ == "__main__":
    main()
