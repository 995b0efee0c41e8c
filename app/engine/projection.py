"""Pool projection: monthly cash flows of a loan pool under prepayment/default assumptions.

`project_pool` is the entry point (speeds from `Assumptions`); `project_with_rates` is the
lower-level entry for callers that already have per-(loan, period) SMM and MDR arrays (Monte
Carlo rep-lines under path-dependent prepayment). Both follow the SIFMA standard formulas of
DOMAIN.md §3, loan by loan, summed to the pool; the rules are written out in
docs/methodology/projection.md and in `app.engine.projection_reference.project_reference`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from app.engine import projection_reference as reference
from app.engine.errors import FieldProblem, InvalidInput
from app.engine.pool import LoanPool
from app.engine.projection_reference import LOAN_TOTAL_COLUMNS
from app.engine.speeds import rate_matrix, speed_table, validate_speed
from app.engine.types import CASHFLOW_COLUMNS, Assumptions, RateType, SpeedKind

Engine = Literal["numba", "reference"]
_MAX_PERIODS = 1200


@dataclass(frozen=True)
class LoanLevelResult:
    """Per-loan results of a projection (arrays of length n, in pool order).

    totals: sums over the horizon of the per-loan flows, keyed like the pool columns
        (`LOAN_TOTAL_COLUMNS`; currency).
    principal: scheduled + prepayment + defaulted_amortization + recovery (currency).
    wal_years: sum(t x principal_t) / sum(principal_t), t = period / 12 in years (NaN-free: 0 for a
        loan that returns no principal).
    balances: performing balance at the end of each period, shape (n, N), when requested.
    """

    loan_id: np.ndarray
    totals: dict[str, np.ndarray]
    principal: np.ndarray
    wal_years: np.ndarray
    balances: np.ndarray | None = None

    @property
    def loss(self) -> np.ndarray:
        """Per-loan total loss (currency)."""
        return self.totals["loss"]


@dataclass(frozen=True)
class Projection:
    """Pool cash flows: `columns[name]` is an array over periods 1..n_periods for every name in
    CASHFLOW_COLUMNS (currency, except `period`)."""

    columns: dict[str, np.ndarray]
    n_periods: int
    loan_level: LoanLevelResult | None = None


def horizon(pool: LoanPool, assumptions: Assumptions) -> int:
    """Projection length in months.

    `assumptions.n_periods` when given; otherwise the longest remaining term, plus the recovery
    lag when a default in a loan's last L months would still await liquidation after its
    maturity: a default speed that can default there (any kind but SDA) without advancing.
    With advancing, the servicer advances the defaulted loan's scheduled principal down to its
    maturity (AF = 0 there: the whole remaining balance, DOMAIN.md §3), so nothing is left to
    liquidate afterwards and L more months would only be rows of zeros.
    """
    return horizon_for_term(int(pool.remaining_term_months.max(initial=1)), assumptions)


def horizon_for_term(longest: int, assumptions: Assumptions) -> int:
    """`horizon` of any pool whose longest remaining term is `longest` months (so a tape read in
    chunks gets one horizon from a first pass over its term columns: the max over chunks)."""
    if assumptions.n_periods is not None:
        n = int(assumptions.n_periods)
        if n < 1 or n > _MAX_PERIODS:
            raise InvalidInput([FieldProblem(None, "n_periods", f"must be in 1..{_MAX_PERIODS}")])
        return n
    defaults_at_end = assumptions.default.kind != SpeedKind.SDA and not assumptions.advancing
    extend = assumptions.recovery_lag_months if defaults_at_end else 0
    return longest + int(extend)


def _validate(pool: LoanPool, a: Assumptions) -> None:
    problems: list[FieldProblem] = []
    if len(pool) == 0:
        problems.append(FieldProblem(None, "balance", "the pool has no loans"))
    if not (0.0 <= a.severity <= 1.0):
        problems.append(FieldProblem(None, "severity", "must be a decimal in [0, 1]"))
    if not (
        isinstance(a.recovery_lag_months, int | np.integer) and 0 <= a.recovery_lag_months <= 120
    ):
        problems.append(
            FieldProblem(None, "recovery_lag_months", "must be a whole number of months in 0..120")
        )
    flt = pool.rate_type == RateType.FLOATING
    if flt.any():
        for name in np.unique(pool.index_name[flt]).tolist():
            path = a.index_paths.get(name)
            if path is None:
                problems.append(FieldProblem(None, "index_paths", f"no path for index {name!r}"))
                continue
            arr = np.asarray(path, dtype=np.float64)
            if arr.ndim != 1 or arr.shape[0] == 0 or not np.all(np.isfinite(arr)):
                problems.append(
                    FieldProblem(
                        None, "index_paths", f"path {name!r} must be a non-empty finite 1-D array"
                    )
                )
    if problems:
        raise InvalidInput(problems)


def _assemble(
    pool: LoanPool,
    cols: dict[str, np.ndarray],
    totals: dict[str, np.ndarray] | None,
    paths: np.ndarray | None,
    n_periods: int,
) -> Projection:
    cols = {k: cols[k] for k in CASHFLOW_COLUMNS}
    ll = None
    if totals is not None:
        principal = (
            totals["scheduled_principal"]
            + totals["prepayment"]
            + totals["defaulted_amortization"]
            + totals["recovery"]
        )
        wal = np.divide(
            totals["wal_numerator"], principal, out=np.zeros_like(principal), where=principal > 0
        )
        ll = LoanLevelResult(
            loan_id=pool.loan_id,
            totals={k: totals[k] for k in LOAN_TOTAL_COLUMNS},
            principal=principal,
            wal_years=wal,
            balances=paths,
        )
    return Projection(columns=cols, n_periods=n_periods, loan_level=ll)


def project_pool(
    pool: LoanPool,
    assumptions: Assumptions,
    *,
    loan_level: bool = False,
    balance_paths: bool = False,
    engine: Engine = "numba",
) -> Projection:
    """Project a pool's monthly cash flows (SIFMA standard formulas, DOMAIN.md §3).

    loan_level: also return per-loan totals, WAL and loss (the pool path is unchanged);
    balance_paths: with loan_level, also each loan's ending balance per period (n x N floats).
    engine: "numba" (compiled kernel) or "reference" (plain NumPy, for checks).

    >>> from app.engine.types import Speed, SpeedKind
    >>> pool = LoanPool.from_columns({"balance": [300000.0], "rate": [0.065],
    ...                               "original_term_months": [360]})
    >>> proj = project_pool(pool, Assumptions(), engine="reference")
    >>> round(float(proj.columns["total_cashflow"][0]), 2)
    1896.2
    """
    _validate(pool, assumptions)
    n_periods = horizon(pool, assumptions)
    validate_speed(assumptions.prepayment, len(pool), name="prepayment", default=False)
    validate_speed(assumptions.default, len(pool), name="default", default=True)
    lag = int(assumptions.recovery_lag_months)
    if engine == "reference":
        rem = pool.remaining_term_months
        smm = rate_matrix(assumptions.prepayment, pool.age_months, rem, n_periods)
        mdr = rate_matrix(assumptions.default, pool.age_months, rem, n_periods, recovery_lag=lag)
        return _run_reference(pool, smm, mdr, assumptions, loan_level, balance_paths)
    from app.engine._kernels import projection_nb as nb

    pre = speed_table(assumptions.prepayment, pool.age_months, n_periods)
    dft = speed_table(assumptions.default, pool.age_months, n_periods, recovery_lag=lag)
    cols, totals, paths = nb.run_tables(
        pool,
        pre,
        dft,
        assumptions,
        n_periods,
        loan_level=loan_level or balance_paths,
        balance_paths=balance_paths,
    )
    return _assemble(pool, cols, totals, paths, n_periods)


def _run_reference(
    pool: LoanPool,
    smm: np.ndarray,
    mdr: np.ndarray,
    a: Assumptions,
    loan_level: bool,
    balance_paths: bool,
) -> Projection:
    cols, totals, paths = reference.project_reference(
        pool,
        smm,
        mdr,
        severity=float(a.severity),
        recovery_lag=int(a.recovery_lag_months),
        advancing=bool(a.advancing),
        index_paths=a.index_paths,
        loan_level=loan_level or balance_paths,
        balance_paths=balance_paths,
    )
    return _assemble(pool, cols, totals, paths, smm.shape[1])


def project_with_rates(
    pool: LoanPool,
    smm: np.ndarray,
    mdr: np.ndarray,
    assumptions: Assumptions,
    *,
    loan_level: bool = False,
    balance_paths: bool = False,
    engine: Engine = "numba",
) -> Projection:
    """Project with precomputed monthly rates: smm[j, t-1], mdr[j, t-1] for loan j, period t.

    Shape (n_loans, n_periods) each, decimals in [0, 1]; n_periods is the horizon. From
    `assumptions` only severity, recovery lag, advancing and index_paths are used (speeds and
    n_periods are ignored; no SDA tail rule is applied: the MDR is taken as given). For Monte
    Carlo rep-lines whose prepayment depends on the simulated rate path.
    """
    _validate(pool, assumptions)
    smm = np.ascontiguousarray(smm, dtype=np.float64)
    mdr = np.ascontiguousarray(mdr, dtype=np.float64)
    problems: list[FieldProblem] = []
    for name, arr in (("smm", smm), ("mdr", mdr)):
        if arr.ndim != 2 or arr.shape[0] != len(pool) or arr.shape[1] < 1:
            problems.append(
                FieldProblem(None, name, f"must have shape (n_loans={len(pool)}, n_periods)")
            )
        elif not np.all((arr >= 0) & (arr <= 1)):
            problems.append(FieldProblem(None, name, "must be decimals in [0, 1]"))
    if not problems and smm.shape != mdr.shape:
        problems.append(FieldProblem(None, "mdr", "must have the same shape as smm"))
    if problems:
        raise InvalidInput(problems)
    if engine == "reference":
        return _run_reference(pool, smm, mdr, assumptions, loan_level, balance_paths)
    from app.engine._kernels import projection_nb as nb

    cols, totals, paths = nb.run_matrices(
        pool,
        smm,
        mdr,
        assumptions,
        loan_level=loan_level or balance_paths,
        balance_paths=balance_paths,
    )
    return _assemble(pool, cols, totals, paths, smm.shape[1])
