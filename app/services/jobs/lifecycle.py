"""Job use cases: record a long run, read and list the caller's jobs, cancel one.

Services never commit and never enqueue: the route answers 202 and hands the job id to the
dispatcher only after the request's transaction has committed (Polar's rule), so a worker can
never pick up a job whose row is not there yet. A job whose message is lost (broker down at
submission, a broker restart without persistence) is found again by the recovery sweep.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import NotFound
from app.models.base import new_id, utcnow
from app.models.jobs import ACTIVE_STATES
from app.models.tables import Job
from app.services.jobs import metrics
from app.services.jobs.progress import make_update
from app.services.repositories.jobs import JobRepository

if TYPE_CHECKING:
    from app.services.jobs.kinds import JobKind


class UnknownJobKind(ValueError):
    """No job kind of that name is registered."""


def kind_of(name: str) -> JobKind:
    """The registered kind `name` (UnknownJobKind if there is none)."""
    # looked up at call time: the registry imports the kinds' own services, which import this
    # package to submit their runs
    from app.services.jobs.kinds import get_kind

    return get_kind(name)


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


async def check_referenced_pool(
    session: AsyncSession, *, owner_id: str, payload: dict[str, Any]
) -> None:
    """404 at submission when the payload names a `pool.pool_id` the caller does not own
    (otherwise the job would only fail when a worker runs it)."""
    from app.services.repositories import PoolRepository

    pool = payload.get("pool")
    pool_id = pool.get("pool_id") if isinstance(pool, dict) else None
    if isinstance(pool_id, str):
        found = await PoolRepository(session).get_owned(owner_id, pool_id, with_data=False)
        if found is None:
            raise NotFound("pool not found")


async def submit_job(
    session: AsyncSession,
    *,
    owner_id: str,
    kind: str,
    payload: dict[str, Any],
    name: str | None,
    request_id: str | None,
) -> Job:
    """Record a queued job (the caller enqueues it after the transaction commits)."""
    kind_of(kind)
    job = Job(
        id=new_id(),
        owner_id=owner_id,
        kind=kind,
        name=name,
        state="queued",
        payload=payload,
        n_chunks=1,
        progress_done=0,
        progress_total=0,
        attempts=0,
        request_id=request_id,
        created_at=utcnow(),
    )
    await JobRepository(session).add(job)
    metrics.job_state("queued")
    return job


async def get_job(session: AsyncSession, *, owner_id: str, job_id: str) -> Job:
    """The caller's job; another user's job is a 404 like a missing one."""
    job = await JobRepository(session).get_owned(owner_id, job_id)
    if job is None:
        raise NotFound("job not found")
    return job


async def list_jobs(
    session: AsyncSession, *, owner_id: str, state: str | None, limit: int, offset: int
) -> tuple[list[Job], int]:
    return await JobRepository(session).list_owned(
        owner_id, state=state, limit=limit, offset=offset
    )


async def cancel_job(session: AsyncSession, *, owner_id: str, job_id: str) -> tuple[Job, bool]:
    """Cancel a queued or running job; (job, True) when this call cancelled it. A finished job
    is returned unchanged. Running chunks notice at their next progress tick and stop."""
    repo = JobRepository(session)
    job = await get_job(session, owner_id=owner_id, job_id=job_id)
    if job.state not in ACTIVE_STATES:
        return job, False
    now = utcnow()
    started = _utc(job.started_at)
    moved = await repo.transition(
        job_id,
        list(ACTIVE_STATES),
        "cancelled",
        finished_at=now,
        message="cancelled by the user",
        duration_ms=None if started is None else (now - started).total_seconds() * 1e3,
    )
    refreshed = await repo.get(job_id)
    assert refreshed is not None
    if moved:
        seconds = None if started is None else (now - started).total_seconds()
        metrics.job_finished(job.kind, "cancelled", seconds)
    return refreshed, moved


async def queue_snapshot(session: AsyncSession) -> tuple[dict[str, int], float]:
    """(active jobs per state, age in seconds of the oldest queued job or 0) for the metrics."""
    counts, oldest = await JobRepository(session).queue_summary()
    first = _utc(oldest)
    age = 0.0 if first is None else max((utcnow() - first).total_seconds(), 0.0)
    return counts, age


def result_url(job: Job) -> str | None:
    """Where the result is read once the job succeeded."""
    if job.state != "succeeded":
        return None
    kind = kind_of(job.kind)
    if kind.result_path is not None and job.result_id:
        return kind.result_path.format(id=job.result_id)
    return f"/api/v1/jobs/{job.id}/result"


def job_view(job: Job) -> dict[str, Any]:
    """The API view of a job (JobOut)."""
    return {
        "job_id": job.id,
        "kind": job.kind,
        "name": job.name,
        "state": job.state,
        "progress": {"done": job.progress_done, "total": job.progress_total},
        "message": job.message,
        "error": job.error,
        "result_id": job.result_id,
        "result_url": result_url(job),
        "request_id": job.request_id,
        "created_at": _utc(job.created_at),
        "started_at": _utc(job.started_at),
        "finished_at": _utc(job.finished_at),
        "duration_ms": job.duration_ms,
    }


def job_update(job: Job) -> dict[str, Any]:
    """The job's current state as a WebSocket message."""
    return make_update(job.id, job.state, job.progress_done, job.progress_total, job.message)
