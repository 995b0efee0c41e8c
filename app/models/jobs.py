"""Jobs: the API schemas of the jobs routes and of the WebSocket progress messages, and the
job states (the `jobs` and `job_chunks` tables are in app/models/tables.py).

A job's state moves queued -> running -> succeeded | failed | cancelled; a terminal state is
never left (every transition is a conditional UPDATE, so duplicate deliveries are harmless).
Chunk results are stored as NumPy `.npz` blobs (no pickle) until the merge, so a chunk that a
killed worker already finished is never computed again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

JobState = Literal["queued", "running", "succeeded", "failed", "cancelled"]
JobKindName = Literal[
    "monte_carlo",
    "forecast",
    "clo_monte_carlo",
    "consumer_credit",
    "commercial_portfolio_loss",
    "stream_forecast",
]
TERMINAL_STATES: frozenset[str] = frozenset({"succeeded", "failed", "cancelled"})
ACTIVE_STATES: frozenset[str] = frozenset({"queued", "running"})


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
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "kind": "monte_carlo",
                    "name": "MC 400 paths",
                    "payload": {
                        "pool": {
                            "balance": [1000000.0],
                            "note_rate": [0.065],
                            "remaining_term": [360],
                        },
                        "curve": {"times": [1.0, 10.0, 30.0], "rates": [0.04, 0.042, 0.045]},
                        "rate_model": {
                            "type": "hull_white",
                            "mean_reversion": 0.03,
                            "volatility": 0.01,
                        },
                        "n_paths": 400,
                        "block_size": 100,
                        "price_pct": 99.5,
                        "seed": 7,
                    },
                }
            ]
        },
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
