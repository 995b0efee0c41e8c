"""The job units that Celery tasks and the embedded pool both run, on their own DB session.

`start_job(job_id)` claims a job (queued -> running) and returns the chunks still to compute
(a whole kind runs right there); `run_chunk(job_id, k)` computes one chunk unless it is already
stored, then merges when it was the last; `finalize` merges and marks the job succeeded. Every
unit takes ids, re-reads the job, and changes state with conditional UPDATEs, so a redelivered
or duplicated message is harmless (idempotent). Computation runs in a thread while the unit
ticks every `jobs_progress_interval_seconds`: it stores and publishes progress (the throttle),
heartbeats, notices cancellation and enforces the time limit.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError

from app.core.config import Settings
from app.core.db import Database
from app.core.request_context import request_id_var, user_id_var
from app.models.base import utcnow
from app.models.jobs import TERMINAL_STATES
from app.models.tables import Job
from app.services.jobs import metrics
from app.services.jobs.kinds import get_kind
from app.services.jobs.progress import make_update
from app.services.repositories.jobs import JobRepository
from app.tasks.progress import Publisher

log = logging.getLogger("app.jobs")


class JobCancelled(Exception):
    """Raised inside a computation when its job was cancelled (or timed out)."""


class JobTimeLimit(Exception):
    """The unit ran longer than JOBS_TIME_LIMIT_SECONDS."""


class _Lost(Exception):
    """Another delivery finished or cancelled the job first: roll this transaction back."""


def is_transient(exc: BaseException) -> bool:
    """Errors worth retrying with backoff: lost connections, timeouts, a locked database."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, OperationalError | InterfaceError | DisconnectionError):
        return True
    try:
        import redis.exceptions as rex

        if isinstance(exc, rex.ConnectionError | rex.TimeoutError):
            return True
    except ImportError:  # pragma: no cover
        pass
    return isinstance(exc, ConnectionError | TimeoutError)


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _seconds_since(start: datetime | None, now: datetime) -> float | None:
    start = _utc(start)
    return None if start is None else (now - start).total_seconds()


@dataclass
class JobContext:
    """What a unit needs: settings, its own database, and where progress goes."""

    settings: Settings
    db: Database
    publisher: Publisher


class _Box:
    """Progress shared between the computing thread and the ticking coroutine."""

    def __init__(self) -> None:
        self.done = 0
        self.total = 0
        self.cancel = threading.Event()

    def report(self, done: int, total: int) -> None:
        if self.cancel.is_set():
            raise JobCancelled
        self.done, self.total = int(done), int(total)


def _bind_log_context(job: Job) -> None:
    request_id_var.set(job.request_id)
    user_id_var.set(job.owner_id)


async def _publish(
    ctx: JobContext, job: Job, state: str, done: int, total: int, message: str | None
) -> None:
    await ctx.publisher.publish(job.owner_id, make_update(job.id, state, done, total, message))


# --- units ---------------------------------------------------------------------------------
async def start_job(ctx: JobContext, job_id: str) -> list[int]:
    """Claim the job and return the chunk indexes still to compute ([] when nothing to do)."""
    async with ctx.db.session() as session:
        repo = JobRepository(session)
        job = await repo.get(job_id)
        if job is None or job.state in TERMINAL_STATES:
            return []
        _bind_log_context(job)
        kind = get_kind(job.kind)
        first = job.state == "queued"
        restarts_exhausted = not first and job.attempts >= ctx.settings.jobs_max_attempts
        if not restarts_exhausted and not await repo.mark_running(job_id, utcnow()):
            return []
    if restarts_exhausted:  # every start died with its process (a worker or the server)
        await fail_job(
            ctx,
            job_id,
            RuntimeError(
                f"the job was started {job.attempts} times and its process died each time "
                "(JOBS_MAX_ATTEMPTS)"
            ),
        )
        return []
    if first:
        metrics.job_state("running")
    log.info("job started", extra={"job_id": job_id, "kind": job.kind})
    try:
        if kind.chunked:
            return await _plan_chunks(ctx, job)
        await _run_whole(ctx, job_id)
        return []
    except (JobCancelled, _Lost):
        return []
    except Exception as exc:
        if is_transient(exc):
            raise
        await fail_job(ctx, job_id, exc)
        return []


