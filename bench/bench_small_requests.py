"""Small requests over loopback: a 1-loan (and a 1,000-loan) forecast, stored and `"store":
false`, against a real uvicorn server, with the engine call it wraps as the reference.

The server is `uvicorn app.main:app` in its own process on a free loopback port (SQLite in a
temporary directory, HS256 auth, rate limits and access log off, one worker; the result cache
at its default, in memory). Every request prices a loan of its own (the balance moves by one
cent per request), as a front end pricing loans one by one does, so each one misses the cache
and pays for its key and its entry.
For each request the benchmark reads the server's own time from the `Server-Timing: app;dur=`
header (request reaching the app -> response headers) and the client's round trip (httpx,
keep-alive). The reference is `project_pool` on the same loans in this process, timed in the
same run. Requests of the four kinds are interleaved so that they see the same load.

    PYTHONPATH=. .venv/bin/python bench/bench_small_requests.py [--requests 300] [--python PATH]
        [--before PATH]

`--before PATH` also serves another checkout of the project (say `git worktree add /tmp/before
<commit>`) from a second server on its own port, and interleaves its requests with this
checkout's, so that a change is measured against the code before it under the same load. A
kind that checkout refuses in the warm-up (code from before `"store": false` existed answers
422) is left out for it.

Use a runtime install for `--python` when the absolute figure matters (see bench_start.py:
the test dependencies make pyarrow import pandas at the first conversion; after that it costs
nothing per request).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.engine.projection import project_pool  # noqa: E402
from app.models.forecasts import ForecastRequest  # noqa: E402
from app.services.forecasts import inline_pool_now, scenario_inputs, to_assumptions  # noqa: E402
from bench._server import free_port, server_env, uvicorn_code  # noqa: E402
from tests.conftest import TEST_JWT_SECRET, sign_token  # noqa: E402

ASSUMPTIONS = {
    "prepayment": {"type": "psa", "speed": 150},
    "default": {"type": "cdr", "rate": 0.02},
    "severity": 0.35,
    "recovery_lag_months": 6,
}


def body(n: int, store: bool) -> dict:
    """n fixed-rate loans inline (loan objects), one scenario, valued at 5%."""
    rng = np.random.default_rng(7)
    loans = [
        {
            "loan_id": f"L{i}",
            "balance": round(float(rng.uniform(50_000, 500_000)), 2),
            "rate": round(float(rng.uniform(0.03, 0.08)), 5),
            "original_term_months": int(rng.choice([180, 240, 360])),
            "age_months": int(rng.integers(0, 60)),
        }
        for i in range(n)
    ]
    out: dict[str, Any] = {
        "name": f"small-{n}",
        "pool": {"loans": loans},
        "assumptions": ASSUMPTIONS,
        "valuation": {"discount_rate": 0.05},
    }
    if not store:
        out["store"] = False
    return out


def engine_ms(b: dict, repeats: int) -> float:
    """Median of `project_pool` on the same loans and assumptions (after a warm-up call)."""
    req = ForecastRequest.model_validate(b)
    pool = inline_pool_now(req)  # the service's own pool building, outside the timing
    a = to_assumptions(scenario_inputs(req)[0][1])
    project_pool(pool, a)
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        project_pool(pool, a)
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples) * 1e3


def start_server(python: str, tmp: Path, root: Path = ROOT) -> tuple[subprocess.Popen[bytes], str]:
    """`uvicorn app.main:app` of the checkout at `root`, on a fresh SQLite file in `tmp`."""
    port = free_port()
    env = server_env(tmp / "small.db", TEST_JWT_SECRET)
    env["PYTHONPATH"] = str(root)
    proc = subprocess.Popen([python, "-c", uvicorn_code(port)], env=env, cwd=root)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health", timeout=5).status_code == 200:
                return proc, url
        except httpx.TransportError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("the server did not answer /health within 120 s")


def distinct(b: dict, i: int) -> dict:
    """`b` with every balance moved by i cents: a request the result cache has not seen."""
    loans = [
        {**loan, "balance": round(loan["balance"] + i / 100, 2)} for loan in b["pool"]["loans"]
    ]
    return {**b, "pool": {"loans": loans}}


def server_ms(resp: httpx.Response) -> float:
    name, _, dur = resp.headers["Server-Timing"].partition(";dur=")
    assert name == "app", resp.headers["Server-Timing"]
    return float(dur)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=300, help="per kind, 1-loan requests")
    ap.add_argument("--python", default=sys.executable, help="the server's interpreter")
    ap.add_argument("--before", help="another checkout to serve beside this one (a reference)")
    args = ap.parse_args()
    n_big = max(args.requests // 5, 10)
    kinds = {
        ("1 loan", "stored"): (body(1, True), args.requests),
        ("1 loan", "store false"): (body(1, False), args.requests),
        ("1,000 loans", "stored"): (body(1000, True), n_big),
        ("1,000 loans", "store false"): (body(1000, False), n_big),
    }
    servers = {"now": ROOT}
    if args.before:
        servers["before"] = Path(args.before).resolve()
    load0 = os.getloadavg()
    server: dict[tuple[tuple[str, str], str], list[float]] = {
        (k, v): [] for k in kinds for v in servers
    }
    client: dict[tuple[tuple[str, str], str], list[float]] = {
        (k, v): [] for k in kinds for v in servers
    }
    with tempfile.TemporaryDirectory() as d:
        procs, urls = {}, {}
        try:
            for version, root in servers.items():
                (Path(d) / version).mkdir()
                procs[version], urls[version] = start_server(args.python, Path(d) / version, root)
            headers = {"Authorization": f"Bearer {sign_token('small')}"}
            clients = {
                v: httpx.Client(base_url=u, headers=headers, timeout=60) for v, u in urls.items()
            }
            runs = set()  # (kind, version) pairs the server answers
            for version, c in clients.items():
                for key, (b, _) in kinds.items():  # warm-up: JIT cache, first conversions
                    for _ in range(10):
                        r = c.post("/api/v1/cashflow/forecast", json=b)
                        if r.status_code == 422 and version != "now":
                            break  # a kind the older code does not know
                        assert r.status_code in (200, 201), r.text
                    else:
                        runs.add((key, version))
            for i in range(args.requests):
                for key, (b, reps) in kinds.items():
                    if i >= reps:
                        continue
                    for version, c in clients.items():
                        if (key, version) not in runs:
                            continue
                        content = json.dumps(distinct(b, i + 1)).encode()
                        t0 = time.perf_counter()
                        r = c.post(
                            "/api/v1/cashflow/forecast",
                            content=content,
                            headers={"Content-Type": "application/json"},
                        )
                        client[(key, version)].append((time.perf_counter() - t0) * 1e3)
                        assert r.status_code in (200, 201), r.text
                        server[(key, version)].append(server_ms(r))
            for c in clients.values():
                c.close()
        finally:
            for proc in procs.values():
                proc.terminate()
                proc.wait(10)
    eng = {n: engine_ms(kinds[(n, "stored")][0], 200) for n in ("1 loan", "1,000 loans")}
    med = statistics.median
    print(f"server interpreter {args.python}")
    print(f"load average at start {load0}, at end {os.getloadavg()}")
    print(
        f"{'pool':12s} {'kind':12s} {'code':7s} {'n':>5s} {'server p50':>11s} "
        f"{'server p90':>11s} {'client p50':>11s} {'engine':>8s} {'server/engine':>14s}"
        + ("  now/before" if args.before else "")
    )
    for ((n, kind), version), s in server.items():
        if not s:
            continue
        p90 = float(np.percentile(s, 90))
        line = (
            f"{n:12s} {kind:12s} {version:7s} {len(s):5d} {med(s):9.2f}ms {p90:9.2f}ms "
            f"{med(client[((n, kind), version)]):9.2f}ms {eng[n]:6.2f}ms {med(s) / eng[n]:13.1f}x"
        )
        if args.before and version == "now" and server[((n, kind), "before")]:
            line += f"  {med(s) / med(server[((n, kind), 'before')]):10.2f}"
        print(line)


if __name__ == "__main__":
    main()
