"""Scenarios: the API schemas of the scenarios, grids, stress tests and break-even routes (the
tables of named, versioned assumption sets and their runs are in app/models/tables.py).

A scenario stores only its own fields (`assumptions` overrides, `rate_shocks`, `vectors`); the
resolved assumptions are built on read from its template or parent scenario (`extends`).
Units follow app.models.forecasts: rates are decimals, PSA/SDA speeds percent of the curve,
rate shocks in basis points, tenors in years, money in the pool's currency.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    model_serializer,
    model_validator,
)

from app.engine.sensitivity import vocabulary
from app.models.base import literal_of
from app.models.consumer_credit import MacroPathsIn
from app.models.demo import DEMO_POOL_ID, DEMO_SCENARIO_ID
from app.models.forecasts import (
    AssumptionOverrides,
    AssumptionsIn,
    CurveIn,
    OptionsIn,
    PoolRef,
    ValuationIn,
)
from app.models.jobs import JobAccepted
from app.models.montecarlo import MonteCarloOut, MonteCarloSettingsIn
from app.models.schema_rules import at_most_one_of

# ---- scenario definitions -------------------------------------------------------------------
Rate = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
Bp = Annotated[float, Field(ge=-5000.0, le=5000.0, allow_inf_nan=False)]
Tag = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[\w .:/+-]+$")]


class RateShockIn(BaseModel):
    """A rate shock in basis points: `parallel_bp` on every rate, plus a twist of `short_bp`
    at maturities up to `short_tenor_years` and `long_bp` from `long_tenor_years`, linear in
    between (a steepener has short_bp < long_bp). Moves the valuation rates and the floating
    index paths (at t = period / 12 years)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"parallel_bp": 200}, {"short_bp": -50, "long_bp": 50}]},
    )

    name: str | None = Field(None, max_length=100)
    parallel_bp: Bp = 0.0
    short_bp: Bp = 0.0
    long_bp: Bp = 0.0
    short_tenor_years: Annotated[float, Field(ge=0.0, le=50.0)] = 2.0
    long_tenor_years: Annotated[float, Field(gt=0.0, le=100.0)] = 10.0

    @model_validator(mode="after")
    def _tenors(self) -> RateShockIn:
        if self.long_tenor_years <= self.short_tenor_years:
            raise ValueError("long_tenor_years must be greater than short_tenor_years")
        return self


class VectorsIn(BaseModel):
    """Per-period vectors (period 1 first; a short vector holds its last value). `cpr`/`cdr`
    are annual decimals, `smm`/`mdr` monthly decimals; a vector replaces the scenario's
    prepayment (cpr, smm) or default (cdr, mdr) speed. `index_paths` (annual decimals per
    month, by index name) replace those of the assumptions name by name."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra=at_most_one_of(
            ("cpr", "smm"), ("cdr", "mdr"), examples=[{"cdr": [0.01, 0.02, 0.04, 0.03]}]
        ),
    )

    cpr: list[Rate] | None = Field(None, min_length=1, max_length=1200)
    smm: list[Rate] | None = Field(None, min_length=1, max_length=1200)
    cdr: list[Rate] | None = Field(None, min_length=1, max_length=1200)
    mdr: list[Rate] | None = Field(None, min_length=1, max_length=1200)
    index_paths: dict[str, list[Annotated[float, Field(allow_inf_nan=False)]]] | None = None

    @model_serializer(mode="wrap")
    def _given_only(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """The vectors given, without the others as nulls: the schema says a vector is given
        or left out, never null (schema_rules.at_most_one_of)."""
        return {k: v for k, v in handler(self).items() if v is not None}

    @model_validator(mode="after")
    def _one_each(self) -> VectorsIn:
        if self.cpr is not None and self.smm is not None:
            raise ValueError("give cpr or smm, not both")
        if self.cdr is not None and self.mdr is not None:
            raise ValueError("give cdr or mdr, not both")
        return self


class ScenarioMonteCarloIn(MonteCarloSettingsIn):
    """A scenario's Monte Carlo block: the Monte Carlo request (POST /cashflow/monte-carlo)
    without its pool, which is the run's pool (fixed-rate, level-pay, monthly loans), and with
    an optional curve (default: the run's `valuation.curve`)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "rate_model": {
                        "type": "hull_white",
                        "mean_reversion": 0.03,
                        "volatility": 0.01,
                    },
                    "n_paths": 1000,
                    "seed": 7,
                    "percentiles": [5, 50, 95],
                    "price": 1000000.0,
                }
            ]
        },
    )

    curve: CurveIn | None = Field(
        None,
        description="Zero curve the rate model is fitted to (continuously compounded, "
        "ACT/365F); default the run's valuation.curve.",
    )


