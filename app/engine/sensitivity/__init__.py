"""Scenario analytics on a projected pool: shocks, valuation bases, measures, sensitivity
grids, stress tests, risk measures and the break-even solver.

Conventions: cash flows fall at t = period / 12 years (30/360 monthly, end of period, as the
forecasts API values them). Rate shocks are in decimals (0.01 = 100 bp) and move either the
flat yield of the valuation (parallel shocks, in the yield's own compounding) or the
continuously compounded ACT/365F zero rates of its curve; twists (steepener/flattener) move the
zero rates by a piecewise-linear amount in maturity. Credit shocks scale the quoted level of a
speed (CDR/CPR/ABS rate, PSA/SDA speed, vector values) and add to the severity; a shock that
takes a value outside its domain is an `InvalidInput`, never a silent clamp.

Everything here is pure NumPy on top of `project_pool` (compiled kernel) and the analytics
measures; the only Python loops are over grid cells, shocks and solver iterations.

Modules: vocabulary (the enums users' words parse into), shocks, valuation, scenario_measures,
reprojection (the cached projector), grids, stress, risk, break_even.
"""

from app.engine.sensitivity.break_even import BREAKEVEN_VARIABLES, BreakEven, break_even
from app.engine.sensitivity.grids import (
    GRID_VARIABLES,
    GridAxis,
    GridResult,
    sensitivity_grid,
)
from app.engine.sensitivity.reprojection import Runner
from app.engine.sensitivity.risk import RISK_SHOCKS_BP, run_risk
from app.engine.sensitivity.scenario_measures import (
    PRINCIPAL_COLUMNS,
    Reprojector,
    credit_measures,
    flow_times,
    measures_of,
    principal_flow,
    value_measures,
)
from app.engine.sensitivity.shocks import (
    BP,
    NO_RATE_SHOCK,
    CreditShock,
    RateShock,
    StressShock,
    apply_shock,
    scale_speed,
    shock_index_paths,
    standard_stresses,
)
from app.engine.sensitivity.stress import StressOutcome, stress_test
from app.engine.sensitivity.valuation import Basis, Valuation, resolve_basis
from app.engine.sensitivity.vocabulary import (
    BREAKEVEN_MEASURES,
    CREDIT_MEASURES,
    MEASURES,
    VALUE_MEASURES,
    BasisKind,
    BreakEvenVariable,
    GridVariable,
    Measure,
    StandardStress,
)

__all__ = [
    "BP",
    "BREAKEVEN_MEASURES",
    "BREAKEVEN_VARIABLES",
    "CREDIT_MEASURES",
    "GRID_VARIABLES",
    "MEASURES",
    "NO_RATE_SHOCK",
    "PRINCIPAL_COLUMNS",
    "RISK_SHOCKS_BP",
    "VALUE_MEASURES",
    "Basis",
    "BasisKind",
    "BreakEven",
    "BreakEvenVariable",
    "CreditShock",
    "GridAxis",
    "GridResult",
    "GridVariable",
    "Measure",
    "RateShock",
    "Reprojector",
    "Runner",
    "StandardStress",
    "StressOutcome",
    "StressShock",
    "Valuation",
    "apply_shock",
    "break_even",
    "credit_measures",
    "flow_times",
    "measures_of",
    "principal_flow",
    "resolve_basis",
    "run_risk",
    "scale_speed",
    "sensitivity_grid",
    "shock_index_paths",
    "standard_stresses",
    "stress_test",
    "value_measures",
]
