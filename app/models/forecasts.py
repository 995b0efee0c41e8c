"""Request and response schemas of the forecasts API (the API contract, with examples).

Units: `rate` fields are decimals (annual for cpr/cdr and their vectors, monthly for smm/mdr
vectors and for abs), `speed` is a percent of the standard curve for psa/sda (150 = 150% PSA),
terms and ages are months, money is in the pool's currency. Loan fields are those of
`app.engine.pool.LoanPool.from_columns`; the engine checks their values (every problem is
reported with its row and column).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from app.engine.pool import MAX_TERM_MONTHS
from app.engine.types import CASHFLOW_COLUMN_DEFINITIONS, CASHFLOW_COLUMNS
from app.models.schema_rules import exactly_one_of

FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]
Rate = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
Months = Annotated[int, Field(ge=0, le=MAX_TERM_MONTHS)]
"""A count of months: bounded at the edge so no huge integer reaches the engine's arrays."""


# --- pool -------------------------------------------------------------------------------
class LoanIn(BaseModel):
    """One loan. Required: balance, rate, original_term_months; other fields have defaults.
    A field not listed here is refused (422 naming it); the asset-class routes extend this
    with their own loan fields (commercial, consumer credit)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "loan_id": "L1",
                    "balance": 250000.0,
                    "rate": 0.065,
                    "original_term_months": 360,
                    "age_months": 12,
                    "servicing_fee": 0.0025,
                }
            ]
        },
    )

    loan_id: str | None = Field(None, description="Identifier; default: the row number.")
    balance: FiniteFloat = Field(description="Current balance (currency), > 0.")
    rate: FiniteFloat = Field(description="Gross coupon, annual decimal (0.065 = 6.5%).")
    original_term_months: Months = Field(description="Original term in months.")
    net_rate: FiniteFloat | None = Field(
        None, description="Net coupon; default rate - servicing_fee."
    )
    servicing_fee: FiniteFloat | None = Field(None, description="Annual decimal strip; default 0.")
    age_months: Months | None = Field(None, description="Months since origination; default 0.")
    amortization: Literal["level", "interest_only", "balloon", "bullet", "linear"] | None = Field(
        None, description="Repayment type; default level (annuity)."
    )
    io_months: Months | None = Field(None, description="Interest-only months (interest_only).")
    amortization_term_months: Months | None = Field(
        None, description="Amortisation schedule of a balloon; default original_term_months."
    )
    payment_frequency: Literal[1, 3, "monthly", "quarterly"] | None = Field(
        None, description="Months between payments (1 or 3); default 1."
    )
    rate_type: Literal["fixed", "floating"] | None = Field(None, description="Default fixed.")
    index_name: str | None = Field(None, description="Index of a floater (see index_paths).")
    margin: FiniteFloat | None = Field(None, description="Floater margin over the index, decimal.")
    reset_months: Months | None = Field(
        None, description="Months between coupon resets; default 12."
    )
    periodic_cap: float | None = Field(None, description="Largest rise at one reset, decimal.")
    periodic_floor: float | None = Field(None, description="Largest fall at one reset, decimal.")
    life_cap: float | None = Field(None, description="Highest coupon, decimal.")
    life_floor: float | None = Field(None, description="Lowest coupon, decimal; default 0.")


def refuse_unknown_columns(
    columns: dict[str, list[Any]] | None, known: frozenset[str], what: str
) -> dict[str, list[Any]] | None:
    """The inline `columns` form follows the rule of the `loans` form: a column that is no
    field of `what` is refused, naming it."""
    if columns is None:
        return None
    unknown = sorted(set(columns) - known)
    if unknown:
        raise ValueError(
            f"unknown column(s) {', '.join(repr(c) for c in unknown)}: not a field of {what} "
            f"(fields: {', '.join(sorted(known))})"
        )
    return columns


LOAN_FIELDS: frozenset[str] = frozenset(LoanIn.model_fields) | {"index"}
"""Field names of a loan in the `columns` form (LoanIn's, plus the tape alias `index`)."""


class PoolRef(BaseModel):
    """A pool: inline `loans`, inline `columns` (field -> list, one entry per loan), or the
    `pool_id` of an uploaded tape (POST /api/v1/pools). Exactly one of them."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra=exactly_one_of(
            "loans",
            "columns",
            "pool_id",
            examples=[
                {"loans": [{"balance": 100000, "rate": 0.06, "original_term_months": 360}]},
                {"pool_id": "7d3f3c8e-3c1e-4f4e-9b8a-2f1d0c9b8a7e"},
            ],
        ),
    )

    loans: list[LoanIn] | None = Field(None, min_length=1)
    columns: dict[str, list[Any]] | None = Field(
        None, description="Columnar form of the same fields: {field: [value per loan]}."
    )
    pool_id: str | None = Field(None, max_length=64)

    @field_validator("columns")
    @classmethod
    def _known_columns(cls, value: dict[str, list[Any]] | None) -> dict[str, list[Any]] | None:
        return refuse_unknown_columns(value, LOAN_FIELDS, "a loan (LoanIn)")

    @model_validator(mode="after")
    def _exactly_one(self) -> PoolRef:
        given = [k for k in ("loans", "columns", "pool_id") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of loans, columns or pool_id")
        return self


# --- assumptions ------------------------------------------------------------------------
class _Speed(BaseModel):
    """A prepayment or default speed; an unknown field is refused, naming it."""

    model_config = ConfigDict(extra="forbid")


class _Vector(_Speed):
    values: list[Rate] = Field(
        min_length=1,
        description="One value per projection period (period 1 first); holds its last value.",
    )


class CPR(_Speed):
    type: Literal["cpr"]
    rate: Rate = Field(description="Constant annual prepayment rate, decimal (0.06 = 6 CPR).")


class PSA(_Speed):
    type: Literal["psa"]
    speed: float = Field(ge=0, le=10_000, description="Percent of the PSA ramp (150 = 150% PSA).")


class ABS(_Speed):
    type: Literal["abs"]
    rate: float = Field(
        ge=0, lt=1, description="Monthly ABS speed, decimal fraction of the original count (0.015)."
    )


class SMMVector(_Vector):
    type: Literal["smm_vector"]


class CPRVector(_Vector):
    type: Literal["cpr_vector"]


class CDR(_Speed):
    type: Literal["cdr"]
    rate: Rate = Field(description="Constant annual default rate, decimal (0.02 = 2 CDR).")


class SDA(_Speed):
    type: Literal["sda"]
    speed: float = Field(ge=0, le=10_000, description="Percent of the SDA curve (100 = 100% SDA).")


class MDRVector(_Vector):
    type: Literal["mdr_vector"]


class CDRVector(_Vector):
    type: Literal["cdr_vector"]


Prepayment = Annotated[CPR | PSA | ABS | SMMVector | CPRVector, Field(discriminator="type")]
Default = Annotated[CDR | SDA | MDRVector | CDRVector, Field(discriminator="type")]


class AssumptionsIn(BaseModel):
    """Projection assumptions (DOMAIN.md §2-3)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "prepayment": {"type": "psa", "speed": 150},
                    "default": {"type": "cdr", "rate": 0.02},
                    "severity": 0.35,
                    "recovery_lag_months": 6,
                    "advancing": True,
                }
            ]
        },
    )

    prepayment: Prepayment = Field(
        default_factory=lambda: CPR(type="cpr", rate=0.0), description="Default: 0 CPR."
    )
    default: Default = Field(
        default_factory=lambda: CDR(type="cdr", rate=0.0), description="Default: 0 CDR."
    )
    severity: Rate = Field(0.0, description="Loss as a fraction of the balance at default.")
    recovery_lag_months: int = Field(0, ge=0, le=120, description="Months default -> liquidation.")
    advancing: bool = Field(True, description="Servicer advances P&I until liquidation.")
    index_paths: dict[str, list[FiniteFloat]] = Field(
        default_factory=dict,
        description="Annual decimal index rate per projection month, by index name (floaters).",
    )
    n_periods: int | None = Field(
        None, ge=1, description="Horizon in months; default: longest remaining term (+ lag)."
    )


