"""Projecting one pool under many shocked assumptions, with the runs that a shock leaves
unchanged (a rate shift on a fixed-rate pool moves only the valuation) computed once."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field

import numpy as np

from app.engine.pool import LoanPool
from app.engine.projection import Engine, horizon, project_pool
from app.engine.scheduled_batch import ScenarioBatch
from app.engine.sensitivity.scenario_measures import Reprojector
from app.engine.sensitivity.shocks import NO_RATE_SHOCK, CreditShock, RateShock, apply_shock
from app.engine.types import Assumptions, RateType


@dataclass
class Runner:
    """Projects one pool under varied assumptions, caching identical runs by a caller's tag (a
    rate shift that moves only the valuation re-uses the projection of a fixed-rate pool)."""

    pool: LoanPool
    engine: Engine = "numba"
    batch: bool = True
    runs: int = 0
    kernel_runs: int = 0
    _cache: dict[Hashable, dict[str, np.ndarray]] = field(default_factory=dict)
    _batch: ScenarioBatch | None = None

    @property
    def has_floaters(self) -> bool:
        return bool(np.any(self.pool.rate_type == RateType.FLOATING))

    def project(self, a: Assumptions) -> dict[str, np.ndarray]:
        """Pool cash-flow columns under `a`: from the scheduled-balance batch when it is exact
        for `a` (fixed-rate pool, pool-wide speeds), else one compiled projection."""
        self.runs += 1
        if self.batch and self.engine == "numba":
            if self._batch is None:
                self._batch = ScenarioBatch(self.pool)
            if self._batch.supports(a):
                return self._batch.project(a)
        self.kernel_runs += 1
        return project_pool(self.pool, a, engine=self.engine).columns

    def rate_matters(self, a: Assumptions) -> bool:
        """Whether a rate shock changes the projection (floating loans with index paths)."""
        return self.has_floaters and bool(a.index_paths)

    def project_shocked(
        self, a: Assumptions, credit: CreditShock, rate: RateShock, tag: Hashable
    ) -> dict[str, np.ndarray]:
        """Project `a` (identified by `tag`) under the shocks; cached by (tag, shocks)."""
        eff_rate = rate if self.rate_matters(a) else NO_RATE_SHOCK
        key = (tag, credit, eff_rate)
        cols = self._cache.get(key)
        if cols is None:
            shocked = apply_shock(a, credit=credit, rate=eff_rate, n_periods=horizon(self.pool, a))
            cols = self._cache[key] = self.project(shocked)
        return cols

    def reprojector(self, a: Assumptions, credit: CreditShock, tag: Hashable) -> Reprojector | None:
        """Re-projection under rate shocks, for effective duration; None for a fixed-rate pool."""
        if not self.rate_matters(a):
            return None
        return lambda rate: self.project_shocked(a, credit, rate, tag)
