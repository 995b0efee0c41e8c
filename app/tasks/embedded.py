"""Embedded mode (no CELERY_BROKER_URL): a process pool owned by the service runs the same job
units as the Celery workers, on the same records, with the same progress and cancellation.

Each pool process has its own database engine and event loop and runs `start_job` / `run_chunk`
exactly as a Celery task would; the service fans chunks out to the pool the way `start` fans
them out to the broker. Progress goes to Redis when configured, otherwise through a
multiprocessing queue that a thread of the service drains into its in-process hub.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing as mp
import os
import queue as queue_mod
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import UTC
from typing import Any

from app.core.config import Settings

log = logging.getLogger("app.jobs")

# --- inside a pool process -----------------------------------------------------------------
_child: dict[str, Any] = {}


def _child_init(settings_json: str, msg_queue: Any, redis_url: str | None) -> None:
    from app.core.db import Database
    from app.services.jobs import metrics
    from app.tasks.progress import QueuePublisher, RedisHub
    from app.tasks.runner import JobContext

    metrics.ENABLED = False  # the service records each job's outcome (see _record)
    settings = Settings.model_validate_json(settings_json)
    publisher = (
        RedisHub(redis_url, settings.jobs_channel_prefix)
        if redis_url
        else QueuePublisher(msg_queue)
    )
    _child["runner"] = asyncio.Runner()
    _child["ctx"] = JobContext(settings=settings, db=Database(settings), publisher=publisher)


def _child_call(unit: str, *args: Any) -> Any:
    from app.tasks import runner

    fn: Any = {"start": runner.start_job, "chunk": runner.run_chunk, "fail": _fail}[unit]
    return _child["runner"].run(fn(_child["ctx"], *args))


async def _fail(ctx: Any, job_id: str, type_name: str, message: str) -> None:
    from app.tasks.runner import fail_job

    exc = type(type_name, (Exception,), {})(message)
    await fail_job(ctx, job_id, exc)


def _child_pid() -> int:
    return os.getpid()


# --- in the service ------------------------------------------------------------------------
class EmbeddedDispatcher:
    """Runs jobs on a process pool of `jobs_embedded_workers` processes."""

    def __init__(
        self, settings: Settings, hub: Any, redis_url: str | None, database: Any = None
    ) -> None:
        self.settings = settings
        self.database = database
        self.hub = hub
        self.redis_url = redis_url
        self._mp = mp.get_context("spawn")  # never fork a process that runs an event loop
        # created on the first job: an app that never runs one starts no process, no queue
        self._queue: Any = None
        self._pool: ProcessPoolExecutor | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._recorded: set[str] = set()
        self._closing = False
        self._stop = threading.Event()
        self._drain: threading.Thread | None = None

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=self.settings.jobs_embedded_workers,
            mp_context=self._mp,
            initializer=_child_init,
            initargs=(self.settings.model_dump_json(), self._queue, self.redis_url),
        )

    async def start(self) -> None:
        if hasattr(self.hub, "bind"):
            self.hub.bind(asyncio.get_running_loop())

    def _ensure_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._queue = self._mp.Queue()
            self._pool = self._new_pool()
            self._drain = threading.Thread(
                target=self._drain_messages, daemon=True, name="jobs-progress"
            )
            self._drain.start()
        return self._pool

    def _drain_messages(self) -> None:
        while not self._stop.is_set():
            try:
                owner_id, update = self._queue.get(timeout=0.2)
            except queue_mod.Empty:
                continue
            except (EOFError, OSError, ValueError):
                return
            publish = getattr(self.hub, "publish_threadsafe", None)
            if publish is not None:
                publish(owner_id, update)

    async def enqueue(self, job_id: str, takeover: bool = False) -> bool:
        """Drive the job on the pool; `takeover`: its chunks' previous holders are dead (the
        previous run of this service), so chunks they had started are computed again."""
        task = asyncio.get_running_loop().create_task(self._drive(job_id, takeover))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return True

    async def _call(self, job_id: str, unit: str, *args: Any) -> Any:
        """Run a unit in the pool; transient errors retried with backoff, as Celery does."""
        from app.tasks.runner import is_transient

        loop = asyncio.get_running_loop()
        for attempt in range(6):
            pool = self._ensure_pool()
            try:
                return await loop.run_in_executor(pool, _child_call, unit, *args)
            except BrokenProcessPool:
                # a pool process died (killed, out of memory): replace the pool and let the
                # unit take its chunk over, as a broker redelivers a dead worker's task
                if self._closing or attempt == 5:
                    raise
                if self._pool is pool:
                    self._pool = self._new_pool()
                if unit == "chunk":
                    args = (*args[:2], True)
            except Exception as exc:
                if not is_transient(exc) or attempt == 5:
                    raise
                await asyncio.sleep(min(30.0, 0.5 * 2**attempt))
        return None

    async def _record(self, job_id: str, phase: str) -> None:
        """Job metrics in the service's registry (the pool processes' are never scraped)."""
        if self.database is None:
            return
        from app.services.jobs import metrics
        from app.services.repositories.jobs import JobRepository
        from app.tasks.runner import _seconds_since

        async with self.database.session() as session:
            job = await JobRepository(session).get(job_id)
        if job is None:
            return
        if phase == "started" and job.attempts == 1:
            metrics.job_state("running")
        elif phase == "ended" and job.state in ("succeeded", "failed"):
            if job_id in self._recorded:
                return
            self._recorded.add(job_id)
            started, finished = job.started_at, job.finished_at
            seconds = None
            if started is not None and finished is not None:
                seconds = _seconds_since(
                    started, finished.replace(tzinfo=UTC) if finished.tzinfo is None else finished
                )
            error = (job.error or {}).get("type")
            from app.services.jobs.kinds import get_kind

            paths = job.progress_total if get_kind(job.kind).unit == "paths" else 0
            metrics.job_finished(job.kind, job.state, seconds, error, paths=paths)

    async def _drive(self, job_id: str, takeover: bool = False) -> None:
        try:
            missing = await self._call(job_id, "start", job_id)
            with contextlib.suppress(Exception):
                await self._record(job_id, "started")
            if missing:
                await asyncio.gather(
                    *(self._call(job_id, "chunk", job_id, k, takeover) for k in missing)
                )
            with contextlib.suppress(Exception):
                await self._record(job_id, "ended")
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - a broken pool process, or retries exhausted
            log.warning("embedded job unit failed: %s", exc, extra={"job_id": job_id})
            with contextlib.suppress(Exception):
                await asyncio.get_running_loop().run_in_executor(
                    self._ensure_pool(),
                    _child_call,
                    "fail",
                    job_id,
                    type(exc).__name__,
                    str(exc),
                )

    async def close(self) -> None:
        """Stop at once: interrupted jobs stay active in the database and are picked up again
        by the next start (their chunks already stored are not recomputed)."""
        self._closing = True
        for task in list(self._tasks):
            task.cancel()
        self._stop.set()
        if self._pool is None:
            return
        processes = list(getattr(self._pool, "_processes", {}).values())
        self._pool.shutdown(wait=False, cancel_futures=True)
        for proc in processes:
            with contextlib.suppress(Exception):
                proc.terminate()
        for proc in processes:
            with contextlib.suppress(Exception):
                await asyncio.to_thread(proc.join, 5)
        if self._drain is not None:
            await asyncio.to_thread(self._drain.join, 2)
        with contextlib.suppress(Exception):
            self._queue.close()
            self._queue.cancel_join_thread()

    def pids(self) -> list[int]:
        return [p.pid for p in getattr(self._pool, "_processes", {}).values() if p.pid]
