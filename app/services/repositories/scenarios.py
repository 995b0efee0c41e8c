"""SQL for scenarios, their tags and their runs. Every read is scoped to an owner (another
user's scenario does not exist); updates are conditional on the version (optimistic locking)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.demo import readable_owners
from app.models.tables import Scenario, ScenarioRun, ScenarioTag


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class ScenarioRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, row: Scenario, tags: Sequence[str]) -> Scenario:
        self.session.add(row)
        await self.session.flush()
        self.session.add_all([ScenarioTag(scenario_id=row.id, tag=t) for t in dict.fromkeys(tags)])
        await self.session.flush()
        return row

    async def get_owned(self, owner_id: str, scenario_id: str) -> Scenario | None:
        """The scenario if it is `owner_id`'s (or the built-in demo), else None."""
        stmt = select(Scenario).where(
            Scenario.id == scenario_id, Scenario.owner_id.in_(readable_owners(owner_id))
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def get_many_owned(self, owner_id: str, ids: Sequence[str]) -> dict[str, Scenario]:
        stmt = select(Scenario).where(
            Scenario.owner_id.in_(readable_owners(owner_id)), Scenario.id.in_(list(ids))
        )
        return {r.id: r for r in (await self.session.execute(stmt)).scalars()}

    async def list_owned(
        self, owner_id: str, *, name: str | None, tag: str | None, limit: int, offset: int
    ) -> tuple[list[Scenario], int]:
        """Most recently updated first (ties by id), with the total count of matches.
        name: case-insensitive substring; tag: exact tag."""
        cond: list[Any] = [Scenario.owner_id == owner_id]
        if name:
            cond.append(func.lower(Scenario.name).like(_like_pattern(name.lower()), escape="\\"))
        if tag:
            cond.append(
                Scenario.id.in_(select(ScenarioTag.scenario_id).where(ScenarioTag.tag == tag))
            )
        total = (
            await self.session.execute(select(func.count()).select_from(Scenario).where(*cond))
        ).scalar_one()
        stmt = (
            select(Scenario)
            .where(*cond)
            .order_by(Scenario.updated_at.desc(), Scenario.id.desc())
            .limit(limit)
            .offset(offset)
        )
        return list((await self.session.execute(stmt)).scalars()), int(total)

    async def update_if_version(
        self,
        owner_id: str,
        scenario_id: str,
        version: int,
        values: dict[str, Any],
        tags: Sequence[str],
    ) -> Scenario | None:
        """Apply `values` and bump the version only if the stored version is `version`
        (one conditional UPDATE, so two concurrent writers cannot both win). None if stale."""
        stmt = (
            update(Scenario)
            .where(
                Scenario.id == scenario_id,
                Scenario.owner_id == owner_id,
                Scenario.version == version,
            )
            .values(**values, version=Scenario.version + 1)
            .execution_options(synchronize_session=False)
        )
        result = await self.session.execute(stmt)
        if result.rowcount != 1:  # type: ignore[attr-defined]
            return None
        await self.session.execute(
            delete(ScenarioTag).where(ScenarioTag.scenario_id == scenario_id)
        )
        self.session.add_all(
            [ScenarioTag(scenario_id=scenario_id, tag=t) for t in dict.fromkeys(tags)]
        )
        await self.session.flush()
        fresh = (
            select(Scenario)
            .where(Scenario.id == scenario_id)
            .execution_options(populate_existing=True)
        )
        return (await self.session.execute(fresh)).scalar_one()

    async def children(self, scenario_id: str) -> list[str]:
        """Ids of scenarios that extend this one."""
        stmt = select(Scenario.id).where(Scenario.extends_id == scenario_id)
        return list((await self.session.execute(stmt)).scalars())

    async def delete(self, row: Scenario) -> None:
        await self.session.execute(
            update(ScenarioRun)
            .where(ScenarioRun.scenario_id == row.id)
            .values(scenario_id=None)
            .execution_options(synchronize_session=False)
        )
        await self.session.delete(row)
        await self.session.flush()

    async def add_runs(self, runs: Sequence[ScenarioRun]) -> None:
        self.session.add_all(list(runs))
        await self.session.flush()

    async def runs_of(
        self, owner_id: str, scenario_id: str, *, limit: int, offset: int
    ) -> tuple[list[ScenarioRun], int]:
        cond = [ScenarioRun.owner_id == owner_id, ScenarioRun.scenario_id == scenario_id]
        total = (
            await self.session.execute(select(func.count()).select_from(ScenarioRun).where(*cond))
        ).scalar_one()
        stmt = (
            select(ScenarioRun)
            .where(*cond)
            .order_by(ScenarioRun.created_at.desc(), ScenarioRun.id.desc())
            .limit(limit)
            .offset(offset)
        )
        return list((await self.session.execute(stmt)).scalars()), int(total)