async def _plan_chunks(ctx: JobContext, job: Job) -> list[int]:
    kind = get_kind(job.kind)
    assert kind.plan is not None
    totals = await asyncio.to_thread(kind.plan, job.payload, ctx.settings)
    async with ctx.db.session() as session:
        repo = JobRepository(session)
        await repo.ensure_chunks(job.id, totals)
        await repo.transition(
            job.id, ["running"], "running", n_chunks=len(totals), progress_total=sum(totals)
        )
        missing = await repo.unfinished_chunks(job.id)
        done, total, _, _ = await repo.progress(job.id)
    await _publish(ctx, job, "running", done, total, f"{len(missing)} chunks to run")
    if not missing:
        await finalize(ctx, job.id)
    return missing


async def _run_whole(ctx: JobContext, job_id: str) -> None:
    t0 = time.perf_counter()
    async with ctx.db.session() as session:
        repo = JobRepository(session)
        job = await repo.get(job_id)
        if job is None or job.state != "running":
            raise _Lost
        kind = get_kind(job.kind)
        assert kind.run_whole is not None
        await _publish(ctx, job, "running", 0, 1, "running")
        result, result_id = await kind.run_whole(session, job, ctx.settings)
        now = utcnow()
        moved = await repo.transition(
            job_id,
            ["running"],
            "succeeded",
            result=result,
            result_id=result_id,
            progress_done=1,
            progress_total=1,
            message="done",
            finished_at=now,
            duration_ms=(_seconds_since(job.started_at, now) or 0.0) * 1e3,
        )
        if not moved:
            raise _Lost  # cancelled meanwhile: roll the stored result back
    log.info("job succeeded", extra={"job_id": job_id, "seconds": time.perf_counter() - t0})
    metrics.job_finished(job.kind, "succeeded", _seconds_since(job.started_at, now))
    await _publish(ctx, job, "succeeded", 1, 1, "done")


async def run_chunk(ctx: JobContext, job_id: str, chunk_index: int, takeover: bool = False) -> None:
    """Compute chunk `chunk_index` unless stored already; merge if it completes the job.

    A chunk that another worker is computing (touched within JOBS_REQUEUE_AFTER_SECONDS) is
    left to it, unless `takeover` (a broker redelivery: its previous holder died)."""
    try:
        async with ctx.db.session() as session:
            repo = JobRepository(session)
            job = await repo.get(job_id)
            if job is None or job.state != "running":
                return
            _bind_log_context(job)
            status = await repo.chunk_status(job_id, chunk_index)
            if status is None:
                return
            finished, attempts, touched = status
            if not finished and attempts > 0 and not takeover:
                age = _seconds_since(touched, utcnow())
                if age is not None and age < ctx.settings.jobs_requeue_after_seconds:
                    log.info(
                        "chunk is being computed elsewhere",
                        extra={"job_id": job_id, "chunk": chunk_index},
                    )
                    return
            if not finished:
                if attempts >= ctx.settings.jobs_max_attempts:
                    raise RuntimeError(
                        f"chunk {chunk_index} did not complete in {attempts} attempts "
                        "(its worker was lost or timed out each time)"
                    )
                await repo.start_chunk(job_id, chunk_index)
        if not finished:
            log.info("chunk started", extra={"job_id": job_id, "chunk": chunk_index})
            data = await _compute(ctx, job, chunk_index)
            async with ctx.db.session() as session:
                await JobRepository(session).finish_chunk(job_id, chunk_index, data)
            log.info("chunk finished", extra={"job_id": job_id, "chunk": chunk_index})
        async with ctx.db.session() as session:
            repo = JobRepository(session)
            done, total, n_finished, n_all = await repo.progress(job_id)
            still_running = await repo.state(job_id) == "running"
        if n_finished == n_all:
            await finalize(ctx, job_id)
        elif still_running:  # a job cancelled meanwhile gets no late "running" message
            unit = get_kind(job.kind).unit  # paths, runs or loans
            await _publish(ctx, job, "running", done, total, f"{done} of {total} {unit}")
    except (JobCancelled, _Lost):
        return
    except Exception as exc:
        if is_transient(exc):
            raise
        await fail_job(ctx, job_id, exc)


