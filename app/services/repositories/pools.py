"""SQL for pools. Every read is scoped to an owner: another user's pool does not exist."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from app.models.demo import readable_owners
from app.models.tables import Pool


class PoolRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, pool: Pool) -> Pool:
        self.session.add(pool)
        await self.session.flush()
        return pool

    async def get_owned(
        self, owner_id: str, pool_id: str, *, with_data: bool = True
    ) -> Pool | None:
        """The pool if it exists and belongs to `owner_id` (or is the built-in demo), else None."""
        stmt = select(Pool).where(Pool.id == pool_id, Pool.owner_id.in_(readable_owners(owner_id)))
        if not with_data:
            stmt = stmt.options(defer(Pool.data))
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def list_owned(
        self,
        owner_id: str,
        *,
        origin: str | tuple[str, ...] | None = ("upload", "tape"),
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[Pool], int]:
        """Newest first, without the data blobs; also the total count (uploaded tapes: blobs
        and files)."""
        cond = [Pool.owner_id == owner_id]
        if isinstance(origin, str):
            cond.append(Pool.origin == origin)
        elif origin is not None:
            cond.append(Pool.origin.in_(origin))
        total = (
            await self.session.execute(select(func.count()).select_from(Pool).where(*cond))
        ).scalar_one()
        stmt = (
            select(Pool)
            .where(*cond)
            .options(defer(Pool.data))
            .order_by(Pool.created_at.desc(), Pool.id.desc())
            .limit(limit)
            .offset(offset)
        )
        return list((await self.session.execute(stmt)).scalars()), int(total)
