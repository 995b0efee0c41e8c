"""Real parts for the job tests: a uvicorn server on a free loopback port (in a thread of the
test process), Celery worker subprocesses, a private redis-server, a WebSocket client, and the
Monte Carlo payloads with their single-process reference results.

Every process started here is terminated by a finalizer. Celery tests use Redis DB 11 with a
queue name and channel prefix unique to the test, so they never see another test's messages;
the shared Redis on 6379 is never stopped (the outage test stops its own redis-server).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.core.config import Settings
from tests.conftest import TEST_JWT_SECRET, make_settings, sign_token

ROOT = Path(__file__).resolve().parents[2]
REDIS_JOBS_DB = 11


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), 0.5):
            return True
    except OSError:
        return False


def wait_until(pred: Callable[[], Any], timeout: float, what: str, every: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = pred()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def headers(sub: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {sign_token(sub)}"}


# --- Monte Carlo payloads --------------------------------------------------------------------
def mc_payload(n_paths: int, *, lines: int = 10, n_chunks: int = 4, **extra: Any) -> dict[str, Any]:
    """An engine-level Monte Carlo job: `lines` seasoned 30-year rep-lines, flat 4% curve,
    Hull-White a = 0.03, sigma = 1%, blocks of 500 paths, seed 7."""
    payload = {
        "format": "engine",
        "pool": {
            "balance": [100_000.0 + 1_000.0 * i for i in range(lines)],
            "note_rate": [0.05 + 0.002 * i for i in range(lines)],
            "remaining_term": [360 - 6 * i for i in range(lines)],
            "age": [6 * i for i in range(lines)],
        },
        "curve": {"flat": 0.04},
        "rate_model": {"mean_reversion": 0.03, "volatility": 0.01},
        "n_paths": n_paths,
        "seed": 7,
        "block_size": 500,
        "n_chunks": n_chunks,
    }
    payload.update(extra)
    return payload


def reference_result(payload: dict[str, Any]) -> dict[str, Any]:
    """The same run on one process, one chunk, through the engine directly, as JSON text
    round-tripped (what the API returns)."""
    from app.engine.montecarlo import run_monte_carlo
    from app.services.montecarlo import engine_request
    from app.services.montecarlo import result_json as engine_result_json

    req = engine_request(payload)
    return json.loads(json.dumps(engine_result_json(req, run_monte_carlo(req, n_chunks=1))))


# --- uvicorn in a thread ---------------------------------------------------------------------
class LiveServer:
    """The app served by uvicorn on 127.0.0.1:<free port>, in a background thread."""

    def __init__(self, settings: Settings) -> None:
        import uvicorn

        from app.main import create_app

        self.app = create_app(settings)
        self.port = free_port()
        config = uvicorn.Config(
            self.app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="on",
            ws="websockets-sansio",
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True, name="uvicorn")

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/updates"

    def start(self) -> LiveServer:
        self.thread.start()
        wait_until(lambda: self.server.started, 60, "uvicorn to start")
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(30)

    def client(self, sub: str) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, headers=headers(sub), timeout=30)

    def wait_job(self, sub: str, job_id: str, states: set[str], timeout: float = 60) -> dict:
        with self.client(sub) as c:

            def check() -> dict | None:
                body = c.get(f"/api/v1/jobs/{job_id}").json()
                return body if body["state"] in states else None

            return wait_until(check, timeout, f"job {job_id} to reach {states}", every=0.1)


@pytest.fixture
def live_server() -> Iterator[Callable[[Settings], LiveServer]]:
    servers: list[LiveServer] = []

    def start(settings: Settings) -> LiveServer:
        server = LiveServer(settings).start()
        servers.append(server)
        return server

    yield start
    for s in servers:
        s.stop()


# --- WebSocket client ------------------------------------------------------------------------
def ws_collect(
    url: str,
    *,
    token: str,
    job_id: str,
    until: set[str],
    timeout: float = 60,
    in_query: bool = True,
    on_message: Callable[[dict], None] | None = None,
) -> list[dict]:
    """Connect (token in the query or as the first message), subscribe to `job_id`, and return
    every message up to the first whose state is in `until`."""
    from websockets.sync.client import connect

    target = f"{url}?token={token}" if in_query else url
    out: list[dict] = []
    with connect(target, open_timeout=10, close_timeout=2) as ws:
        if not in_query:
            ws.send(json.dumps({"type": "auth", "token": token}))
        ready = json.loads(ws.recv(timeout=10))
        assert ready["type"] == "ready", ready
        ws.send(json.dumps({"type": "subscribe", "job_id": job_id}))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            msg = json.loads(ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            out.append(msg)
            if on_message is not None:
                on_message(msg)
            if msg.get("type") == "error" or msg.get("state") in until:
                return out
    raise AssertionError(f"no final message for {job_id}: {out[-3:]}")


# --- Celery workers --------------------------------------------------------------------------
class Worker:
    """`celery worker --pool=solo` subprocess with its own log file."""

    def __init__(self, env: dict[str, str], log_path: Path, name: str) -> None:
        self.log_path = log_path
        self.name = name
        self._log = open(log_path, "wb")  # noqa: SIM115 - closed in stop()
        cmd = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "app.tasks.celery_app",
            "worker",
            "-Q",
            env["CELERY_QUEUE"],
            "--pool=solo",
            "--concurrency=1",
            "-n",
            f"{name}-{uuid.uuid4().hex[:8]}@%h",  # unique: its control queue is exclusive
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel=INFO",
        ]
        self.proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, timeout: float = 60) -> Worker:
        def ready() -> bool:
            if self.proc.poll() is not None:
                raise AssertionError(f"worker {self.name} exited:\n{self.text()[-3000:]}")
            return "ready." in self.text()

        wait_until(ready, timeout, f"worker {self.name} to be ready", every=0.2)
        return self

    def kill(self) -> None:
        """SIGKILL, no chance to acknowledge or clean up."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        """Cold shutdown (SIGQUIT), then SIGKILL if it lingers."""
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGQUIT)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.kill()
        self._log.close()


def worker_env(settings: Settings) -> dict[str, str]:
    """Environment that makes a worker's get_settings() equal the test app's job settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CELERY_", "JOBS_"))}
    values = {
        "ENV": "test",
        "DATABASE_URL": settings.database_url,
        "DATABASE_SCHEMA": settings.database_schema,
        "SUPABASE_JWT_SECRET": TEST_JWT_SECRET,
        "REDIS_URL": settings.redis_url,
        "CELERY_BROKER_URL": settings.celery_broker_url,
        "CELERY_QUEUE": settings.celery_queue,
        "JOBS_CHANNEL_PREFIX": settings.jobs_channel_prefix,
        "JOBS_PROGRESS_INTERVAL_SECONDS": str(settings.jobs_progress_interval_seconds),
        "JOBS_REQUEUE_AFTER_SECONDS": str(settings.jobs_requeue_after_seconds),
        "JOBS_VISIBILITY_TIMEOUT_SECONDS": str(settings.jobs_visibility_timeout_seconds),
        "JOBS_MAX_ATTEMPTS": str(settings.jobs_max_attempts),
        "LOG_FORMAT": "json",
        "PYTHONPATH": str(ROOT),
    }
    env.update({k: v for k, v in values.items() if v is not None})
    for key in ("REDIS_URL", "DATABASE_SCHEMA"):
        if values[key] is None:
            env[key] = ""
    return env


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Callable[..., Worker]]:
    started: list[Worker] = []

    brokers: dict[str, str] = {}

    def start(settings: Settings, name: str | None = None, wait: bool = True) -> Worker:
        name = name or f"w{len(started) + 1}"
        w = Worker(worker_env(settings), tmp_path / f"{name}.log", name)
        started.append(w)
        brokers[settings.celery_queue] = settings.celery_broker_url or ""
        return w.wait_ready() if wait else w

    yield start
    for w in started:
        w.stop()
    for queue, broker in brokers.items():
        _drop_redis_queue(broker, queue)