class AssumptionOverrides(BaseModel):
    """Fields of AssumptionsIn to replace for one scenario; each given field replaces the base
    value wholesale (a `prepayment` object replaces the whole base prepayment)."""

    model_config = ConfigDict(extra="forbid")

    prepayment: Prepayment | None = None
    default: Default | None = None
    severity: Rate | None = None
    recovery_lag_months: int | None = Field(None, ge=0, le=120)
    advancing: bool | None = None
    index_paths: dict[str, list[FiniteFloat]] | None = None
    n_periods: int | None = Field(None, ge=1)


class ScenarioIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    assumptions: AssumptionOverrides = Field(default_factory=AssumptionOverrides)


# --- valuation --------------------------------------------------------------------------
class CurveIn(BaseModel):
    """Zero curve: continuously compounded ACT/365F zero rates (decimals) at times in years."""

    model_config = ConfigDict(extra="forbid")

    times: list[Annotated[float, Field(gt=0, allow_inf_nan=False)]] = Field(min_length=1)
    rates: list[FiniteFloat] = Field(min_length=1)
    interpolation: Literal["linear_zero", "log_linear_discount", "flat_forward"] = "linear_zero"

    @model_validator(mode="after")
    def _same_length(self) -> CurveIn:
        if len(self.times) != len(self.rates):
            raise ValueError("times and rates must have the same length")
        return self


