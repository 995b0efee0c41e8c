"""Market conventions as enums (parsed once at the edge) and the year fractions they define.

Day counts follow QuantLib's definitions: 30/360 is the bond basis (ISMA), ACT/ACT is ISDA.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from enum import IntEnum, StrEnum

import numpy as np

from app.engine.errors import EngineError


class DayCount(StrEnum):
    """Day-count conventions for year fractions between two dates."""

    THIRTY_360 = "30/360"  # bond basis: D1=31->30; D2=31->30 when D1 is 30 or 31
    ACT_360 = "ACT/360"
    ACT_365F = "ACT/365F"
    ACT_ACT = "ACT/ACT"  # ISDA: days in each calendar year over that year's length

    @classmethod
    def parse(cls, value: DayCount | str) -> DayCount:
        """Parse a user spelling ("30/360", "act/365f", "ACT/ACT ISDA", ...) into the enum."""
        if isinstance(value, DayCount):
            return value
        key = str(value).strip().upper().replace(" ", "")
        aliases = {
            "30/360": cls.THIRTY_360,
            "30/360BONDBASIS": cls.THIRTY_360,
            "ACT/360": cls.ACT_360,
            "ACT/365F": cls.ACT_365F,
            "ACT/365FIXED": cls.ACT_365F,
            "ACT/ACT": cls.ACT_ACT,
            "ACT/ACTISDA": cls.ACT_ACT,
        }
        try:
            return aliases[key]
        except KeyError:
            raise EngineError(
                f"unknown day count {value!r}; expected one of {[d.value for d in cls]}",
                field="day_count",
            ) from None


class Compounding(StrEnum):
    """How a rate turns into a discount factor over t years (see `discount_factor`)."""

    SIMPLE = "simple"  # 1 / (1 + y t)
    COMPOUNDED = "compounded"  # (1 + y/f)^(-f t)
    CONTINUOUS = "continuous"  # exp(-y t)

    @classmethod
    def parse(cls, value: Compounding | str) -> Compounding:
        try:
            return value if isinstance(value, Compounding) else cls(str(value).strip().lower())
        except ValueError:
            raise EngineError(
                f"unknown compounding {value!r}; expected one of {[c.value for c in cls]}",
                field="compounding",
            ) from None


class Frequency(IntEnum):
    """Payments (or compounding periods) per year."""

    ANNUAL = 1
    SEMIANNUAL = 2
    QUARTERLY = 4
    MONTHLY = 12

    @classmethod
    def parse(cls, value: Frequency | int, *, field: str = "frequency") -> Frequency:
        try:
            if isinstance(value, bool) or int(value) != value:
                raise ValueError
            return cls(int(value))
        except (TypeError, ValueError):
            raise EngineError(
                f"unknown frequency {value!r}; expected one of 1, 2, 4, 12", field=field
            ) from None


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def year_fraction(start: dt.date, end: dt.date, dc: DayCount | str) -> float:
    """Year fraction from `start` to `end` (negative when end < start) under day count `dc`.

    >>> year_fraction(dt.date(2024, 1, 31), dt.date(2024, 7, 31), DayCount.THIRTY_360)
    0.5
    """
    dc = DayCount.parse(dc)
    if end < start:
        return -year_fraction(end, start, dc)
    if dc is DayCount.ACT_360:
        return (end - start).days / 360.0
    if dc is DayCount.ACT_365F:
        return (end - start).days / 365.0
    if dc is DayCount.THIRTY_360:
        d1 = min(start.day, 30)
        d2 = 30 if (end.day == 31 and d1 == 30) else end.day
        days = 360 * (end.year - start.year) + 30 * (end.month - start.month) + (d2 - d1)
        return days / 360.0
    # ACT/ACT ISDA: split at calendar-year boundaries.
    if start.year == end.year:
        return (end - start).days / (366.0 if _is_leap(start.year) else 365.0)
    first = (dt.date(start.year + 1, 1, 1) - start).days / (
        366.0 if _is_leap(start.year) else 365.0
    )
    last = (end - dt.date(end.year, 1, 1)).days / (366.0 if _is_leap(end.year) else 365.0)
    return first + (end.year - start.year - 1) + last


def year_fractions(settlement: dt.date, dates: Sequence[dt.date], dc: DayCount | str) -> np.ndarray:
    """Year fractions from `settlement` to each date under `dc` (float64 array)."""
    dc = DayCount.parse(dc)
    return np.array([year_fraction(settlement, d, dc) for d in dates], dtype=np.float64)


def times_from_periods(
    periods: np.ndarray | Sequence[float], frequency: Frequency | int
) -> np.ndarray:
    """Year fractions of cash flows given by period index: t = period / frequency."""
    f = Frequency.parse(frequency)
    return np.asarray(periods, dtype=np.float64) / float(f)


def discount_factor(
    rate: float | np.ndarray,
    t: float | np.ndarray,
    compounding: Compounding = Compounding.COMPOUNDED,
    frequency: Frequency | int = Frequency.ANNUAL,
) -> np.ndarray:
    """Discount factor for a rate `rate` (decimal/yr) over `t` years.

    SIMPLE: 1/(1 + y t); COMPOUNDED: (1 + y/f)^(-f t); CONTINUOUS: exp(-y t).
    """
    t = np.asarray(t, dtype=np.float64)
    y = np.asarray(rate, dtype=np.float64)
    if compounding is Compounding.CONTINUOUS:
        return np.exp(-y * t)
    if compounding is Compounding.SIMPLE:
        return 1.0 / (1.0 + y * t)
    f = float(frequency)
    return np.exp(-f * t * np.log1p(y / f))


def equivalent_rate(
    rate: float,
    from_compounding: Compounding,
    from_frequency: int,
    to_compounding: Compounding,
    to_frequency: int,
    t: float = 1.0,
) -> float:
    """The rate in (`to_compounding`, `to_frequency`) giving the same discount factor over t yrs."""
    df = float(discount_factor(rate, t, from_compounding, from_frequency))
    return float(rate_from_discount(df, t, to_compounding, to_frequency))


def rate_from_discount(
    df: float | np.ndarray, t: float | np.ndarray, compounding: Compounding, frequency: int = 1
) -> np.ndarray | float:
    """Invert `discount_factor`: the rate that gives discount factor `df` over `t` > 0 years."""
    df = np.asarray(df, dtype=np.float64)
    t = np.asarray(t, dtype=np.float64)
    if compounding is Compounding.CONTINUOUS:
        out = -np.log(df) / t
    elif compounding is Compounding.SIMPLE:
        out = (1.0 / df - 1.0) / t
    else:
        f = float(frequency)
        out = f * np.expm1(-np.log(df) / (f * t))
    return float(out) if out.ndim == 0 else out
