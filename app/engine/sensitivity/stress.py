"""Stress tests: measures of the base and of each named shock, with the deltas to the base."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from app.engine.pool import LoanPool
from app.engine.projection import Engine
from app.engine.sensitivity.grids import basis_for, safe_measures
from app.engine.sensitivity.reprojection import Runner
from app.engine.sensitivity.shocks import BP, NO_RATE_SHOCK, CreditShock, RateShock, StressShock
from app.engine.sensitivity.valuation import Valuation
from app.engine.sensitivity.vocabulary import Measure, member_of
from app.engine.types import Assumptions


@dataclass(frozen=True)
class StressOutcome:
    name: str
    measures: dict[str, float | None]
    deltas: dict[str, float | None]
    columns: dict[str, np.ndarray]


def stress_test(
    pool: LoanPool,
    base: Assumptions,
    shocks: Sequence[StressShock],
    names: Sequence[Measure | str],
    valuation: Valuation | None = None,
    *,
    engine: Engine = "numba",
    bump: float = 25 * BP,
) -> tuple[StressOutcome, list[StressOutcome]]:
    """Measures of the base and of each shock, with each shock's deltas to the base (shocked −
    base, in the measure's unit). Rate shocks move the valuation (spread or yield held) and the
    floating-rate indices; credit shocks change the projection."""
    # measure names as plain words (the keys of the results); an unknown one raises below
    names = [m.value if (m := member_of(Measure, n)) is not None else n for n in names]
    runner = Runner(pool, engine)
    start = pool.total_balance
    basis = basis_for(runner, base, names, valuation)

    def run(
        credit: CreditShock, rate: RateShock
    ) -> tuple[dict[str, np.ndarray], dict[str, float | None]]:
        cols = runner.project_shocked(base, credit, rate, "base")
        vals = safe_measures(
            cols, basis, start, names, rate, runner.reprojector(base, credit, "base"), bump
        )
        return cols, vals

    base_cols, base_vals = run(CreditShock(), NO_RATE_SHOCK)
    zero = {n: 0.0 if base_vals[n] is not None else None for n in names}
    base_out = StressOutcome("base", base_vals, zero, base_cols)
    outs = []
    for s in shocks:
        cols, vals = run(s.credit, s.rate)
        deltas = {n: _delta(vals[n], base_vals[n]) for n in names}
        outs.append(StressOutcome(s.name, vals, deltas, cols))
    return base_out, outs


def _delta(shocked: float | None, base: float | None) -> float | None:
    return None if shocked is None or base is None else shocked - base
