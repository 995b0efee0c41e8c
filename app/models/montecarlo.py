"""Request and response schemas of POST /api/v1/cashflow/monte-carlo.

Rates are annual decimals; money is in the pool's currency; months end at t = i/12 years.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.models.forecasts import CurveIn

FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]


class RepLinesIn(BaseModel):
    """Level-pay, fixed-rate, monthly rep-lines (or loans) as columns of equal length."""

    model_config = ConfigDict(extra="forbid")

    balance: list[FiniteFloat] = Field(min_length=1, description="Current balance (currency).")
    note_rate: list[FiniteFloat] = Field(
        min_length=1, description="Gross coupon, annual decimal: amortisation and refi incentive."
    )
    net_rate: list[FiniteFloat] | None = Field(
        default=None,
        description="Rate paid to investors (after servicing), annual decimal; default note_rate.",
    )
    remaining_term: list[Annotated[int, Field(ge=1, le=600)]] = Field(
        min_length=1, description="Months left to maturity (1..600)."
    )
    age: list[int] | None = Field(
        default=None, description="Loan age in months (seasoning); default 0."
    )

    @model_validator(mode="after")
    def _same_length(self) -> RepLinesIn:
        n = len(self.balance)
        for name in ("note_rate", "net_rate", "remaining_term", "age"):
            col = getattr(self, name)
            if col is not None and len(col) != n:
                raise ValueError(f"{name} has {len(col)} values, balance has {n}")
        return self


class HullWhiteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["hull_white"] = "hull_white"
    mean_reversion: FiniteFloat = Field(default=0.03, ge=0, description="a, per year.")
    volatility: FiniteFloat = Field(
        default=0.01, ge=0, description="σ, normal vol of the short rate."
    )


class VasicekIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["vasicek"]
    mean_reversion: FiniteFloat = Field(default=0.1, ge=0)
    long_term_rate: FiniteFloat = 0.04
    volatility: FiniteFloat = Field(default=0.01, ge=0)
    initial_rate: FiniteFloat | None = Field(
        default=None, description="r₀; default the curve's 1-month zero rate."
    )


class CIRIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["cir"]
    mean_reversion: FiniteFloat = Field(default=0.2, gt=0)
    long_term_rate: FiniteFloat = Field(default=0.04, gt=0)
    volatility: FiniteFloat = Field(default=0.05, ge=0)
    initial_rate: FiniteFloat | None = Field(default=None, ge=0)


RateModelIn = Annotated[HullWhiteIn | VasicekIn | CIRIn, Field(discriminator="type")]


class MortgageRateIn(BaseModel):
    """m = spread + the model's zero rate for tenor_years (null: the short rate)."""

    model_config = ConfigDict(extra="forbid")
    spread: FiniteFloat = 0.0175
    tenor_years: FiniteFloat | None = Field(default=10.0, ge=1 / 12, le=50)


class PrepaymentModelIn(BaseModel):
    """Refinancing S-curve + seasoning + burnout + turnover (docs/methodology/montecarlo.md)."""

    model_config = ConfigDict(extra="forbid")
    turnover_cpr: FiniteFloat = Field(default=0.06, ge=0, le=1)
    refi_cpr_max: FiniteFloat = Field(default=0.40, ge=0, le=1)
    refi_midpoint: FiniteFloat = 0.0075
    refi_steepness: FiniteFloat = Field(default=400.0, ge=0)
    seasoning_months: int = Field(default=30, ge=0, le=600)
    burnout: FiniteFloat = Field(default=25.0, ge=0)


class MacroIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    volatility: FiniteFloat = Field(default=0.5, ge=0)
    persistence: FiniteFloat = Field(default=0.95, ge=0, lt=1)


class DefaultIn(BaseModel):
    """Defaults: CDR (constant or per-month vector, annual decimals), severity, lag, advancing."""

    model_config = ConfigDict(extra="forbid")
    cdr: FiniteFloat | list[FiniteFloat] = 0.0
    severity: FiniteFloat = Field(default=0.0, ge=0, le=1)
    recovery_lag_months: int = Field(default=0, ge=0, le=120)
    advancing: bool = True
    macro: MacroIn | None = None


