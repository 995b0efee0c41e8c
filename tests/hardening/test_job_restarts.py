"""JOBS_MAX_ATTEMPTS sees deaths that kill the whole process (issue 12 item 6): every start of a
running job counts, so a job whose process keeps dying fails instead of restarting forever;
and a chunk taken over after its holder died is counted as a new attempt."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.db import Database
from app.services import jobs as jobs_service
from app.services.repositories.jobs import JobRepository
from app.tasks import runner
from tests.conftest import make_settings
from tests.tasks.conftest import mc_payload
from tests.tasks.test_runner import Recorder


@pytest.fixture
async def ctx(tmp_path: Path):
    settings = make_settings(tmp_path, jobs_max_attempts=3)
    db = Database(settings)
    await db.migrate()
    yield runner.JobContext(settings=settings, db=db, publisher=Recorder())
    await db.dispose()


async def _submit(ctx) -> str:
    async with ctx.db.session() as s:
        job = await jobs_service.submit_job(
            s,
            owner_id="u",
            kind="monte_carlo",
            payload=mc_payload(3000, n_chunks=3),
            name=None,
            request_id="r",
        )
    return job.id


async def _job(ctx, job_id):
    async with ctx.db.session() as s:
        return await JobRepository(s).get(job_id)


async def test_a_job_whose_process_keeps_dying_fails_after_max_attempts(ctx) -> None:
    job_id = await _submit(ctx)
    for expected in (1, 2, 3):  # each start, then the process dies before any chunk ends
        assert await runner.start_job(ctx, job_id) == [0, 1, 2]
        assert (await _job(ctx, job_id)).attempts == expected
    assert await runner.start_job(ctx, job_id) == []
    job = await _job(ctx, job_id)
    assert job.state == "failed"
    assert "JOBS_MAX_ATTEMPTS" in str(job.error)


async def test_chunk_taken_over_after_a_death_counts_an_attempt(ctx) -> None:
    job_id = await _submit(ctx)
    await runner.start_job(ctx, job_id)
    async with ctx.db.session() as s:
        await JobRepository(s).start_chunk(job_id, 0)  # started, then its holder died
    await runner.start_job(ctx, job_id)  # the restarted service takes the job over
    await runner.run_chunk(ctx, job_id, 0, True)
    async with ctx.db.session() as s:
        status = await JobRepository(s).chunk_status(job_id, 0)
    assert status is not None  # the chunk row exists
    finished, attempts, _ = status
    assert finished and attempts == 2
