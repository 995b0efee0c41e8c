"""Scheduled balances and debt service of commercial loans (no defaults, no prepayments).

Conventions (DOMAIN.md §1, §4): the coupon compounds at the payment frequency, i = rate x f/12
per payment period of f months, 12/f payments a year; a seasoned loan amortises its current
balance over its remaining amortisation periods. Level: annuity over the remaining term;
interest_only: interest only until loan age io_months, then level over the rest of the term;
balloon: level on amortization_term_months, the rest due at maturity; bullet: interest only,
all due at maturity; linear: equal principal each payment. Floating-rate loans use their
current coupon.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.engine.pool import LoanPool
from app.engine.types import Amortization


@dataclass(frozen=True, eq=False)
class Schedule:
    """Per-loan schedule parameters (arrays of length n).

    i: rate per payment period; per_year: payments a year (12/f); f: months per payment;
    remaining: payment periods to maturity (R); io_left: interest-only periods still to run;
    amort_periods: periods of the level schedule that follows the IO periods (m; 0 for bullet
    and linear); linear: straight-line loans.
    """

    balance: np.ndarray
    rate: np.ndarray
    i: np.ndarray
    per_year: np.ndarray
    f: np.ndarray
    remaining: np.ndarray
    io_left: np.ndarray
    amort_periods: np.ndarray
    linear: np.ndarray
    bullet: np.ndarray

    @property
    def maturity_months(self) -> np.ndarray:
        """Months from now to maturity (R x f)."""
        return self.remaining * self.f

    def level_payment(self) -> np.ndarray:
        """Level payment per period of the amortising phase: B i / (1 - (1+i)^-m) (B/m at i=0)."""
        m = np.maximum(self.amort_periods, 1).astype(np.float64)
        i = self.i
        with np.errstate(divide="ignore", invalid="ignore"):
            ann = np.where(
                i > 0, self.balance * i / (1.0 - np.power(1.0 + i, -m)), self.balance / m
            )
        return np.where(self.amort_periods > 0, ann, 0.0)

    def balance_after(self, q: np.ndarray) -> np.ndarray:
        """Scheduled balance after q payments from now (q broadcast against loans, shape (n,) or
        (n, K)); zero from maturity on (the balloon is paid at payment R)."""
        q = np.asarray(q, dtype=np.float64)
        extra = (slice(None),) + (None,) * (q.ndim - 1)
        b = self.balance[extra]
        i = self.i[extra]
        m = self.amort_periods[extra].astype(np.float64)
        qa = np.maximum(q - self.io_left[extra], 0.0)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            g_m = np.power(1.0 + i, m)
            level = np.where(
                i > 0,
                b * (g_m - np.power(1.0 + i, qa)) / (g_m - 1.0),
                b * (1.0 - qa / np.maximum(m, 1.0)),
            )
        level = np.where(m > 0, level, b)
        lin = b * (1.0 - q / np.maximum(self.remaining[extra], 1))
        out = np.where(self.linear[extra], lin, level)
        return np.where(q >= self.remaining[extra], 0.0, np.maximum(out, 0.0))

    def balloon(self) -> np.ndarray:
        """Balance due at maturity beyond the regular payment (currency): bullet B, balloon the
        level schedule's balance after R payments, 0 for fully amortising loans."""
        q = self.remaining.astype(np.float64)
        i = self.i
        m = self.amort_periods.astype(np.float64)
        qa = np.maximum(q - self.io_left, 0.0)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            g_m = np.power(1.0 + i, m)
            level = np.where(
                i > 0,
                self.balance * (g_m - np.power(1.0 + i, qa)) / (g_m - 1.0),
                self.balance * (1.0 - qa / np.maximum(m, 1.0)),
            )
        out = np.where(self.bullet, self.balance, np.where(qa < m, level, 0.0))
        return np.where(self.linear, 0.0, np.maximum(out, 0.0))

    def annual_debt_service(self, q: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(annual debt service in force at payment q+1, interest-only flag): an IO period pays
        balance x rate a year; an amortising one 12/f level payments; a linear one 12/f x
        (B/R + B_q i). q = 0 (now) when None; broadcasts like `balance_after`."""
        q = np.zeros(len(self.balance)) if q is None else np.asarray(q, dtype=np.float64)
        extra = (slice(None),) + (None,) * (q.ndim - 1)
        io = (q < self.io_left[extra]) | self.bullet[extra]
        io_ds = self.balance[extra] * self.rate[extra]
        amort_ds = (self.level_payment() * self.per_year)[extra] + 0.0 * q
        bq = self.balance_after(q)
        lin_ds = (
            self.balance[extra] / np.maximum(self.remaining[extra], 1) + bq * self.i[extra]
        ) * self.per_year[extra]
        ds = np.where(io, io_ds + 0.0 * q, np.where(self.linear[extra], lin_ds, amort_ds))
        return ds, io

    def amortizing_debt_service(self) -> np.ndarray:
        """Annual debt service of the amortising phase even during IO (bullet: interest)."""
        lin = (self.balance / np.maximum(self.remaining, 1) + self.balance * self.i) * self.per_year
        return np.where(
            self.bullet,
            self.balance * self.rate,
            np.where(self.linear, lin, self.level_payment() * self.per_year),
        )


def schedule_of(pool: LoanPool) -> Schedule:
    """The schedule parameters of every loan of `pool` (vectorised)."""
    f = pool.payment_frequency.astype(np.int64)
    kind = pool.amortization
    a = pool.age_months // f
    t = pool.original_term_months // f
    remaining = t - a
    io_end = np.where(kind == Amortization.INTEREST_ONLY, pool.io_months // f, 0)
    io_left = np.maximum(io_end - a, 0)
    bullet = kind == Amortization.BULLET
    linear = kind == Amortization.LINEAR
    balloon = kind == Amortization.BALLOON
    # level periods after the IO phase: balloon on its amortisation term, else to maturity
    m = np.where(
        balloon,
        pool.amortization_term_months // f - a,
        np.where(kind == Amortization.INTEREST_ONLY, t - np.maximum(io_end, a), remaining),
    )
    m = np.where(bullet | linear, 0, m)
    return Schedule(
        balance=pool.balance.astype(np.float64),
        rate=pool.rate.astype(np.float64),
        i=pool.rate * f / 12.0,
        per_year=12.0 / f,
        f=f,
        remaining=remaining.astype(np.int64),
        io_left=np.where(bullet, remaining, io_left).astype(np.int64),
        amort_periods=m.astype(np.int64),
        linear=linear,
        bullet=bullet,
    )
