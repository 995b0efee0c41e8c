"""ORM tables of pools and forecast runs.

Large numeric results are stored compactly: each scenario's per-period columns are one row with
a Parquet (zstd) blob, and loan-level results are Parquet blobs of `chunk` loans each, so that
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
    """A loan pool: an uploaded tape, or the inline loans of a forecast, as one Parquet blob."""

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
    """One scenario's per-period columns (Parquet blob) and analytics of a forecast run."""

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
