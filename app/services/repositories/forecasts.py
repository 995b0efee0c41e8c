"""SQL for forecast runs, their per-scenario result blobs and loan-level chunks.

Every entry point takes the owner: a run of another user is never returned (the API turns that
into 404). Blob columns are loaded only when asked for.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from app.models.tables import ForecastLoanChunk, ForecastRun, ForecastScenario


@dataclass(frozen=True)
class ForecastFilters:
    """Filters of the forecast list: name (case-insensitive substring), status, created range."""

    name: str | None = None
    status: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class ForecastRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get_owned(self, owner_id: str, forecast_id: str) -> ForecastRun | None:
        stmt = select(ForecastRun).where(
            ForecastRun.id == forecast_id, ForecastRun.owner_id == owner_id
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def list_owned(
        self, owner_id: str, filters: ForecastFilters, *, limit: int, offset: int
    ) -> tuple[list[ForecastRun], int]:
        """Newest first (ties by id), with the total count matching the filters."""
        cond = [ForecastRun.owner_id == owner_id]
        if filters.name:
            cond.append(
                func.lower(ForecastRun.name).like(_like_pattern(filters.name.lower()), escape="\\")
            )
        if filters.status:
            cond.append(ForecastRun.status == filters.status)
        if filters.created_after:
            cond.append(ForecastRun.created_at >= filters.created_after)
        if filters.created_before:
            cond.append(ForecastRun.created_at < filters.created_before)
        count = select(func.count()).select_from(ForecastRun).where(*cond)
        total = (await self.session.execute(count)).scalar_one()
        stmt = (
            select(ForecastRun)
            .where(*cond)
            .options(defer(ForecastRun.inputs))
            .order_by(ForecastRun.created_at.desc(), ForecastRun.id.desc())
            .limit(limit)
            .offset(offset)
        )
        return list((await self.session.execute(stmt)).scalars()), int(total)

    async def scenarios(
        self, forecast_id: str, *, with_data: bool = False, name: str | None = None
    ) -> list[ForecastScenario]:
        stmt = select(ForecastScenario).where(ForecastScenario.forecast_id == forecast_id)
        if name is not None:
            stmt = stmt.where(ForecastScenario.name == name)
        if not with_data:
            stmt = stmt.options(defer(ForecastScenario.columns_data))
        stmt = stmt.order_by(ForecastScenario.scenario_index)
        return list((await self.session.execute(stmt)).scalars())

    async def chunk_index(
        self, forecast_id: str, scenario_index: int
    ) -> list[tuple[int, int, int]]:
        """(chunk_index, loan_start, loan_count) of a scenario's loan-level chunks, in order."""
        stmt = (
            select(
                ForecastLoanChunk.chunk_index,
                ForecastLoanChunk.loan_start,
                ForecastLoanChunk.loan_count,
            )
            .where(
                ForecastLoanChunk.forecast_id == forecast_id,
                ForecastLoanChunk.scenario_index == scenario_index,
            )
            .order_by(ForecastLoanChunk.chunk_index)
        )
        return [tuple(r) for r in (await self.session.execute(stmt)).all()]  # type: ignore[misc]

    async def chunk_data(self, forecast_id: str, scenario_index: int, chunk_index: int) -> bytes:
        stmt = select(ForecastLoanChunk.data).where(
            ForecastLoanChunk.forecast_id == forecast_id,
            ForecastLoanChunk.scenario_index == scenario_index,
            ForecastLoanChunk.chunk_index == chunk_index,
        )
        return (await self.session.execute(stmt)).scalar_one()
