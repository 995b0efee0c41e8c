"""A Monte Carlo request: the rep-lines, the optional macro factor, and the run's settings
(paths, seed blocks, horizon, price, percentiles), validated field by field."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from app.engine.errors import FieldProblem, InvalidInput
from app.engine.prepayment_model import RefiPrepaymentModel
from app.engine.rates.curve import DiscountCurve
from app.engine.rates.models import (
    CIR,
    HullWhite,
    MortgageRateProxy,
    RateModel,
)

Progress = Callable[[int, int], None]
PARALLEL_MIN_CELLS = 2_000_000  # paths × months × lines of a block worth a parallel launch


@dataclass(frozen=True)
class RepLines:
    """Level-pay, fixed-rate, monthly-paying rep-lines (or loans) as flat arrays (n lines).

    balance: current balance (currency); note_rate: gross annual coupon (decimal, drives
    amortisation and the refinancing incentive); net_rate: annual rate paid to investors
    (decimal, after servicing); remaining_term: months left (the current balance amortises over
    it, DOMAIN.md §3); age: loan age in months (seasoning ramp).
    """

    balance: np.ndarray
    note_rate: np.ndarray
    net_rate: np.ndarray
    remaining_term: np.ndarray
    age: np.ndarray

    @classmethod
    def from_columns(
        cls,
        *,
        balance: Sequence[float] | np.ndarray,
        note_rate: Sequence[float] | np.ndarray,
        net_rate: Sequence[float] | np.ndarray | None = None,
        remaining_term: Sequence[int] | np.ndarray,
        age: Sequence[int] | np.ndarray | None = None,
    ) -> RepLines:
        """Build and validate; net_rate defaults to note_rate, age to 0."""
        bal = np.asarray(balance, dtype=np.float64).ravel()
        n = bal.size
        note = np.asarray(note_rate, dtype=np.float64).ravel()
        net = note.copy() if net_rate is None else np.asarray(net_rate, dtype=np.float64).ravel()
        term = np.asarray(remaining_term, dtype=np.float64).ravel()
        ages = np.zeros(n) if age is None else np.asarray(age, dtype=np.float64).ravel()
        problems: list[FieldProblem] = []
        for name, arr in (
            ("note_rate", note),
            ("net_rate", net),
            ("remaining_term", term),
            ("age", ages),
        ):
            if arr.size != n:
                problems.append(FieldProblem(None, name, f"has {arr.size} values, balance has {n}"))
        if n == 0:
            problems.append(FieldProblem(None, "balance", "the pool has no lines"))
        if problems:
            raise InvalidInput(problems)
        checks = (
            ("balance", np.isfinite(bal) & (bal >= 0), "must be finite and >= 0"),
            (
                "note_rate",
                np.isfinite(note) & (note > -1) & (note < 1),
                "must be a decimal in (-1, 1)",
            ),
            ("net_rate", np.isfinite(net) & (net > -1) & (net < 1), "must be a decimal in (-1, 1)"),
            (
                "remaining_term",
                np.isfinite(term) & (term >= 1) & (term <= 600) & (term == np.round(term)),
                "must be a whole number of months in 1..600",
            ),
            (
                "age",
                np.isfinite(ages) & (ages >= 0) & (ages == np.round(ages)),
                "must be a whole number >= 0",
            ),
        )
        for name, ok, reason in checks:
            for row in np.flatnonzero(~ok):
                problems.append(FieldProblem(int(row), name, reason))
        if problems:
            raise InvalidInput(problems)
        return cls(bal, note, net, term.astype(np.int64), ages.astype(np.int64))

    @classmethod
    def from_loan_pool(cls, pool: object) -> RepLines:
        """From an engine-core LoanPool: fixed-rate, level-pay, monthly loans only.

        remaining term = the pool's remaining_term_months; rate (gross) and net_rate as given.
        """
        amort = np.asarray(pool.amortization)  # type: ignore[attr-defined]
        rtype = np.asarray(pool.rate_type)  # type: ignore[attr-defined]
        freq = np.asarray(pool.payment_frequency)  # type: ignore[attr-defined]
        problems = [
            FieldProblem(int(i), "amortization", "Monte Carlo projects level-pay loans only")
            for i in np.flatnonzero(amort != 0)
        ]
        problems += [
            FieldProblem(int(i), "rate_type", "Monte Carlo projects fixed-rate loans only")
            for i in np.flatnonzero(rtype != 0)
        ]
        problems += [
            FieldProblem(int(i), "payment_frequency", "Monte Carlo projects monthly loans only")
            for i in np.flatnonzero(freq != 1)
        ]
        if problems:
            raise InvalidInput(problems)
        term = np.asarray(pool.remaining_term_months)  # type: ignore[attr-defined]
        return cls.from_columns(
            balance=pool.balance,  # type: ignore[attr-defined]
            note_rate=pool.rate,  # type: ignore[attr-defined]
            net_rate=pool.net_rate,  # type: ignore[attr-defined]
            remaining_term=term,
            age=pool.age_months,  # type: ignore[attr-defined]
        )

    def __len__(self) -> int:
        return int(self.balance.size)

    @property
    def total_balance(self) -> float:
        return float(self.balance.sum())


@dataclass(frozen=True)
class MacroFactor:
    """Default multiplier from a macro factor, independent of rates, one per path and month.

    X_0 = 0, X_i = φ·X_{i−1} + sqrt(1 − φ²)·η_i (η standard normal), so Var X_i = 1 − φ^{2i};
    multiplier_i = exp(σ·X_i − σ²·Var(X_i)/2), which has mean exactly 1 in every month.
    volatility σ: of the log multiplier at stationarity; persistence φ: monthly, in [0, 1).
    """

    volatility: float = 0.5
    persistence: float = 0.95

    def validate(self) -> None:
        p: list[FieldProblem] = []
        if not (math.isfinite(self.volatility) and self.volatility >= 0):
            p.append(FieldProblem(None, "macro.volatility", "must be finite and >= 0"))
        if not (math.isfinite(self.persistence) and 0 <= self.persistence < 1):
            p.append(FieldProblem(None, "macro.persistence", "must be in [0, 1)"))
        if p:
            raise InvalidInput(p)


@dataclass(frozen=True)
class MonteCarloRequest:
    """One Monte Carlo run (all rates decimal per year, money in the pool's currency).

    default_cdr: annual CDR, a constant or a per-month vector (a short vector holds its last
        value); MDR = 1 − (1 − CDR)^(1/12), zero in the last recovery_lag_months of each term.
    severity: loss fraction of the defaulted balance; advancing: servicer advances P&I on
        defaulted loans until liquidation (DOMAIN.md §3).
    n_months: horizon (None = the longest remaining term).
    block_size: paths per seed block (the unit of reproducibility; even with antithetic).
    price: dirty price in currency (enables OAS, option cost, effective duration/convexity).
    pv_spread: continuously compounded spread over the path short rates for the reported PV
        distribution (the OAS solve does not use it).
    duration_bump: h of the ±h parallel curve shift for effective duration and convexity at
        constant OAS (None: skip; needs `price`).
    """

    pool: RepLines
    curve: DiscountCurve
    rate_model: RateModel = field(default_factory=HullWhite)
    mortgage_rate: MortgageRateProxy = field(default_factory=MortgageRateProxy)
    prepayment: RefiPrepaymentModel = field(default_factory=RefiPrepaymentModel)
    default_cdr: float | np.ndarray = 0.0
    severity: float = 0.0
    recovery_lag_months: int = 0
    advancing: bool = True
    macro: MacroFactor | None = None
    n_paths: int = 1000
    n_months: int | None = None
    seed: int = 0
    antithetic: bool = False
    block_size: int = 500
    percentiles: tuple[float, ...] = (5.0, 50.0, 95.0)
    histogram_bins: int = 20
    price: float | None = None
    pv_spread: float = 0.0
    duration_bump: float | None = 0.0025

    @property
    def horizon(self) -> int:
        return int(self.n_months or int(self.pool.remaining_term.max()))

    @property
    def n_blocks(self) -> int:
        return -(-self.n_paths // self.block_size)

    def validate(self) -> None:
        """Raise InvalidInput listing every problem with the run settings."""
        p: list[FieldProblem] = []
        self.rate_model.validate()
        self.mortgage_rate.validate()
        self.prepayment.validate()
        if self.macro is not None:
            self.macro.validate()
        cdr = np.atleast_1d(np.asarray(self.default_cdr, dtype=np.float64))
        if cdr.size == 0 or not np.all(np.isfinite(cdr)) or np.any((cdr < 0) | (cdr > 1)):
            p.append(FieldProblem(None, "default_cdr", "must be decimals in [0, 1]"))
        if not (math.isfinite(self.severity) and 0 <= self.severity <= 1):
            p.append(FieldProblem(None, "severity", "must be in [0, 1]"))
        if not 0 <= self.recovery_lag_months <= 120:
            p.append(FieldProblem(None, "recovery_lag_months", "must be in 0..120"))
        min_paths = 4 if self.antithetic else 2
        if not min_paths <= self.n_paths <= 10_000_000:
            p.append(FieldProblem(None, "n_paths", f"must be in {min_paths}..10000000"))
        if self.n_months is not None and not 1 <= self.n_months <= 600:
            p.append(FieldProblem(None, "n_months", "must be in 1..600"))
        if not 0 <= self.seed < 2**63:
            p.append(FieldProblem(None, "seed", "must be in 0..2^63-1"))
        if self.block_size < 2 or (self.antithetic and self.block_size % 2):
            p.append(FieldProblem(None, "block_size", "must be >= 2 (and even with antithetic)"))
        if self.antithetic and self.n_paths % 2:
            p.append(FieldProblem(None, "n_paths", "must be even with antithetic variates"))
        if self.antithetic and isinstance(self.rate_model, CIR):
            p.append(
                FieldProblem(
                    None, "antithetic", "not available for CIR (exact chi-square sampling)"
                )
            )
        if not self.percentiles or any(
            not (math.isfinite(q) and 0 <= q <= 100) for q in self.percentiles
        ):
            p.append(FieldProblem(None, "percentiles", "must be numbers in [0, 100]"))
        if not 1 <= self.histogram_bins <= 1000:
            p.append(FieldProblem(None, "histogram_bins", "must be in 1..1000"))
        if self.price is not None and not (math.isfinite(self.price) and self.price > 0):
            p.append(FieldProblem(None, "price", "must be finite and > 0"))
        if not (math.isfinite(self.pv_spread) and abs(self.pv_spread) < 1):
            p.append(FieldProblem(None, "pv_spread", "must be a decimal in (-1, 1)"))
        if self.duration_bump is not None and not (
            math.isfinite(self.duration_bump) and 0 < self.duration_bump <= 0.05
        ):
            p.append(FieldProblem(None, "duration_bump", "must be in (0, 0.05]"))
        if p:
            raise InvalidInput(p)