class ScenarioFields(BaseModel):
    """The fields a scenario defines itself; unset fields come from its template or parent."""

    model_config = ConfigDict(extra="forbid")

    description: str | None = Field(None, max_length=2000)
    tags: list[Tag] = Field(default_factory=list, max_length=20)
    template: str | None = Field(
        None, max_length=64, description="Built-in template to start from (GET .../templates)."
    )
    extends: str | None = Field(
        None, max_length=36, description="scenario_id of one of your scenarios to start from."
    )
    assumptions: AssumptionOverrides = Field(
        default_factory=AssumptionOverrides,
        description="Assumption fields to set (each replaces the inherited field wholesale).",
    )
    rate_shocks: list[RateShockIn] | None = Field(
        None, max_length=10, description="Replaces the inherited shocks; they add up."
    )
    vectors: VectorsIn | None = Field(None, description="Per-period vectors (see VectorsIn).")
    monte_carlo: ScenarioMonteCarloIn | None = Field(
        None,
        description="Monte Carlo block: a run also reports the Monte Carlo distributions and "
        "OAS of the pool; replaces an inherited block wholesale.",
    )
    macro: MacroPathsIn | None = Field(
        None,
        description="Macro paths (unemployment, hpi, rate per month) for the consumer-credit "
        "macro link (POST .../consumer-credit/analyze with macro.scenarios).",
    )

    @model_validator(mode="after")
    def _one_parent(self) -> ScenarioFields:
        if self.template is not None and self.extends is not None:
            raise ValueError("give template or extends, not both")
        return self


class ScenarioCreate(ScenarioFields):
    """POST /api/v1/scenarios/ body."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "house view 2027",
                    "description": "Adverse mortgage template with faster defaults",
                    "tags": ["mortgage", "2027"],
                    "template": "mortgage_adverse",
                    "assumptions": {"default": {"type": "sda", "speed": 250}},
                    "rate_shocks": [{"parallel_bp": 100}],
                }
            ]
        },
    )

    name: str = Field(min_length=1, max_length=100)


class ScenarioUpdate(ScenarioCreate):
    """PUT body: the whole scenario plus the `version` it was read at (409 when stale)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "house view 2027",
                    "description": "Adverse mortgage template, defaults faster still",
                    "tags": ["mortgage", "2027"],
                    "template": "mortgage_adverse",
                    "assumptions": {"default": {"type": "sda", "speed": 300}},
                    "rate_shocks": [{"parallel_bp": 100}],
                    "version": 1,
                }
            ]
        },
    )

    version: int = Field(ge=1, description="The version you read; the update makes version + 1.")


_RESOLVED_EXAMPLE: dict[str, Any] = {
    "assumptions": {
        "prepayment": {"type": "psa", "speed": 100.0},
        "default": {"type": "sda", "speed": 250.0},
        "severity": 0.45,
        "recovery_lag_months": 18,
        "advancing": True,
        "index_paths": {},
        "n_periods": None,
    },
    "rate_shocks": [
        {
            "name": "+100bp",
            "parallel_bp": 100.0,
            "short_bp": 0.0,
            "long_bp": 0.0,
            "short_tenor_years": 2.0,
            "long_tenor_years": 10.0,
        }
    ],
    "vectors": None,
    "lineage": [
        "template:mortgage_adverse",
        "scenario:5b0f0c7e-6a43-4f57-9d43-44b3f3f1c3a9",
    ],
}

