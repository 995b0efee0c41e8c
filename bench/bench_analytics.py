"""Benchmark: vectorised IRR / XIRR (Numba) against pyxirr and numpy-financial, and Z-spread.

Run: PYTHONPATH=. .venv/bin/python bench/bench_analytics.py
Prints medians of several runs (JIT compile excluded: one warm-up call first) and the ratio to
the references measured in the same run. numpy-financial's irr is timed on a subset of rows and
extrapolated linearly to all rows (it takes minutes on the full set).
"""

from __future__ import annotations

import datetime as dt
import os

# numpy-financial's irr is an eigenvalue problem; OpenBLAS's own thread pool oversubscribes the
# 2 shared cores (7.5 s instead of 0.56 s per row on the loaded machine). One BLAS thread keeps
# the reference fair; nothing else here uses multi-threaded BLAS (Numba has its own threads).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import statistics
import time

import numba
import numpy as np
import numpy_financial as npf
import pyxirr

from app.engine.analytics.curves import ZeroCurve
from app.engine.analytics.measures import z_spread
from app.engine.analytics.vectorised import irr_many, xirr_many

N, M = 10_000, 360
NPF_ROWS = 3  # numpy-financial's irr solves a 359-degree companion eigenproblem per row


CPU: dict[str, float] = {}


def timed(fn, repeat: int, label: str | None = None) -> tuple[float, object]:
    """Median wall time of `repeat` calls (and, under `label`, the median process CPU time,
    all threads together, which is less sensitive to other processes on the machine)."""
    out = None
    times = []
    cpus = []
    for _ in range(repeat):
        c0 = time.process_time()
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    if label:
        CPU[label] = statistics.median(cpus)
    return statistics.median(times), out


def make_flows(rng: np.random.Generator) -> np.ndarray:
    """Mortgage-like vectors: −price, then 359 level payments with noise (IRRs ~0.2–1%/month)."""
    rate = rng.uniform(0.03, 0.09, N) / 12
    pmt = rate / (1 - (1 + rate) ** -(M - 1))
    flows = np.empty((N, M))
    flows[:, 1:] = pmt[:, None] * rng.uniform(0.8, 1.2, (N, M - 1))
    flows[:, 0] = -rng.uniform(0.9, 1.1, N)
    return flows


def main() -> None:
    rng = np.random.default_rng(20261127)
    flows = make_flows(rng)
    start = dt.date(2025, 1, 15)
    dates = [start + dt.timedelta(days=int(round(k * 365.25 / 12))) for k in range(M)]
    dates64 = np.array(dates, dtype="datetime64[D]")
    print(
        f"{N} vectors x {M} flows; numba threads: {numba.get_num_threads()}; "
        f"load average {os.getloadavg()[0]:.1f}"
    )

    irr_many(flows[:2])
    xirr_many(flows[:2], dates64)
    t_irr, ours = timed(lambda: irr_many(flows), 7, "irr")
    t_pyx, ref = timed(lambda: np.array([pyxirr.irr(r) for r in flows]), 3, "pyxirr_irr")
    per_row = []
    ref_npf = np.empty(NPF_ROWS)
    for i in range(NPF_ROWS):
        t_row, ref_npf[i] = timed(lambda i=i: npf.irr(flows[i]), 1)
        per_row.append(t_row)
    t_npf_sub = statistics.median(per_row) * NPF_ROWS
    t_npf = statistics.median(per_row) * N
    print(f"IRR  numba irr_many      : {t_irr * 1e3:8.1f} ms  (CPU {CPU['irr'] * 1e3:.1f} ms)")
    print(
        f"IRR  pyxirr.irr loop     : {t_pyx * 1e3:8.1f} ms  (x{t_pyx / t_irr:.0f} slower; "
        f"CPU {CPU['pyxirr_irr'] * 1e3:.0f} ms)"
    )
    print(
        f"IRR  numpy_financial.irr : {t_npf:8.1f} s   extrapolated from the median of "
        f"{NPF_ROWS} single rows ({t_npf_sub / NPF_ROWS * 1e3:.0f} ms/row), x{t_npf / t_irr:.0f} slower"
    )
    print(
        f"     max |ours - pyxirr| = {np.nanmax(np.abs(ours - ref)):.1e}, "
        f"max |ours - npf| = {np.max(np.abs(ours[:NPF_ROWS] - ref_npf)):.1e}"
    )

    t_x, ours_x = timed(lambda: xirr_many(flows, dates64), 7, "xirr")
    t_px, ref_x = timed(lambda: np.array([pyxirr.xirr(dates, r) for r in flows]), 3, "pyxirr_xirr")
    print(f"XIRR numba xirr_many     : {t_x * 1e3:8.1f} ms  (CPU {CPU['xirr'] * 1e3:.1f} ms)")
    print(
        f"XIRR pyxirr.xirr loop    : {t_px * 1e3:8.1f} ms  (x{t_px / t_x:.1f} slower; "
        f"CPU {CPU['pyxirr_xirr'] * 1e3:.0f} ms)"
    )
    print(f"     max |ours - pyxirr| = {np.nanmax(np.abs(ours_x - ref_x)):.1e}")

    nodes = np.linspace(0.25, 30.0, 50)
    curve = ZeroCurve(nodes, 0.03 + 0.01 * np.log1p(nodes) / np.log(31.0))
    t = np.arange(1, M + 1) / 12.0
    amounts = flows[0, 1:].tolist() + [flows[0, 1]]
    a = np.array(amounts)
    price = float(np.dot(a, curve.discount(t) * np.exp(-0.0125 * t)))
    z_spread(a, t, curve, price)
    t_z, s = timed(lambda: z_spread(a, t, curve, price), 201)
    print(
        f"Z-spread 360 flows, 50-node curve: {t_z * 1e6:8.0f} us  (spread {s:.10f}, target 0.0125)"
    )


if __name__ == "__main__":
    main()
