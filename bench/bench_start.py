"""Start time of the service: process start -> first 200 from /health, and -> first answered
1-loan forecast, with a warm Numba cache (a warm-up start is run first and not counted).

Each start is a fresh `python -m uvicorn app.main:app` on a free loopback port with SQLite:
a *restart* on the database of the previous start (the usual case), and a *first start* on a
new database file (migrations create the tables, the demo rows are inserted). The reference,
measured in the same run and interleaved, first imports what app.main imported at start before
issue 18 (scipy.optimize, scipy.stats, scipy.special, scipy.linalg, sentry_sdk, numba).

`--python` is the server's interpreter. Use a runtime install (requirements.txt only, as
`scripts/serve.sh` makes): the test dependencies add pandas, which pyarrow imports at the first
Python-to-Arrow conversion (~0.45 s on the first request with inline loans).

    PYTHONPATH=. .venv/bin/python bench/bench_start.py [--runs 5] [--python /path/bin/python]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._server import free_port, server_env, uvicorn_code  # noqa: E402
from tests.conftest import TEST_JWT_SECRET, sign_token  # noqa: E402

EAGER = "import scipy.optimize, scipy.stats, scipy.special, scipy.linalg, sentry_sdk, numba; "
BODY = {
    "name": "one",
    "pool": {"loans": [{"balance": 250000, "rate": 0.06, "original_term_months": 360}]},
    "assumptions": {"prepayment": {"type": "cpr", "rate": 0.06}},
    "store": False,
}


def one_start(eager: bool, db: Path, python: str) -> tuple[float, float]:
    port = free_port()
    env = server_env(db, TEST_JWT_SECRET, MIGRATE_ON_START="true")
    code = (EAGER if eager else "") + uvicorn_code(port)
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [python, "-c", code],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=url, timeout=30) as c:
            while True:
                try:
                    if c.get("/health").status_code in (200, 503):
                        break
                except httpx.TransportError:
                    time.sleep(0.01)
                if time.perf_counter() - t0 > 120:
                    raise RuntimeError("no /health within 120 s")
            health = time.perf_counter() - t0
            r = c.post(
                "/api/v1/cashflow/forecast",
                json=BODY,
                headers={"Authorization": f"Bearer {sign_token('start')}"},
            )
            assert r.status_code in (200, 201), r.text
            first = time.perf_counter() - t0
    finally:
        proc.terminate()
        proc.wait(10)
    return health, first


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--python", default=sys.executable, help="the server's interpreter")
    args = ap.parse_args()
    med = statistics.median
    print(f"server interpreter {args.python}; load at start {os.getloadavg()}")
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        one_start(False, tmp / "warm.db", args.python)  # Numba cache and OS file cache warm
        for mode in ("restart", "first start"):
            res: dict[bool, list[tuple[float, float]]] = {True: [], False: []}
            for k in range(args.runs):  # interleaved, so both see the same load
                for eager in (True, False):
                    db = tmp / ("warm.db" if mode == "restart" else f"new-{eager}-{k}.db")
                    res[eager].append(one_start(eager, db, args.python))
            rows = {e: (med(x[0] for x in r), med(x[1] for x in r)) for e, r in res.items()}
            (hb, fb), (hn, fn) = rows[True], rows[False]
            print(
                f"{mode:12s} now: /health {hn:5.2f} s, first forecast {fn:5.2f} s | "
                f"eager imports (before): {hb:5.2f} s, {fb:5.2f} s | "
                f"now/before {hn / hb:.2f}, {fn / fb:.2f} (median of {args.runs})"
            )
    print(f"load at end {os.getloadavg()}")


if __name__ == "__main__":
    main()
