"""The risk block of one run: DV01, effective duration and convexity, spread duration and npv
(with a valuation), WAL and its change under parallel shocks, cumulative loss and its timing."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from app.engine.analytics.measures import as_flows
from app.engine.errors import EngineError, InvalidInput
from app.engine.pool import LoanPool
from app.engine.projection import Engine
from app.engine.sensitivity.reprojection import Runner
from app.engine.sensitivity.scenario_measures import (
    Reprojector,
    credit_measures,
    flow_times,
    value_measures,
)
from app.engine.sensitivity.shocks import BP, NO_RATE_SHOCK, CreditShock, RateShock
from app.engine.sensitivity.valuation import Basis, Valuation, resolve_basis
from app.engine.sensitivity.vocabulary import Measure
from app.engine.types import Assumptions

RISK_SHOCKS_BP = (-200, -100, 100, 200)


def run_risk(
    pool: LoanPool,
    assumptions: Assumptions,
    columns: Mapping[str, np.ndarray],
    valuation: Valuation | None,
    *,
    shock: RateShock = NO_RATE_SHOCK,
    engine: Engine = "numba",
    bump: float = 25 * BP,
) -> dict[str, object]:
    """Risk block of a run: DV01, effective duration and convexity, spread duration and npv
    (when a valuation is given), WAL and its change under parallel shocks of ±100/200 bp, and the
    cumulative loss with its timing. `shock` is the run's own rate shock (its scenario's)."""
    runner = Runner(pool, engine)
    start = pool.total_balance
    # the run's own columns stand for its unshocked projection (they already include `shock`
    # on floating indices, which the re-projections below apply again from `assumptions`)
    if not runner.rate_matters(assumptions):
        runner._cache[("run", CreditShock(), NO_RATE_SHOCK)] = dict(columns)
    out: dict[str, object] = dict(credit_measures(columns, start))
    base_wal = out[Measure.WAL]
    wal_change: dict[str, float | None] = {}
    for bp in RISK_SHOCKS_BP:
        cols = runner.project_shocked(
            assumptions, CreditShock(), shock.plus(RateShock(parallel=bp * BP)), "run"
        )
        w = credit_measures(cols, start)[Measure.WAL]
        wal_change[f"{bp:+d}bp"] = None if w is None or base_wal is None else w - float(base_wal)  # type: ignore[arg-type]
    out["wal_change"] = wal_change
    if valuation is not None and valuation.has_basis:
        basis = resolve_basis(valuation, *as_flows(columns["total_cashflow"], flow_times(columns)))
        out.update(
            _safe_value(
                columns,
                basis,
                start,
                shock,
                bump,
                runner.reprojector(assumptions, CreditShock(), "run"),
            )
        )
    return out


def _safe_value(
    columns: Mapping[str, np.ndarray],
    basis: Basis,
    start: float,
    shock: RateShock,
    bump: float,
    reproject: Reprojector | None,
) -> dict[str, float | None]:
    """The value measures of the run one by one, each None when it cannot be computed."""
    names = (
        Measure.NPV,
        Measure.YIELD,
        Measure.DV01,
        Measure.EFFECTIVE_DURATION,
        Measure.EFFECTIVE_CONVEXITY,
        Measure.SPREAD_DURATION,
        Measure.MODIFIED_DURATION,
    )
    out: dict[str, float | None] = {}
    for n in names:
        try:
            out.update(
                value_measures(
                    columns, basis, start, names=[n], shock=shock, bump=bump, reproject=reproject
                )
            )
        except InvalidInput:
            raise
        except EngineError:
            out[n.value] = None
    return out
