"""Benchmark of streamed tapes (stream_forecast job kind): an N-loan Parquet tape projected 360
months, pool level, chunk by chunk, against the in-memory engine on the same loans.

Every run is a fresh subprocess with NUMBA_NUM_THREADS=1 (one thread per process), so the peak
RSS reported is that process's own (ru_maxrss) and the 1 vs 2 worker comparison is fair:

    in-memory   read_tape(whole file) + project_pool (the reference, same loans, one process)
    stream x1   one worker computes every chunk (stream_forecast.compute_chunk), then merge
    stream x2   two workers, chunks k % 2 == w, started together after warm-up; parent merges

Reported first: ratios measured in this run (stream x1 / in-memory, stream x1 / stream x2);
then the absolute medians, peak RSS per process, machine, date and load.

    PYTHONPATH=. .venv/bin/python bench/bench_stream.py [--loans 10000000] [--runs 3]
        [--chunk-loans 500000] [--skip-memory]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

ROW_GROUP = 250_000
ASSUMPTIONS_JSON: dict[str, Any] = {
    "prepayment": {"type": "psa", "speed": 150},
    "default": {"type": "sda", "speed": 100},
    "severity": 0.35,
    "recovery_lag_months": 12,
    "advancing": True,
    "n_periods": 360,
}


def write_tape(path: Path, n: int, row_group: int = ROW_GROUP, seed: int = 7) -> None:
    """Heterogeneous fixed-rate level-pay loans, written one row group at a time."""
    rng = np.random.default_rng(seed)
    writer: pq.ParquetWriter | None = None
    for start in range(0, n, row_group):
        m = min(row_group, n - start)
        term = rng.choice(np.array([120, 180, 240, 300, 360]), size=m, p=[0.1, 0.2, 0.1, 0.1, 0.5])
        rate = np.round(rng.uniform(0.03, 0.09, m), 5)
        t = pa.table(
            {
                "loan_id": pa.array(np.char.add("L", np.arange(start, start + m).astype(str))),
                "balance": np.round(rng.uniform(50_000, 800_000, m), 2),
                "rate": rate,
                "net_rate": rate - 0.0025,
                "original_term_months": term,
                "age_months": (rng.random(m) * term * 0.5).astype(np.int64),
            }
        )
        if writer is None:
            writer = pq.ParquetWriter(str(path), t.schema, compression="zstd")
        writer.write_table(t, row_group_size=row_group)
    assert writer is not None
    writer.close()


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _payload(tape: Path, chunk_loans: int) -> dict[str, Any]:
    from app.core.config import Settings
    from app.services import stream_forecast

    payload: dict[str, Any] = {
        "tape_path": tape.name,
        "chunk_loans": chunk_loans,
        "assumptions": ASSUMPTIONS_JSON,
    }
    stream_forecast.validate(payload, Settings(tape_store_dir=tape.parent))  # type: ignore[call-arg]
    return payload


def _warm() -> None:
    from app.engine import Assumptions, LoanPool, project_pool

    project_pool(
        LoanPool.from_columns({"balance": [1e5], "rate": [0.05], "original_term_months": [360]}),
        Assumptions(n_periods=360),
    )


def worker_main(args: argparse.Namespace) -> None:
    """A child: warm up, say ready, wait for "go" on stdin, run, print one JSON line."""
    from app.services import stream_forecast

    _warm()
    if args.mode == "memory":
        from app.engine.projection import project_pool
        from app.engine.tape import TapeLimits, read_tape
        from app.models.forecasts import AssumptionsIn
        from app.services.forecasts import to_assumptions

        a = to_assumptions(AssumptionsIn.model_validate(ASSUMPTIONS_JSON))
        print("ready", flush=True)
        sys.stdin.readline()
        t0 = time.perf_counter()
        lim = TapeLimits(max_rows=10**9, max_decoded_bytes=1 << 40, max_seconds=1e9)
        pool = read_tape(args.tape, format="parquet", limits=lim)
        cols = project_pool(pool, a).columns
        t1 = time.perf_counter()
        out = {
            "seconds": t1 - t0,
            "rss_mib": _rss_mib(),
            "total": float(cols["total_cashflow"].sum()),
        }
    else:
        payload = json.loads(Path(args.payload).read_text())
        mine = [int(k) for k in args.chunks.split(",") if k]
        print("ready", flush=True)
        sys.stdin.readline()
        t0 = time.perf_counter()
        for k in mine:
            blob = stream_forecast.compute_chunk(payload, k, args.n_chunks, lambda d, t: None)
            Path(args.out_dir, f"{k:05d}.npz").write_bytes(blob)
        t1 = time.perf_counter()
        out = {
            "seconds": t1 - t0,
            "rss_mib": _rss_mib(),
            "t0": time.time() - (t1 - t0),
            "t1": time.time(),
        }
    print(json.dumps(out), flush=True)


def _spawn(extra: list[str]) -> subprocess.Popen[str]:
    env = {**os.environ, "NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "PYTHONPATH": "."}
    return subprocess.Popen(
        [sys.executable, __file__, "--worker", *extra],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )


def _run_group(procs: list[subprocess.Popen[str]]) -> list[dict[str, Any]]:
    for p in procs:
        assert p.stdout is not None and p.stdout.readline().strip() == "ready"
    for p in procs:
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.flush()
    outs = []
    for p in procs:
        assert p.stdout is not None
        outs.append(json.loads(p.stdout.readline()))
        p.wait()
    return outs


def run_stream(
    tape: Path, payload_file: Path, n_chunks: int, workers: int
) -> tuple[float, list[float], dict[str, Any]]:
    """(span seconds incl. merge, peak RSS MiB per worker, merged result)."""
    from app.services import stream_forecast

    with tempfile.TemporaryDirectory() as out_dir:
        procs = [
            _spawn(
                [
                    "--mode",
                    "stream",
                    "--tape",
                    str(tape),
                    "--payload",
                    str(payload_file),
                    "--n-chunks",
                    str(n_chunks),
                    "--out-dir",
                    out_dir,
                    "--chunks",
                    ",".join(str(k) for k in range(w, n_chunks, workers)),
                ]
            )
            for w in range(workers)
        ]
        outs = _run_group(procs)
        t_merge = time.perf_counter()
        blobs = [Path(out_dir, f"{k:05d}.npz").read_bytes() for k in range(n_chunks)]
        result = stream_forecast.merge(json.loads(payload_file.read_text()), blobs)
        merge_s = time.perf_counter() - t_merge
    span = max(o["t1"] for o in outs) - min(o["t0"] for o in outs) + merge_s
    return span, [o["rss_mib"] for o in outs], result


_BURN = "x = 0\nfor i in range(15_000_000):\n    x += i\n"


def available_speedup() -> float:
    """What this machine gives two processes right now: wall of one CPU-bound loop over the
    wall of two run together (2.0 on two idle cores; about 1.0 when other jobs fill a core)."""

    def span(k: int) -> float:
        t = time.perf_counter()
        procs = [subprocess.Popen([sys.executable, "-c", _BURN]) for _ in range(k)]
        for p in procs:
            p.wait()
        return time.perf_counter() - t

    one = statistics.median(span(1) for _ in range(3))
    two = statistics.median(span(2) for _ in range(3))
    return 2 * one / two


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--loans", type=int, default=10_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--chunk-loans", type=int, default=500_000)
    ap.add_argument("--skip-memory", action="store_true", help="no in-memory reference run")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--mode", default="stream", help=argparse.SUPPRESS)
    ap.add_argument("--tape", help=argparse.SUPPRESS)
    ap.add_argument("--payload", help=argparse.SUPPRESS)
    ap.add_argument("--chunks", default="", help=argparse.SUPPRESS)
    ap.add_argument("--n-chunks", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--out-dir", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker_main(args)
        return

    with tempfile.TemporaryDirectory() as tmp:
        tape = Path(tmp) / "tape.parquet"
        t = time.perf_counter()
        write_tape(tape, args.loans, min(ROW_GROUP, args.chunk_loans))
        print(
            f"tape: {args.loans:,} loans, {tape.stat().st_size / 2**20:.0f} MiB Parquet "
            f"(written in {time.perf_counter() - t:.1f} s)"
        )
        t = time.perf_counter()
        payload = _payload(tape, args.chunk_loans)
        first_pass = time.perf_counter() - t
        payload_file = Path(tmp) / "payload.json"
        payload_file.write_text(json.dumps(payload))
        from app.core.config import Settings
        from app.services import stream_forecast

        n_chunks = len(stream_forecast.plan(payload, Settings()))  # type: ignore[call-arg]
        print(
            f"{n_chunks} chunks of ~{args.chunk_loans:,}; horizon {payload['horizon_months']}; "
            f"validate/first pass {first_pass:.2f} s"
        )

        avail = [available_speedup()]
        mem_s, mem_rss, one_s, one_rss, two_s, two_rss = [], [], [], [], [], []
        res1 = res2 = None
        for _ in range(args.runs):
            if not args.skip_memory:
                [m] = _run_group([_spawn(["--mode", "memory", "--tape", str(tape)])])
                mem_s.append(m["seconds"])
                mem_rss.append(m["rss_mib"])
            s, r, res1 = run_stream(tape, payload_file, n_chunks, 1)
            one_s.append(s)
            one_rss += r
            s, r, res2 = run_stream(tape, payload_file, n_chunks, 2)
            two_s.append(s)
            two_rss += r
        avail.append(available_speedup())
        assert res1 is not None and res2 is not None
        assert res1["columns"] == res2["columns"], "1 and 2 workers must merge to the same numbers"

    med = statistics.median
    print("\n== ratios (measured in this run) ==")
    if mem_s:
        print(
            f"stream x1 / in-memory engine: {med(one_s) / med(mem_s):.2f}  (overhead {100 * (med(one_s) / med(mem_s) - 1):+.0f}%, target <= +25%)"
        )
    speedup = med(one_s) / med(two_s)
    print(f"speed-up 1 -> 2 workers:      {speedup:.2f}x  (target >= 1.8x)")
    print(
        f"reference: 2 CPU-bound loops vs 1 on this machine now: {med(avail):.2f}x "
        f"(before/after: {avail[0]:.2f}, {avail[1]:.2f}); stream speed-up / that: {speedup / med(avail):.2f}"
    )
    print("\n== absolute (secondary) ==")
    if mem_s:
        print(f"in-memory:  median {med(mem_s):.2f} s  peak RSS {max(mem_rss):.0f} MiB")
    print(f"stream x1:  median {med(one_s):.2f} s  peak RSS {max(one_rss):.0f} MiB per process")
    print(f"stream x2:  median {med(two_s):.2f} s  peak RSS {max(two_rss):.0f} MiB per process")
    print(
        f"runs={args.runs} loans={args.loans:,} chunk_loans={args.chunk_loans:,} 1 thread per process"
    )
    print(
        f"machine: {platform.machine()} {os.cpu_count()} CPUs, python {platform.python_version()}; "
        f"load {os.getloadavg()}; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
    )


if __name__ == "__main__":
    main()
