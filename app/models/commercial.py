"""Request and response schemas of the commercial-loans API (specialized assets).

Units: rates, cap rates, haircuts, shifts, PDs, severities and correlations are decimals (annual
where a rate); months are whole months; money is in the pool's currency. Loan fields are the
engine's (`app.engine.pool.LoanPool.from_columns`) plus the commercial ones of
`app.assets.commercial.loans` (validated there: every problem names loan, field and reason).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from app.assets.commercial.credit import SeverityModel
from app.assets.commercial.property_types import PropertyType
from app.models.forecasts import LOAN_FIELDS, LoanIn, refuse_unknown_columns

Dec = Annotated[float, Field(allow_inf_nan=False)]
Unit = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]


class DefaultAssumptions(BaseModel):
    cap_rate: float = Field(description="Cap rate, annual decimal (NOI / value).")
    noi_volatility: float = Field(description="Annual standard deviation of NOI growth.")
    severity: float = Field(description="Loss as a fraction of the balance at default.")
    liquidation_months: int = Field(description="Months from default to liquidation.")
    correlation: float = Field(description="Asset correlation of the one-factor copula.")


class PropertyTypeOut(BaseModel):
    property_type: PropertyType
    description: str
    default_assumptions: DefaultAssumptions
    source: str = Field(
        description="Where each default comes from (a public source or house assumption)."
    )


class CommercialLoanIn(LoanIn):
    """One commercial loan: the engine's loan fields plus the commercial ones."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "loan_id": "CRE-1",
                    "balance": 25_000_000.0,
                    "rate": 0.062,
                    "original_term_months": 120,
                    "age_months": 24,
                    "amortization": "balloon",
                    "amortization_term_months": 360,
                    "property_type": "office",
                    "noi": 2_600_000.0,
                    "property_value": 36_000_000.0,
                    "state": "NY",
                    "msa": "New York-Newark-Jersey City",
                    "sponsor": "Sponsor A",
                    "occupancy": 0.88,
                    "prepayment_lockout_months": 24,
                    "yield_maintenance": True,
                    "extension_months": 12,
                }
            ]
        },
    )

    property_type: PropertyType = Field(description="One of GET .../property-types.")
    noi: Dec = Field(description="Net operating income, annual (currency), > 0.")
    property_value: Dec | None = Field(None, description="Value today; default NOI / cap_rate.")
    cap_rate: Dec | None = Field(None, description="Cap rate; default NOI / value or the type's.")
    state: str | None = Field(None, max_length=64)
    msa: str | None = Field(None, max_length=128)
    sponsor: str | None = Field(None, max_length=128)
    occupancy: Dec | None = Field(None, description="Physical occupancy, decimal in [0, 1].")
    prepayment_lockout_months: int | None = Field(
        None, description="No prepayment until this loan age."
    )
    yield_maintenance: bool | None = Field(
        None, description="Prepayment carries yield maintenance."
    )
    extension_months: int | None = Field(None, description="Extension option at maturity (months).")
    pd_annual: Dec | None = Field(None, description="Caller's annual PD (overrides the PD model).")
    severity: Dec | None = Field(None, description="Caller's severity (overrides the model).")
    correlation: Dec | None = Field(None, description="Caller's asset correlation for the copula.")


COMMERCIAL_LOAN_FIELDS: frozenset[str] = frozenset(CommercialLoanIn.model_fields) - frozenset(
    LoanIn.model_fields
)
"""The commercial loan fields beyond the engine's (property_type, noi, ...)."""