class MonteCarloSettingsIn(BaseModel):
    """Everything of a Monte Carlo run but its pool and curve: rate model, mortgage rate,
    prepayment and default models, paths, seed, percentiles, price. A scenario's
    `monte_carlo` block is this (plus an optional curve); MonteCarloIn adds pool and curve."""

    model_config = ConfigDict(extra="forbid")

    rate_model: RateModelIn = Field(default_factory=lambda: HullWhiteIn())
    mortgage_rate: MortgageRateIn = Field(default_factory=lambda: MortgageRateIn())
    prepayment_model: PrepaymentModelIn = Field(default_factory=lambda: PrepaymentModelIn())
    default: DefaultIn = Field(default_factory=lambda: DefaultIn())
    n_paths: int = Field(default=1000, ge=2, le=10_000_000)
    n_months: int | None = Field(default=None, ge=1, le=600)
    seed: int = Field(default=0, ge=0, lt=2**63)
    antithetic: bool = False
    block_size: int = Field(default=500, ge=2, le=100_000)
    percentiles: list[Annotated[float, Field(ge=0, le=100)]] = Field(
        default_factory=lambda: [5.0, 50.0, 95.0], min_length=1, max_length=101
    )
    histogram_bins: int = Field(default=20, ge=1, le=1000)
    price: FiniteFloat | None = Field(
        default=None,
        gt=0,
        description="Dirty price in money (the pool's currency, e.g. 990000.0 for a 1,000,000 "
        "pool at 99): enables OAS. Give this or price_pct, not both.",
    )
    price_pct: FiniteFloat | None = Field(
        default=None,
        gt=0,
        le=1000,
        description="Dirty price per 100 of par (the market quote: 99.0 = 99% of the pool's "
        "current balance): enables OAS. Give this or price, not both.",
    )
    pv_spread: FiniteFloat = Field(default=0.0, gt=-1, lt=1)
    duration_bump: FiniteFloat | None = Field(default=0.0025, gt=0, le=0.05)

    @model_validator(mode="after")
    def _one_price(self) -> MonteCarloSettingsIn:
        if self.price is not None and self.price_pct is not None:
            raise ValueError(
                "give price (money, e.g. 990000.0) or price_pct (per 100 of par, e.g. 99.0), "
                "not both"
            )
        return self

    def price_money(self, par: float) -> float | None:
        """The dirty price in money: `price`, or `price_pct` / 100 × `par` (the current balance)."""
        if self.price_pct is not None:
            return self.price_pct / 100.0 * par
        return self.price


class MonteCarloIn(MonteCarloSettingsIn):
    """A Monte Carlo run: pool, curve, rate model, prepayment and default models, paths, seed.
    Price the pool with `price` (money) or `price_pct` (per 100 of the pool's balance) to get
    its OAS."""

    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
        json_schema_extra={
            "examples": [
                {
                    "pool": {
                        "balance": [600000.0, 400000.0],
                        "note_rate": [0.065, 0.06],
                        "remaining_term": [348, 300],
                        "age": [12, 60],
                    },
                    "curve": {
                        "times": [1.0, 5.0, 10.0, 30.0],
                        "rates": [0.04, 0.041, 0.043, 0.045],
                    },
                    "rate_model": {
                        "type": "hull_white",
                        "mean_reversion": 0.03,
                        "volatility": 0.01,
                    },
                    "default": {"cdr": 0.01, "severity": 0.35, "recovery_lag_months": 6},
                    "n_paths": 200,
                    "block_size": 100,
                    "seed": 7,
                    "price_pct": 99.0,
                }
            ]
        },
    )

    pool: RepLinesIn
    curve: CurveIn
    async_: bool = Field(
        default=False, alias="async", description="Run as a job (202 + job_id) whatever the size."
    )


class HistogramOut(BaseModel):
    counts: list[int]
    edges: list[float | None]


class DistributionOut(BaseModel):
    mean: float | None
    standard_error: float | None
    std: float | None
    percentiles: dict[str, float | None]
    histogram: HistogramOut


class MonteCarloOut(BaseModel):
    """Distributions over paths; spreads are continuously compounded annual decimals."""

    n_paths: int
    n_months: int
    pv: DistributionOut
    wal: DistributionOut
    loss: DistributionOut
    yield_: DistributionOut | None = Field(alias="yield")
    oas: float | None
    z_spread: float | None
    option_cost: float | None
    effective_duration: float | None
    effective_convexity: float | None
    mean_discounted_cashflow: list[float | None]
