"""Request and response schemas of the consumer-credit routes
(/api/v1/specialized-assets/consumer-credit/...). Vocabulary Literals mirror the asset's enums
(a test checks that they agree)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from app.models.forecasts import LOAN_FIELDS, LoanIn, PoolRef, refuse_unknown_columns

Finite = Annotated[float, Field(allow_inf_nan=False)]
Rate = Annotated[float, Field(ge=0.0, allow_inf_nan=False)]
MethodIn = Literal["cohort", "duration"]
WeightIn = Literal["count", "balance"]
IntervalIn = Literal["wilson", "clopper_pearson"]
LinkIn = Literal["logit", "probit"]
MacroVariableIn = Literal["unemployment", "hpi", "rate"]
LoanTypeIn = Literal["credit_card", "personal_installment", "bnpl", "student", "auto"]


class ConsumerLoanIn(LoanIn):
    """One consumer loan: the engine's loan fields plus the consumer-credit ones."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "loan_id": "C1",
                    "balance": 18000.0,
                    "rate": 0.089,
                    "original_term_months": 60,
                    "age_months": 10,
                    "loan_type": "auto",
                    "credit_score": 712,
                    "grade": "B",
                    "origination_date": "2025-02-01",
                }
            ]
        },
    )

    loan_type: LoanTypeIn | None = Field(
        None, description="This loan's type (its default assumptions); default the request's."
    )
    credit_score: Annotated[float, Field(ge=300, le=900, allow_inf_nan=False)] | None = Field(
        None, description="Credit score at origination (FICO-like scale, 300-900)."
    )
    grade: str | None = Field(None, max_length=16, description="Lender's risk grade (A, B, ...).")
    origination_date: str | None = Field(
        None, max_length=32, description="Origination date, ISO 8601 (2025-02-01) or month."
    )


CONSUMER_LOAN_FIELDS: frozenset[str] = frozenset(ConsumerLoanIn.model_fields) - frozenset(
    LoanIn.model_fields
)
"""The consumer-credit loan fields beyond the engine's (loan_type, credit_score, ...)."""


class ConsumerPoolRef(PoolRef):
    """A consumer pool: inline `loans` (ConsumerLoanIn), inline `columns`, or a `pool_id`."""

    loans: list[ConsumerLoanIn] | None = Field(None, min_length=1)  # type: ignore[assignment]

    @field_validator("columns")
    @classmethod
    def _known_columns(cls, value: dict[str, list[Any]] | None) -> dict[str, list[Any]] | None:
        return refuse_unknown_columns(
            value, LOAN_FIELDS | CONSUMER_LOAN_FIELDS, "a consumer loan (ConsumerLoanIn)"
        )


class PerformanceIn(BaseModel):
    """A performance panel inline: `{"columns": {"loan_id": [...], "period": [...],
    "state": [...], "balance": [...], <attribute>: [...]}}`, one entry per loan-month."""

    model_config = ConfigDict(extra="forbid")

    columns: dict[str, list[Any]] = Field(description="column -> values, all the same length")


class RollRatesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    method: MethodIn = "cohort"
    weight: WeightIn = "count"
    interval: IntervalIn = Field("wilson", description="95% interval per cell.")
    states: list[str] | None = Field(
        None,
        min_length=2,
        max_length=30,
        description="Ordered state names (severity order); default current, dpd30, dpd60, "
        "dpd90, dpd120, charged_off, prepaid.",
    )
    charge_off_state: str | None = Field("charged_off", description="Absorbing charge-off state.")
    prepay_state: str | None = Field("prepaid", description="Absorbing prepayment state.")
    absorbing: list[str] = Field(default_factory=list, description="Other absorbing states.")
    segment_by: list[str] = Field(default_factory=list, max_length=5)
    matrix: list[list[Finite]] | None = Field(
        None, description="A given matrix (rows = from-state) instead of an estimated one."
    )


class PipelineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start_balances: dict[str, Finite] | None = Field(
        None,
        description="Balance by state at the start; default: the panel's last period, "
        "else the pool's balance as current.",
    )
    months: int = Field(60, ge=1, le=1200)
    amortize: bool = True
    rate: Rate | None = Field(
        None, description="Annual coupon of the performing balance; default the loan type's."
    )
    term_months: int | None = Field(
        None, ge=1, le=1200, description="Remaining term; default the loan type's."
    )


class VintagesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcomes: PerformanceIn | None = Field(
        None,
        description="Loan-level outcomes: vintage and/or origination_date, original_balance, "
        "charge_off_date or charge_off_month, charge_off_amount, prepay_date or prepay_month, "
        "prepay_amount, and attributes for segment_by. Default: derived from the performance "
        "panel (its `origination_column`).",
    )
    origination_column: str = Field(
        "origination_date", description="Panel column of the origination month."
    )
    as_of: str | int | None = Field(None, description="End of observation, 'YYYY-MM'.")
    fit: bool = Field(False, description="Also fit A (1 - exp(-(m/lambda)^k)).")
    max_months: int | None = Field(None, ge=1, le=600)
    segment_by: list[str] = Field(default_factory=list, max_length=5)


class ScoreMigrationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    bands: list[str] = Field(min_length=2, max_length=30, description="Ordered score bands.")
    horizon: int = Field(12, ge=1, le=120, description="Months between the two observations.")
    band_column: str = Field("score_band", description="Band column of the performance panel.")
    snapshots: PerformanceIn | None = Field(
        None, description="Two snapshots instead of a panel: columns band_from, band_to[, balance]."
    )
    powers: list[Annotated[int, Field(ge=1, le=600)]] = Field(
        default_factory=lambda: [2, 4], max_length=10
    )
    pd: dict[str, Annotated[float, Field(ge=0.0, le=1.0)]] | None = Field(
        None, description="PD per band over the horizon."
    )
    severity: Annotated[float, Field(ge=0.0, le=1.0)] = 1.0
    exposure: dict[str, Rate] | None = None


class MacroPathsIn(BaseModel):
    """Macro paths of one scenario (decimals per month: unemployment rate, house-price change,
    interest rate); the `macro` block of a saved scenario."""

    model_config = ConfigDict(extra="forbid")

    paths: dict[MacroVariableIn, list[Finite]] = Field(
        description="variable -> value per month (a shorter path holds its last value)"
    )
    reference: dict[MacroVariableIn, Finite] | None = Field(
        None, description="Levels with no shift; default: the first scenario's first values."
    )


class MacroIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    link: LinkIn = "logit"
    coefficients: dict[MacroVariableIn, Finite] = Field(default_factory=dict)
    estimate: bool = Field(
        False, description="Estimate the coefficients from the panel's macro columns."
    )
    variables: list[MacroVariableIn] = Field(
        default_factory=list, description="Macro columns to estimate on."
    )
    reference: dict[MacroVariableIn, Finite] = Field(default_factory=dict)
    scenarios: list[str] = Field(
        default_factory=list, max_length=10, description="scenario_ids with a macro block."
    )
    paths: dict[str, MacroPathsIn] = Field(
        default_factory=dict, description="Inline named scenarios."
    )


class RevolvingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    receivables: Annotated[float, Field(gt=0.0, allow_inf_nan=False)]
    months: int = Field(24, ge=1, le=1200)
    payment_rate: Rate | list[Rate] | None = None
    purchase_rate: Rate | list[Rate] | None = None
    portfolio_yield: Rate | list[Rate] | None = None
    charge_off_rate: Rate | list[Rate] | None = None
    coupon: Rate | list[Rate] | None = None
    servicing_fee: Rate | list[Rate] | None = None


_EXAMPLE: dict[str, Any] = {
    "loan_type": "auto",
    "performance": {
        "columns": {
            "loan_id": ["a", "a", "b", "b"],
            "period": ["2025-01", "2025-02", "2025-01", "2025-02"],
            "state": ["current", "dpd30", "current", "current"],
            "balance": [12000, 11800, 9000, 8700],
        }
    },
    "roll_rates": {"method": "cohort", "weight": "count"},
    "pipeline": {"start_balances": {"current": 1000000}, "months": 24, "amortize": True},
}


class AnalyzeRequest(BaseModel):
    """POST /api/v1/specialized-assets/consumer-credit/analyze."""

    model_config = ConfigDict(
        extra="forbid", populate_by_name=True, json_schema_extra={"examples": [_EXAMPLE]}
    )

    loan_type: LoanTypeIn = "personal_installment"
    pool: ConsumerPoolRef | None = None
    performance: PerformanceIn | None = None
    panel_id: str | None = Field(None, max_length=64, description="An uploaded panel.")
    roll_rates: RollRatesIn | None = None
    pipeline: PipelineIn | None = None
    vintages: VintagesIn | None = None
    score_migration: ScoreMigrationIn | None = None
    macro: MacroIn | None = None
    revolving: RevolvingIn | None = None
    severity: Annotated[float, Field(ge=0.0, le=1.0)] | None = Field(
        None, description="Default: the loan type's."
    )
    recovery_lag_months: int | None = Field(None, ge=0, le=120)
    discount_rate: Finite | None = Field(
        None, description="Flat annual yield for the analytics (monthly compounding)."
    )
    async_: bool = Field(False, alias="async", description="Run as a job whatever the size.")

    @model_validator(mode="after")
    def _one_panel(self) -> AnalyzeRequest:
        if self.performance is not None and self.panel_id is not None:
            raise ValueError("give performance or panel_id, not both")
        return self


class AnalyzeResponse(BaseModel):
    """Each part its inputs allow (null otherwise); arrays ready to plot."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "loan_type": "auto",
                    "roll_rates": None,
                    "pipeline": None,
                    "vintages": None,
                    "score_migration": None,
                    "macro": None,
                    "revolving": None,
                    "cashflows": None,
                    "analytics": None,
                    "warnings": [],
                }
            ]
        }
    )

    loan_type: str
    roll_rates: dict[str, Any] | None = None
    pipeline: dict[str, Any] | None = None
    vintages: dict[str, Any] | None = None
    score_migration: dict[str, Any] | None = None
    macro: dict[str, Any] | None = None
    revolving: dict[str, Any] | None = None
    cashflows: dict[str, Any] | None = None
    analytics: dict[str, Any] | None = None
    warnings: list[str] = Field(default_factory=list)


class PanelOut(BaseModel):
    panel_id: str
    name: str
    source_format: str
    n_rows: int
    n_loans: int
    columns: list[str]
    size_bytes: int