_SCENARIO_EXAMPLE: dict[str, Any] = {
    "scenario_id": "5b0f0c7e-6a43-4f57-9d43-44b3f3f1c3a9",
    "name": "house view 2027",
    "description": "Adverse mortgage template with faster defaults",
    "tags": ["mortgage", "2027"],
    "template": "mortgage_adverse",
    "extends": None,
    "version": 3,
    "assumptions": {"default": {"type": "sda", "speed": 250}},
    "rate_shocks": None,
    "vectors": None,
    "resolved": _RESOLVED_EXAMPLE,
    "created_at": "2026-11-27T15:00:00Z",
    "updated_at": "2026-11-27T16:00:00Z",
}


class ResolvedScenario(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_RESOLVED_EXAMPLE]})

    assumptions: AssumptionsIn = Field(description="Assumptions after template/parent, vectors.")
    rate_shocks: list[RateShockIn]
    vectors: VectorsIn | None
    monte_carlo: ScenarioMonteCarloIn | None = Field(
        None, description="The nearest Monte Carlo block along the lineage (null: none)."
    )
    lineage: list[str] = Field(description="Where the fields come from, root first.")


class ScenarioOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_SCENARIO_EXAMPLE]})

    scenario_id: str
    name: str
    description: str | None
    tags: list[str]
    template: str | None
    extends: str | None
    version: int
    assumptions: dict[str, Any] = Field(description="This scenario's own assumption overrides.")
    rate_shocks: list[RateShockIn] | None
    vectors: VectorsIn | None
    monte_carlo: ScenarioMonteCarloIn | None = None
    resolved: ResolvedScenario
    created_at: datetime
    updated_at: datetime


class ScenarioPage(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"items": [_SCENARIO_EXAMPLE], "total": 1, "limit": 20, "offset": 0}]
        }
    )

    items: list[ScenarioOut]
    total: int
    limit: int
    offset: int


class TemplateOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "key": "mortgage_adverse",
                    "asset_class": "mortgage",
                    "severity_level": "adverse",
                    "name": "Prime fixed-rate residential mortgages: adverse",
                    "description": "Prime fixed-rate residential mortgages, adverse case; see docs/methodology/scenarios.md for the calibration.",
                    "assumptions": {
                        "prepayment": {"type": "psa", "speed": 100},
                        "default": {"type": "sda", "speed": 300},
                        "severity": 0.45,
                        "recovery_lag_months": 18,
                        "advancing": True,
                    },
                    "rate_shocks": [{"name": "+100bp", "parallel_bp": 100}],
                }
            ]
        }
    )

    key: str
    asset_class: Literal["mortgage", "auto", "consumer", "commercial"]
    severity_level: Literal["base", "adverse", "severely_adverse"]
    name: str
    description: str
    assumptions: AssumptionsIn
    rate_shocks: list[RateShockIn]


# ---- runs -----------------------------------------------------------------------------------
class ScenarioRunRequest(BaseModel):
    """POST /api/v1/scenarios/{scenario_id}/run body."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "pool": {"pool_id": DEMO_POOL_ID},
                    "valuation": {"discount_rate": 0.055},
                }
            ]
        },
    )

    name: str | None = Field(
        None, max_length=200, description="Forecast name; default the scenario's."
    )
    pool: PoolRef
    valuation: ValuationIn | None = None
    options: OptionsIn = Field(default_factory=OptionsIn)


class InlineScenario(ScenarioFields):
    name: str = Field(min_length=1, max_length=100)


class MultiRunRequest(BaseModel):
    """POST /api/v1/scenarios/run body: stored scenarios (by id) and/or inline definitions, run
    on one pool in one forecast."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "Q3 pool under the mortgage templates",
                    "pool": {"pool_id": DEMO_POOL_ID},
                    "scenario_ids": [DEMO_SCENARIO_ID],
                    "inline": [
                        {"name": "base", "template": "mortgage_base"},
                        {"name": "adverse", "template": "mortgage_adverse"},
                        {"name": "severe", "template": "mortgage_severely_adverse"},
                    ],
                    "valuation": {"discount_rate": 0.055},
                }
            ]
        },
    )

    name: str = Field("scenario comparison", min_length=1, max_length=200)
    scenario_ids: list[Annotated[str, Field(max_length=36)]] = Field(default_factory=list)
    inline: list[InlineScenario] = Field(default_factory=list)
    pool: PoolRef
    valuation: ValuationIn | None = None
    options: OptionsIn = Field(default_factory=OptionsIn)

    @model_validator(mode="after")
    def _some(self) -> MultiRunRequest:
        if not self.scenario_ids and not self.inline:
            raise ValueError("give at least one of scenario_ids or inline")
        return self


