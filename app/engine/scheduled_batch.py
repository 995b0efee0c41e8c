"""Many projections of one fixed-rate pool from a single scheduled-balance pass.

Why this is exact: under the SIFMA rules (DOMAIN.md §3) a loan's performing balance is its
scheduled balance times a survival factor, PERF(i) = b(i)·Q(i) with Q(i) = Π_k (1 − s_k − d_k)
(defaults and prepayments both come off PERF(i−1); scheduled amortisation moves b). When every
loan in a group sees the same monthly rates s_k (SMM) and d_k (MDR) — constant or vector
speeds, or curve speeds (PSA/SDA/ABS) within a group of equal loan age — every pool column is a
weighted sum of the group's scheduled aggregates:

    B(i) = Σ b_j(i),  Bn(i) = Σ b_j(i)·n_j/12,  Bs(i) = Σ b_j(i)·(rate_j − n_j)/12,
    ML(i) = Σ min(severity·b_j(i−L−1), b_j(i−1))   (advanced loss cap),

with D(i) = d_i·Q(i−1) the defaulted fraction of period i and U(i) = Σ_{k=i−L+1..i} D(k) the
defaulted fraction awaiting liquidation. The b_j come from ONE compiled projection at zero
speeds (its per-loan balance paths); each further assumption set costs O(groups × periods).

Only for pools without floating-rate loans and speeds without per-loan rates or multipliers
(`supports`); anything else goes through `project_pool`. Tests compare every column with the
compiled kernel and the NumPy reference.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from app.engine._lazy import lazy_module
from app.engine.errors import FieldProblem, InvalidInput
from app.engine.pool import LoanPool
from app.engine.projection import horizon, project_pool
from app.engine.speeds import rate_matrix, validate_speed
from app.engine.types import CASHFLOW_COLUMNS, Assumptions, RateType, Speed, SpeedKind

_nb = lazy_module("app.engine._kernels.scheduled_batch_nb")  # Numba at the first use

_AGE_KINDS = frozenset({SpeedKind.PSA, SpeedKind.SDA, SpeedKind.ABS})
MAX_PATH_CELLS = 40_000_000
"""Largest loans × periods balance-path matrix the batch keeps (320 MB of float64)."""


def _speed_ok(s: Speed) -> bool:
    return s.loan_rates is None and s.loan_multiplier is None


@dataclass
class ScenarioBatch:
    """Scheduled aggregates of `pool`, computed once, for projecting many assumption sets.

    `project(a)` returns the same columns as `project_pool(pool, a).columns` (CASHFLOW_COLUMNS,
    currency) for any `a` that `supports(a)`.
    """

    pool: LoanPool
    _paths: np.ndarray | None = None  # (n, T + 1): b_j(0..T)
    _groups: dict[tuple[bool, bool], tuple[np.ndarray, np.ndarray, np.ndarray]] = field(
        default_factory=dict
    )
    _agg: dict[tuple, tuple[np.ndarray, ...]] = field(default_factory=dict)
    _ml: dict[tuple, np.ndarray] = field(default_factory=dict)

    def supports(self, a: Assumptions) -> bool:
        """Whether `project` is exact for `a` (fixed-rate pool, pool-wide speeds, small enough)."""
        if np.any(self.pool.rate_type == RateType.FLOATING):
            return False
        if not (_speed_ok(a.prepayment) and _speed_ok(a.default)):
            return False
        t_max = int(self.pool.remaining_term_months.max(initial=1))
        return len(self.pool) * (t_max + 1) <= MAX_PATH_CELLS

    # ---- one-off scheduled pass -------------------------------------------------------------
    def paths(self) -> np.ndarray:
        """Per-loan scheduled balance b_j(i), i = 0..T (zero speeds), from the compiled kernel."""
        if self._paths is None:
            t_max = int(self.pool.remaining_term_months.max(initial=1))
            proj = project_pool(
                self.pool, Assumptions(n_periods=t_max), loan_level=True, balance_paths=True
            )
            assert proj.loan_level is not None and proj.loan_level.balances is not None
            b0 = np.asarray(self.pool.balance, dtype=np.float64)[:, None]
            self._paths = np.hstack([b0, proj.loan_level.balances])
        return self._paths

    def _grouping(self, by_age: bool, by_term: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(group of each loan, age of each group, remaining term of each group)."""
        key = (by_age, by_term)
        if key not in self._groups:
            age = np.asarray(self.pool.age_months, dtype=np.int64)
            rem = np.asarray(self.pool.remaining_term_months, dtype=np.int64)
            cols = [np.zeros_like(age)]
            if by_age:
                cols.append(age)
            if by_term:
                cols.append(rem)
            uniq, inv = np.unique(np.column_stack(cols), axis=0, return_inverse=True)
            inv = inv.reshape(-1)
            g_age = uniq[:, 1] if by_age else np.zeros(uniq.shape[0], dtype=np.int64)
            g_rem = uniq[:, -1] if by_term else np.full(uniq.shape[0], int(rem.max(initial=1)))
            self._groups[key] = (inv, g_age, g_rem)
        return self._groups[key]

    def _sum_by_group(self, inv: np.ndarray, n_groups: int, values: np.ndarray) -> np.ndarray:
        """Σ over the loans of each group of a (n, W) matrix -> (groups, W): rows sorted by
        group once, then one np.add.reduceat."""
        if n_groups == 1:
            return values.sum(axis=0, keepdims=True)
        order = np.argsort(inv, kind="stable")
        starts = np.searchsorted(inv[order], np.arange(n_groups))
        return np.add.reduceat(values[order], starts, axis=0)

    def _aggregates(self, key: tuple[bool, bool]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """B, Bn, Bs per group and period 0..T."""
        if key not in self._agg:
            inv, g_age, _ = self._grouping(*key)
            b = self.paths()
            net = np.asarray(self.pool.net_rate, dtype=np.float64)
            strip = np.asarray(self.pool.rate, dtype=np.float64) - net
            ng = g_age.shape[0]
            self._agg[key] = (
                self._sum_by_group(inv, ng, b),
                self._sum_by_group(
                    inv, ng, b * ((np.asarray(self.pool.rate) - strip) / 12.0)[:, None]
                ),
                self._sum_by_group(inv, ng, b * (strip / 12.0)[:, None]),
            )
        return self._agg[key]  # type: ignore[return-value]

    def _loss_base(self, key: tuple[bool, bool], severity: float, lag: int) -> np.ndarray:
        """ML(i) = Σ_j min(severity·b_j(i−L−1), b_j(i−1)) per group, i = 1..T+L+1 (advancing);
        one compiled pass over the balance paths (`loss_cap_ref` is its NumPy reference)."""
        mk = (key, severity, lag)
        if mk not in self._ml:
            inv, g_age, _ = self._grouping(*key)
            b = self.paths()
            out = np.zeros((g_age.shape[0], b.shape[1] + lag + 1))
            _nb.loss_cap_nb(b, inv, severity, lag, out)
            self._ml[mk] = out  # index i -> ML(i)
        return self._ml[mk]

    def _windows(self, key: tuple[bool, bool], big_n: int) -> tuple[np.ndarray, ...]:
        """B(i−1), B(i), Bn(i−1), Bs(i−1) for i = 1..N (zero beyond the last maturity)."""
        wk = ("win", key, big_n)
        if wk not in self._agg:
            b_all, bn_all, bs_all = self._aggregates(key)
            width = b_all.shape[1]

            def at(arr: np.ndarray, idx: np.ndarray) -> np.ndarray:
                ok = (idx >= 0) & (idx < width)
                out = np.zeros((arr.shape[0], idx.shape[0]))
                out[:, ok] = arr[:, idx[ok]]
                return out

            i = np.arange(1, big_n + 1)
            self._agg[wk] = (at(b_all, i - 1), at(b_all, i), at(bn_all, i - 1), at(bs_all, i - 1))
        return self._agg[wk]

    @staticmethod
    def _rate_table(
        speed: Speed, g_age: np.ndarray, g_rem: np.ndarray, big_n: int, lag: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(table, offset, cut): the monthly rate of group g in period i + 1 (i 0-based) is
        table[offset[g] + i] while i < cut[g], else 0. The speed is evaluated once per loan-age
        month (curve speeds: offset = the group's age) or per period (constants, vectors:
        offset 0) by `rate_matrix`; the SDA tail (zero in the last `lag` months of the term)
        is the cut, g_rem − lag."""
        n_groups = g_age.shape[0]
        full = np.full(n_groups, big_n, dtype=np.int64)
        if speed.kind not in _AGE_KINDS:
            row = rate_matrix(speed, np.zeros(1, dtype=np.int64), np.array([big_n]), big_n)[0]
            return np.ascontiguousarray(row), np.zeros(n_groups, dtype=np.int64), full
        top = int(g_age.max(initial=0)) + big_n
        table = rate_matrix(speed, np.zeros(1, dtype=np.int64), np.array([top]), top)[0]
        cut = full
        if speed.kind == SpeedKind.SDA and lag > 0:
            cut = np.asarray(g_rem, dtype=np.int64) - lag
        return np.ascontiguousarray(table), np.asarray(g_age, dtype=np.int64), cut

    # ---- per assumption set -------------------------------------------------------------------
    def project(self, a: Assumptions) -> dict[str, np.ndarray]:
        """Pool columns under `a` (see the module docstring); raises like project_pool."""
        n_loans = len(self.pool)
        if n_loans == 0:
            raise InvalidInput([FieldProblem(None, "balance", "the pool has no loans")])
        if not (0.0 <= a.severity <= 1.0):
            raise InvalidInput([FieldProblem(None, "severity", "must be a decimal in [0, 1]")])
        lag_ok = isinstance(a.recovery_lag_months, int | np.integer)
        if not (lag_ok and 0 <= a.recovery_lag_months <= 120):
            raise InvalidInput(
                [
                    FieldProblem(
                        None, "recovery_lag_months", "must be a whole number of months in 0..120"
                    )
                ]
            )
        validate_speed(a.prepayment, n_loans, name="prepayment", default=False)
        validate_speed(a.default, n_loans, name="default", default=True)
        big_n = horizon(self.pool, a)  # also validates n_periods
        lag = int(a.recovery_lag_months)
        by_age = a.prepayment.kind in _AGE_KINDS or a.default.kind in _AGE_KINDS
        by_term = a.default.kind == SpeedKind.SDA and lag > 0
        key = (by_age, by_term)
        _, g_age, g_rem = self._grouping(*key)

        smm = self._rate_table(a.prepayment, g_age, g_rem, big_n, 0)
        mdr = self._rate_table(a.default, g_age, g_rem, big_n, lag)
        i = np.arange(1, big_n + 1)
        b_prev, b_now, bn_prev, bs_prev = self._windows(key, big_n)
        # ML(i) at column i (advancing only)
        ml = self._loss_base(key, float(a.severity), lag) if a.advancing else np.zeros((0, 0))
        sums = np.zeros((len(_nb.COLUMNS), big_n))
        # one fused pass over groups × periods (combine_ref is its NumPy reference)
        _nb.combine_nb(
            *smm,
            *mdr,
            b_prev,
            b_now,
            bn_prev,
            bs_prev,
            ml,
            lag,
            bool(a.advancing),
            float(a.severity),
            sums,
        )
        out = dict(zip(_nb.COLUMNS, sums, strict=True))
        out["period"] = i.astype(np.float64)
        out["beginning_balance"] = np.concatenate(
            [[self.pool.total_balance], out["ending_balance"][:-1]]
        )
        out["recovery"] = out["liquidated_balance"] - out["loss"]
        out["interest"] = out["expected_interest"] - out["lost_interest"]
        out["total_cashflow"] = (
            out["interest"]
            + out["scheduled_principal"]
            + out["defaulted_amortization"]
            + out["prepayment"]
            + out["recovery"]
        )
        return {k: out[k] for k in CASHFLOW_COLUMNS}
