"""Request and response schemas of POST /api/v1/analytics/cashflows (the API contract)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.models.schema_rules import exactly_one_of
from app.models.warnings import ValueWarning

FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]
FrequencyIn = Literal[1, 2, 4, 12]
CompoundingIn = Literal["simple", "compounded", "continuous"]
MAX_CASHFLOWS = 100_000


class CashflowIn(BaseModel):
    """One cash flow: an amount (currency) on a `date`, or at a `period` index (t = period /
    frequency years); `principal` is the part of the amount that repays principal (for WAL)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=exactly_one_of("date", "period"))

    amount: FiniteFloat = Field(description="Cash flow, currency (received > 0, paid < 0).")
    date: dt.date | None = Field(None, description="Payment date (with settlement_date).")
    period: Annotated[float, Field(ge=0, allow_inf_nan=False)] | None = Field(
        None, description="Period index from settlement (1 = one period of 1/frequency years)."
    )
    principal: FiniteFloat | None = Field(None, description="Principal part of the amount.")

    @model_validator(mode="after")
    def _date_or_period(self) -> CashflowIn:
        if (self.date is None) == (self.period is None):
            raise ValueError("give exactly one of date or period")
        return self


class CurveNodeIn(BaseModel):
    """A zero-curve node: continuously compounded ACT/365F zero rate at a date or a tenor."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra=exactly_one_of("date", "tenor_years")
    )

    date: dt.date | None = Field(None, description="Node date (ACT/365F from settlement).")
    tenor_years: Annotated[float, Field(ge=0, allow_inf_nan=False)] | None = None
    rate: FiniteFloat = Field(description="Zero rate, decimal, continuous ACT/365F.")

    @model_validator(mode="after")
    def _date_or_tenor(self) -> CurveNodeIn:
        if (self.date is None) == (self.tenor_years is None):
            raise ValueError("give exactly one of date or tenor_years")
        return self


class CurveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    nodes: list[CurveNodeIn] = Field(min_length=1, max_length=1000)
    interpolation: Literal["linear_zero", "log_linear_discount", "flat_forward"] = Field(
        "linear_zero", description="Linear on the zero rate (default), log-linear DF, flat forward."
    )


class CashflowAnalyticsRequest(BaseModel):
    """POST /api/v1/analytics/cashflows body."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "cashflows": [
                        {"amount": 2.5, "period": 1},
                        {"amount": 2.5, "period": 2},
                        {"amount": 2.5, "period": 3},
                        {"amount": 102.5, "period": 4, "principal": 100},
                    ],
                    "frequency": 2,
                    "compounding": "compounded",
                    "discount_rate": 0.05,
                    "curve": {
                        "nodes": [
                            {"tenor_years": 0.5, "rate": 0.043},
                            {"tenor_years": 2, "rate": 0.041},
                        ]
                    },
                    "price": 99.1,
                },
                {
                    "cashflows": [
                        {"amount": -1000, "date": "2025-01-15"},
                        {"amount": 300, "date": "2025-07-01"},
                        {"amount": 800, "date": "2026-03-31"},
                    ],
                    "settlement_date": "2025-01-15",
                    "day_count": "ACT/365F",
                    "discount_rate": 0.06,
                },
            ]
        },
    )

    cashflows: list[CashflowIn] = Field(min_length=1, max_length=MAX_CASHFLOWS)
    settlement_date: dt.date | None = Field(
        None, description="Valuation date; required with dated cash flows or dated curve nodes."
    )
    frequency: FrequencyIn = Field(
        12, description="Periods per year: period → years, compounding of yields, IRR annualising."
    )
    day_count: Literal["30/360", "ACT/360", "ACT/365F", "ACT/ACT"] = Field(
        "ACT/365F", description="Day count for dated cash flows (30/360 is the bond basis)."
    )
    compounding: CompoundingIn = Field("compounded", description="Of discount_rate and yield.")
    discount_rate: FiniteFloat | None = Field(None, description="Flat yield, annual decimal.")
    curve: CurveIn | None = None
    price: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = Field(
        None, description="Dirty price, same currency units as the amounts."
    )
    spread_compounding: CompoundingIn = Field("continuous", description="Of the Z-spread.")
    spread_frequency: FrequencyIn = 1
    bump: Annotated[float, Field(gt=0, le=0.05, allow_inf_nan=False)] = Field(
        0.0025, description="Parallel curve shift for effective measures, decimal."
    )

    @model_validator(mode="after")
    def _one_kind_of_timing(self) -> CashflowAnalyticsRequest:
        dated = [c.date is not None for c in self.cashflows]
        if any(dated) and not all(dated):
            raise ValueError("cash flows must all have a date or all have a period, not a mix")
        return self


class Conventions(BaseModel):
    """The conventions the numbers were computed under."""

    time_basis: str = Field(description="How cash-flow times in years were obtained.")
    compounding: CompoundingIn
    frequency: FrequencyIn
    spread_compounding: CompoundingIn
    spread_frequency: FrequencyIn
    curve: str = "continuously compounded ACT/365F zero rates"


class CashflowAnalyticsResponse(BaseModel):
    """Every measure that applies (null otherwise); decimals per year and years."""

    model_config = ConfigDict(
        populate_by_name=True,
        json_schema_extra={
            "examples": [
                {
                    "npv": 99.0595,
                    "irr": 0.0548,
                    "xirr": None,
                    "yield": 0.0548,
                    "macaulay_duration": 1.9283,
                    "modified_duration": 1.8769,
                    "convexity": 4.5158,
                    "wal": 2.0,
                    "dv01": 0.0186,
                    "z_spread": 0.0126,
                    "effective_duration": 1.9283,
                    "effective_convexity": 3.8,
                    "conventions": {
                        "time_basis": "period / frequency",
                        "compounding": "compounded",
                        "frequency": 2,
                        "spread_compounding": "continuous",
                        "spread_frequency": 1,
                        "curve": "continuously compounded ACT/365F zero rates",
                    },
                    "warnings": [],
                }
            ]
        },
    )

    npv: float | None = Field(None, description="At discount_rate if given, else on the curve.")
    irr: float | None = Field(None, description="Periodic IRR × frequency (nominal annual).")
    xirr: float | None = Field(None, description="Dated flows: Excel XIRR, annual, ACT/365F.")
    yield_: float | None = Field(None, alias="yield", description="Flat yield from the price.")
    macaulay_duration: float | None = Field(None, description="Years.")
    modified_duration: float | None = Field(None, description="Years.")
    convexity: float | None = Field(None, description="Years squared.")
    wal: float | None = Field(None, description="Weighted average life of principal, years.")
    dv01: float | None = Field(None, description="Currency per 1 bp fall in yield.")
    z_spread: float | None = Field(None, description="Over the curve, decimal.")
    effective_duration: float | None = Field(None, description="Years (curve ± bump).")
    effective_convexity: float | None = Field(None, description="Years squared.")
    conventions: Conventions
    warnings: list[ValueWarning] = Field(
        default_factory=list,
        description="One entry per measure that was asked for (its inputs were given) but could "
        "not be computed: it is null and `reason` says why. The other measures are unaffected.",
    )
