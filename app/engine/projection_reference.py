"""Plain NumPy reference of the projection rules (DOMAIN.md §3-§4), the oracle for the kernels.

Vectorised over loans with a Python loop over periods; written for clarity, not speed, and
structured differently from the kernel on purpose (direct powers instead of running products,
an explicit list of defaulted cohorts instead of scheduled-balance ratios), so that agreement
between the two is evidence and not an echo.

Conventions: month i = 1..N, cash flows at the end of the month; loan-age month m = age + i;
coupons compound at the payment frequency (periodic rate = annual x f / 12); interest accrues
monthly at the net rate / 12 on the monthly grid (see docs/methodology/projection.md).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from app.engine.pool import LoanPool
from app.engine.types import Amortization, RateType

LOAN_TOTAL_COLUMNS: tuple[str, ...] = (
    "default",
    "scheduled_principal",
    "prepayment",
    "defaulted_amortization",
    "liquidated_balance",
    "loss",
    "recovery",
    "expected_interest",
    "lost_interest",
    "interest",
    "servicing_fee",
)
"""Per-loan totals reported by loan-level projection (sums over the horizon, currency)."""


def index_matrix(
    pool: LoanPool, index_paths: Mapping[str, np.ndarray], n_periods: int
) -> np.ndarray:
    """Index rate per (floating loan, period): the named path, holding its last value."""
    flt = pool.rate_type == RateType.FLOATING
    names = pool.index_name[flt]
    out = np.zeros((names.shape[0], n_periods))
    for name in np.unique(names).tolist():
        path = np.asarray(index_paths[name], dtype=np.float64)
        col = np.minimum(np.arange(n_periods), path.shape[0] - 1)
        out[names == name] = path[col]
    return out


def coupon_matrix(
    pool: LoanPool, index_paths: Mapping[str, np.ndarray], n_periods: int
) -> np.ndarray:
    """Gross annual coupon per (loan, period) (decimal).

    Fixed-rate loans keep `rate`. A floating-rate loan resets at the start of month i when its
    age at that point, age + i - 1, is a positive multiple of reset_months: the new coupon is
    index(i) + margin, moved by at most +periodic_cap / -periodic_floor from the previous coupon,
    then bounded by [life_floor, life_cap]. Until its first reset it pays `rate`.
    """
    out = np.repeat(pool.rate[:, None], n_periods, axis=1)
    flt = np.flatnonzero(pool.rate_type == RateType.FLOATING)
    if flt.size == 0:
        return out
    idx = index_matrix(pool, index_paths, n_periods)
    c = pool.rate[flt].copy()
    age = pool.age_months[flt]
    reset_m = pool.reset_months[flt]
    for i in range(1, n_periods + 1):
        prev_age = age + i - 1
        reset = (prev_age > 0) & (prev_age % reset_m == 0)
        new = np.clip(
            idx[:, i - 1] + pool.margin[flt],
            c - pool.periodic_floor[flt],
            c + pool.periodic_cap[flt],
        )
        new = np.clip(new, pool.life_floor[flt], pool.life_cap[flt])
        c = np.where(reset, new, c)
        out[flt, i - 1] = c
    return out


def amortization_factor(pool: LoanPool, coupon: np.ndarray, i: int) -> np.ndarray:
    """AF(i) = scheduled balance after month i / before it, per loan (DOMAIN.md §3-§4).

    In a payment month (loan age a multiple of payment_frequency) of an amortising loan, with
    periodic rate p = coupon x f / 12 (0 for linear) and Q payments left on the amortisation
    schedule including this one: AF = 1 - p / ((1 + p)^Q - 1), or 1 - 1/Q when p = 0 (level
    annuity re-amortised on the current balance; straight line). Interest-only months, bullets
    and non-payment months have AF = 1; AF = 0 at and after maturity (the balance is due).
    """
    age = pool.age_months
    f = pool.payment_frequency
    m = age + i
    amort = pool.amortization
    io_age = np.where(
        amort == Amortization.INTEREST_ONLY,
        pool.io_months,
        np.where(amort == Amortization.BULLET, pool.original_term_months, 0),
    )
    q_end = (
        np.where(
            amort == Amortization.BALLOON, pool.amortization_term_months, pool.original_term_months
        )
        // f
    )
    q = (q_end - (m - 1) // f).astype(np.float64)
    p = np.where(amort == Amortization.LINEAR, 0.0, coupon * f / 12.0)
    # coupons below 1e-9 a period amortise straight line (same rule as the kernel)
    with np.errstate(divide="ignore", invalid="ignore"):
        annuity = np.where(p >= 1e-9, 1.0 - p / np.expm1(q * np.log1p(p)), 1.0 - 1.0 / q)
    paying = (m % f == 0) & (m > io_age)
    af = np.where(paying, annuity, 1.0)
    return np.where(i >= pool.remaining_term_months, 0.0, af)


def project_reference(
    pool: LoanPool,
    smm: np.ndarray,
    mdr: np.ndarray,
    *,
    severity: float,
    recovery_lag: int,
    advancing: bool,
    index_paths: Mapping[str, np.ndarray],
    loan_level: bool = False,
    balance_paths: bool = False,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray] | None, np.ndarray | None]:
    """Project the pool with given monthly SMM and MDR per (loan, period), shape (n, N).

    SIFMA standard formulas, per loan and month i (P = performing balance, FCL = defaulted
    balance awaiting liquidation):
      NEW_DEF = MDR x P(i-1)                      (before amortisation)
      PREPAY  = SMM' x P(i-1) x AF(i)             (SMM' = min(SMM, 1 - MDR), see the methodology)
      SCHED   = (P(i-1) - NEW_DEF) x (1 - AF(i))
      P(i)    = P(i-1) - NEW_DEF - PREPAY - SCHED
      ADB(i)  = balance of the cohort defaulted in month i - L (amortised to date when advancing)
      AM_DEF  = (NEW_DEF + FCL(i-1) - ADB) x (1 - AF(i)) when advancing, else 0
      FCL(i)  = FCL(i-1) + NEW_DEF - ADB - AM_DEF
      LOSS    = min(severity x NEW_DEF(i-L), ADB); RECOVERY = ADB - LOSS
      expected interest = (P(i-1) + FCL(i-1)) x net/12; lost = (NEW_DEF + FCL(i-1)) x net/12
      servicing fee = P(i-1) x (gross - net)/12
    Returns (pool columns, per-loan totals or None, per-loan ending balances (n, N) or None).
    """
    n, n_periods = smm.shape
    coupon = coupon_matrix(pool, index_paths, n_periods)
    strip = pool.rate - pool.net_rate
    lag = int(recovery_lag)
    cols = {k: np.zeros(n_periods) for k in LOAN_TOTAL_COLUMNS}
    cols["beginning_balance"] = np.zeros(n_periods)
    cols["ending_balance"] = np.zeros(n_periods)
    cols["foreclosure_balance"] = np.zeros(n_periods)
    tot = {k: np.zeros(n) for k in LOAN_TOTAL_COLUMNS}
    wal_num = np.zeros(n)
    paths = np.zeros((n, n_periods)) if balance_paths else None

    perf = pool.balance.astype(np.float64).copy()
    fcl = np.zeros(n)
    cohorts: list[np.ndarray] = []  # defaulted balances still awaiting liquidation, oldest first
    new_defaults: list[np.ndarray] = []  # NEW_DEF by month, for liquidation timing and loss
    for i in range(1, n_periods + 1):
        c = coupon[:, i - 1]
        net = c - strip
        af = amortization_factor(pool, c, i)
        d = mdr[:, i - 1]
        s = np.minimum(smm[:, i - 1], 1.0 - d)
        new_def = d * perf
        prepay = s * perf * af
        sched = (perf - new_def) * (1.0 - af)
        if i > lag and lag > 0:
            adb = cohorts.pop(0)
            nd_lag = new_defaults[i - 1 - lag]
        elif lag == 0:
            adb = new_def
            nd_lag = new_def
        else:
            adb = np.zeros(n)
            nd_lag = np.zeros(n)
        if advancing:
            am_def = (new_def + fcl - adb) * (1.0 - af)
            cohorts = [b * af for b in cohorts]
            if lag > 0:
                cohorts.append(new_def * af)
        else:
            am_def = np.zeros(n)
            if lag > 0:
                cohorts.append(new_def)
        new_defaults.append(new_def)
        loss = np.minimum(severity * nd_lag, adb)
        recovery = adb - loss
        exp_int = (perf + fcl) * net / 12.0
        lost_int = (new_def + fcl) * net / 12.0
        serv = perf * (c - net) / 12.0
        fcl_new = fcl + new_def - adb - am_def
        # = perf - new_def - prepay - sched, written as the product so it is exactly 0, never
        # a rounding residue below 0, when a loan pays off
        perf_new = perf * af * (1.0 - s - d)

        flows = {
            "default": new_def,
            "scheduled_principal": sched,
            "prepayment": prepay,
            "defaulted_amortization": am_def,
            "liquidated_balance": adb,
            "loss": loss,
            "recovery": recovery,
            "expected_interest": exp_int,
            "lost_interest": lost_int,
            "interest": exp_int - lost_int,
            "servicing_fee": serv,
        }
        cols["beginning_balance"][i - 1] = perf.sum()
        cols["ending_balance"][i - 1] = perf_new.sum()
        cols["foreclosure_balance"][i - 1] = fcl_new.sum()
        for k, v in flows.items():
            cols[k][i - 1] = v.sum()
        if loan_level:
            for k, v in flows.items():
                tot[k] += v
            wal_num += (i / 12.0) * (sched + prepay + am_def + recovery)
        if paths is not None:
            paths[:, i - 1] = perf_new
        perf = perf_new
        fcl = fcl_new

    cols["period"] = np.arange(1, n_periods + 1, dtype=np.float64)
    cols["total_cashflow"] = (
        cols["interest"]
        + cols["scheduled_principal"]
        + cols["defaulted_amortization"]
        + cols["prepayment"]
        + cols["recovery"]
    )
    if not loan_level:
        return cols, None, paths
    tot["wal_numerator"] = wal_num
    return cols, tot, paths
