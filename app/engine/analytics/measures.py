"""Present value, yields and risk measures of a fixed cash-flow vector (DOMAIN.md §5).

A cash flow is `amounts[i]` (currency) paid at `times[i]` years after settlement (t >= 0);
build `times` with `conventions.times_from_periods` (period / frequency) or
`conventions.year_fractions` (settlement + day count). A flat yield y discounts with
`conventions.discount_factor` in the stated compounding; a curve discounts with its
continuously compounded ACT/365F zero rates. Single-vector solvers here are the plain
references for the vectorised Numba kernels in `app.engine._kernels.irr_nb`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from app.engine.analytics.conventions import Compounding, Frequency, discount_factor
from app.engine.analytics.curves import ZeroCurve
from app.engine.analytics.solvers import solve
from app.engine.errors import (
    EmptyCashflows,
    EngineError,
    NonFiniteInput,
    NoSignChange,
    UnreachablePrice,
)

YIELD_MAX = 100.0  # 10,000% a year: the top of every yield search range
SPREAD_MAX = 10.0


# ---- validation ---------------------------------------------------------------------------
def as_flows(
    amounts: Sequence[float] | np.ndarray,
    times: Sequence[float] | np.ndarray,
    *,
    field: str = "cashflows",
) -> tuple[np.ndarray, np.ndarray]:
    """Validate and return (amounts, times) as float64 arrays.

    Raises EmptyCashflows (no flows, or all zero), NonFiniteInput (NaN/inf) or EngineError
    (length mismatch, negative times).
    """
    a = np.asarray(amounts, dtype=np.float64).ravel()
    t = np.asarray(times, dtype=np.float64).ravel()
    if a.size == 0:
        raise EmptyCashflows("the cash flow is empty", field=field)
    if a.size != t.size:
        raise EngineError(f"{a.size} amounts but {t.size} times", field=field)
    if not np.all(np.isfinite(a)):
        raise NonFiniteInput("cash-flow amounts must be finite", field=f"{field}.amount")
    if not np.all(np.isfinite(t)):
        raise NonFiniteInput("cash-flow times must be finite", field=f"{field}.time")
    if np.any(t < 0.0):
        raise EngineError("cash flows must fall on or after settlement (t >= 0)", field=field)
    if not np.any(a != 0.0):
        raise EmptyCashflows("every cash-flow amount is zero", field=field)
    return a, t


def _finite(x: float | None, field: str) -> float:
    if x is None or not math.isfinite(x):
        raise NonFiniteInput(f"{field} must be a finite number", field=field)
    return float(x)


def _yield_lower(compounding: Compounding, frequency: int, t: np.ndarray) -> float:
    """Lowest admissible yield: the discount factor must stay positive and finite."""
    if compounding is Compounding.COMPOUNDED:
        return -float(frequency) * (1.0 - 1e-9)
    if compounding is Compounding.SIMPLE:
        t_max = float(t.max())
        return -(1.0 - 1e-9) / t_max if t_max > 0 else -1.0
    return -1.0


# ---- present values -----------------------------------------------------------------------
def npv(
    amounts: np.ndarray,
    times: np.ndarray,
    rate: float,
    compounding: Compounding = Compounding.COMPOUNDED,
    frequency: Frequency | int = Frequency.MONTHLY,
) -> float:
    """Σ amount·DF(rate, t): flat yield `rate` (decimal/yr) in `compounding` at `frequency`.

    >>> npv(np.array([105.0]), np.array([1.0]), 0.05, Compounding.COMPOUNDED, 1)
    100.0
    """
    a, t = as_flows(amounts, times)
    y = _finite(rate, "discount_rate")
    df = discount_factor(y, t, compounding, int(frequency))
    if not np.all(np.isfinite(df)) or np.any(df <= 0.0):
        raise EngineError(f"rate {y} gives no valid discount factor", field="discount_rate")
    return float(np.dot(a, df))


def spread_discount(
    curve: ZeroCurve,
    times: np.ndarray,
    spread: float,
    compounding: Compounding = Compounding.CONTINUOUS,
    frequency: Frequency | int = Frequency.ANNUAL,
) -> np.ndarray:
    """Discount factors of `curve` with `spread` added to each zero rate expressed in
    (`compounding`, `frequency`) — QuantLib's ZeroSpreadedTermStructure:
    CONTINUOUS DF·e^(−s t); COMPOUNDED (1 + (z_f + s)/f)^(−f t), z_f = f(DF^(−1/(f t)) − 1);
    SIMPLE 1/(1 + (z_s + s) t), z_s = (1/DF − 1)/t. DF(0) = 1."""
    df = curve.discount(times)
    if spread == 0.0:
        return df
    if compounding is Compounding.CONTINUOUS:
        return df * np.exp(-spread * times)
    pos = times > 0.0
    tt = np.where(pos, times, 1.0)
    if compounding is Compounding.SIMPLE:
        z = (1.0 / df - 1.0) / tt
        out = 1.0 / (1.0 + (z + spread) * tt)
    else:
        f = float(frequency)
        z = f * np.expm1(-np.log(df) / (f * tt))
        out = np.exp(-f * tt * np.log1p((z + spread) / f))
    return np.where(pos, out, 1.0)


def npv_curve(
    amounts: np.ndarray,
    times: np.ndarray,
    curve: ZeroCurve,
    spread: float = 0.0,
    spread_compounding: Compounding = Compounding.CONTINUOUS,
    spread_frequency: Frequency | int = Frequency.ANNUAL,
) -> float:
    """Σ amount·DF(t) on `curve`, optionally with a zero-rate spread (see `spread_discount`)."""
    a, t = as_flows(amounts, times)
    return float(np.dot(a, spread_discount(curve, t, spread, spread_compounding, spread_frequency)))


# ---- IRR / yield --------------------------------------------------------------------------
def _has_sign_change(a: np.ndarray) -> bool:
    nz = a[a != 0.0]
    return bool(nz.size) and bool(np.any(nz > 0.0)) and bool(np.any(nz < 0.0))


def irr(amounts: np.ndarray, periods: np.ndarray | None = None) -> float:
    """Periodic internal rate of return r: Σ amount_k (1 + r)^(−period_k) = 0.

    periods defaults to 0, 1, ..., n−1 (first flow now, as Excel and numpy-financial do).
    Annualise at frequency f as f·r (nominal, compounded f times a year).
    Raises NoSignChange, UnreachablePrice (no root in (−1, 100]) or ConvergenceError.
    """
    a = np.asarray(amounts, dtype=np.float64).ravel()
    p = np.arange(a.size, dtype=np.float64) if periods is None else periods
    a, p = as_flows(a, p)
    if not _has_sign_change(a):
        raise NoSignChange("the cash flow never changes sign, so it has no IRR", field="cashflows")
    scale = float(np.abs(a).sum())

    def f(r: float) -> float:
        return float(np.dot(a, np.exp(-p * math.log1p(r)))) / scale

    return solve(f, 0.01, -1.0 + 1e-9, YIELD_MAX, what="IRR", field="cashflows")


def xirr(amounts: np.ndarray, dates: Sequence[dt.date] | np.ndarray) -> float:
    """Excel's XIRR: annual r with Σ amount_i (1 + r)^(−(d_i − d_0)/365) = 0 (ACT/365F).

    `dates` are datetime.date or integer day numbers; d_0 is the earliest date (the root does
    not depend on the origin, so this equals Excel's first-date origin whenever Excel answers).
    """
    days = _day_numbers(dates)
    a, _ = as_flows(amounts, np.zeros(days.size) if days.size else days, field="cashflows")
    if a.size != days.size:
        raise EngineError(f"{a.size} amounts but {days.size} dates", field="cashflows")
    t = (days - days.min()) / 365.0
    return irr(a, t)


def _day_numbers(dates: Sequence[dt.date] | np.ndarray) -> np.ndarray:
    if isinstance(dates, np.ndarray) and dates.dtype.kind in "iuf":
        return dates.astype(np.float64).ravel()
    if isinstance(dates, np.ndarray) and dates.dtype.kind == "M":
        return dates.astype("datetime64[D]").astype(np.int64).astype(np.float64)
    return np.array([d.toordinal() for d in dates], dtype=np.float64)


def yield_from_price(
    amounts: np.ndarray,
    times: np.ndarray,
    price: float,
    compounding: Compounding = Compounding.COMPOUNDED,
    frequency: Frequency | int = Frequency.MONTHLY,
) -> float:
    """Flat yield y (decimal/yr, in `compounding` at `frequency`) with npv(y) = price (dirty).

    Raises UnreachablePrice when no y in the admissible range (discount factors positive,
    y ≤ 100) reproduces the price, e.g. a price ≤ 0 for positive flows.
    """
    a, t = as_flows(amounts, times)
    target = _finite(price, "price")
    f = int(frequency)
    scale = max(abs(target), float(np.abs(a).sum()))

    def g(y: float) -> float:
        return (float(np.dot(a, discount_factor(y, t, compounding, f))) - target) / scale

    lower = _yield_lower(compounding, f, t)
    try:
        return solve(g, 0.05, lower, YIELD_MAX, what="yield", field="price")
    except UnreachablePrice:
        raise UnreachablePrice(
            f"no yield in [{lower:.4g}, {YIELD_MAX:g}] ({compounding.value}, frequency {f}) "
            f"prices these cash flows at {target:.10g}",
            field="price",
        ) from None


# ---- risk measures at a flat yield --------------------------------------------------------
def _pv_terms(a, t, y, compounding, f):
    df = discount_factor(y, t, compounding, f)
    pv = a * df
    p = float(pv.sum())
    if p == 0.0 or not math.isfinite(p):
        raise EngineError(
            "present value is zero or not finite; duration undefined", field="cashflows"
        )
    return df, pv, p


@dataclass(frozen=True)
class YieldRisk:
    """Duration measures of fixed flows at one flat yield y (years, years²), from one set of
    discount factors. QuantLib's definitions per compounding (f payments a year):
    macaulay Σ t·PV/P; modified −(dP/dy)/P: compounded macaulay/(1 + y/f), continuous
    macaulay, simple Σ t·a·DF²/P; convexity (d²P/dy²)/P: compounded Σ t(t + 1/f)·PV /
    (P(1 + y/f)²), continuous Σ t²·PV/P, simple Σ 2t²·a·DF³/P."""

    macaulay: float
    modified: float
    convexity: float


def yield_risk(
    amounts: np.ndarray,
    times: np.ndarray,
    y: float,
    compounding: Compounding = Compounding.COMPOUNDED,
    frequency: Frequency | int = 12,
) -> YieldRisk:
    """Macaulay and modified duration and convexity at flat yield y (see YieldRisk)."""
    a, t = as_flows(amounts, times)
    y = _finite(y, "yield")
    f = int(frequency)
    df, pv, p = _pv_terms(a, t, y, compounding, f)
    macaulay = float(np.dot(t, pv) / p)
    if compounding is Compounding.COMPOUNDED:
        modified = macaulay / (1.0 + y / f)
        conv = float(np.dot(t * (t + 1.0 / f), pv) / (p * (1.0 + y / f) ** 2))
    elif compounding is Compounding.SIMPLE:
        modified = float(np.dot(t, pv * df) / p)
        conv = float(np.dot(2.0 * t * t, pv * df * df) / p)
    else:
        modified = macaulay
        conv = float(np.dot(t * t, pv) / p)
    return YieldRisk(macaulay, modified, conv)


def macaulay_duration(
    amounts: np.ndarray,
    times: np.ndarray,
    y: float,
    compounding: Compounding = Compounding.COMPOUNDED,
    frequency: Frequency | int = 12,
) -> float:
    """Macaulay duration in years: Σ t·PV_t / Σ PV_t at flat yield y."""
    return yield_risk(amounts, times, y, compounding, frequency).macaulay


def modified_duration(
    amounts: np.ndarray,
    times: np.ndarray,
    y: float,
    compounding: Compounding = Compounding.COMPOUNDED,
    frequency: Frequency | int = 12,
) -> float:
    """Modified duration −(dP/dy)/P in years (see YieldRisk for each compounding)."""
    return yield_risk(amounts, times, y, compounding, frequency).modified


def convexity(
    amounts: np.ndarray,
    times: np.ndarray,
    y: float,
    compounding: Compounding = Compounding.COMPOUNDED,
    frequency: Frequency | int = 12,
) -> float:
    """Convexity (d²P/dy²)/P in years² (see YieldRisk for each compounding)."""
    return yield_risk(amounts, times, y, compounding, frequency).convexity


def dv01(
    amounts: np.ndarray,
    times: np.ndarray,
    y: float,
    compounding: Compounding = Compounding.COMPOUNDED,
    frequency: Frequency | int = 12,
) -> float:
    """Price change (currency) for a one-basis-point fall in yield: −dP/dy × 0.0001."""
    a, t = as_flows(amounts, times)
    p = npv(a, t, y, compounding, frequency)
    return modified_duration(a, t, y, compounding, frequency) * p * 1e-4


def wal(principal: np.ndarray, times: np.ndarray) -> float:
    """Weighted average life in years: Σ t·principal_t / Σ principal_t."""
    pr, t = as_flows(principal, times, field="principal")
    total = float(pr.sum())
    if total <= 0.0:
        raise EngineError("principal must sum to a positive amount for WAL", field="principal")
    return float(np.dot(t, pr) / total)


# ---- spreads ------------------------------------------------------------------------------
def z_spread(
    amounts: np.ndarray,
    times: np.ndarray,
    curve: ZeroCurve,
    price: float,
    compounding: Compounding = Compounding.CONTINUOUS,
    frequency: Frequency | int = Frequency.ANNUAL,
) -> float:
    """Constant spread s over every zero rate (in `compounding`/`frequency`) with
    npv_curve(s) = price (dirty). Raises UnreachablePrice when no s in range prices it."""
    a, t = as_flows(amounts, times)
    target = _finite(price, "price")
    f = int(frequency)
    df = curve.discount(t)
    pos = t > 0.0
    tt = np.where(pos, t, 1.0)
    lower = -1.0
    if compounding is Compounding.COMPOUNDED:
        zf = f * np.expm1(-np.log(df) / (f * tt))
        lower = max(lower, float(np.max(np.where(pos, -f - zf, -np.inf))) + 1e-9)
    elif compounding is Compounding.SIMPLE:
        zs = (1.0 / df - 1.0) / tt
        lower = max(lower, float(np.max(np.where(pos, -1.0 / tt - zs, -np.inf))) + 1e-9)
    scale = max(abs(target), float(np.abs(a).sum()))

    if compounding is Compounding.CONTINUOUS:
        adf = a * df

        def g(s: float) -> float:
            return (float(np.dot(adf, np.exp(-s * t))) - target) / scale
    else:

        def g(s: float) -> float:
            return (float(np.dot(a, spread_discount(curve, t, s, compounding, f))) - target) / scale

    try:
        return solve(g, 0.0, lower, SPREAD_MAX, what="Z-spread", field="price")
    except UnreachablePrice:
        raise UnreachablePrice(
            f"no Z-spread in [{lower:.4g}, {SPREAD_MAX:g}] prices these cash flows at {target:.10g}",
            field="price",
        ) from None


def spread_duration(
    amounts: np.ndarray,
    times: np.ndarray,
    curve: ZeroCurve,
    spread: float,
    compounding: Compounding = Compounding.CONTINUOUS,
    frequency: Frequency | int = Frequency.ANNUAL,
) -> float:
    """−(dP/ds)/P in years at Z-spread s, analytic: continuous Σ t·PV/P; compounded
    Σ t·PV/(1 + (z_f + s)/f)/P; simple Σ t·PV·DF_s/P."""
    a, t = as_flows(amounts, times)
    s = _finite(spread, "spread")
    f = int(frequency)
    dfs = spread_discount(curve, t, s, compounding, f)
    pv = a * dfs
    p = float(pv.sum())
    if p == 0.0:
        raise EngineError("present value is zero; spread duration undefined", field="cashflows")
    if compounding is Compounding.CONTINUOUS:
        return float(np.dot(t, pv) / p)
    if compounding is Compounding.SIMPLE:
        return float(np.dot(t, pv * dfs) / p)
    # (1 + (z_f + s)/f) = DF_s^(−1/(f t))
    tt = np.where(t > 0.0, t, 1.0)
    base = np.where(t > 0.0, np.exp(-np.log(dfs) / (f * tt)), 1.0)
    return float(np.dot(t, pv / base) / p)


# ---- curve-bumped (effective) measures -----------------------------------------------------
Repricer = Callable[[ZeroCurve], float]


def fixed_flow_repricer(
    amounts: np.ndarray,
    times: np.ndarray,
    spread: float = 0.0,
    spread_compounding: Compounding = Compounding.CONTINUOUS,
    spread_frequency: Frequency | int = Frequency.ANNUAL,
) -> Repricer:
    """A repricing function for flows that do not depend on rates: npv on the given curve at a
    constant zero-rate spread."""
    a, t = as_flows(amounts, times)

    def reprice(curve: ZeroCurve) -> float:
        return float(
            np.dot(a, spread_discount(curve, t, spread, spread_compounding, spread_frequency))
        )

    return reprice


def _checked_price(value: float, what: str) -> float:
    v = float(value)
    if not math.isfinite(v) or v <= 0.0:
        raise EngineError(
            f"repricing gave {what} = {v}; must be positive and finite", field="reprice"
        )
    return v


def effective_duration_convexity(
    reprice: Repricer, curve: ZeroCurve, bump: float = 0.0025
) -> tuple[float, float, float]:
    """(P0, effective duration, effective convexity) from parallel shifts ±h of `curve`:
    D = (P₋ − P₊)/(2·P₀·h), C = (P₊ + P₋ − 2P₀)/(P₀·h²); `reprice` maps a curve to a price and
    may re-project rate-dependent cash flows."""
    h = _finite(bump, "bump")
    if h <= 0.0:
        raise EngineError("bump must be positive", field="bump")
    p0 = _checked_price(reprice(curve), "P0")
    p_up = _checked_price(reprice(curve.shifted(h)), "P+")
    p_dn = _checked_price(reprice(curve.shifted(-h)), "P-")
    return p0, (p_dn - p_up) / (2.0 * p0 * h), (p_up + p_dn - 2.0 * p0) / (p0 * h * h)


def key_rate_durations(
    reprice: Repricer, curve: ZeroCurve, key_tenors: Sequence[float], bump: float = 1e-4
) -> np.ndarray:
    """Key-rate durations (years), one per key tenor: (P₋ − P₊)/(2·P₀·h) with the triangular
    key-rate shifts of `ZeroCurve.key_rate_shifted`. They add up to the effective duration."""
    h = _finite(bump, "bump")
    if h <= 0.0:
        raise EngineError("bump must be positive", field="bump")
    p0 = _checked_price(reprice(curve), "P0")
    out = np.empty(len(key_tenors))
    for i, k in enumerate(key_tenors):
        p_up = _checked_price(reprice(curve.key_rate_shifted(k, h, key_tenors)), "P+")
        p_dn = _checked_price(reprice(curve.key_rate_shifted(k, -h, key_tenors)), "P-")
        out[i] = (p_dn - p_up) / (2.0 * p0 * h)
    return out
