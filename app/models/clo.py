"""Request and response schemas of the CLO/CDO routes (analyze, tranche-analysis)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.assets.clo.example import example_request
from app.assets.clo.ratings import MoodysRating
from app.models.deals import DealIn

Num = Annotated[float, Field(allow_inf_nan=False)]
NonNeg = Annotated[float, Field(allow_inf_nan=False, ge=0.0)]
Unit = Annotated[float, Field(allow_inf_nan=False, ge=0.0, le=1.0)]


def _rounded(value: Any) -> Any:
    """The example with floats at 6 significant digits (readable in Swagger)."""
    if isinstance(value, float):
        return float(f"{value:.6g}")
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


# small enough to run in about a second: 12 assets, 5 years, 200 simulated paths
_ANALYZE_EXAMPLE = _rounded(
    example_request(
        n_assets=12, n_periods=60, simulation={"n_paths": 200, "seed": 7, "correlation": 0.25}
    )
)
_TRANCHE_EXAMPLE = _rounded(
    {**example_request(n_assets=12, n_periods=60), "prices": {"A1": 1.0, "B": 0.99, "F": 0.9}}
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AssetIn(_Strict):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "asset_id": "L1",
                    "par": 2000000,
                    "price": 0.985,
                    "spread": 0.035,
                    "index": "SOFR",
                    "floor": 0.005,
                    "rating": "B2",
                    "industry": "Healthcare",
                    "obligor": "Acme Health",
                    "maturity_date": "2031-06-15",
                    "recovery_rate": 0.45,
                }
            ]
        },
    )

    asset_id: str | None = Field(None, max_length=64)
    par: Annotated[float, Field(allow_inf_nan=False, gt=0.0)] = Field(description="Par (currency).")
    price: Annotated[float, Field(allow_inf_nan=False, gt=0.0)] = Field(
        1.0, description="Market price per unit of par (0.97 = 97)."
    )
    spread: Num | None = Field(None, description="Floater spread over the index, decimal.")
    coupon: Num | None = Field(None, description="Fixed coupon, decimal (no spread).")
    index: str | None = Field(None, description="Index of a floater; path in index_paths.")
    floor: NonNeg | None = Field(None, description="Index floor, decimal.")
    rating: MoodysRating = Field(description="Moody's rating.")
    industry: str = Field("unknown", max_length=100, description="Moody's industry.")
    obligor: str | None = Field(None, max_length=100, description="Default: asset_id.")
    maturity_date: dt.date | None = None
    maturity_months: int | None = Field(None, ge=1, description="Instead of maturity_date.")
    defaulted: bool = False
    recovery_rate: Unit | None = Field(None, description="Default 0.45.")
    pd: Unit | None = Field(None, description="One-year PD; default from the rating table.")

    @model_validator(mode="after")
    def _maturity(self) -> AssetIn:
        if self.maturity_date is None and self.maturity_months is None:
            raise ValueError("give maturity_date or maturity_months")
        if (self.spread is None) == (self.coupon is None):
            raise ValueError("give exactly one of spread (floater) or coupon (fixed)")
        return self


class QualityTriggersIn(_Strict):
    warf: NonNeg | None = Field(None, description="Maximum WARF.")
    was: Num | None = Field(None, description="Minimum weighted average spread, decimal.")
    wac: Num | None = Field(None, description="Minimum weighted average coupon, decimal.")
    wal: NonNeg | None = Field(None, description="Maximum WAL, years.")
    diversity_score: NonNeg | None = Field(None, description="Minimum diversity score.")
    caa_share: Unit | None = Field(None, description="Maximum Caa-and-below share.")


class CloAssumptionsIn(_Strict):
    analysis_date: dt.date = Field(dt.date(2026, 1, 1), description="Start of period 1.")
    cpr: Annotated[float, Field(ge=0.0, lt=1.0)] = Field(0.0, description="Annual prepayment.")
    cdr: Annotated[float, Field(ge=0.0, lt=1.0)] = Field(0.0, description="Annual default rate.")
    n_periods: int | None = Field(None, ge=1, description="Months; default the last maturity.")
    index_paths: dict[str, list[Num]] = Field(default_factory=dict)
    caa_limit: Unit = Field(0.075, description="Caa bucket limit, share of performing par.")
    workout_months: int = Field(6, ge=1, description="Month defaulted assets recover in.")
    quality_triggers: QualityTriggersIn = Field(default_factory=QualityTriggersIn)
    pd_table: dict[MoodysRating, Unit] | None = Field(None, description="One-year PD by rating.")


class EligibilityIn(_Strict):
    min_spread: Num | None = None
    max_price: NonNeg | None = None
    max_rating_factor: NonNeg | None = Field(None, description="Worst rating factor allowed.")
    max_wal_years: NonNeg | None = None


class CloReinvestmentIn(_Strict):
    end_period: int = Field(ge=0, description="Reinvestment period: buys in periods <= this.")
    price: Annotated[float, Field(gt=0.0)] = Field(1.0, description="Reinvestment price.")
    spread: Num = Field(0.0, description="Reinvestment spread over `index`.")
    coupon: Num | None = None
    index: str | None = None
    floor: NonNeg | None = None
    rating: MoodysRating = MoodysRating.B2
    maturity_period: int = Field(ge=1, description="Period the reinvested assets repay in.")
    cpr: Annotated[float, Field(ge=0.0, lt=1.0)] | None = None
    cdr: Annotated[float, Field(ge=0.0, lt=1.0)] | None = None
    recovery_rate: Unit = 0.45
    eligibility: EligibilityIn = Field(default_factory=EligibilityIn)


class CallIn(_Strict):
    non_call_period: int = Field(0, ge=0, description="No call in periods <= this.")
    call_period: int | None = Field(None, ge=1, description="Period the deal is called in.")
    price: Annotated[float, Field(gt=0.0)] = Field(1.0, description="Sale price per par.")


class SimulationIn(_Strict):
    n_paths: int = Field(10000, ge=1)
    seed: int = Field(12345, ge=0)
    correlation: Unit = Field(0.25, description="One-factor asset correlation.")
    sector_correlation: Unit | None = Field(None, description="Within-industry correlation.")
    recovery_std: Unit = Field(0.0, description="Std of beta recoveries (0: fixed).")
    block_size: int | None = Field(None, ge=1)
    percentiles: list[Unit] = Field(default_factory=lambda: [0.5, 0.95, 0.99])


class CloAnalyzeRequest(_Strict):
    """POST /api/v1/specialized-assets/clo-cdo/analyze body."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_ANALYZE_EXAMPLE]})

    assets: list[AssetIn] = Field(min_length=1)
    deal: DealIn | None = None
    assumptions: CloAssumptionsIn = Field(default_factory=CloAssumptionsIn)
    reinvestment: CloReinvestmentIn | None = None
    call: CallIn | None = None
    simulation: SimulationIn | None = None
    async_: bool = Field(False, alias="async", description="Run the simulation as a job.")


class CloTrancheAnalysisRequest(CloAnalyzeRequest):
    """POST /api/v1/specialized-assets/clo-cdo/tranche-analysis body: a deal is required;
    `prices` per tranche per unit of par (default 1.0); break-even CDR search bounds."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_TRANCHE_EXAMPLE]})

    prices: dict[str, Annotated[float, Field(gt=0.0)]] = Field(default_factory=dict)
    breakeven_tolerance: Annotated[float, Field(gt=0.0)] = Field(
        1.0, description="A tranche 'loses' once its loss exceeds this (currency)."
    )


class CloResponse(BaseModel):
    model_config = ConfigDict(extra="allow")

    quality_tests: dict[str, dict[str, Any]]
    collateral: dict[str, Any]
    deal: dict[str, Any] | None = None
    simulation: dict[str, Any] | None = None
    warnings: list[str] = []
