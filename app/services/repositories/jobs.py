"""All SQL of jobs and job chunks. State changes are conditional UPDATEs that report whether
they applied, so that two workers (a redelivered task, a recovery sweep) never both win."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, and_, case, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.base import utcnow
from app.models.jobs import ACTIVE_STATES
from app.models.tables import Job, JobChunk


def _rowcount(result: Any) -> int:
    return int(result.rowcount) if isinstance(result, CursorResult) else int(result.rowcount or 0)


class JobRepository:
    """Adds and queries jobs; never commits (the caller's session does)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # --- jobs ------------------------------------------------------------------------------
    async def add(self, job: Job) -> Job:
        self.session.add(job)
        await self.session.flush()
        return job

    async def get(self, job_id: str) -> Job | None:
        return await self.session.get(Job, job_id, populate_existing=True)

    async def get_owned(self, owner_id: str, job_id: str) -> Job | None:
        stmt = select(Job).where(Job.id == job_id, Job.owner_id == owner_id)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def state(self, job_id: str) -> str | None:
        stmt = select(Job.state).where(Job.id == job_id)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def list_owned(
        self, owner_id: str, *, state: str | None, limit: int, offset: int
    ) -> tuple[list[Job], int]:
        cond = [Job.owner_id == owner_id]
        if state is not None:
            cond.append(Job.state == state)
        total = (await self.session.execute(select(func.count()).where(*cond))).scalar_one()
        stmt = (
            select(Job)
            .where(*cond)
            .order_by(Job.created_at.desc(), Job.id)
            .limit(limit)
            .offset(offset)
        )
        return list((await self.session.execute(stmt)).scalars()), int(total)

    async def transition(
        self, job_id: str, from_states: Iterable[str], to_state: str, **values: Any
    ) -> bool:
        """Move the job to `to_state` if it is in one of `from_states`; True when it moved."""
        stmt = (
            update(Job)
            .where(Job.id == job_id, Job.state.in_(list(from_states)))
            .values(state=to_state, **values)
            .execution_options(synchronize_session=False)
        )
        return _rowcount(await self.session.execute(stmt)) == 1

    async def mark_running(self, job_id: str, now: datetime) -> bool:
        """queued -> running (or a restart of a running job): started_at kept if already set."""
        stmt = (
            update(Job)
            .where(Job.id == job_id, Job.state.in_(list(ACTIVE_STATES)))
            .values(
                state="running",
                started_at=func.coalesce(Job.started_at, now),
                heartbeat_at=now,
                attempts=Job.attempts + 1,
            )
            .execution_options(synchronize_session=False)
        )
        return _rowcount(await self.session.execute(stmt)) == 1

    async def set_progress(
        self, job_id: str, done: int, total: int, message: str | None, now: datetime
    ) -> bool:
        stmt = (
            update(Job)
            .where(Job.id == job_id, Job.state == "running")
            .values(progress_done=done, progress_total=total, message=message, heartbeat_at=now)
            .execution_options(synchronize_session=False)
        )
        return _rowcount(await self.session.execute(stmt)) == 1

    async def mark_enqueued(self, job_ids: Sequence[str], now: datetime) -> None:
        if job_ids:
            stmt = (
                update(Job)
                .where(Job.id.in_(list(job_ids)))
                .values(enqueued_at=now)
                .execution_options(synchronize_session=False)
            )
            await self.session.execute(stmt)

    async def stale(self, cutoff: datetime, limit: int = 100) -> list[str]:
        """Active jobs nobody has touched since `cutoff`: queued and not (re-)enqueued since,
        or running without a heartbeat since (their worker died or their message was lost)."""
        stmt = (
            select(Job.id)
            .where(
                or_(
                    and_(
                        Job.state == "queued",
                        or_(Job.enqueued_at.is_(None), Job.enqueued_at < cutoff),
                        Job.created_at < cutoff,
                    ),
                    and_(
                        Job.state == "running",
                        or_(Job.heartbeat_at.is_(None), Job.heartbeat_at < cutoff),
                        or_(Job.enqueued_at.is_(None), Job.enqueued_at < cutoff),
                    ),
                )
            )
            .order_by(Job.created_at)
            .limit(limit)
        )
        return list((await self.session.execute(stmt)).scalars())

    async def queue_summary(self) -> tuple[dict[str, int], datetime | None]:
        """Active jobs per state (queued, running) and the oldest queued job's created_at."""
        stmt = (
            select(Job.state, func.count(), func.min(Job.created_at))
            .where(Job.state.in_(list(ACTIVE_STATES)))
            .group_by(Job.state)
        )
        counts: dict[str, int] = {}
        oldest: datetime | None = None
        for state, n, first in (await self.session.execute(stmt)).all():
            counts[str(state)] = int(n)
            if state == "queued":
                oldest = first
        return counts, oldest

    # --- chunks ----------------------------------------------------------------------------
    async def ensure_chunks(self, job_id: str, totals: Sequence[int]) -> None:
        """Create the chunk rows that do not exist yet (insert ... on conflict do nothing)."""
        rows = [
            {
                "job_id": job_id,
                "chunk_index": k,
                "total": int(t),
                "done": 0,
                "attempts": 0,
                "finished": False,
                "updated_at": utcnow(),
            }
            for k, t in enumerate(totals)
        ]
        dialect = self.session.bind.dialect.name if self.session.bind else "sqlite"
        ins = postgresql.insert if dialect == "postgresql" else sqlite.insert
        stmt = (
            ins(JobChunk)
            .values(rows)
            .on_conflict_do_nothing(index_elements=["job_id", "chunk_index"])
        )
        await self.session.execute(stmt)

    async def unfinished_chunks(self, job_id: str) -> list[int]:
        stmt = (
            select(JobChunk.chunk_index)
            .where(JobChunk.job_id == job_id, JobChunk.finished.is_(False))
            .order_by(JobChunk.chunk_index)
        )
        return list((await self.session.execute(stmt)).scalars())

    async def chunk_status(
        self, job_id: str, chunk_index: int
    ) -> tuple[bool, int, datetime] | None:
        """(finished, attempts, last touched) of a chunk, or None when it does not exist."""
        stmt = select(JobChunk.finished, JobChunk.attempts, JobChunk.updated_at).where(
            JobChunk.job_id == job_id, JobChunk.chunk_index == chunk_index
        )
        row = (await self.session.execute(stmt)).one_or_none()
        return None if row is None else (bool(row[0]), int(row[1]), row[2])

    async def start_chunk(self, job_id: str, chunk_index: int) -> int:
        """Count one more attempt at computing the chunk; returns the attempt number."""
        stmt = (
            update(JobChunk)
            .where(JobChunk.job_id == job_id, JobChunk.chunk_index == chunk_index)
            .values(attempts=JobChunk.attempts + 1, done=0, updated_at=utcnow())
            .returning(JobChunk.attempts)
        )
        return int((await self.session.execute(stmt)).scalar_one())

    async def chunk_progress(self, job_id: str, chunk_index: int, done: int) -> None:
        stmt = (
            update(JobChunk)
            .where(
                JobChunk.job_id == job_id,
                JobChunk.chunk_index == chunk_index,
                JobChunk.finished.is_(False),
            )
            .values(done=done, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        await self.session.execute(stmt)

    async def finish_chunk(self, job_id: str, chunk_index: int, data: bytes) -> bool:
        """Store the chunk's result once; False when another delivery stored it first."""
        stmt = (
            update(JobChunk)
            .where(
                JobChunk.job_id == job_id,
                JobChunk.chunk_index == chunk_index,
                JobChunk.finished.is_(False),
            )
            .values(finished=True, data=data, done=JobChunk.total, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        return _rowcount(await self.session.execute(stmt)) == 1

    async def progress(self, job_id: str) -> tuple[int, int, int, int]:
        """(done, total, finished chunks, all chunks) summed over the job's chunks."""
        stmt = select(
            func.coalesce(func.sum(JobChunk.done), 0),
            func.coalesce(func.sum(JobChunk.total), 0),
            func.coalesce(func.sum(case((JobChunk.finished.is_(True), 1), else_=0)), 0),
            func.count(),
        ).where(JobChunk.job_id == job_id)
        row = (await self.session.execute(stmt)).one()
        return int(row[0]), int(row[1]), int(row[2]), int(row[3])

    async def chunk_blobs(self, job_id: str) -> list[bytes]:
        stmt = (
            select(JobChunk.data)
            .where(JobChunk.job_id == job_id, JobChunk.finished.is_(True))
            .order_by(JobChunk.chunk_index)
        )
        return [b for b in (await self.session.execute(stmt)).scalars() if b is not None]

    async def drop_chunk_data(self, job_id: str) -> None:
        """Free the chunk blobs once the merged result is stored."""
        stmt = (
            update(JobChunk)
            .where(JobChunk.job_id == job_id)
            .values(data=None)
            .execution_options(synchronize_session=False)
        )
        await self.session.execute(stmt)