class ValuationIn(BaseModel):
    """How to value each scenario's total cash flows. Cash flows fall at t = period/12 years
    (30/360 monthly). Give a flat `discount_rate`, a zero `curve`, and/or a `price`
    (dirty, in currency, or `price_percent` of the starting balance) to solve IRR/z-spread."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"discount_rate": 0.055, "compounding": "compounded", "frequency": 12}]
        },
    )

    discount_rate: FiniteFloat | None = Field(None, description="Flat yield, annual decimal.")
    curve: CurveIn | None = None
    price: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = Field(
        None, description="Dirty price in currency."
    )
    price_percent: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = Field(
        None, description="Dirty price as a percent of the pool's starting balance (101.5)."
    )
    compounding: Literal["simple", "compounded", "continuous"] = "compounded"
    frequency: Literal[1, 2, 4, 12] = Field(12, description="Compounding periods per year.")
    spread_compounding: Literal["simple", "compounded", "continuous"] = "continuous"
    spread_frequency: Literal[1, 2, 4, 12] = 1

    @model_validator(mode="after")
    def _one_price(self) -> ValuationIn:
        if self.price is not None and self.price_percent is not None:
            raise ValueError("give price or price_percent, not both")
        return self


class OptionsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    loan_level: bool = Field(False, description="Also store per-loan totals, WAL and loss.")
    balance_paths: bool = Field(
        False, description="With loan_level: also each loan's ending balance per period."
    )


class ForecastRequest(BaseModel):
    """POST /api/v1/cashflow/forecast body."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "Q3 prime pool",
                    "pool": {
                        "loans": [
                            {
                                "loan_id": "A1",
                                "balance": 300000,
                                "rate": 0.065,
                                "original_term_months": 360,
                            },
                            {
                                "loan_id": "A2",
                                "balance": 150000,
                                "rate": 0.055,
                                "original_term_months": 180,
                                "age_months": 24,
                                "servicing_fee": 0.0025,
                            },
                        ]
                    },
                    "assumptions": {
                        "prepayment": {"type": "psa", "speed": 150},
                        "default": {"type": "cdr", "rate": 0.01},
                        "severity": 0.35,
                        "recovery_lag_months": 6,
                        "advancing": True,
                    },
                    "scenarios": [
                        {"name": "base", "assumptions": {}},
                        {
                            "name": "stress",
                            "assumptions": {"default": {"type": "sda", "speed": 300}},
                        },
                    ],
                    "valuation": {"discount_rate": 0.055},
                    "options": {"loan_level": False},
                }
            ]
        },
    )

    name: str = Field(min_length=1, max_length=200)
    pool: PoolRef
    assumptions: AssumptionsIn = Field(default_factory=AssumptionsIn)
    scenarios: list[ScenarioIn] = Field(
        default_factory=list,
        description="Scenarios to run; empty: one scenario named 'base' with `assumptions`.",
    )
    valuation: ValuationIn | None = None
    options: OptionsIn = Field(default_factory=OptionsIn)
    async_: bool = Field(
        False, alias="async", description="Run as a job (202 + job_id) whatever the size."
    )
    store: bool = Field(
        True,
        description="false: a pricing call that keeps nothing (no forecast, no inline pool "
        "written): the answer is 200 with `forecast_id` null and the same scenarios. Only for "
        "runs that are not jobs (not with `async`, at most JOBS_FORECAST_ASYNC_LOANS loans x "
        "scenarios).",
    )

    @field_validator("scenarios")
    @classmethod
    def _unique_scenarios(cls, scenarios: list[ScenarioIn]) -> list[ScenarioIn]:
        names = [s.name for s in scenarios]
        if len(names) != len(set(names)):
            raise ValueError("scenario names must be unique")
        return scenarios


