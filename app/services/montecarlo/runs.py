"""Direct (in-request) Monte Carlo runs: small runs computed in a worker thread and cached by
their full request body; larger ones belong to the `monte_carlo` job kind."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.errors import ValidationFailed
from app.core.metrics import observe_monte_carlo_paths
from app.engine.errors import EngineError
from app.engine.montecarlo import MonteCarloRequest, MonteCarloResult, run_monte_carlo
from app.models.montecarlo import MonteCarloIn
from app.services import jobs
from app.services.montecarlo.requests import build_request, engine_error, work_cells
from app.services.montecarlo.results import result_json
from app.services.result_cache import cached_result


def _run(req: MonteCarloRequest) -> MonteCarloResult:
    return run_monte_carlo(req)


def _counted(result: dict[str, Any]) -> dict[str, Any]:
    """Count a fresh direct run's paths (cache hits simulate none)."""
    observe_monte_carlo_paths(int(result.get("n_paths") or 0), "direct")
    return result


async def run_direct(*, body: MonteCarloIn, settings: Settings) -> dict[str, Any]:
    """Run a small Monte Carlo request in a worker thread and return its JSON result.

    Runs larger than `monte_carlo_sync_max_cells` are refused with 422 on n_paths (they are
    for the jobs API); engine errors become 422 naming the body field.
    """
    req = build_request(body)
    try:
        req.validate()
    except EngineError as exc:
        raise engine_error(exc) from exc
    cells = work_cells(req)
    if cells > settings.monte_carlo_sync_max_cells:
        raise ValidationFailed.single(
            ("body", "n_paths"),
            f"{cells} path-month-line cells exceed the direct-run limit "
            f"{settings.monte_carlo_sync_max_cells}; submit the run as a monte_carlo job",
        )
    try:  # seeded, hence deterministic: cached by the full request body
        return await cached_result(
            "montecarlo", body, lambda: _counted(result_json(req, _run(req))), work_cells=cells
        )
    except EngineError as exc:
        raise engine_error(exc) from exc


async def run_or_submit(
    session: AsyncSession,
    *,
    body: MonteCarloIn,
    owner_id: str,
    settings: Settings,
    request_id: str | None,
    force_job: bool = False,
    name: str | None = None,
    only_set_fields: bool = True,
) -> dict[str, Any] | jobs.Submitted:
    """The Monte Carlo run path: validate `body` (422 naming the field), then run it now, or
    queue a `monte_carlo` job when `force_job` or it exceeds MONTE_CARLO_SYNC_MAX_CELLS. The
    job's payload is the body without `async` (`only_set_fields`: the fields the client set)."""
    req = build_request(body)
    try:
        req.validate()
    except EngineError as exc:
        raise engine_error(exc) from exc
    return await jobs.run_or_submit(
        session,
        as_job=force_job or work_cells(req) > settings.monte_carlo_sync_max_cells,
        run_now=lambda: run_direct(body=body, settings=settings),
        owner_id=owner_id,
        kind="monte_carlo",
        payload=lambda: body.model_dump(
            mode="json", by_alias=True, exclude_unset=only_set_fields, exclude={"async_"}
        ),
        name=name,
        request_id=request_id,
    )
