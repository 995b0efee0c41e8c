"""fastmath flags of the projection kernel: are the numbers the same on other CPUs, and what
does each flag set cost?

For each flag set, the tree is exported (`git archive HEAD app`) into a temporary folder with
`_FASTMATH` in app/engine/_kernels/projection_nb.py replaced, and a fresh interpreter (its own
NUMBA_CACHE_DIR) projects a 20,000-loan pool (PSA 175, CDR 2%, severity 35%, lag 6) for each
target CPU (`NUMBA_CPU_NAME`: the host, haswell = AVX2 + FMA, generic = x86-64 without AVX or
FMA). It prints a hash of every column's bytes (equal hashes = bit-identical numbers), the
median of `--runs` projections on the host, and the plain NumPy reference engine
(app/engine/projection_reference.py) on the same pool in the same process.

    PYTHONPATH=. .venv/bin/python bench/bench_fastmath.py [--runs 7] [--cpus host,generic]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VARIANTS = {
    "reassoc,contract,nsz,arcp": '{"reassoc", "contract", "nsz", "arcp"}',
    "contract,nsz,arcp": '{"contract", "nsz", "arcp"}',
    "nsz,arcp": '{"nsz", "arcp"}',
    "none": "False",
}
RUN = r"""
import hashlib, sys, time
import numpy as np
from app.engine.pool import LoanPool
from app.engine.projection import project_pool
from app.engine.types import Assumptions, Speed, SpeedKind

rng = np.random.default_rng(11)
n = 20_000
pool = LoanPool.from_columns({
    "loan_id": [f"L{i}" for i in range(n)],
    "balance": rng.uniform(5e4, 6e5, n), "rate": rng.uniform(0.03, 0.09, n),
    "original_term_months": rng.choice([180, 240, 360], n),
    "age_months": rng.integers(0, 60, n),
})
a = Assumptions(prepayment=Speed(SpeedKind.PSA, speed=175.0),
                default=Speed(SpeedKind.CDR, rate=0.02), severity=0.35, recovery_lag_months=6)
res = project_pool(pool, a)
digest = hashlib.sha256(b"".join(
    np.ascontiguousarray(res.columns[k]).tobytes() for k in sorted(res.columns))).hexdigest()[:16]
runs = int(sys.argv[1])
def median(engine):
    ts = []
    for _ in range(runs):
        t = time.perf_counter(); project_pool(pool, a, engine=engine); ts.append(time.perf_counter() - t)
    return sorted(ts)[len(ts) // 2] * 1e3
timed = sys.argv[2] == "1"
kernel = median("numba") if timed else float("nan")
ref = median("reference") if timed else float("nan")
print(f"{digest} {kernel:.1f} {ref:.1f}")
"""


def export(flags: str, into: Path) -> None:
    archive = subprocess.run(
        ["git", "archive", "HEAD", "app"], cwd=ROOT, check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    kernel = into / "app" / "engine" / "_kernels" / "projection_nb.py"
    text = kernel.read_text()
    head, sep, tail = text.partition("\n_FASTMATH")
    line, _, rest = tail.partition("\n")
    kernel.write_text(f"{head}{sep}: set[str] | bool = {flags}\n{rest}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--cpus", default="host,haswell,generic")
    parser.add_argument("--variants", default=",".join(VARIANTS).replace(",", ";"))
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}, load {os.getloadavg()[0]:.2f}, runs {args.runs}")
    print(
        "flags | cpu | hash of the columns | kernel median ms | NumPy reference median ms | ratio"
    )
    for name in args.variants.split(";"):
        with tempfile.TemporaryDirectory() as tmp:
            export(VARIANTS[name], Path(tmp))
            for cpu in args.cpus.split(","):
                env = {**os.environ, "PYTHONPATH": tmp, "NUMBA_CACHE_DIR": f"{tmp}/cache-{cpu}"}
                if cpu != "host":
                    env["NUMBA_CPU_NAME"] = cpu
                out = subprocess.run(
                    [sys.executable, "-c", RUN, str(args.runs), "1" if cpu == "host" else "0"],
                    cwd=tmp,
                    env=env,
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout.split()
                digest, kernel, ref = out[0], float(out[1]), float(out[2])
                ratio = ref / kernel if kernel == kernel else float("nan")
                print(f"{name} | {cpu} | {digest} | {kernel:.1f} | {ref:.1f} | {ratio:.1f}x")


if __name__ == "__main__":
    main()
