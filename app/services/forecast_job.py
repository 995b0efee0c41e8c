"""The `forecast` job kind: one unit that runs and stores a forecast in the job's transaction
(the payload is the POST /cashflow/forecast body; the stored forecast's id is the result)."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.errors import ValidationFailed
from app.models.forecasts import ForecastRequest
from app.models.tables import Job
from app.services import forecasts

__all__ = ["run_whole", "validate"]


async def run_whole(
    session: AsyncSession, job: Job, settings: Settings
) -> tuple[dict[str, Any] | None, str | None]:
    """Run and store the forecast in the caller's transaction; the forecast id is the result."""
    request = ForecastRequest.model_validate(job.payload)
    run, _ = await forecasts.create_forecast(
        session,
        owner_id=job.owner_id,
        request=request,
        settings=settings,
        request_id=job.request_id,
    )
    return None, run.id


def validate(payload: dict[str, Any], settings: Settings) -> None:
    """Parse the forecast request and check its size limits (422 naming the field)."""
    try:
        request = ForecastRequest.model_validate(payload)
    except ValidationError as exc:
        raise ValidationFailed(
            [
                {"loc": ["body", "payload", *e["loc"]], "msg": e["msg"], "type": e["type"]}
                for e in exc.errors(include_url=False, include_context=False, include_input=False)
            ]
        ) from exc
    forecasts.check_limits(request, settings)
