"""Jobs: the ORM tables of long runs (one `jobs` row per job, one `job_chunks` row per chunk)
and the API schemas of the jobs routes and of the WebSocket progress messages.

A job's state moves queued -> running -> succeeded | failed | cancelled; a terminal state is
never left (every transition is a conditional UPDATE, so duplicate deliveries are harmless).
Chunk results are stored as NumPy `.npz` blobs (no pickle) until the merge, so a chunk that a
killed worker already finished is never computed again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
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
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, JSONType, new_id, utcnow

JobState = Literal["queued", "running", "succeeded", "failed", "cancelled"]
JobKindName = Literal["monte_carlo", "forecast", "consumer_credit"]
TERMINAL_STATES: frozenset[str] = frozenset({"succeeded", "failed", "cancelled"})
ACTIVE_STATES: frozenset[str] = frozenset({"queued", "running"})


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


# --- API schemas ---------------------------------------------------------------------------
class JobProgress(BaseModel):
    """Units of work done and in total (paths for Monte Carlo, scenarios for forecasts)."""

    done: int = Field(..., ge=0, examples=[4000])
    total: int = Field(..., ge=0, examples=[10000])


class JobError(BaseModel):
    type: str = Field(..., examples=["InvalidInput"])
    message: str = Field(..., examples=["severity: must be in [0, 1]"])


class JobOut(BaseModel):
    """A job as the API shows it. Times are UTC ISO 8601; duration in milliseconds."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "job_id": "0b6f4c1e-0c39-4c1b-9d84-2f0c8c0e9a51",
                "kind": "monte_carlo",
                "name": "MC 10k paths",
                "state": "running",
                "progress": {"done": 4000, "total": 10000},
                "message": "4000 of 10000 paths",
                "error": None,
                "result_id": None,
                "result_url": None,
                "request_id": "3f2a9c1b7d4e4f0a",
                "created_at": "2026-11-27T15:00:00Z",
                "started_at": "2026-11-27T15:00:01Z",
                "finished_at": None,
                "duration_ms": None,
            }
        }
    )

    job_id: str
    kind: str
    name: str | None = None
    state: JobState
    progress: JobProgress
    message: str | None = None
    error: JobError | None = None
    result_id: str | None = Field(
        None, description="Id of the stored result: a forecast id for forecast jobs."
    )
    result_url: str | None = Field(
        None, description="Where the result is read: /api/v1/forecasts/{id} or the job's result."
    )
    request_id: str | None = Field(None, description="X-Request-ID of the submitting request.")
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    duration_ms: float | None = None


class JobPage(BaseModel):
    items: list[JobOut]
    total: int
    limit: int
    offset: int


class JobSubmit(BaseModel):
    """A long run submitted as a job directly (the run routes do this themselves for large
    runs): `payload` is the run's request body (a forecast request, or a Monte Carlo request)."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "kind": "monte_carlo",
                "name": "MC 20k paths",
                "payload": {
                    "format": "engine",
                    "pool": {
                        "balance": [1000000.0],
                        "note_rate": [0.065],
                        "remaining_term": [360],
                    },
                    "curve": {"flat": 0.04},
                    "rate_model": {"mean_reversion": 0.03, "volatility": 0.01},
                    "n_paths": 20000,
                    "seed": 7,
                },
            }
        }
    )

    kind: JobKindName
    name: str | None = Field(None, max_length=200)
    payload: dict[str, Any]


class JobAccepted(BaseModel):
    """The 202 answer of a run that became a job."""

    job_id: str = Field(..., examples=["0b6f4c1e-0c39-4c1b-9d84-2f0c8c0e9a51"])
    state: JobState = "queued"
    status_url: str = Field(..., examples=["/api/v1/jobs/0b6f4c1e-0c39-4c1b-9d84-2f0c8c0e9a51"])
    updates_url: str = Field("/ws/updates", description="WebSocket for live progress.")


class JobUpdate(BaseModel):
    """One progress message, as published by workers and forwarded over WS /ws/updates."""

    job_id: str
    state: JobState
    progress: JobProgress
    message: str | None = None
    ts: float = Field(..., description="Unix time (seconds) the message was produced.")
