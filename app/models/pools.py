"""Schemas of the pools API (loan tapes uploaded as CSV or Parquet)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class PoolOut(BaseModel):
    """A stored pool: reference it in a forecast as {"pool": {"pool_id": ...}}."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "pool_id": "7d3f3c8e-3c1e-4f4e-9b8a-2f1d0c9b8a7e",
                    "name": "tape-2026-09",
                    "origin": "upload",
                    "source_format": "csv",
                    "n_loans": 12000,
                    "total_balance": 2.41e9,
                    "columns": ["loan_id", "balance", "rate", "original_term_months"],
                    "column_map": {"CurrentBal": "balance"},
                    "size_bytes": 412345,
                    "created_at": "2026-11-27T15:00:00Z",
                }
            ]
        }
    )

    pool_id: str
    name: str
    origin: str = Field(
        description="upload (a tape), tape (a large tape kept as a file: forecast as a "
        "stream_forecast job) or inline (loans sent with a forecast)."
    )
    source_format: str
    n_loans: int
    total_balance: float = Field(description="Sum of current balances (currency).")
    columns: list[str] = Field(description="Stored fields (engine names, plus ride-along columns).")
    column_map: dict[str, str] | None = Field(None, description="Tape column -> field used.")
    size_bytes: int = Field(description="Size of the stored (compressed) pool.")
    created_at: datetime
    kept_columns: list[str] = Field(
        default_factory=list,
        description="Upload answer: tape columns kept for the asset-class analyses "
        "(commercial, consumer credit), not used by the cash-flow projection.",
    )
    unmapped_columns: list[str] = Field(
        default_factory=list,
        description="Upload answer: tape columns that map to no loan field (not stored).",
    )
    warnings: list[str] = Field(default_factory=list, description="Upload answer: notes.")


class PoolPage(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [PoolOut.model_config["json_schema_extra"]["examples"][0]],  # type: ignore[index]
                    "total": 1,
                    "limit": 20,
                    "offset": 0,
                }
            ]
        }
    )

    items: list[PoolOut]
    total: int
    limit: int
    offset: int
