"""Celery tasks: thin wrappers that run the job units of app/tasks/runner.py.

Tasks take ids only and open their own database session (one engine and one event loop per
worker process, created after the fork). Transient errors (lost connections, timeouts, a locked
database) are retried with exponential backoff and jitter; anything else fails the job at once
with its error recorded. `start` fans the chunks out as a Celery group; each chunk task merges
the run when it stores the last chunk, so no result backend (and no chord) is needed and a
chunk redelivered after its worker died is computed once more at most, never merged twice.
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any

from celery import group

from app.core.config import get_settings
from app.core.db import Database
from app.tasks import runner
from app.tasks.celery_app import celery_app
from app.tasks.dispatch import pubsub_url
from app.tasks.progress import NullPublisher, Publisher, RedisHub
from app.tasks.runner import JobContext, fail_job, is_transient, mark_enqueued, stale_jobs

log = logging.getLogger("app.jobs")

_state: dict[str, Any] = {}


def _context() -> tuple[asyncio.Runner, JobContext]:
    """This process's event loop and job context (rebuilt after a fork)."""
    if _state.get("pid") != os.getpid():
        settings = get_settings()
        loop_runner = asyncio.Runner()
        url = pubsub_url(settings)
        publisher: Publisher = (
            RedisHub(url, settings.jobs_channel_prefix) if url else NullPublisher()
        )
        _state.update(
            pid=os.getpid(),
            runner=loop_runner,
            ctx=JobContext(settings=settings, db=Database(settings), publisher=publisher),
        )
    return _state["runner"], _state["ctx"]


def _run(coro_fn: Any, *args: Any) -> Any:
    loop_runner, ctx = _context()
    return loop_runner.run(coro_fn(ctx, *args))


_RETRY = {
    "bind": True,
    "acks_late": True,
    "reject_on_worker_lost": True,
    "max_retries": 6,
}


def _retry_or_fail(task: Any, job_id: str, exc: Exception) -> None:
    """Retry a transient error with backoff; after the last retry, fail the job."""
    if is_transient(exc) and task.request.retries < task.max_retries:
        countdown = min(60.0, 0.5 * 2**task.request.retries)
        log.warning(
            "transient error, retrying in %.1fs: %s", countdown, exc, extra={"job_id": job_id}
        )
        raise task.retry(exc=exc, countdown=countdown)
    _run(fail_job, job_id, exc)


@celery_app.task(name="cfe.jobs.start", **_RETRY)
def start(self: Any, job_id: str) -> None:
    """Claim the job; fan its chunks out to any worker (a group of chunk tasks)."""
    try:
        missing = _run(runner.start_job, job_id)
    except Exception as exc:
        _retry_or_fail(self, job_id, exc)
        return
    if missing:
        group(chunk.s(job_id, k) for k in missing).apply_async(queue=get_settings().celery_queue)


@celery_app.task(name="cfe.jobs.chunk", **_RETRY)
def chunk(self: Any, job_id: str, chunk_index: int) -> None:
    """Compute one chunk (skipped if already stored) and merge if it was the last."""
    try:
        redelivered = bool((self.request.delivery_info or {}).get("redelivered"))
        _run(runner.run_chunk, job_id, chunk_index, redelivered)
    except Exception as exc:
        _retry_or_fail(self, job_id, exc)


def enqueue(job_id: str) -> None:
    """Send the start task for a job (blocking; the caller records enqueued_at)."""
    settings = get_settings()
    start.apply_async(
        args=[job_id],
        queue=settings.celery_queue,
        retry=True,
        retry_policy={
            "max_retries": 2,
            "interval_start": 0.2,
            "interval_step": 0.5,
            "interval_max": 1.0,
        },
    )


def recover_stale() -> int:
    """Enqueue again every stale active job (lost message, dead worker); returns how many."""
    ids = _run(stale_jobs)
    sent = []
    for job_id in ids:
        try:
            enqueue(job_id)
            sent.append(job_id)
        except Exception as exc:  # noqa: BLE001 - the next sweep tries again
            log.warning("could not re-enqueue job: %s", exc, extra={"job_id": job_id})
    if sent:
        _run(lambda ctx, ids: mark_enqueued(ctx.db, ids), sent)
    # runs in the worker's main process: close its connections before any pool child is forked
    _run(lambda ctx: ctx.db.dispose())
    return len(sent)
