"""Chaos on real services (issue 12, standing suite), each on a private instance so that the
shared loopback services stay up for everyone else:

- Redis SIGKILLed and restarted under load: every request still succeeds (cache and rate
  limits degrade to in-process, then come back).
- PostgreSQL restarted (immediate stop) in the middle of writes: each request either commits
  whole (201) or gets a clear 503 with Retry-After; nothing half-written remains; the service
  recovers without a restart of its own.
- The server SIGKILLed mid-job in embedded mode (with its pool processes): the next start
  finishes the job, once, with the numbers of a clean run.
(A Celery worker SIGKILLed mid-chunk is tests/tasks/test_celery_jobs.py.)
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from app.core.db import Database
from app.main import create_app
from app.models.demo import DEMO_OWNER
from tests.conftest import TEST_JWT_SECRET, make_settings, running_client, sign_token
from tests.hardening._server import free_port
from tests.hardening._services import PrivatePostgres, PrivateRedis
from tests.tasks.conftest import mc_payload, reference_result

ROOT = Path(__file__).resolve().parents[2]
FORECAST = {
    "name": "chaos",
    "pool": {
        "loans": [
            {"loan_id": "A1", "balance": 300000, "rate": 0.065, "original_term_months": 360},
            {"loan_id": "A2", "balance": 150000, "rate": 0.055, "original_term_months": 180},
        ]
    },
    "assumptions": {
        "prepayment": {"type": "psa", "speed": 150},
        "default": {"type": "cdr", "rate": 0.02},
        "severity": 0.35,
    },
    "scenarios": [
        {"name": "base", "assumptions": {}},
        {"name": "fast", "assumptions": {"prepayment": {"type": "cpr", "rate": 0.2}}},
    ],
}


def H(sub: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {sign_token(sub)}"}


async def _hammer(client: httpx.AsyncClient, seconds: float, workers: int, body_of) -> list:
    out: list = []

    async def worker(i: int) -> None:
        end = time.monotonic() + seconds
        k = 0
        while time.monotonic() < end:
            k += 1
            try:
                r = await client.post(
                    "/api/v1/cashflow/forecast", json=body_of(i, k), headers=H(f"chaos-{i}")
                )
                out.append((r.status_code, r.json()))
            except Exception as exc:  # noqa: BLE001 - recorded as a failure of the request
                out.append((type(exc).__name__, None))

    await asyncio.gather(*(worker(i) for i in range(workers)))
    return out


async def test_redis_killed_and_restarted_under_load(tmp_path) -> None:
    redis = PrivateRedis(tmp_path)
    redis.start()
    settings = make_settings(
        tmp_path,
        redis_url=redis.url,
        rate_limit_run="100000/minute",
        cache_breaker_reset_seconds=0.5,
    )
    app = create_app(settings)
    try:
        async with running_client(app) as client:

            async def chaos() -> None:
                await asyncio.sleep(1.0)
                redis.kill()
                await asyncio.sleep(2.0)
                redis.start()

            # half the requests repeat one body (cache hits), half are new (misses + writes)
            def body(i: int, k: int) -> dict:
                return {**FORECAST, "name": "same" if k % 2 else f"n{i}-{k}"}

            results, _ = await asyncio.gather(_hammer(client, 5.0, 8, body), chaos())
    finally:
        redis.kill()
    statuses = [s for s, _ in results]
    assert len(statuses) > 20
    assert all(s == 201 for s in statuses), sorted({str(s) for s in statuses})


async def test_postgres_restarted_mid_write_gives_503_and_no_half_writes(tmp_path) -> None:
    pg = PrivatePostgres()
    pg.start()
    settings = make_settings(
        tmp_path,
        database_url=pg.url,
        migrate_on_start=True,
        rate_limit_enabled=False,
        cache_enabled=False,
    )
    app = create_app(settings)
    try:
        async with running_client(app) as client:

            async def chaos() -> None:
                await asyncio.sleep(1.5)
                await asyncio.to_thread(pg.restart_immediately)

            results, _ = await asyncio.gather(
                _hammer(client, 5.0, 6, lambda i, k: {**FORECAST, "name": f"w{i}-{k}"}), chaos()
            )
            after = await client.post("/api/v1/cashflow/forecast", json=FORECAST, headers=H("x"))
            assert after.status_code == 201, after.text  # recovered without a restart
        statuses = [s for s, _ in results]
        print("postgres restart:", {str(s): statuses.count(s) for s in set(statuses)})
        assert set(statuses) <= {201, 503}, sorted({str(s) for s in statuses})
        for status, body in results:
            if status == 503:
                assert body["error"] == "unavailable"
        created = {b["forecast_id"] for s, b in results if s == 201} | {after.json()["forecast_id"]}
        db = Database(settings)
        try:
            async with db.engine.connect() as conn:
                runs = {
                    r[0]: r[1]
                    for r in await conn.execute(text("SELECT id, n_scenarios FROM forecast_runs"))
                }
                per_run: dict[str, int] = dict(
                    (
                        await conn.execute(
                            text(
                                "SELECT forecast_id, count(*) FROM forecast_scenarios GROUP BY forecast_id"
                            )
                        )
                    ).all()
                )
                orphans = (
                    await conn.execute(
                        text(
                            # the built-in demo pool (seeded at start-up) has no run by design
                            "SELECT count(*) FROM pools p WHERE p.owner_id <> :demo AND NOT EXISTS "
                            "(SELECT 1 FROM forecast_runs r WHERE r.pool_id = p.id)"
                        ),
                        {"demo": DEMO_OWNER},
                    )
                ).scalar_one()
        finally:
            await db.dispose()
        assert set(runs) == created  # every 201 is stored, nothing else is
        assert all(per_run.get(fid) == n for fid, n in runs.items())  # each run whole
        assert orphans == 0  # no inline pool left without its run
    finally:
        pg.stop()


def _serve(data_dir: Path, port: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DATA_DIR": str(data_dir),
        "DATABASE_URL": "",
        "SUPABASE_JWT_SECRET": TEST_JWT_SECRET,
        "RATE_LIMIT_ENABLED": "false",
        "REDIS_URL": "",
        "CELERY_BROKER_URL": "",
        "JOBS_EMBEDDED_WORKERS": "1",
        "ENGINE_WARMUP": "false",
        "LOG_LEVEL": "WARNING",
        "ENV": "test",
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
            "--log-level",
            "warning",
        ],
        cwd=str(ROOT),
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)
            return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGKILL)
    raise RuntimeError("server did not start")


def test_server_sigkill_mid_job_in_embedded_mode() -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="chaos-embedded-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    payload = mc_payload(12_000, n_chunks=3)
    headers = H("chaos-embedded")
    proc = _serve(data_dir, port)
    try:
        with httpx.Client(base_url=base, headers=headers, timeout=30) as c:
            r = c.post("/api/v1/jobs/", json={"kind": "monte_carlo", "payload": payload})
            assert r.status_code == 202, r.text
            job_id = r.json()["job_id"]
            deadline = time.monotonic() + 120
            while c.get(f"/api/v1/jobs/{job_id}").json()["progress"]["done"] == 0:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGKILL)  # the server and its pool processes, mid-job
        proc.wait(10)
        proc = _serve(data_dir, port)
        with httpx.Client(base_url=base, headers=headers, timeout=30) as c:
            deadline = time.monotonic() + 180
            job = c.get(f"/api/v1/jobs/{job_id}").json()
            while job["state"] not in ("succeeded", "failed"):
                assert time.monotonic() < deadline, job
                time.sleep(0.2)
                job = c.get(f"/api/v1/jobs/{job_id}").json()
            assert job["state"] == "succeeded", job
            assert c.get(f"/api/v1/jobs/{job_id}/result").json() == reference_result(payload)
            listed = c.get("/api/v1/jobs/").json()
            assert [j["job_id"] for j in listed["items"]] == [job_id]  # not duplicated
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")
