"""Scenarios (versioned assumption sets), their tags, and the scenario runs inside forecasts.

Revision ID: 0009_scenarios
Revises: 0008_jobs
Create Date: 2026-11-27 16:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# JSON on SQLite, JSONB on PostgreSQL (as in app.models.base).
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision: str = "0009_scenarios"
down_revision: str | None = "0008_jobs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "scenarios",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("owner_id", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("tags", JSON, nullable=False),
        sa.Column("template", sa.String(length=64), nullable=True),
        sa.Column("extends_id", sa.String(length=36), nullable=True),
        sa.Column("definition", JSON, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["extends_id"],
            ["scenarios.id"],
            name=op.f("fk_scenarios_extends_id_scenarios"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scenarios")),
    )
    with op.batch_alter_table("scenarios", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_scenarios_owner_id_name"), ["owner_id", "name"])
        batch_op.create_index(
            batch_op.f("ix_scenarios_owner_id_updated_at"), ["owner_id", "updated_at"]
        )
        batch_op.create_index(batch_op.f("ix_scenarios_extends_id"), ["extends_id"])

    op.create_table(
        "scenario_tags",
        sa.Column("scenario_id", sa.String(length=36), nullable=False),
        sa.Column("tag", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["scenario_id"],
            ["scenarios.id"],
            name=op.f("fk_scenario_tags_scenario_id_scenarios"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("scenario_id", "tag", name=op.f("pk_scenario_tags")),
    )
    with op.batch_alter_table("scenario_tags", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_scenario_tags_tag"), ["tag"])

    op.create_table(
        "scenario_runs",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("owner_id", sa.String(length=255), nullable=False),
        sa.Column("forecast_id", sa.String(length=36), nullable=False),
        sa.Column("scenario_index", sa.Integer(), nullable=False),
        sa.Column("scenario_id", sa.String(length=36), nullable=True),
        sa.Column("scenario_version", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("resolved", JSON, nullable=False),
        sa.Column("risk", JSON, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["forecast_id"],
            ["forecast_runs.id"],
            name=op.f("fk_scenario_runs_forecast_id_forecast_runs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["scenario_id"],
            ["scenarios.id"],
            name=op.f("fk_scenario_runs_scenario_id_scenarios"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scenario_runs")),
    )
    with op.batch_alter_table("scenario_runs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_scenario_runs_scenario_id_created_at"), ["scenario_id", "created_at"]
        )
        batch_op.create_index(batch_op.f("ix_scenario_runs_forecast_id"), ["forecast_id"])


def downgrade() -> None:
    with op.batch_alter_table("scenario_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scenario_runs_forecast_id"))
        batch_op.drop_index(batch_op.f("ix_scenario_runs_scenario_id_created_at"))
    op.drop_table("scenario_runs")
    with op.batch_alter_table("scenario_tags", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scenario_tags_tag"))
    op.drop_table("scenario_tags")
    with op.batch_alter_table("scenarios", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scenarios_extends_id"))
        batch_op.drop_index(batch_op.f("ix_scenarios_owner_id_updated_at"))
        batch_op.drop_index(batch_op.f("ix_scenarios_owner_id_name"))
    op.drop_table("scenarios")
