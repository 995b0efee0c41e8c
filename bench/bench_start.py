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
        [--before PATH]

`--before PATH` takes another checkout (say `git worktree add /tmp/before <commit>`, its Numba
cache warmed with `PYTHONPATH=/tmp/before python -m app warm-up`) as the reference instead,
started as it is, each version on its own database files; the first forecast is then a stored
one (`"store": false` is newer than some references).
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


def one_start(
    eager: bool, db: Path, python: str, root: Path = ROOT, body: dict | None = None
) -> tuple[float, float]:
    """Start the checkout at `root` (after the eager imports when `eager`) on `db`; seconds
    to the first /health answer and to the first answered forecast of `body`."""
    port = free_port()
    env = server_env(db, TEST_JWT_SECRET, MIGRATE_ON_START="true")
    env["PYTHONPATH"] = str(root)
    code = (EAGER if eager else "") + uvicorn_code(port)
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [python, "-c", code],
        env=env,
        cwd=root,
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
                json=BODY if body is None else body,
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
    ap.add_argument("--before", help="another checkout as the reference (see the docstring)")
    args = ap.parse_args()
    med = statistics.median
    before_root = Path(args.before).resolve() if args.before else None
    body = {k: v for k, v in BODY.items() if k != "store"} if before_root else BODY
    # version -> (eager imports, checkout)
    versions = {"before": (True, ROOT), "now": (False, ROOT)}
    label = "eager imports (before)"
    if before_root is not None:
        versions["before"] = (False, before_root)
        label = f"{before_root} (before)"
    print(f"server interpreter {args.python}; load at start {os.getloadavg()}")
    print(f"first forecast: {'stored' if 'store' not in body else 'store false'}")
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        for v, (eager, root) in versions.items():  # Numba cache and OS file cache warm
            one_start(eager, tmp / f"warm-{v}.db", args.python, root, body)
        for mode in ("restart", "first start"):
            res: dict[str, list[tuple[float, float]]] = {v: [] for v in versions}
            for k in range(args.runs):  # interleaved, so both see the same load
                for v, (eager, root) in versions.items():
                    db = tmp / (f"warm-{v}.db" if mode == "restart" else f"new-{v}-{k}.db")
                    res[v].append(one_start(eager, db, args.python, root, body))
            rows = {v: (med(x[0] for x in r), med(x[1] for x in r)) for v, r in res.items()}
            (hb, fb), (hn, fn) = rows["before"], rows["now"]
            print(
                f"{mode:12s} now: /health {hn:5.2f} s, first forecast {fn:5.2f} s | "
                f"{label}: {hb:5.2f} s, {fb:5.2f} s | "
                f"now/before {hn / hb:.2f}, {fn / fb:.2f} (median of {args.runs})"
            )
    print(f"load at end {os.getloadavg()}")


if __name__ == "__main__":
    main()