# --- responses --------------------------------------------------------------------------
Columns = dict[str, list[float | None]]

_COLUMNS_DOC = (
    "Per-period columns, currency except period. The horizon runs to the longest remaining term "
    "plus the recovery lag (so every default liquidates inside it; the rows after the last "
    "liquidation are zero). "
    + "; ".join(f"`{name}`: {CASHFLOW_COLUMN_DEFINITIONS[name]}" for name in CASHFLOW_COLUMNS)
    + "."
)

Status = Literal["queued", "running", "succeeded", "failed"]


_CF_EXAMPLE: dict[str, Any] = {
    "period": [1, 2],
    "beginning_balance": [450000.0, 448716.5],
    "ending_balance": [448716.5, 447364.2],
    "default": [0.0, 0.0],
    "scheduled_principal": [689.4, 692.6],
    "prepayment": [594.1, 659.7],
    "defaulted_amortization": [0.0, 0.0],
    "foreclosure_balance": [0.0, 0.0],
    "liquidated_balance": [0.0, 0.0],
    "loss": [0.0, 0.0],
    "recovery": [0.0, 0.0],
    "expected_interest": [2312.5, 2305.9],
    "lost_interest": [0.0, 0.0],
    "interest": [2312.5, 2305.9],
    "servicing_fee": [31.3, 31.2],
    "total_cashflow": [3596.0, 3658.2],
}
_ANALYTICS_EXAMPLE: dict[str, Any] = {
    "npv": 451234.5,
    "irr": 0.0049,
    "yield": 0.0601,
    "wal": 7.8,
    "macaulay_duration": 5.9,
    "modified_duration": 5.87,
    "convexity": 52.1,
    "dv01": 264.9,
    "z_spread": None,
    "effective_duration": 5.87,
    "effective_convexity": 52.0,
}


class ScenarioResult(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "base",
                    "n_periods": 2,
                    "cashflows": _CF_EXAMPLE,
                    "analytics": _ANALYTICS_EXAMPLE,
                }
            ]
        }
    )

    name: str
    n_periods: int
    cashflows: Columns = Field(description=_COLUMNS_DOC)
    analytics: dict[str, float | None] | None = Field(
        None,
        description="npv, irr, yield, wal, durations, convexity, dv01, z_spread, effective "
        "duration/convexity (None where not applicable); null when not computed.",
    )


class ScenarioSummary(BaseModel):
    name: str
    n_periods: int
    assumptions: dict[str, Any]
    analytics: dict[str, float | None] | None = None


