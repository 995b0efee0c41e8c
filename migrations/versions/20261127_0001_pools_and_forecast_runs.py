"""Pools (loan tapes) and forecast runs with their per-scenario and loan-level result blobs.

Revision ID: 0001
Revises:
Create Date: 2026-11-27 15:38:06.444431
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# JSON on SQLite, JSONB on PostgreSQL (as in app.models.base).
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pools",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("owner_id", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("source_format", sa.String(length=16), nullable=False),
        sa.Column("n_loans", sa.Integer(), nullable=False),
        sa.Column("total_balance", sa.Float(), nullable=False),
        sa.Column("columns", JSON, nullable=False),
        sa.Column("column_map", JSON, nullable=True),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.String(length=128), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pools")),
    )
    with op.batch_alter_table("pools", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pools_owner_id_origin_created_at"),
            ["owner_id", "origin", "created_at"],
            unique=False,
        )

    op.create_table(
        "forecast_runs",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("owner_id", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("pool_id", sa.String(length=36), nullable=True),
        sa.Column("inputs", JSON, nullable=False),
        sa.Column("n_loans", sa.Integer(), nullable=False),
        sa.Column("n_periods", sa.Integer(), nullable=True),
        sa.Column("n_scenarios", sa.Integer(), nullable=False),
        sa.Column("loan_level", sa.Boolean(), nullable=False),
        sa.Column("error", JSON, nullable=True),
        sa.Column("request_id", sa.String(length=128), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("duration_ms", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["pool_id"],
            ["pools.id"],
            name=op.f("fk_forecast_runs_pool_id_pools"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_forecast_runs")),
    )
    with op.batch_alter_table("forecast_runs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_forecast_runs_owner_id_created_at"),
            ["owner_id", "created_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_forecast_runs_owner_id_name"), ["owner_id", "name"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_forecast_runs_owner_id_status"), ["owner_id", "status"], unique=False
        )

    op.create_table(
        "forecast_loan_chunks",
        sa.Column("forecast_id", sa.String(length=36), nullable=False),
        sa.Column("scenario_index", sa.Integer(), nullable=False),
        sa.Column("chunk_index", sa.Integer(), nullable=False),
        sa.Column("loan_start", sa.Integer(), nullable=False),
        sa.Column("loan_count", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["forecast_id"],
            ["forecast_runs.id"],
            name=op.f("fk_forecast_loan_chunks_forecast_id_forecast_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "forecast_id", "scenario_index", "chunk_index", name=op.f("pk_forecast_loan_chunks")
        ),
    )
    op.create_table(
        "forecast_scenarios",
        sa.Column("forecast_id", sa.String(length=36), nullable=False),
        sa.Column("scenario_index", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("assumptions", JSON, nullable=False),
        sa.Column("n_periods", sa.Integer(), nullable=False),
        sa.Column("columns_format", sa.String(length=16), nullable=False),
        sa.Column("columns_data", sa.LargeBinary(), nullable=False),
        sa.Column("analytics", JSON, nullable=True),
        sa.Column("analytics_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["forecast_id"],
            ["forecast_runs.id"],
            name=op.f("fk_forecast_scenarios_forecast_id_forecast_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "forecast_id", "scenario_index", name=op.f("pk_forecast_scenarios")
        ),
    )


def downgrade() -> None:
    op.drop_table("forecast_scenarios")
    op.drop_table("forecast_loan_chunks")
    with op.batch_alter_table("forecast_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_forecast_runs_owner_id_status"))
        batch_op.drop_index(batch_op.f("ix_forecast_runs_owner_id_name"))
        batch_op.drop_index(batch_op.f("ix_forecast_runs_owner_id_created_at"))

    op.drop_table("forecast_runs")
    with op.batch_alter_table("pools", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pools_owner_id_origin_created_at"))

    op.drop_table("pools")
