"""All ORM tables: pools, forecast runs, scenarios and their runs, jobs and job chunks (the
pydantic API schemas live beside them in app/models/<area>.py).

Large numeric results are stored compactly: each scenario's per-period columns are one row with
a blob (app.services.columnar: Arrow IPC when small, Parquet zstd when large), and loan-level
results are blobs of `chunk` loans each, so that
they can be paged and streamed without loading everything. Every row has an `owner_id` (the
token's `sub`) directly or through its forecast.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, JSONType, new_id, utcnow


class Pool(Base):
    """A loan pool: an uploaded tape, or the inline loans of a forecast, as one blob."""

    __tablename__ = "pools"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    owner_id: Mapped[str] = mapped_column(String(255), nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    origin: Mapped[str] = mapped_column(String(16), nullable=False)  # upload | inline
    source_format: Mapped[str] = mapped_column(String(16), nullable=False)  # csv|parquet|json
    n_loans: Mapped[int] = mapped_column(Integer, nullable=False)
    total_balance: Mapped[float] = mapped_column(Float, nullable=False)
    columns: Mapped[list[str]] = mapped_column(JSONType, nullable=False)
    column_map: Mapped[dict[str, str] | None] = mapped_column(JSONType, nullable=True)
    data: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    size_bytes: Mapped[int] = mapped_column(Integer, nullable=False)
    request_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (Index(None, "owner_id", "origin", "created_at"),)


class ForecastRun(Base):
    """One forecast request: its inputs, status, timings and where its results are."""

    __tablename__ = "forecast_runs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    owner_id: Mapped[str] = mapped_column(String(255), nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    pool_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("pools.id", ondelete="SET NULL"), nullable=True
    )
    inputs: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False)
    n_loans: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    n_periods: Mapped[int | None] = mapped_column(Integer, nullable=True)
    n_scenarios: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    loan_level: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    request_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    duration_ms: Mapped[float | None] = mapped_column(Float, nullable=True)

    scenarios: Mapped[list[ForecastScenario]] = relationship(
        back_populates="forecast",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="ForecastScenario.scenario_index",
        lazy="raise",
    )

    __table_args__ = (
        Index(None, "owner_id", "created_at"),
        Index(None, "owner_id", "status"),
        Index(None, "owner_id", "name"),
    )


class ForecastScenario(Base):
    """One scenario's per-period columns (one blob) and analytics of a forecast run."""

    __tablename__ = "forecast_scenarios"

    forecast_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("forecast_runs.id", ondelete="CASCADE"), primary_key=True
    )
    scenario_index: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    assumptions: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False)
    n_periods: Mapped[int] = mapped_column(Integer, nullable=False)
    columns_format: Mapped[str] = mapped_column(String(16), nullable=False, default="parquet")
    columns_data: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    analytics: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    analytics_error: Mapped[str | None] = mapped_column(Text, nullable=True)

    forecast: Mapped[ForecastRun] = relationship(back_populates="scenarios", lazy="raise")


class ForecastLoanChunk(Base):
    """Loan-level results of loans [loan_start, loan_start + loan_count) of one scenario."""

    __tablename__ = "forecast_loan_chunks"

    forecast_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("forecast_runs.id", ondelete="CASCADE"), primary_key=True
    )
    scenario_index: Mapped[int] = mapped_column(Integer, primary_key=True)
    chunk_index: Mapped[int] = mapped_column(Integer, primary_key=True)
    loan_start: Mapped[int] = mapped_column(Integer, nullable=False)
    loan_count: Mapped[int] = mapped_column(Integer, nullable=False)
    data: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)


# ---- scenarios ------------------------------------------------------------------------------
class Scenario(Base):
    """A named assumption set owned by one user; `version` grows by one on every update."""

    __tablename__ = "scenarios"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    owner_id: Mapped[str] = mapped_column(String(255), nullable=False)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    tags: Mapped[list[str]] = mapped_column(JSONType, nullable=False, default=list)
    template: Mapped[str | None] = mapped_column(String(64), nullable=True)
    extends_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("scenarios.id", ondelete="RESTRICT"), nullable=True
    )
    definition: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (
        Index(None, "owner_id", "name"),
        Index(None, "owner_id", "updated_at"),
        Index(None, "extends_id"),
    )


class ScenarioTag(Base):
    """One tag of a scenario (a row per tag, so that the tag filter is plain SQL everywhere)."""

    __tablename__ = "scenario_tags"

    scenario_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("scenarios.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(64), primary_key=True)

    __table_args__ = (Index(None, "tag"),)


class ScenarioRun(Base):
    """One scenario inside a forecast run: which scenario and version it was, what was
    resolved, and the risk block computed for it."""

    __tablename__ = "scenario_runs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    owner_id: Mapped[str] = mapped_column(String(255), nullable=False)
    forecast_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("forecast_runs.id", ondelete="CASCADE"), nullable=False
    )
    scenario_index: Mapped[int] = mapped_column(Integer, nullable=False)
    scenario_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("scenarios.id", ondelete="SET NULL"), nullable=True
    )
    scenario_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    resolved: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False)
    risk: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (Index(None, "scenario_id", "created_at"), Index(None, "forecast_id"))


# ---- jobs -----------------------------------------------------------------------------------
class Job(Base):
    """One long run: its inputs, owner, state, progress, timings, error and result."""

    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    owner_id: Mapped[str] = mapped_column(String(255), nullable=False)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    state: Mapped[str] = mapped_column(String(16), nullable=False, default="queued")
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False)
    n_chunks: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    progress_done: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    progress_total: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    message: Mapped[str | None] = mapped_column(Text, nullable=True)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    result_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    request_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    enqueued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    duration_ms: Mapped[float | None] = mapped_column(Float, nullable=True)

    __table_args__ = (
        Index(None, "owner_id", "created_at"),
        Index(None, "state", "heartbeat_at"),
    )


class JobChunk(Base):
    """One chunk of a job: its progress, attempts and (once finished) its result blob."""

    __tablename__ = "job_chunks"

    job_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True
    )
    chunk_index: Mapped[int] = mapped_column(Integer, primary_key=True)
    done: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    total: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    finished: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    data: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