class CommercialPoolRef(BaseModel):
    """Inline `loans`, inline `columns` ({field: [value per loan]}) or an uploaded `pool_id`
    whose tape carries the commercial fields as extra columns. Exactly one."""

    model_config = ConfigDict(extra="forbid")

    loans: list[CommercialLoanIn] | None = Field(None, min_length=1)
    columns: dict[str, list[Any]] | None = None
    pool_id: str | None = Field(None, max_length=64)

    @field_validator("columns")
    @classmethod
    def _known_columns(cls, value: dict[str, list[Any]] | None) -> dict[str, list[Any]] | None:
        return refuse_unknown_columns(
            value, LOAN_FIELDS | COMMERCIAL_LOAN_FIELDS, "a commercial loan (CommercialLoanIn)"
        )

    @model_validator(mode="after")
    def _exactly_one(self) -> CommercialPoolRef:
        given = [k for k in ("loans", "columns", "pool_id") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of loans, columns or pool_id")
        return self


class PDModelIn(BaseModel):
    """Annual PD = 1 / (1 + exp(-(intercept + dscr x DSCR + ltv x LTV))) (house defaults)."""

    model_config = ConfigDict(extra="forbid")
    intercept: Dec = -4.0
    dscr: Dec = -1.5
    ltv: Dec = 3.0


class RefinanceIn(BaseModel):
    """The refinance test at maturity."""

    model_config = ConfigDict(extra="forbid")
    rate: Annotated[float, Field(ge=0.0, lt=1.0)] = Field(
        0.07, description="New-loan coupon, annual decimal."
    )
    amortization_months: int = Field(360, ge=1, le=600)
    max_ltv: Annotated[float, Field(gt=0.0, le=5.0)] = 0.75
    min_dscr: Annotated[float, Field(ge=0.0, le=10.0)] = 1.25


class SeverityIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    model: SeverityModel = Field(
        SeverityModel.LTV, description="ltv: from LTV at liquidation; property_type: table default."
    )
    liquidation_cost: Unit = Field(0.10, description="Fraction of the value lost to the sale.")
    carry_cost: Unit = Field(
        0.02, description="Annual fraction of the balance paid while liquidating."
    )
    liquidation_months: int | None = Field(
        None, ge=0, le=120, description="Default: each property type's."
    )
    value_haircut: Annotated[float, Field(ge=0.0, lt=1.0)] = Field(
        0.0, description="Distressed-sale discount on the value at liquidation."
    )


class NamedStressIn(BaseModel):
    """A named stress: inline, or a saved scenario (`scenario_id`, its name and its parallel rate
    shocks, which move the refinance rate) with the NOI haircut and cap-rate shift given here."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, max_length=100)
    scenario_id: str | None = Field(None, max_length=36)
    noi_haircut: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.0
    cap_rate_shift: Annotated[float, Field(gt=-0.2, lt=0.5)] = 0.0
    refi_rate_shift: Annotated[float, Field(gt=-0.2, lt=0.5)] = 0.0

    @model_validator(mode="after")
    def _named(self) -> NamedStressIn:
        if self.name is None and self.scenario_id is None:
            raise ValueError("give a name or a scenario_id")
        return self


class StressIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    noi_haircuts: list[Annotated[float, Field(ge=0.0, lt=1.0)]] = Field(
        default_factory=lambda: [0.0, 0.1, 0.2, 0.3], min_length=1, max_length=50
    )
    cap_rate_shifts: list[Annotated[float, Field(gt=-0.2, lt=0.5)]] = Field(
        default_factory=lambda: [0.0, 0.005, 0.01, 0.02], min_length=1, max_length=50
    )
    scenarios: list[NamedStressIn] = Field(default_factory=list, max_length=20)


class PortfolioLossIn(BaseModel):
    """Gaussian-copula Monte Carlo of losses over the horizon (per-loan pd_annual, severity and
    correlation override the models)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"correlation": 0.15, "horizon_years": 1, "n_paths": 20000, "seed": 7}]
        },
    )
    correlation: Annotated[float, Field(ge=0.0, lt=1.0)] | None = Field(
        None,
        description="Global-factor correlation in [0, 1); default each loan's or its property type's.",
    )
    sector_correlation: Annotated[float, Field(ge=0.0, lt=1.0)] = Field(
        0.0, description="Extra correlation inside a property type (sector factor); 0 = none."
    )
    horizon_years: Annotated[float, Field(gt=0.0, le=30.0)] = 1.0
    n_paths: int = Field(20_000, ge=100, le=1_000_000)
    seed: int = Field(0, ge=0, le=2**63 - 1)
    histogram_bins: int = Field(50, ge=5, le=500)


_ANALYZE_EXAMPLE: dict[str, Any] = {
    "pool": {
        "loans": [
            CommercialLoanIn.model_config["json_schema_extra"]["examples"][0],  # type: ignore[index]
            {
                "loan_id": "CRE-2",
                "balance": 12_000_000.0,
                "rate": 0.058,
                "original_term_months": 84,
                "age_months": 36,
                "amortization": "interest_only",
                "io_months": 60,
                "property_type": "multifamily",
                "noi": 1_050_000.0,
                "property_value": 19_000_000.0,
                "state": "TX",
            },
        ]
    },
    "noi_haircut": 0.1,
    "discount_rate": 0.07,
    "portfolio_loss": {"correlation": 0.15, "horizon_years": 1, "n_paths": 2000, "seed": 7},
}


class CommercialAnalyzeIn(BaseModel):
    """Analyze a commercial book (see docs/methodology/commercial.md)."""

    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
        json_schema_extra={"examples": [_ANALYZE_EXAMPLE]},
    )
    pool: CommercialPoolRef
    noi_growth: Annotated[float, Field(gt=-0.5, lt=0.5)] = Field(
        0.0, description="Annual NOI growth, decimal."
    )
    noi_haircut: Annotated[float, Field(ge=0.0, lt=1.0)] = Field(
        0.0, description="Base-case NOI haircut."
    )
    cap_rate_shift: Annotated[float, Field(gt=-0.2, lt=0.5)] = Field(
        0.0, description="Base-case cap-rate shift."
    )
    prepayment_cpr: Unit = Field(0.0, description="Voluntary CPR after lockout.")
    yield_maintenance_factor: Unit = Field(
        0.0, description="CPR multiplier under yield maintenance."
    )
    pd_model: PDModelIn = Field(default_factory=PDModelIn)
    refinance: RefinanceIn = Field(default_factory=RefinanceIn)
    severity: SeverityIn = Field(default_factory=SeverityIn)
    stress: StressIn = Field(default_factory=StressIn)
    portfolio_loss: PortfolioLossIn | None = None
    discount_rate: Annotated[float, Field(gt=-0.5, lt=1.0)] | None = Field(
        None,
        description="Flat annual yield (monthly compounding) for npv/duration of the pool cash flow.",
    )
    index_paths: dict[str, list[Dec]] = Field(
        default_factory=dict,
        description="Annual index rate per month by index name, for floating-rate loans.",
    )
    loan_paths: bool = Field(
        False, description="Add each loan's yearly dscr/ltv/debt_yield paths to `loans`."
    )
    async_: bool = Field(False, alias="async", description="Run as a job whatever the size.")
