"""One- and two-way sensitivity grids: measures of a pool over a grid of assumptions (each
cell one compiled projection; cells differing only in their valuation share it)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from app.engine.analytics.measures import as_flows
from app.engine.errors import EngineError, InvalidInput
from app.engine.pool import LoanPool
from app.engine.projection import Engine
from app.engine.sensitivity.reprojection import Runner
from app.engine.sensitivity.scenario_measures import Reprojector, flow_times, measures_of
from app.engine.sensitivity.shocks import (
    BP,
    MAX_CURVE_SPEED,
    NO_RATE_SHOCK,
    CreditShock,
    RateShock,
    invalid,
)
from app.engine.sensitivity.valuation import Basis, Valuation, resolve_basis
from app.engine.sensitivity.vocabulary import (
    MEASURES,
    VALUE_MEASURES,
    GridVariable,
    Measure,
    member_of,
    words,
)
from app.engine.types import Assumptions, Speed, SpeedKind

GRID_VARIABLES: tuple[GridVariable, ...] = tuple(GridVariable)
"""Every grid variable (see GridVariable for the units)."""


@dataclass(frozen=True)
class GridAxis:
    """One axis of a grid: a GridVariable (or its name) and the values it takes (its unit)."""

    variable: GridVariable | str
    values: tuple[float, ...]


_ASSUMPTION_VARIABLES = frozenset(
    {
        GridVariable.CPR,
        GridVariable.PSA,
        GridVariable.ABS,
        GridVariable.CDR,
        GridVariable.SDA,
        GridVariable.SEVERITY,
    }
)
_BOUNDS: dict[GridVariable, tuple[float, float]] = {
    GridVariable.CPR: (0.0, 1.0),
    GridVariable.CDR: (0.0, 1.0),
    GridVariable.SEVERITY: (0.0, 1.0),
    GridVariable.ABS: (0.0, float(np.nextafter(1.0, 0.0))),
    GridVariable.PSA: (0.0, MAX_CURVE_SPEED),
    GridVariable.SDA: (0.0, MAX_CURVE_SPEED),
    GridVariable.PREPAYMENT_MULTIPLIER: (0.0, math.inf),
    GridVariable.DEFAULT_MULTIPLIER: (0.0, math.inf),
    GridVariable.SEVERITY_ADDON: (-1.0, 1.0),
    GridVariable.RATE_SHIFT_BP: (-5_000.0, 5_000.0),
}


def _cell(
    base: Assumptions, settings: dict[GridVariable, float]
) -> tuple[Assumptions, CreditShock, RateShock]:
    a = base
    credit = CreditShock()
    rate = NO_RATE_SHOCK
    g = GridVariable
    for var, x in settings.items():
        if var is g.CPR:
            a = replace(a, prepayment=Speed(SpeedKind.CPR, rate=x))
        elif var is g.PSA:
            a = replace(a, prepayment=Speed(SpeedKind.PSA, speed=x))
        elif var is g.ABS:
            a = replace(a, prepayment=Speed(SpeedKind.ABS, rate=x))
        elif var is g.CDR:
            a = replace(a, default=Speed(SpeedKind.CDR, rate=x))
        elif var is g.SDA:
            a = replace(a, default=Speed(SpeedKind.SDA, speed=x))
        elif var is g.SEVERITY:
            a = replace(a, severity=x)
        elif var is g.PREPAYMENT_MULTIPLIER:
            credit = replace(credit, prepayment_multiplier=x)
        elif var is g.DEFAULT_MULTIPLIER:
            credit = replace(credit, default_multiplier=x)
        elif var is g.SEVERITY_ADDON:
            credit = replace(credit, severity_addon=x)
        elif var is g.RATE_SHIFT_BP:
            rate = RateShock(parallel=x * BP)
    return a, credit, rate


def _check_axis(axis: GridAxis, label: str) -> GridVariable:
    """The axis's variable, parsed; its values checked against the variable's domain."""
    variable = member_of(GridVariable, axis.variable)
    if variable is None:
        raise invalid(
            f"{label}.variable",
            f"unknown grid variable {axis.variable!r}; expected one of {words(GRID_VARIABLES)}",
        )
    vals = np.asarray(axis.values, dtype=np.float64)
    if vals.size == 0 or not np.all(np.isfinite(vals)):
        raise invalid(f"{label}.values", "needs at least one finite value")
    lo = float(vals.min())
    hi = float(vals.max())
    bounds = _BOUNDS[variable]
    if lo < bounds[0] or hi > bounds[1]:
        raise invalid(
            f"{label}.values", f"{variable.value} values must lie in [{bounds[0]:g}, {bounds[1]:g}]"
        )
    return variable


@dataclass(frozen=True)
class GridResult:
    """values[name] has shape (len(x.values), len(y.values)) (a single column for a 1-D grid)."""

    x: GridAxis
    y: GridAxis | None
    measures: dict[str, np.ndarray]
    projections: int


def sensitivity_grid(
    pool: LoanPool,
    base: Assumptions,
    x: GridAxis,
    y: GridAxis | None,
    names: Sequence[Measure | str],
    valuation: Valuation | None = None,
    *,
    engine: Engine = "numba",
    progress: Callable[[int, int], None] | None = None,
) -> GridResult:
    """Measures of the pool over a one- or two-way grid of assumptions.

    Each cell applies its x and y settings to `base` and is projected once by the compiled
    kernel (cells that differ only in their valuation re-use the projection). The discount
    basis (Z-spread or yield of `valuation.price`) is fixed on the base assumptions, so a
    cell's npv is its flows valued at the base spread, and its yield is at the given price.
    Cells whose measure is undefined (e.g. no yield prices the flows) are None.
    """
    x_var = _check_axis(x, "x")
    y_var = None
    if y is not None:
        y_var = _check_axis(y, "y")
        if y_var is x_var:
            raise invalid("y.variable", "the two axes must vary different assumptions")
    unknown = [n for n in names if member_of(Measure, n) is None]
    if not names or unknown:
        raise invalid("measures", f"choose measures from {words(MEASURES)}")
    names = [Measure(n).value for n in names]
    runner = Runner(pool, engine)
    start = pool.total_balance
    basis = basis_for(runner, base, names, valuation)
    ys: tuple[float, ...] = y.values if y is not None else (math.nan,)
    out = {n: np.full((len(x.values), len(ys)), np.nan) for n in names}
    total = len(x.values) * len(ys)
    done = 0
    for i, xv in enumerate(x.values):  # one compiled projection per distinct cell
        for j, yv in enumerate(ys):
            settings = {x_var: float(xv)}
            if y_var is not None:
                settings[y_var] = float(yv)
            a, credit, rate = _cell(base, settings)
            tag = (
                tuple(
                    sorted((k.value, v) for k, v in settings.items() if k in _ASSUMPTION_VARIABLES)
                )
                or "base"
            )
            cols = runner.project_shocked(a, credit, rate, tag)
            vals = safe_measures(
                cols, basis, start, names, rate, runner.reprojector(a, credit, tag)
            )
            for n in names:
                v = vals.get(n)
                out[n][i, j] = np.nan if v is None else v
            done += 1
            if progress is not None:
                progress(done, total)
    return GridResult(x, y, out, runner.runs)


def basis_for(
    runner: Runner, base: Assumptions, names: Sequence[Measure | str], valuation: Valuation | None
) -> Basis | None:
    """The discount basis fixed on the base projection, when a value measure is asked for."""
    if not any(member_of(Measure, n) in VALUE_MEASURES for n in names):
        return None
    if valuation is None or not valuation.has_basis:
        raise EngineError("value measures need a valuation", field="valuation")
    cols = runner.project_shocked(base, CreditShock(), NO_RATE_SHOCK, "base")
    return resolve_basis(valuation, *as_flows(cols["total_cashflow"], flow_times(cols)))


def safe_measures(
    cols: Mapping[str, np.ndarray],
    basis: Basis | None,
    start: float,
    names: Sequence[Measure | str],
    rate: RateShock,
    reproject: Reprojector | None,
    bump: float = 25 * BP,
) -> dict[str, float | None]:
    """All measures at once; when one is undefined (a yield no rate reaches, a zero value),
    measure by measure so that it alone is None. Bad input (InvalidInput) still raises."""
    try:
        return measures_of(cols, basis, start, names, shock=rate, bump=bump, reproject=reproject)
    except InvalidInput:
        raise
    except EngineError:
        pass
    out: dict[str, float | None] = {}
    for n in names:
        try:
            out.update(
                measures_of(cols, basis, start, [n], shock=rate, bump=bump, reproject=reproject)
            )
        except InvalidInput:
            raise
        except EngineError:
            out[str(n)] = None
    return out
