"""The job units in-process (no broker, no pool) on a migrated SQLite file: idempotency under
repeated and duplicated deliveries, the merge equal to a single run, progress throttling,
cancellation, the time limit, the attempt limit, transient-error classification, stale-job
detection."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from app.core.db import Database
from app.models.base import utcnow
from app.services import jobs as jobs_service
from app.services.jobs.progress import Throttle
from app.services.repositories.jobs import JobRepository
from app.tasks import runner
from app.tasks.progress import LocalHub
from tests.conftest import make_settings
from tests.tasks.conftest import mc_payload, reference_result


class Recorder:
    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    async def publish(self, owner_id: str, update: dict[str, Any]) -> None:
        self.messages.append({"owner": owner_id, **update})


@pytest.fixture
async def ctx(tmp_path: Path):
    settings = make_settings(tmp_path, jobs_progress_interval_seconds=0.05)
    db = Database(settings)
    await db.migrate()
    yield runner.JobContext(settings=settings, db=db, publisher=Recorder())
    await db.dispose()


async def submit(ctx: runner.JobContext, payload: dict, owner: str = "u1") -> str:
    async with ctx.db.session() as s:
        job = await jobs_service.submit_job(
            s, owner_id=owner, kind="monte_carlo", payload=payload, name=None, request_id="r-1"
        )
    return job.id


async def get(ctx: runner.JobContext, job_id: str) -> Any:
    async with ctx.db.session() as s:
        return await JobRepository(s).get(job_id)


async def test_units_are_idempotent_and_merge_equals_one_run(ctx) -> None:
    payload = mc_payload(3000, n_chunks=3)
    job_id = await submit(ctx, payload)
    missing = await runner.start_job(ctx, job_id)
    assert missing == [0, 1, 2]
    assert await runner.start_job(ctx, job_id) == [0, 1, 2]  # a duplicate start: same plan
    # chunks out of order, one delivered twice
    for k in (2, 0, 2, 1):
        await runner.run_chunk(ctx, job_id, k)
    job = await get(ctx, job_id)
    assert job.state == "succeeded"
    assert job.progress_done == job.progress_total == 3000
    async with ctx.db.session() as s:
        repo = JobRepository(s)
        statuses = [await repo.chunk_status(job_id, k) for k in range(3)]
        attempts = [s[1] for s in statuses if s is not None]
    assert attempts == [1, 1, 1]  # the duplicate delivery computed nothing
    assert job.result == reference_result(payload)
    # late deliveries after success change nothing
    assert await runner.start_job(ctx, job_id) == []
    await runner.run_chunk(ctx, job_id, 1)
    await runner.finalize(ctx, job_id)
    assert (await get(ctx, job_id)).state == "succeeded"
    finals = [m for m in ctx.publisher.messages if m["state"] == "succeeded"]
    assert len(finals) == 1 and finals[0]["owner"] == "u1"


async def test_cancelled_job_stops_and_stays_cancelled(ctx) -> None:
    job_id = await submit(ctx, mc_payload(200_000, n_chunks=1))
    assert await runner.start_job(ctx, job_id) == [0]
    task = asyncio.create_task(runner.run_chunk(ctx, job_id, 0))
    while (await get(ctx, job_id)).progress_done == 0:
        await asyncio.sleep(0.02)
    async with ctx.db.session() as s:
        _, cancelled = await jobs_service.cancel_job(s, owner_id="u1", job_id=job_id)
    assert cancelled
    await asyncio.wait_for(task, 30)  # the computation noticed and stopped
    job = await get(ctx, job_id)
    assert job.state == "cancelled" and job.progress_done < 200_000
    async with ctx.db.session() as s:
        status = await JobRepository(s).chunk_status(job_id, 0)
    assert status is not None and not status[0]
    assert await runner.start_job(ctx, job_id) == []


async def test_time_limit_and_attempt_limit_fail_the_job(ctx, tmp_path: Path) -> None:
    ctx.settings = make_settings(
        tmp_path,
        jobs_time_limit_seconds=0.3,
        jobs_progress_interval_seconds=0.05,
        jobs_max_attempts=2,
    )
    job_id = await submit(ctx, mc_payload(400_000, n_chunks=1))
    await runner.start_job(ctx, job_id)
    await runner.run_chunk(ctx, job_id, 0)
    job = await get(ctx, job_id)
    assert job.state == "failed" and job.error["type"] == "JobTimeLimit"
    assert "time limit" in job.error["message"]

    # a chunk whose workers keep dying: after jobs_max_attempts starts the job fails
    job_id = await submit(ctx, mc_payload(1000, n_chunks=1))
    await runner.start_job(ctx, job_id)
    async with ctx.db.session() as s:
        repo = JobRepository(s)
        await repo.start_chunk(job_id, 0)
        await repo.start_chunk(job_id, 0)
    await runner.run_chunk(ctx, job_id, 0, takeover=True)
    job = await get(ctx, job_id)
    assert job.state == "failed" and "2 attempts" in job.error["message"]


async def test_chunk_being_computed_elsewhere_is_left_alone(ctx) -> None:
    job_id = await submit(ctx, mc_payload(1000, n_chunks=1))
    await runner.start_job(ctx, job_id)
    async with ctx.db.session() as s:
        await JobRepository(s).start_chunk(job_id, 0)  # another worker just started it
    await runner.run_chunk(ctx, job_id, 0)
    async with ctx.db.session() as s:
        status = await JobRepository(s).chunk_status(job_id, 0)
    assert status is not None and (status[0], status[1]) == (False, 1)
    await runner.run_chunk(ctx, job_id, 0, takeover=True)  # a redelivery: its holder died
    assert (await get(ctx, job_id)).state == "succeeded"


async def test_stale_jobs_are_found(ctx) -> None:
    queued = await submit(ctx, mc_payload(1000))
    assert await runner.stale_jobs(ctx, older_than=3600) == []
    await asyncio.sleep(0.01)
    assert await runner.stale_jobs(ctx, older_than=0.0) == [queued]
    await runner.mark_enqueued(ctx.db, [queued])
    assert await runner.stale_jobs(ctx, older_than=5.0) == []
    async with ctx.db.session() as s:
        await JobRepository(s).mark_running(queued, utcnow() - timedelta(seconds=30))
        await JobRepository(s).mark_enqueued([queued], utcnow() - timedelta(seconds=30))
    assert await runner.stale_jobs(ctx, older_than=10.0) == [queued]  # its worker went quiet


def test_transient_errors_are_told_apart() -> None:
    import redis.exceptions

    from app.engine.errors import InvalidInput

    assert runner.is_transient(OperationalError("SELECT 1", {}, Exception("database is locked")))
    assert runner.is_transient(redis.exceptions.ConnectionError("refused"))
    assert runner.is_transient(ConnectionResetError())
    assert not runner.is_transient(InvalidInput([]))
    assert not runner.is_transient(ValueError("bad"))
    assert not runner.is_transient(ZeroDivisionError())


def test_throttle_passes_a_few_per_second_and_every_final_state() -> None:
    t = Throttle(0.25)
    allowed = [t.allow("j", "running", now=i * 0.05) for i in range(20)]  # 1 s at 20 msg/s
    assert sum(allowed) == 4
    assert t.allow("j", "succeeded", now=0.96)
    assert t.allow("other", "running", now=0.96)


async def test_local_hub_delivers_only_to_the_owner() -> None:
    hub = LocalHub()
    async with hub.subscribe("alice") as a, hub.subscribe("bob") as b:
        await hub.publish("alice", {"job_id": "1"})
        assert await asyncio.wait_for(a.__anext__(), 1) == {"job_id": "1"}
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(b.__anext__(), 0.1)
