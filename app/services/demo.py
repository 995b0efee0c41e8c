"""The built-in demo pool (`demo-pool`, four fixed-rate mortgages) and demo scenario
(`demo-scenario`, 150% PSA, 2 CDR, 35% severity, 6-month lag), inserted at start-up when they
are missing. Every caller can read them and run analyses on them; updates and deletes answer 403
(`app.models.demo.READ_ONLY_MESSAGE`)."""

from __future__ import annotations

import logging

import anyio
from sqlalchemy import select

from app.core.db import Database
from app.models.base import utcnow
from app.models.demo import DEMO_OWNER, DEMO_POOL_ID, DEMO_SCENARIO_ID
from app.models.scenarios import ScenarioCreate
from app.models.tables import Pool, Scenario, ScenarioTag
from app.services.pools import _pool_row, pool_from_loans
from app.services.scenarios.resolution import definition_of

log = logging.getLogger(__name__)

DEMO_LOANS: list[dict[str, object]] = [
    {
        "loan_id": "D1",
        "balance": 250000.0,
        "rate": 0.065,
        "original_term_months": 360,
        "age_months": 12,
        "servicing_fee": 0.0025,
    },
    {
        "loan_id": "D2",
        "balance": 180000.0,
        "rate": 0.0575,
        "original_term_months": 360,
        "age_months": 30,
        "servicing_fee": 0.0025,
    },
    {
        "loan_id": "D3",
        "balance": 320000.0,
        "rate": 0.07,
        "original_term_months": 360,
        "age_months": 6,
        "servicing_fee": 0.0025,
    },
    {
        "loan_id": "D4",
        "balance": 95000.0,
        "rate": 0.06,
        "original_term_months": 180,
        "age_months": 24,
        "servicing_fee": 0.0025,
    },
]
DEMO_SCENARIO = ScenarioCreate.model_validate(
    {
        "name": "demo: moderate credit",
        "description": "Built-in demo scenario (read-only): 150% PSA, 2% CDR, 35% severity, "
        "6-month recovery lag.",
        "tags": ["demo"],
        "assumptions": {
            "prepayment": {"type": "psa", "speed": 150},
            "default": {"type": "cdr", "rate": 0.02},
            "severity": 0.35,
            "recovery_lag_months": 6,
        },
    }
)


def _demo_pool_row() -> Pool:
    row = _pool_row(
        pool_from_loans(list(DEMO_LOANS)),
        owner_id=DEMO_OWNER,
        name="demo pool (built-in, read-only)",
        origin="upload",
        source_format="json",
        column_map=None,
        request_id=None,
    )
    row.id = DEMO_POOL_ID
    return row


async def seed_demo(database: Database) -> None:
    """Insert the demo pool and scenario if they are not there (idempotent)."""
    async with database.session() as session:
        if (await session.execute(select(Pool.id).where(Pool.id == DEMO_POOL_ID))).first() is None:
            session.add(await anyio.to_thread.run_sync(_demo_pool_row))
        have = select(Scenario.id).where(Scenario.id == DEMO_SCENARIO_ID)
        if (await session.execute(have)).first() is None:
            now = utcnow()
            session.add(
                Scenario(
                    id=DEMO_SCENARIO_ID,
                    owner_id=DEMO_OWNER,
                    name=DEMO_SCENARIO.name,
                    description=DEMO_SCENARIO.description,
                    tags=list(DEMO_SCENARIO.tags),
                    template=None,
                    extends_id=None,
                    definition=definition_of(DEMO_SCENARIO),
                    version=1,
                    created_at=now,
                    updated_at=now,
                )
            )
            await session.flush()
            session.add_all(
                [ScenarioTag(scenario_id=DEMO_SCENARIO_ID, tag=t) for t in DEMO_SCENARIO.tags]
            )


async def seed_demo_or_log(database: Database) -> None:
    """seed_demo at start-up; a failure (e.g. tables not migrated yet) is logged, not fatal."""
    try:
        await seed_demo(database)
    except Exception:  # noqa: BLE001 - the demo rows are a convenience, never a start-up blocker
        log.warning("could not seed the demo pool and scenario", exc_info=True)
