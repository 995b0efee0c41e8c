"""Scenario CRUD with optimistic versioning (`version` grows by one on every update), and
the list of a scenario's runs."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import Conflict, Forbidden, NotFound
from app.models.base import new_id, utcnow
from app.models.demo import DEMO_OWNER, READ_ONLY_MESSAGE
from app.models.scenarios import ResolvedScenario, ScenarioCreate, ScenarioUpdate
from app.models.tables import Scenario, ScenarioRun
from app.services.repositories.scenarios import ScenarioRepository
from app.services.scenarios.resolution import definition_of, resolve_fields, resolve_row


def _refuse_demo(row: Scenario) -> None:
    if row.owner_id == DEMO_OWNER:
        raise Forbidden(
            READ_ONLY_MESSAGE.format(
                what="scenario", id=row.id, how="POST /api/v1/scenarios/ with extends"
            )
        )


async def create_scenario(
    session: AsyncSession, *, owner_id: str, body: ScenarioCreate
) -> tuple[Scenario, ResolvedScenario]:
    repo = ScenarioRepository(session)
    sid = new_id()
    resolved = await resolve_fields(repo, owner_id, body, ("body",), label=f"scenario:{sid}")
    now = utcnow()
    row = Scenario(
        id=sid,
        owner_id=owner_id,
        name=body.name,
        description=body.description,
        tags=list(dict.fromkeys(body.tags)),
        template=body.template,
        extends_id=body.extends,
        definition=definition_of(body),
        version=1,
        created_at=now,
        updated_at=now,
    )
    await repo.add(row, row.tags)
    return row, resolved


async def get_scenario(session: AsyncSession, *, owner_id: str, scenario_id: str) -> Scenario:
    row = await ScenarioRepository(session).get_owned(owner_id, scenario_id)
    if row is None:
        raise NotFound("scenario not found")
    return row


async def read_scenario(
    session: AsyncSession, *, owner_id: str, scenario_id: str
) -> tuple[Scenario, ResolvedScenario]:
    row = await get_scenario(session, owner_id=owner_id, scenario_id=scenario_id)
    return row, await resolve_row(ScenarioRepository(session), owner_id, row)


async def list_scenarios(
    session: AsyncSession,
    *,
    owner_id: str,
    name: str | None,
    tag: str | None,
    limit: int,
    offset: int,
) -> tuple[list[tuple[Scenario, ResolvedScenario]], int]:
    repo = ScenarioRepository(session)
    rows, total = await repo.list_owned(owner_id, name=name, tag=tag, limit=limit, offset=offset)
    return [(r, await resolve_row(repo, owner_id, r)) for r in rows], total


async def update_scenario(
    session: AsyncSession, *, owner_id: str, scenario_id: str, body: ScenarioUpdate
) -> tuple[Scenario, ResolvedScenario]:
    """Replace the scenario's fields if `body.version` is the stored version (else 409)."""
    repo = ScenarioRepository(session)
    row = await repo.get_owned(owner_id, scenario_id)
    if row is None:
        raise NotFound("scenario not found")
    _refuse_demo(row)
    if row.version != body.version:
        raise Conflict(
            f"scenario was updated since you read it: version {row.version}, you sent "
            f"{body.version}; read it again and re-apply your change"
        )
    resolved = await resolve_fields(
        repo, owner_id, body, ("body",), self_id=scenario_id, label=f"scenario:{scenario_id}"
    )
    tags = list(dict.fromkeys(body.tags))
    values: dict[str, Any] = {
        "name": body.name,
        "description": body.description,
        "tags": tags,
        "template": body.template,
        "extends_id": body.extends,
        "definition": definition_of(body),
        "updated_at": utcnow(),
    }
    fresh = await repo.update_if_version(
        owner_id, scenario_id, body.version, values, values["tags"]
    )
    if fresh is None:
        raise Conflict("scenario was updated concurrently; read it again and re-apply your change")
    return fresh, resolved


async def delete_scenario(session: AsyncSession, *, owner_id: str, scenario_id: str) -> None:
    repo = ScenarioRepository(session)
    row = await repo.get_owned(owner_id, scenario_id)
    if row is None:
        raise NotFound("scenario not found")
    _refuse_demo(row)
    children = await repo.children(scenario_id)
    if children:
        raise Conflict(f"scenarios {children} extend this one; delete or re-base them first")
    await repo.delete(row)


async def list_runs(
    session: AsyncSession, *, owner_id: str, scenario_id: str, limit: int, offset: int
) -> tuple[list[ScenarioRun], int]:
    await get_scenario(session, owner_id=owner_id, scenario_id=scenario_id)
    return await ScenarioRepository(session).runs_of(
        owner_id, scenario_id, limit=limit, offset=offset
    )
