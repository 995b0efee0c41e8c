"""N concurrent clients against a real server on loopback: a mix of writes and reads, 0 errors
expected; prints per-kind counts, p50/p95/max latencies and every non-2xx status.

Starts `uvicorn app.main:app` in a subprocess on a free loopback port with HS256 auth, rate
limits off (the point is the database, not the limiter) and either the embedded SQLite default
(a fresh DATA_DIR) or the PostgreSQL at --postgres (a fresh schema, dropped afterwards). Each
client loops for --seconds: POST a 3-loan forecast (write), upload a small CSV tape (write),
list pools (read), read a forecast back (read), each client as its own user.

Usage: PYTHONPATH=. .venv/bin/python bench/load_clients.py [--clients 50] [--seconds 60]
           [--postgres postgresql+asyncpg://postgres@127.0.0.1:5432/test_h12]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path

import httpx
import jwt

ROOT = Path(__file__).resolve().parents[1]
SECRET = "load-test-secret-0123456789abcdef-0123456789abcdef-0123456789"

FORECAST_BODY = {
    "name": "load",
    "pool": {
        "loans": [
            {"loan_id": "A1", "balance": 300000, "rate": 0.065, "original_term_months": 360},
            {
                "loan_id": "A2",
                "balance": 150000,
                "rate": 0.055,
                "original_term_months": 180,
                "age_months": 24,
            },
            {"loan_id": "A3", "balance": 80000, "rate": 0.07, "original_term_months": 120},
        ]
    },
    "assumptions": {
        "prepayment": {"type": "psa", "speed": 150},
        "default": {"type": "cdr", "rate": 0.02},
        "severity": 0.35,
    },
}
TAPE = b"balance,rate,original_term_months\n" + b"".join(
    f"{1000 + i},0.05,{120 + 12 * (i % 20)}\n".encode() for i in range(200)
)


def _token(sub: str) -> str:
    now = int(time.time())
    return jwt.encode(
        {
            "sub": sub,
            "aud": "authenticated",
            "iat": now,
            "exp": now + 7200,
            "role": "authenticated",
        },
        SECRET,
        algorithm="HS256",
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(env_extra: dict[str, str], port: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "ENV": "development",
        "HOST": "127.0.0.1",
        "SUPABASE_JWT_SECRET": SECRET,
        "RATE_LIMIT_ENABLED": "false",
        "CACHE_ENABLED": "false",
        "LOG_LEVEL": "WARNING",
        "REDIS_URL": "",
        "CELERY_BROKER_URL": "",
        **env_extra,
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "app.main:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        cwd=str(ROOT),
        env=env,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code < 600:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("server did not start")


async def client_loop(
    base: str, seconds: float, results: dict, errors: Counter, index: int
) -> None:
    user = f"load-{index}-{uuid.uuid4().hex[:6]}"
    headers = {"Authorization": f"Bearer {_token(user)}"}
    forecast_ids: list[str] = []
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as http:
        end = time.monotonic() + seconds
        step = index
        while time.monotonic() < end:
            kind = ("forecast", "upload", "list", "read")[step % 4]
            step += 1
            start = time.perf_counter()
            try:
                if kind == "forecast":
                    r = await http.post("/api/v1/cashflow/forecast", json=FORECAST_BODY)
                    if r.status_code == 201 or r.status_code == 200:
                        forecast_ids.append(r.json()["forecast_id"])
                elif kind == "upload":
                    r = await http.post(
                        "/api/v1/pools", files={"file": ("t.csv", TAPE, "text/csv")}
                    )
                elif kind == "list":
                    r = await http.get("/api/v1/pools/", params={"limit": 5})
                else:
                    if not forecast_ids:
                        continue
                    r = await http.get(f"/api/v1/forecasts/{forecast_ids[-1]}")
                status = r.status_code
            except httpx.HTTPError as exc:
                status = type(exc).__name__
            elapsed = time.perf_counter() - start
            if isinstance(status, int) and status < 400:
                results[kind].append(elapsed)
            else:
                errors[f"{kind}:{status}"] += 1


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def run_load(base: str, clients: int, seconds: float) -> dict:
    results: dict[str, list[float]] = defaultdict(list)
    errors: Counter = Counter()
    t0 = time.perf_counter()
    await asyncio.gather(*(client_loop(base, seconds, results, errors, i) for i in range(clients)))
    wall = time.perf_counter() - t0
    every = [x for v in results.values() for x in v]
    writes = results["forecast"] + results["upload"]
    summary = {
        "clients": clients,
        "seconds": round(wall, 1),
        "requests": len(every),
        "errors": dict(errors),
        "error_count": sum(errors.values()),
        "throughput_rps": round(len(every) / wall, 1),
        "p50_ms": round(1000 * pct(every, 0.5), 1),
        "p95_ms": round(1000 * pct(every, 0.95), 1),
        "writes_p50_ms": round(1000 * pct(writes, 0.5), 1),
        "writes_p95_ms": round(1000 * pct(writes, 0.95), 1),
        "per_kind": {
            k: {
                "n": len(v),
                "p50_ms": round(1000 * statistics.median(v), 1),
                "p95_ms": round(1000 * pct(v, 0.95), 1),
                "max_ms": round(1000 * max(v), 1),
            }
            for k, v in results.items()
            if v
        },
    }
    return summary


def run(clients: int, seconds: float, postgres: str | None = None) -> dict:
    """Serve, load, stop; returns the summary (a fresh SQLite DATA_DIR or PostgreSQL schema)."""
    port = _free_port()
    with tempfile.TemporaryDirectory() as tmp:
        env = {"DATA_DIR": tmp, "DATABASE_URL": ""}
        schema = None
        plain = (postgres or "").replace("postgresql+asyncpg://", "postgresql://")

        async def ddl(sql: str) -> None:
            import asyncpg

            conn = await asyncpg.connect(plain)
            await conn.execute(sql)
            await conn.close()

        if postgres:
            schema = f"load_{uuid.uuid4().hex[:8]}"
            asyncio.run(ddl(f'CREATE SCHEMA "{schema}"'))
            env = {
                "DATABASE_URL": postgres,
                "DATABASE_SCHEMA": schema,
                "MIGRATE_ON_START": "true",
                "DATABASE_POOL_SIZE": "20",
            }
        proc = start_server(env, port)
        try:
            summary = asyncio.run(run_load(f"http://127.0.0.1:{port}", clients, seconds))
        finally:
            proc.terminate()
            proc.wait(30)
            if schema:
                asyncio.run(ddl(f'DROP SCHEMA "{schema}" CASCADE'))
    summary["database"] = "postgresql" if postgres else "embedded sqlite"
    summary["load_average"] = [round(x, 2) for x in os.getloadavg()]
    return summary


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--postgres", default=None, help="PostgreSQL URL; default: embedded SQLite")
    args = ap.parse_args()
    print(json.dumps(run(args.clients, args.seconds, args.postgres), indent=2))


if __name__ == "__main__":
    main()
