"""Jobs API: submit a long run directly, read, list and cancel the caller's jobs.

Run routes turn a large request into a job through `app.api.v1._jobs` (`accept_as_job` is
re-exported here for routers written against the old location)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, BackgroundTasks, Query, Request, Response
from fastapi.responses import RedirectResponse

from app.api.deps import CurrentUser, SessionDep, SettingsDep
from app.api.v1._jobs import accept_as_job
from app.api.v1._responses import ERRORS, NumpyJSONResponse, OffsetQuery, error_doc
from app.core.errors import Conflict
from app.models.jobs import JobAccepted, JobOut, JobPage, JobSubmit
from app.services import jobs as jobs_service

__all__ = ["accept_as_job", "router"]

router = APIRouter(prefix="/jobs", tags=["jobs"], responses=ERRORS)


@router.post(
    "/",
    response_model=JobAccepted,
    status_code=202,
    summary="Submit a long run as a job",
    responses={202: {"description": "Queued; follow status_url or WS /ws/updates."}},
)
async def submit_job(
    body: JobSubmit,
    request: Request,
    session: SessionDep,
    background: BackgroundTasks,
    user: CurrentUser,
    settings: SettingsDep,
) -> Response:
    """Queue a forecast or Monte Carlo run (its request body as `payload`) whatever its size.
    The payload is checked first (422 naming the field); the run then goes to a worker."""
    await jobs_service.validate_payload(body.kind, body.payload, settings)
    return await accept_as_job(
        request,
        session,
        background,
        owner_id=user.user_id,
        kind=body.kind,
        payload=body.payload,
        name=body.name,
    )


@router.get("/", response_model=JobPage, summary="List your jobs")
async def list_jobs(
    session: SessionDep,
    user: CurrentUser,
    limit: Annotated[int, Query(ge=1, le=200, description="Page size.")] = 20,
    offset: OffsetQuery = 0,
    state: Annotated[
        Literal["queued", "running", "succeeded", "failed", "cancelled"] | None, Query()
    ] = None,
) -> Response:
    """The caller's jobs, newest first, optionally in one state."""
    items, total = await jobs_service.list_jobs(
        session, owner_id=user.user_id, state=state, limit=limit, offset=offset
    )
    return NumpyJSONResponse(
        JobPage(
            items=[JobOut.model_validate(jobs_service.job_view(j)) for j in items],
            total=total,
            limit=limit,
            offset=offset,
        ).model_dump(mode="json")
    )


@router.get("/{job_id}", response_model=JobOut, summary="Read a job")
async def get_job(job_id: str, session: SessionDep, user: CurrentUser) -> Response:
    """State, progress (done/total), timings, error and result link of one of your jobs."""
    job = await jobs_service.get_job(session, owner_id=user.user_id, job_id=job_id)
    return NumpyJSONResponse(
        JobOut.model_validate(jobs_service.job_view(job)).model_dump(mode="json")
    )


@router.get(
    "/{job_id}/result",
    summary="Read a job's result",
    responses={
        303: {"description": "The result is stored elsewhere (a forecast): see Location."},
        409: error_doc("The job has not succeeded (yet)."),
    },
)
async def get_job_result(job_id: str, session: SessionDep, user: CurrentUser) -> Response:
    """The result of a succeeded job: a Monte Carlo run's merged result (the same body the
    Monte Carlo route returns for a small run), or a redirect to the stored forecast."""
    job = await jobs_service.get_job(session, owner_id=user.user_id, job_id=job_id)
    if job.state != "succeeded":
        raise Conflict(f"job is {job.state}; its result is available once it has succeeded")
    url = jobs_service.result_url(job)
    if job.result is None and url is not None:
        return RedirectResponse(url, status_code=303)
    return NumpyJSONResponse(job.result)


@router.delete(
    "/{job_id}",
    response_model=JobOut,
    summary="Cancel a job",
    responses={409: error_doc("The job has already finished.")},
)
async def cancel_job(
    job_id: str,
    request: Request,
    session: SessionDep,
    background: BackgroundTasks,
    user: CurrentUser,
) -> Response:
    """Cancel a queued or running job. Running chunks stop at their next progress tick; the
    job's record stays (state `cancelled`). A finished job answers 409."""
    job, cancelled = await jobs_service.cancel_job(session, owner_id=user.user_id, job_id=job_id)
    if not cancelled:
        raise Conflict(f"job already {job.state}")
    # the final message goes out after the commit, like enqueueing
    background.add_task(
        request.app.state.jobs.hub.publish, job.owner_id, jobs_service.job_update(job)
    )
    return NumpyJSONResponse(
        JobOut.model_validate(jobs_service.job_view(job)).model_dump(mode="json"),
        background=background,
    )