class ScenarioMonteCarloOut(BaseModel):
    """A scenario's Monte Carlo result (small runs), or the job computing it (large runs:
    its result, when done, is at /api/v1/jobs/{job_id}/result)."""

    result: MonteCarloOut | None
    job: JobAccepted | None


class RunScenarioResult(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "adverse",
                    "scenario_id": "5b0f0c7e-6a43-4f57-9d43-44b3f3f1c3a9",
                    "scenario_version": 3,
                    "n_periods": 2,
                    "cashflows": {"period": [1, 2], "total_cashflow": [4210.5, 4198.2]},
                    "analytics": {"npv": 512345.6, "wal": 6.91},
                    "risk": {
                        "wal": 6.91,
                        "cumulative_loss": 8123.4,
                        "cumulative_loss_fraction": 0.0153,
                        "cumulative_default": 18052.0,
                        "loss_wal_years": 4.2,
                        "loss_half_period": 46.0,
                        "peak_loss_period": 31.0,
                        "wal_change": {"-200bp": 0.0, "-100bp": 0.0, "+100bp": 0.0, "+200bp": 0.0},
                        "npv": 512345.6,
                        "yield": None,
                        "dv01": 245.1,
                        "effective_duration": 4.79,
                        "effective_convexity": 38.2,
                        "spread_duration": 4.79,
                        "modified_duration": 4.78,
                    },
                }
            ]
        }
    )

    name: str
    scenario_id: str | None
    scenario_version: int | None
    n_periods: int
    cashflows: dict[str, list[float | None]]
    analytics: dict[str, float | None] | None
    risk: dict[str, Any]
    monte_carlo: ScenarioMonteCarloOut | None = Field(
        None, description="Present when the scenario has a Monte Carlo block."
    )


class RunResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "forecast_id": "9a1c2b3d-0000-4000-8000-000000000001",
                    "name": "adverse",
                    "pool_id": "7d3f3c8e-3c1e-4f4e-9b8a-2f1d0c9b8a7e",
                    "n_loans": 3,
                    "duration_ms": 12.5,
                    "scenarios": [
                        {
                            "name": "adverse",
                            "scenario_id": "5b0f0c7e-6a43-4f57-9d43-44b3f3f1c3a9",
                            "scenario_version": 3,
                            "n_periods": 2,
                            "cashflows": {"period": [1, 2], "total_cashflow": [4210.5, 4198.2]},
                            "analytics": None,
                            "risk": {
                                "wal": 6.91,
                                "cumulative_loss": 8123.4,
                                "cumulative_loss_fraction": 0.0153,
                                "cumulative_default": 18052.0,
                                "loss_wal_years": 4.2,
                                "loss_half_period": 46.0,
                                "peak_loss_period": 31.0,
                                "wal_change": {
                                    "-200bp": 0.0,
                                    "-100bp": 0.0,
                                    "+100bp": 0.0,
                                    "+200bp": 0.0,
                                },
                                "npv": 512345.6,
                                "yield": None,
                                "dv01": 245.1,
                                "effective_duration": 4.79,
                                "effective_convexity": 38.2,
                                "spread_duration": 4.79,
                                "modified_duration": 4.78,
                            },
                        }
                    ],
                    "summary": [
                        {
                            "name": "adverse",
                            "npv": 512345.6,
                            "yield": None,
                            "dv01": 245.1,
                            "effective_duration": 4.79,
                            "effective_convexity": 38.2,
                            "spread_duration": 4.79,
                            "wal": 6.91,
                            "cumulative_loss": 8123.4,
                            "cumulative_loss_fraction": 0.0153,
                            "loss_wal_years": 4.2,
                            "loss_half_period": 46.0,
                        }
                    ],
                }
            ]
        }
    )

    forecast_id: str
    name: str
    pool_id: str | None
    n_loans: int
    duration_ms: float | None
    scenarios: list[RunScenarioResult]
    summary: list[dict[str, Any]] = Field(
        description="One row per scenario: name, npv, dv01, effective duration, WAL, "
        "cumulative loss and its timing."
    )