async def _compute(ctx: JobContext, job: Job, chunk_index: int) -> bytes:
    kind = get_kind(job.kind)
    assert kind.compute_chunk is not None
    box = _Box()
    task = asyncio.ensure_future(
        asyncio.to_thread(kind.compute_chunk, job.payload, chunk_index, job.n_chunks, box.report)
    )
    interval = ctx.settings.jobs_progress_interval_seconds
    deadline = time.monotonic() + ctx.settings.jobs_time_limit_seconds
    timed_out = False
    last_done = -1
    while True:
        finished, _ = await asyncio.wait({task}, timeout=interval)
        if finished:
            break
        if time.monotonic() > deadline:
            timed_out = True
            box.cancel.set()
        async with ctx.db.session() as session:
            repo = JobRepository(session)
            state = await repo.state(job.id)
            if state != "running":
                box.cancel.set()
                continue
            if box.done != last_done:
                await repo.chunk_progress(job.id, chunk_index, box.done)
            done, total, _, _ = await repo.progress(job.id)
            msg = f"{done} of {total} {kind.unit}"
            await repo.set_progress(job.id, done, total, msg, utcnow())  # also the heartbeat
        if box.done != last_done:
            last_done = box.done
            await _publish(ctx, job, "running", done, total, msg)
    try:
        return task.result()
    except JobCancelled:
        if timed_out:
            raise JobTimeLimit(
                f"time limit of {ctx.settings.jobs_time_limit_seconds:g} s exceeded"
            ) from None
        raise


async def finalize(ctx: JobContext, job_id: str) -> None:
    """Merge the stored chunks and mark the job succeeded (once, whoever gets here first)."""
    try:
        async with ctx.db.session() as session:
            repo = JobRepository(session)
            job = await repo.get(job_id)
            if job is None or job.state != "running":
                return
            kind = get_kind(job.kind)
            assert kind.merge is not None
            blobs = await repo.chunk_blobs(job_id)
            result = await asyncio.to_thread(kind.merge, job.payload, blobs)
            now = utcnow()
            total = job.progress_total
            moved = await repo.transition(
                job_id,
                ["running"],
                "succeeded",
                result=result,
                progress_done=total,
                message="done",
                finished_at=now,
                duration_ms=(_seconds_since(job.started_at, now) or 0.0) * 1e3,
            )
            if not moved:
                raise _Lost
            await repo.drop_chunk_data(job_id)
    except _Lost:
        return
    except Exception as exc:
        if is_transient(exc):
            raise
        await fail_job(ctx, job_id, exc)
        return
    log.info("job succeeded", extra={"job_id": job_id, "kind": job.kind})
    metrics.job_finished(
        job.kind,
        "succeeded",
        _seconds_since(job.started_at, now),
        paths=total if kind.unit == "paths" else 0,
    )
    await _publish(ctx, job, "succeeded", total, total, "done")


def error_info(exc: BaseException) -> dict[str, Any]:
    """The error recorded on a failed job: its type and message (no traceback, no data)."""
    message = str(exc) or exc.__class__.__name__
    detail = getattr(exc, "detail", None)
    if isinstance(detail, list):  # a ValidationFailed: the field problems
        message = (
            "; ".join(
                f"{'.'.join(str(p) for p in item.get('loc', []))}: {item.get('msg')}"
                for item in detail
                if isinstance(item, dict)
            )
            or message
        )
    return {"type": exc.__class__.__name__, "message": message[:2000]}


async def fail_job(ctx: JobContext, job_id: str, exc: BaseException) -> None:
    """Record the failure (active -> failed) and publish the final message."""
    info = error_info(exc)
    async with ctx.db.session() as session:
        repo = JobRepository(session)
        job = await repo.get(job_id)
        if job is None:
            return
        now = utcnow()
        moved = await repo.transition(
            job_id,
            ["queued", "running"],
            "failed",
            error=info,
            message=info["message"],
            finished_at=now,
            duration_ms=(_seconds_since(job.started_at, now) or 0.0) * 1e3,
        )
    if not moved:
        return
    log.warning("job failed: %s", info["message"], extra={"job_id": job_id, "error": info["type"]})
    metrics.job_finished(job.kind, "failed", _seconds_since(job.started_at, now), info["type"])
    await _publish(ctx, job, "failed", job.progress_done, job.progress_total, info["message"])


async def stale_jobs(ctx: JobContext, older_than: float | None = None) -> list[str]:
    """Active jobs untouched for `older_than` seconds (default JOBS_REQUEUE_AFTER_SECONDS)."""
    wait = ctx.settings.jobs_requeue_after_seconds if older_than is None else older_than
    cutoff = utcnow() - timedelta(seconds=wait)
    async with ctx.db.session() as session:
        return await JobRepository(session).stale(cutoff)


async def mark_enqueued(db: Database, job_ids: list[str]) -> None:
    async with db.session() as session:
        await JobRepository(session).mark_enqueued(job_ids, utcnow())
