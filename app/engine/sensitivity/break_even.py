"""Break-even solver: the constant CDR, SDA speed or default multiplier at which a measure
equals a target (bracketing walk, then Brent's method)."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from app.engine._lazy import lazy_function
from app.engine.analytics.measures import as_flows
from app.engine.analytics.solvers import find_bracket
from app.engine.errors import EngineError, NoSolution
from app.engine.pool import LoanPool
from app.engine.projection import Engine
from app.engine.sensitivity.reprojection import Runner
from app.engine.sensitivity.scenario_measures import flow_times, measures_of
from app.engine.sensitivity.shocks import (
    CURVE_KINDS,
    MAX_CURVE_SPEED,
    RATE_KINDS,
    CreditShock,
    apply_shock,
    invalid,
)
from app.engine.sensitivity.valuation import Valuation, resolve_basis
from app.engine.sensitivity.vocabulary import (
    BREAKEVEN_MEASURES,
    VALUE_MEASURES,
    BreakEvenVariable,
    Measure,
    member_of,
    words,
)
from app.engine.types import Assumptions, Speed, SpeedKind

brentq = lazy_function("scipy.optimize", "brentq")  # SciPy imported at the first call

BREAKEVEN_VARIABLES: tuple[BreakEvenVariable, ...] = tuple(BreakEvenVariable)


@dataclass(frozen=True)
class BreakEven:
    """Solution of measure(variable) = target: the variable's value, the measure there, the
    bracket used, and the iterations / function evaluations of the root finder."""

    variable: str
    measure: str
    target: float
    value: float
    achieved: float
    bracket: tuple[float, float]
    iterations: int
    evaluations: int


def break_even(
    pool: LoanPool,
    base: Assumptions,
    *,
    variable: BreakEvenVariable | str,
    measure: Measure | str,
    target: float,
    valuation: Valuation | None = None,
    lower: float | None = None,
    upper: float | None = None,
    xtol: float = 1e-12,
    engine: Engine = "numba",
) -> BreakEven:
    """The constant CDR (decimal), SDA speed (percent) or default multiplier at which `measure`
    equals `target` (e.g. cumulative_loss_fraction = 0.05, or yield = 0 at valuation.price).

    Bracketing: walks out from the lower end of [lower, upper] until the sign of
    measure − target changes (`find_bracket` of the analytics solvers), then Brent's method
    (scipy brentq) to xtol; `iterations` and `evaluations` count the Brent steps and every
    projection made (bracketing included). Raises NoSolution when the target is not crossed in
    the range.
    """
    var = member_of(BreakEvenVariable, variable)
    if var is None:
        raise invalid("variable", f"expected one of {words(BREAKEVEN_VARIABLES)}")
    target_measure = member_of(Measure, measure)
    if target_measure not in BREAKEVEN_MEASURES:
        raise invalid("measure", f"expected one of {words(BREAKEVEN_MEASURES)}")
    assert target_measure is not None
    variable, measure = var.value, target_measure.value
    if not math.isfinite(target):
        raise invalid("target", "must be finite")
    if var is BreakEvenVariable.CDR:
        default_upper = 1.0
    elif var is BreakEvenVariable.SDA:
        default_upper = MAX_CURVE_SPEED
    else:
        default_upper = _max_multiplier(base.default)
    lo = 0.0 if lower is None else float(lower)
    hi = default_upper if upper is None else float(upper)
    if not (math.isfinite(lo) and math.isfinite(hi) and 0.0 <= lo < hi <= default_upper):
        raise invalid("upper", f"need 0 <= lower < upper <= {default_upper:g} for {variable}")
    if target_measure is Measure.YIELD and (valuation is None or valuation.price is None):
        raise EngineError("a yield break-even needs valuation.price", field="valuation.price")
    runner = Runner(pool, engine)
    start = pool.total_balance
    basis = None
    if target_measure in VALUE_MEASURES:
        if valuation is None or not valuation.has_basis:
            raise EngineError(f"{measure} needs a valuation", field="valuation")
        base_cols = runner.project(base)
        basis = resolve_basis(
            valuation, *as_flows(base_cols["total_cashflow"], flow_times(base_cols))
        )
    evaluations = 0

    def assumptions_at(x: float) -> Assumptions:
        if var is BreakEvenVariable.CDR:
            return replace(base, default=Speed(SpeedKind.CDR, rate=x))
        if var is BreakEvenVariable.SDA:
            return replace(base, default=Speed(SpeedKind.SDA, speed=x))
        return apply_shock(base, credit=CreditShock(default_multiplier=x))

    def f(x: float) -> float:
        nonlocal evaluations
        evaluations += 1
        cols = runner.project(assumptions_at(x))
        try:
            v = measures_of(cols, basis, start, [measure])[measure]
        except NoSolution:
            return math.nan
        return math.nan if v is None else float(v) - target

    step = (hi - lo) / 64.0
    try:
        a, b = find_bracket(f, lo, lo, hi, step=step, what=f"break-even {variable}", field="target")
    except NoSolution:
        raise NoSolution(
            f"{measure} does not cross {target:g} for {variable} in [{lo:g}, {hi:g}]",
            field="target",
        ) from None
    if a == b:
        return BreakEven(variable, measure, target, a, target + f(a), (a, b), 0, evaluations)
    root, info = brentq(
        f, a, b, xtol=xtol, rtol=4 * np.finfo(float).eps, maxiter=200, full_output=True, disp=False
    )
    if not info.converged:
        raise NoSolution(f"break-even did not converge ({info.flag})", field="target")
    achieved = f(root) + target
    return BreakEven(
        variable, measure, target, float(root), achieved, (a, b), int(info.iterations), evaluations
    )


def _max_multiplier(speed: Speed) -> float:
    """Largest default multiplier that keeps the speed in its domain (capped at 1,000)."""
    cap = 1000.0
    if speed.kind in CURVE_KINDS:
        lvl = (
            speed.speed
            if speed.loan_rates is None
            else float(np.max(speed.loan_rates, initial=0.0))
        )
        top = MAX_CURVE_SPEED
    elif speed.kind in RATE_KINDS:
        lvl = (
            speed.rate if speed.loan_rates is None else float(np.max(speed.loan_rates, initial=0.0))
        )
        top = 1.0
    else:
        lvl = float(np.max(np.asarray(speed.values, dtype=np.float64), initial=0.0))
        top = 1.0
    if lvl <= 0.0:
        raise invalid("default", "a default multiplier needs a non-zero base default speed")
    return min(cap, top / lvl)
