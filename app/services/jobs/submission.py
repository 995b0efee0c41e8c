"""The one call every run route makes: run now, or record the run as a queued job.

`run_or_submit` takes the decision (`as_job`: the caller's `"async"` flag or its size test)
and returns either what `run_now()` returned or a `Submitted` job. A submitted job is only a
`queued` row in the caller's transaction: the route hands `job_id` to the dispatcher after
the commit (app/api/v1/_jobs.py does both for HTTP routes), so a worker never sees a job whose
row is not there yet. See docs/JOBS.md for the whole path and how to add a kind.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import anyio
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.errors import ValidationFailed
from app.models.jobs import JobAccepted
from app.services.jobs import lifecycle
from app.services.jobs.lifecycle import UnknownJobKind

T = TypeVar("T")

__all__ = ["Submitted", "run_or_submit", "submit", "validate_payload"]


@dataclass(frozen=True)
class Submitted:
    """A run recorded as a queued job (to enqueue once the transaction has committed)."""

    job_id: str

    @property
    def status_url(self) -> str:
        return f"/api/v1/jobs/{self.job_id}"

    def accepted(self) -> dict[str, Any]:
        """The 202 body (JobAccepted as JSON)."""
        return JobAccepted(
            job_id=self.job_id, state="queued", status_url=self.status_url
        ).model_dump(mode="json")


async def validate_payload(kind: str, payload: dict[str, Any], settings: Settings) -> None:
    """Run the kind's own check of a payload in a worker thread (422 naming the field)."""
    try:
        job_kind = lifecycle.kind_of(kind)
    except UnknownJobKind as exc:
        raise ValidationFailed.single(("body", "kind"), str(exc)) from exc
    if job_kind.validate is not None:
        await anyio.to_thread.run_sync(job_kind.validate, payload, settings)


async def submit(
    session: AsyncSession,
    *,
    owner_id: str,
    kind: str,
    payload: dict[str, Any],
    name: str | None = None,
    request_id: str | None = None,
) -> Submitted:
    """Record a queued job of `kind` with its JSON `payload` (already validated). A
    `pool.pool_id` in the payload must be the caller's: 404 now, not a failed job later."""
    await lifecycle.check_referenced_pool(session, owner_id=owner_id, payload=payload)
    job = await lifecycle.submit_job(
        session, owner_id=owner_id, kind=kind, payload=payload, name=name, request_id=request_id
    )
    return Submitted(job.id)


async def run_or_submit(
    session: AsyncSession,
    *,
    as_job: bool,
    run_now: Callable[[], Awaitable[T]],
    owner_id: str,
    kind: str,
    payload: Callable[[], dict[str, Any]] | dict[str, Any],
    name: str | None = None,
    request_id: str | None = None,
) -> T | Submitted:
    """`await run_now()` when not `as_job`, else record a queued `kind` job of `payload` (a
    dict, or a callable building it only when needed) and return it as `Submitted`."""
    if not as_job:
        return await run_now()
    body = payload() if callable(payload) else payload
    return await submit(
        session, owner_id=owner_id, kind=kind, payload=body, name=name, request_id=request_id
    )
