"""The `warnings` item of any response: a value that could not be computed is null, and says why."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ValueWarning(BaseModel):
    """Why a field of the response is null: `field` is its path (dot-separated), `reason` why."""

    field: str = Field(description="Path of the null field in the response, e.g. `irr`.")
    reason: str = Field(description="Why it could not be computed.")