_SUMMARY_EXAMPLE: dict[str, Any] = {
    "forecast_id": "0b6f1f7e-5c2d-4a55-9d0e-3f1c2b4a5d6e",
    "name": "Q3 prime pool",
    "status": "succeeded",
    "pool_id": "7d3f3c8e-3c1e-4f4e-9b8a-2f1d0c9b8a7e",
    "n_loans": 2,
    "n_periods": 360,
    "n_scenarios": 2,
    "loan_level": False,
    "created_at": "2026-11-27T15:00:00Z",
    "started_at": "2026-11-27T15:00:00Z",
    "finished_at": "2026-11-27T15:00:00.120000Z",
    "duration_ms": 120.4,
    "request_id": "3f2b8c1e9a4d4f7e8b1c2d3e4f5a6b7c",
    "error": None,
}


class ForecastSummary(BaseModel):
    """A stored forecast run, without its numbers."""

    model_config = ConfigDict(json_schema_extra={"examples": [_SUMMARY_EXAMPLE]})

    forecast_id: str
    name: str
    status: Status
    pool_id: str | None
    n_loans: int
    n_periods: int | None
    n_scenarios: int
    loan_level: bool
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    duration_ms: float | None
    request_id: str | None
    error: dict[str, Any] | None = None


class ForecastDetail(ForecastSummary):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **_SUMMARY_EXAMPLE,
                    "inputs": {"name": "Q3 prime pool", "pool": {"pool_id": "7d3f3c8e-..."}},
                    "scenarios": [
                        {
                            "name": "base",
                            "n_periods": 360,
                            "assumptions": {"severity": 0.35},
                            "analytics": _ANALYTICS_EXAMPLE,
                        }
                    ],
                }
            ]
        }
    )

    inputs: dict[str, Any] = Field(description="The request, with inline loans moved to pool_id.")
    scenarios: list[ScenarioSummary]


class ForecastResponse(BaseModel):
    """Answer of POST /api/v1/cashflow/forecast."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "forecast_id": _SUMMARY_EXAMPLE["forecast_id"],
                    "name": "Q3 prime pool",
                    "status": "succeeded",
                    "pool_id": _SUMMARY_EXAMPLE["pool_id"],
                    "n_loans": 2,
                    "duration_ms": 120.4,
                    "scenarios": [
                        {
                            "name": "base",
                            "n_periods": 2,
                            "cashflows": _CF_EXAMPLE,
                            "analytics": _ANALYTICS_EXAMPLE,
                        }
                    ],
                }
            ]
        }
    )

    forecast_id: str | None = Field(
        description='The stored forecast\'s id; null for a pricing call (`"store": false`).'
    )
    name: str
    status: Status
    pool_id: str | None
    n_loans: int
    duration_ms: float | None
    scenarios: list[ScenarioResult]


class ForecastPage(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"items": [_SUMMARY_EXAMPLE], "total": 1, "limit": 20, "offset": 0}]
        }
    )

    items: list[ForecastSummary]
    total: int
    limit: int
    offset: int


class ProjectionsResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "forecast_id": _SUMMARY_EXAMPLE["forecast_id"],
                    "scenarios": [
                        {
                            "name": "base",
                            "n_periods": 2,
                            "cashflows": _CF_EXAMPLE,
                            "analytics": _ANALYTICS_EXAMPLE,
                        }
                    ],
                }
            ]
        }
    )

    forecast_id: str
    scenarios: list[ScenarioResult]


class LoanPage(BaseModel):
    """One page of loan-level results of one scenario (loans in pool order)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "forecast_id": _SUMMARY_EXAMPLE["forecast_id"],
                    "scenario": "base",
                    "total": 2,
                    "offset": 0,
                    "limit": 1,
                    "columns": {
                        "loan_id": ["A1"],
                        "loss": [1523.4],
                        "principal": [300000.0],
                        "wal_years": [8.1],
                    },
                }
            ]
        }
    )

    forecast_id: str
    scenario: str
    total: int
    offset: int
    limit: int
    columns: dict[str, list[Any]] = Field(
        description="loan_id, per-loan totals (currency), principal, wal_years; `balances` is a "
        "list (per loan) of ending balances per period when balance paths were requested."
    )
