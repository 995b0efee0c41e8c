"""HTTP face of job submission for run routes: a `Submitted` run answers 202 and its job id
goes to the dispatcher after the request's transaction commits (a background task runs after
the response, and the session dependency commits before the response)."""

from __future__ import annotations

from typing import Any

from fastapi import BackgroundTasks, Request, Response

from app.api.deps import SessionDep
from app.api.v1._responses import NumpyJSONResponse
from app.core.request_context import get_request_id
from app.services import jobs as jobs_service
from app.services.jobs import Submitted

__all__ = ["accept_as_job", "accepted", "enqueue_after_commit"]


def enqueue_after_commit(request: Request, background: BackgroundTasks, job_id: str) -> None:
    """Hand `job_id` to the dispatcher once the response (hence the commit) is done."""
    background.add_task(request.app.state.jobs.enqueue, job_id)


def accepted(request: Request, background: BackgroundTasks, job: Submitted) -> Response:
    """The 202 answer of a run that became a job, with a Location header."""
    enqueue_after_commit(request, background, job.job_id)
    return NumpyJSONResponse(
        job.accepted(),
        status_code=202,
        headers={"Location": job.status_url},
        background=background,
    )


async def accept_as_job(
    request: Request,
    session: SessionDep,
    background: BackgroundTasks,
    *,
    owner_id: str,
    kind: str,
    payload: dict[str, Any],
    name: str | None = None,
) -> Response:
    """Record a queued `kind` job of `payload` and answer 202 (enqueued after the commit)."""
    job = await jobs_service.submit(
        session,
        owner_id=owner_id,
        kind=kind,
        payload=payload,
        name=name,
        request_id=get_request_id(),
    )
    return accepted(request, background, job)
