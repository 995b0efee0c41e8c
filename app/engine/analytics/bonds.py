"""Price ↔ yield of bullet and amortising fixed-rate bonds, agency pass-throughs (MBS payment
delay, bond-equivalent vs mortgage yield) and the discount margin of a floater.

Bond flows are dated from a coupon schedule rolled back from maturity; a flow's time is its
year fraction from settlement in the bond's day count (30/360 bond basis by default, which is
the street convention t = (k − 1 + w)/f). Prices are in the currency of the face amount;
dirty = clean + accrued.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from app.engine.analytics.conventions import (
    Compounding,
    DayCount,
    Frequency,
    discount_factor,
    year_fraction,
)
from app.engine.analytics.curves import ZeroCurve
from app.engine.analytics.measures import as_flows, yield_from_price
from app.engine.analytics.solvers import solve
from app.engine.errors import EngineError, NonFiniteInput, UnreachablePrice


class BondAmortization(StrEnum):
    BULLET = "bullet"  # all principal at maturity
    LEVEL = "level"  # level payment (annuity) over the remaining periods
    LINEAR = "linear"  # equal principal each remaining period


@dataclass(frozen=True)
class BondFlows:
    """Remaining flows seen from settlement: times (years, instrument day count), amounts
    (coupon + principal, currency), the principal part, accrued interest at settlement."""

    times: np.ndarray
    amounts: np.ndarray
    principal: np.ndarray
    accrued: float
    dates: tuple[dt.date, ...] = ()


@dataclass(frozen=True)
class Price:
    """Clean and dirty price and accrued interest, currency units (per the flows' face)."""

    clean: float
    dirty: float
    accrued: float


def add_months(d: dt.date, months: int) -> dt.date:
    """Same day `months` later, clamped to the month's last day (Feb 30 → Feb 28/29)."""
    y, m = divmod(d.month - 1 + months, 12)
    y += d.year
    return dt.date(y, m + 1, min(d.day, calendar.monthrange(y, m + 1)[1]))


def fixed_rate_bond(
    settlement: dt.date,
    maturity: dt.date,
    coupon: float,
    *,
    frequency: Frequency | int = Frequency.SEMIANNUAL,
    day_count: DayCount | str = DayCount.THIRTY_360,
    face: float = 100.0,
    amortization: BondAmortization | str = BondAmortization.BULLET,
) -> BondFlows:
    """Flows of a fixed-rate bond after `settlement`, coupon `coupon` (decimal/yr) paid f times
    a year on dates rolled back from `maturity` by 12/f months.

    Coupon k is balance·c·yf(d_k−1, d_k) and accrued interest balance·c·yf(d_prev, settlement),
    yf in `day_count` (QuantLib's FixedRateBond; under 30/360 a regular coupon is exactly c/f).
    `face` is the balance outstanding at settlement, which amortises over the remaining periods
    (bullet, level payment at the periodic rate c/f, or linear).
    """
    f = Frequency.parse(frequency)
    dc = DayCount.parse(day_count)
    amort = BondAmortization(amortization)
    if not (math.isfinite(coupon) and math.isfinite(face)):
        raise NonFiniteInput("coupon and face must be finite", field="coupon")
    if maturity <= settlement:
        raise EngineError("maturity must be after settlement", field="maturity")
    if face <= 0.0:
        raise EngineError("face must be positive", field="face")
    step = 12 // int(f)
    dates = [maturity]
    k = 1
    while True:
        d = add_months(maturity, -step * k)
        if d <= settlement:
            prev = d
            break
        dates.append(d)
        k += 1
    dates.reverse()
    n = len(dates)
    per = coupon / float(f)
    if amort is BondAmortization.BULLET:
        principal = np.zeros(n)
        principal[-1] = face
    elif amort is BondAmortization.LINEAR:
        principal = np.full(n, face / n)
    else:
        pay = face * per / (1.0 - (1.0 + per) ** -n) if per != 0.0 else face / n
        bal = face
        principal = np.empty(n)
        for i in range(n):
            principal[i] = pay - bal * per
            bal -= principal[i]
    balance = face - np.concatenate(([0.0], np.cumsum(principal)[:-1]))
    starts = [prev, *dates[:-1]]
    accrual = np.array([year_fraction(s, e, dc) for s, e in zip(starts, dates, strict=True)])
    amounts = balance * coupon * accrual + principal
    times = np.array([year_fraction(settlement, d, dc) for d in dates])
    accrued = face * coupon * year_fraction(prev, settlement, dc)
    return BondFlows(times, amounts, principal, accrued, tuple(dates))


def price_from_yield(
    flows: BondFlows,
    y: float,
    compounding: Compounding = Compounding.COMPOUNDED,
    frequency: Frequency | int = Frequency.SEMIANNUAL,
) -> Price:
    """Dirty = Σ amount·DF(y, t) at flat yield y; clean = dirty − accrued."""
    a, t = as_flows(flows.amounts, flows.times)
    if not math.isfinite(y):
        raise NonFiniteInput("yield must be finite", field="yield")
    dirty = float(np.dot(a, discount_factor(y, t, compounding, int(frequency))))
    return Price(dirty - flows.accrued, dirty, flows.accrued)


def yield_from_bond_price(
    flows: BondFlows,
    price: float,
    *,
    clean: bool = True,
    compounding: Compounding = Compounding.COMPOUNDED,
    frequency: Frequency | int = Frequency.SEMIANNUAL,
) -> float:
    """Flat yield (decimal/yr) that reprices the flows to `price` (clean unless clean=False)."""
    if not math.isfinite(price):
        raise NonFiniteInput("price must be finite", field="price")
    dirty = price + flows.accrued if clean else price
    return yield_from_price(flows.amounts, flows.times, dirty, compounding, frequency)


# ---- pass-throughs ------------------------------------------------------------------------
def pass_through_flows(
    amounts: Sequence[float] | np.ndarray,
    principal: Sequence[float] | np.ndarray | None = None,
    *,
    delay_days: int = 14,
    settlement_day: int = 0,
    balance: float = 0.0,
    net_coupon: float = 0.0,
) -> BondFlows:
    """Monthly pass-through flows (amounts[k−1] for accrual month k = 1..n) paid `delay_days`
    after each month's end: t_k = (30k + delay − settlement_day)/360 years (30/360).

    settlement_day: 30/360 days from the start of the first accrual month to settlement;
    accrued = balance·net_coupon·settlement_day/360.
    """
    a = np.asarray(amounts, dtype=np.float64)
    if delay_days < 0 or not 0 <= settlement_day < 30:
        raise EngineError(
            "delay_days must be >= 0 and settlement_day in [0, 30)", field="delay_days"
        )
    k = np.arange(1, a.size + 1, dtype=np.float64)
    times = (30.0 * k + delay_days - settlement_day) / 360.0
    pr = np.zeros(a.size) if principal is None else np.asarray(principal, dtype=np.float64)
    as_flows(a, times)
    return BondFlows(times, a, pr, balance * net_coupon * settlement_day / 360.0)


def mortgage_to_bond_equivalent(m: float) -> float:
    """Bond-equivalent (semiannual) yield of a monthly-compounded mortgage yield:
    2[(1 + m/12)^6 − 1]."""
    return 2.0 * math.expm1(6.0 * math.log1p(m / 12.0))


def bond_equivalent_to_mortgage(b: float) -> float:
    """Monthly-compounded mortgage yield of a bond-equivalent yield: 12[(1 + b/2)^(1/6) − 1]."""
    return 12.0 * math.expm1(math.log1p(b / 2.0) / 6.0)


def pass_through_yield(
    flows: BondFlows, price: float, *, clean: bool = True
) -> tuple[float, float]:
    """(bond-equivalent yield, mortgage yield) of a pass-through at `price`: the mortgage
    yield is monthly compounded over the delayed 30/360 times; BEY its semiannual equivalent."""
    m = yield_from_bond_price(
        flows, price, clean=clean, compounding=Compounding.COMPOUNDED, frequency=12
    )
    return mortgage_to_bond_equivalent(m), m


def pass_through_price(flows: BondFlows, bond_equivalent_yield: float) -> Price:
    """Price of a pass-through at a bond-equivalent yield (semiannual compounding)."""
    return price_from_yield(flows, bond_equivalent_yield, Compounding.COMPOUNDED, 2)


# ---- floaters -----------------------------------------------------------------------------
def forward_index_rates(curve: ZeroCurve, pay_times: np.ndarray) -> np.ndarray:
    """Simple forward rates between consecutive payment times (0, t_1, t_2, ...) on `curve`:
    (DF(t_k−1)/DF(t_k) − 1)/(t_k − t_k−1), accrual in the curve's ACT/365F years."""
    t = np.asarray(pay_times, dtype=np.float64)
    prev = np.concatenate(([0.0], t[:-1]))
    if np.any(t <= prev):
        raise EngineError("payment times must be increasing and positive", field="times")
    return (curve.discount(prev) / curve.discount(t) - 1.0) / (t - prev)


def floater_price(
    margin: float,
    quoted_margin: float,
    index_rates: np.ndarray,
    accruals: np.ndarray,
    *,
    face: float = 100.0,
    discount_accruals: np.ndarray | None = None,
) -> float:
    """Dirty price of a floater paying face·(I_k + quoted_margin)·τ_k plus face at the end,
    discounted at (I_j + margin) simple over each discount period δ_j:
    Σ_k CF_k / Π_{j≤k} (1 + (I_j + margin)·δ_j). δ defaults to τ; pass a short first δ when
    settling inside the current coupon period."""
    idx = np.asarray(index_rates, dtype=np.float64)
    tau = np.asarray(accruals, dtype=np.float64)
    delta = tau if discount_accruals is None else np.asarray(discount_accruals, dtype=np.float64)
    if not (idx.size == tau.size == delta.size) or idx.size == 0:
        raise EngineError(
            "index rates and accruals need the same non-zero length", field="index_rates"
        )
    if not (np.all(np.isfinite(idx)) and np.all(np.isfinite(tau)) and np.all(np.isfinite(delta))):
        raise NonFiniteInput("index rates and accruals must be finite", field="index_rates")
    cf = face * (idx + quoted_margin) * tau
    cf[-1] += face
    growth = 1.0 + (idx + margin) * delta
    if np.any(growth <= 0.0):
        return math.inf
    return float(np.dot(cf, np.exp(-np.cumsum(np.log(growth)))))


def discount_margin(
    price: float,
    quoted_margin: float,
    index_rates: np.ndarray,
    accruals: np.ndarray,
    *,
    face: float = 100.0,
    discount_accruals: np.ndarray | None = None,
) -> float:
    """Discount margin (decimal/yr): the margin over the projected index at which
    `floater_price` equals `price` (dirty). At a price of par with δ = τ it equals the quoted
    margin. Raises UnreachablePrice when no margin in [−1, 10] reaches the price."""
    if not (math.isfinite(price) and math.isfinite(quoted_margin)):
        raise NonFiniteInput("price and quoted margin must be finite", field="price")

    def g(dm: float) -> float:
        return (
            floater_price(
                dm,
                quoted_margin,
                index_rates,
                accruals,
                face=face,
                discount_accruals=discount_accruals,
            )
            - price
        ) / face

    try:
        return solve(g, quoted_margin, -1.0, 10.0, what="discount margin", field="price")
    except UnreachablePrice:
        raise UnreachablePrice(
            f"no discount margin prices this floater at {price}", field="price"
        ) from None
