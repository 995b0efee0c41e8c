"""The registry of job kinds: how each kind is validated, split into chunks, computed and merged.

Every kind's logic lives in its own service module (pure functions of the JSON payload); this
module only names them. A chunked kind (Monte Carlo) gives `plan` / `compute_chunk` / `merge`:
chunk results are stored and merged in chunk order, so any number of workers gives the same
numbers as one. A whole kind (forecast) gives `run_whole`, which runs in one unit and stores its
result in the same transaction that marks the job succeeded, so a repeated delivery cannot
store it twice. Adding a kind is one `KINDS` entry (docs/JOBS.md).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.models.tables import Job
from app.services import clo_simulation as clo_mc
from app.services import commercial, consumer_credit, forecast_job, stream_forecast
from app.services.jobs.lifecycle import UnknownJobKind
from app.services.montecarlo import job_kind as monte_carlo_job

ProgressFn = Callable[[int, int], None]
Payload = dict[str, Any]

__all__ = ["KINDS", "JobKind", "ProgressFn", "UnknownJobKind", "get_kind"]


@dataclass(frozen=True)
class JobKind:
    """How a kind of job runs. Chunked kinds give plan/compute_chunk/merge, whole kinds
    run_whole; `validate` refuses a bad payload (422) before a job is created."""

    name: str
    unit: str  # what progress counts ("paths", "runs", ...)
    result_path: str | None  # result URL template, {id} = result_id (None: the job's result)
    # (payload, settings) -> items per chunk (progress totals); one entry per chunk
    plan: Callable[[Payload, Settings], list[int]] | None = None
    # (payload, chunk index, chunk count, progress(done, total)) -> the chunk's stored bytes
    compute_chunk: Callable[[Payload, int, int, ProgressFn], bytes] | None = None
    # (payload, chunk blobs in chunk order) -> the job's JSON result
    merge: Callable[[Payload, list[bytes]], dict[str, Any]] | None = None
    # (session, job, settings) -> (JSON result or None, result_id or None), in the job's transaction
    run_whole: (
        Callable[[AsyncSession, Job, Settings], Awaitable[tuple[dict[str, Any] | None, str | None]]]
        | None
    ) = None
    validate: Callable[[Payload, Settings], None] | None = None

    @property
    def chunked(self) -> bool:
        return self.plan is not None


KINDS: dict[str, JobKind] = {
    "monte_carlo": JobKind(
        "monte_carlo",
        unit="paths",
        result_path=None,
        plan=monte_carlo_job.plan,
        compute_chunk=monte_carlo_job.compute_chunk,
        merge=monte_carlo_job.merge,
        validate=monte_carlo_job.validate,
    ),
    "clo_monte_carlo": JobKind(
        "clo_monte_carlo",
        unit="paths",
        result_path=None,
        plan=clo_mc.mc_plan,
        compute_chunk=clo_mc.mc_compute_chunk,
        merge=clo_mc.mc_merge,
        validate=clo_mc.mc_validate,
    ),
    "forecast": JobKind(
        "forecast",
        unit="runs",
        result_path="/api/v1/forecasts/{id}",
        run_whole=forecast_job.run_whole,
        validate=forecast_job.validate,
    ),
    "commercial_portfolio_loss": JobKind(
        "commercial_portfolio_loss",
        unit="paths",
        result_path=None,
        plan=commercial.job_plan,
        compute_chunk=commercial.job_compute_chunk,
        merge=commercial.job_merge,
        validate=commercial.job_validate,
    ),
    "consumer_credit": JobKind(
        "consumer_credit",
        unit="runs",
        result_path=None,
        run_whole=consumer_credit.job_run_whole,
        validate=consumer_credit.job_validate,
    ),
    "stream_forecast": JobKind(
        "stream_forecast",
        unit="loans",
        result_path=None,
        plan=stream_forecast.plan,
        compute_chunk=stream_forecast.compute_chunk,
        merge=stream_forecast.merge,
        validate=stream_forecast.validate,
    ),
}


def get_kind(name: str) -> JobKind:
    try:
        return KINDS[name]
    except KeyError as exc:
        raise UnknownJobKind(f"unknown job kind {name!r}") from exc