def _drop_redis_queue(broker: str, queue: str) -> None:
    """Remove what Celery left in a Redis broker for this test's queue (bindings, messages)."""
    if not broker.startswith("redis://"):
        return
    import redis

    with contextlib.suppress(Exception):
        client = redis.Redis.from_url(broker, socket_connect_timeout=1, socket_timeout=2)
        keys = list(client.scan_iter(match=f"*{queue}*", count=500))
        if keys:
            client.delete(*keys)
        client.close()


def celery_settings(tmp_path: Path, broker: str, **overrides: Any) -> Settings:
    """Test settings for Celery mode: a unique queue and channel prefix, short recovery times."""
    tag = uuid.uuid4().hex[:10]
    values: dict[str, Any] = {
        "celery_broker_url": broker,
        "celery_queue": f"cfe-test-{tag}",
        "jobs_channel_prefix": f"cfe-test:{tag}",
        "jobs_progress_interval_seconds": 0.2,
        "jobs_requeue_after_seconds": 3.0,
        "jobs_sweep_interval_seconds": 1.0,
        "jobs_visibility_timeout_seconds": 3,
        "rate_limit_enabled": False,
    }
    values.update(overrides)
    return make_settings(tmp_path, **values)


@pytest.fixture
def jobs_redis_url(redis_url: str) -> str:
    """The shared Redis, database 11 (the job tests' own)."""
    base = redis_url.rsplit("/", 1)[0] if redis_url.count("/") >= 3 else redis_url
    return f"{base}/{REDIS_JOBS_DB}"


# --- a private redis-server ------------------------------------------------------------------
class PrivateRedis:
    """`redis-server` on a free port, no persistence: stopping it loses everything in it."""

    def __init__(self) -> None:
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> PrivateRedis:
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(lambda: port_open(self.port), 10, "redis-server to listen")
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        wait_until(lambda: not port_open(self.port), 10, "redis-server to stop")


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    import shutil

    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    r = PrivateRedis().start()
    yield r
    r.stop()


# --- PostgreSQL schema per test --------------------------------------------------------------
@pytest.fixture
def pg_schema(pg_url: str) -> Iterator[str]:
    """A fresh PostgreSQL schema, dropped with everything in it afterwards."""
    import asyncpg

    name = f"jobs_{uuid.uuid4().hex[:12]}"
    dsn = pg_url.replace("postgresql+asyncpg://", "postgresql://")

    async def run(sql: str) -> None:
        conn = await asyncpg.connect(dsn, timeout=5)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run(f'CREATE SCHEMA "{name}"'))
    yield name
    asyncio.run(run(f'DROP SCHEMA "{name}" CASCADE'))