# ---- grids, stress, break-even --------------------------------------------------------------
if TYPE_CHECKING:  # the values are checked by pydantic; to the type checker they are words
    GridVariable = str
    Measure = str
    BreakEvenVariableName = str
    BreakEvenMeasureName = str
else:  # the engine's vocabulary, in its order (the schemas' `enum`)
    GridVariable = literal_of(vocabulary.GridVariable)
    Measure = literal_of(vocabulary.Measure)
    BreakEvenVariableName = literal_of(vocabulary.BreakEvenVariable)
    BreakEvenMeasureName = literal_of(vocabulary.BREAKEVEN_MEASURES)


class AxisIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    variable: GridVariable = Field(
        description="cpr/cdr: annual decimal; psa/sda: percent of the curve; abs: monthly "
        "decimal; severity: decimal; multipliers: x; severity_addon: decimal; rate_shift_bp: bp."
    )
    values: list[Annotated[float, Field(allow_inf_nan=False)]] = Field(min_length=1, max_length=50)


class _OnBase(BaseModel):
    """A pool and the base assumptions: inline `assumptions`, or a stored `scenario_id`."""

    model_config = ConfigDict(extra="forbid")

    pool: PoolRef
    scenario_id: str | None = Field(None, max_length=36)
    assumptions: AssumptionsIn | None = None
    valuation: ValuationIn | None = None

    @model_validator(mode="after")
    def _one_base(self) -> _OnBase:
        if self.scenario_id is not None and self.assumptions is not None:
            raise ValueError("give scenario_id or assumptions, not both")
        return self


class GridRequest(_OnBase):
    """POST /api/v1/scenarios/grid body."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "pool": {"pool_id": DEMO_POOL_ID},
                    "assumptions": {"severity": 0.35, "recovery_lag_months": 6},
                    "x": {"variable": "cpr", "values": [0.0, 0.05, 0.1, 0.2]},
                    "y": {"variable": "cdr", "values": [0.0, 0.01, 0.02, 0.05]},
                    "measures": ["npv", "yield", "wal", "cumulative_loss", "modified_duration"],
                    "valuation": {"price_percent": 99.5},
                }
            ]
        },
    )

    x: AxisIn
    y: AxisIn | None = None
    measures: list[Measure] = Field(min_length=1, max_length=15)


class GridResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "x": {"variable": "cpr", "values": [0.0, 0.1]},
                    "y": {"variable": "cdr", "values": [0.0, 0.02]},
                    "measures": {
                        "wal": [[9.8, 9.1], [5.6, 5.3]],
                        "cumulative_loss": [[0.0, 21450.2], [0.0, 14011.7]],
                    },
                    "projections": 4,
                    "duration_ms": 35.2,
                }
            ]
        }
    )

    x: AxisIn
    y: AxisIn | None
    measures: dict[str, list[list[float | None]]] = Field(
        description="measure -> rows over x values, each a list over y values (one for 1-D)."
    )
    projections: int
    duration_ms: float


class StressShockIn(BaseModel):
    """A named stress: rate shock (bp) and credit shocks, applied together."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    rate: RateShockIn = Field(default_factory=RateShockIn)
    default_multiplier: Annotated[float, Field(ge=0.0, le=1000.0)] = 1.0
    prepayment_multiplier: Annotated[float, Field(ge=0.0, le=1000.0)] = 1.0
    severity_addon: Annotated[float, Field(ge=-1.0, le=1.0)] = 0.0


_STRESS_DEFAULT_MEASURES: tuple[Measure, ...] = tuple(
    m.value
    for m in (
        vocabulary.Measure.NPV,
        vocabulary.Measure.EFFECTIVE_DURATION,
        vocabulary.Measure.WAL,
        vocabulary.Measure.CUMULATIVE_LOSS,
        vocabulary.Measure.CUMULATIVE_LOSS_FRACTION,
    )
)


class StressRequest(_OnBase):
    """POST /api/v1/scenarios/stress body."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "pool": {"pool_id": DEMO_POOL_ID},
                    "scenario_id": DEMO_SCENARIO_ID,
                    "standard": True,
                    "shocks": [
                        {"name": "my combo", "rate": {"parallel_bp": 150}, "default_multiplier": 3}
                    ],
                    "valuation": {"discount_rate": 0.055},
                }
            ]
        },
    )

    standard: bool = Field(True, description="Include the standard set of shocks.")
    shocks: list[StressShockIn] = Field(default_factory=list, max_length=40)
    measures: list[Measure] = Field(
        default_factory=lambda: list(_STRESS_DEFAULT_MEASURES), min_length=1, max_length=15
    )
    include_cashflows: bool = Field(False, description="Also return each shock's columns.")


class StressRow(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "+100bp",
                    "measures": {"npv": 498765.4, "wal": 6.91},
                    "deltas": {"npv": -13580.2, "wal": 0.0},
                    "cashflows": None,
                }
            ]
        }
    )

    name: str
    measures: dict[str, float | None]
    deltas: dict[str, float | None]
    cashflows: dict[str, list[float | None]] | None = None


class StressResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "base": {
                        "name": "base",
                        "measures": {"npv": 512345.6, "wal": 6.91},
                        "deltas": {"npv": 0.0, "wal": 0.0},
                        "cashflows": None,
                    },
                    "shocks": [
                        {
                            "name": "+100bp",
                            "measures": {"npv": 498765.4, "wal": 6.91},
                            "deltas": {"npv": -13580.2, "wal": 0.0},
                            "cashflows": None,
                        }
                    ],
                    "duration_ms": 210.4,
                }
            ]
        }
    )

    base: StressRow
    shocks: list[StressRow]
    duration_ms: float


class BreakEvenRequest(_OnBase):
    """POST /api/v1/scenarios/breakeven body."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "pool": {"pool_id": DEMO_POOL_ID},
                    "assumptions": {"prepayment": {"type": "psa", "speed": 150}, "severity": 0.4},
                    "variable": "cdr",
                    "measure": "cumulative_loss_fraction",
                    "target": 0.05,
                }
            ]
        },
    )

    variable: BreakEvenVariableName
    measure: BreakEvenMeasureName
    target: Annotated[float, Field(allow_inf_nan=False)]
    lower: Annotated[float, Field(ge=0.0, allow_inf_nan=False)] | None = None
    upper: Annotated[float, Field(gt=0.0, allow_inf_nan=False)] | None = None


class BreakEvenResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "variable": "cdr",
                    "measure": "cumulative_loss_fraction",
                    "target": 0.05,
                    "value": 0.02692,
                    "achieved": 0.05,
                    "bracket": [0.015625, 0.03125],
                    "iterations": 6,
                    "evaluations": 11,
                    "duration_ms": 180.3,
                }
            ]
        }
    )

    variable: str
    measure: str
    target: float
    value: float = Field(description="CDR (decimal), SDA speed (percent) or multiplier.")
    achieved: float = Field(description="The measure at `value`.")
    bracket: list[float]
    iterations: int = Field(description="Brent iterations after bracketing.")
    evaluations: int = Field(description="Projections made (bracketing included).")
    duration_ms: float
