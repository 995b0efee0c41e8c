"""The words of scenario analytics that users send: grid variables, measures, break-even
variables and targets, the standard stresses, and the kinds of discount basis.

Each is a `StrEnum` (its members equal their string values), parsed once where a request
enters the engine (`member_of`); the math compares members, never strings. The API schemas derive
their `Literal`s from these enums (app/models/scenarios.py), so a new word is added here once.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import TypeVar

E = TypeVar("E", bound=StrEnum)


class GridVariable(StrEnum):
    """Grid axes: cpr/cdr (annual decimals), psa/sda (percent of the curve), abs (monthly
    decimal), severity (decimal) replace the base assumption; the multipliers and
    severity_addon shock it; rate_shift_bp moves the valuation rates (and floating indices) in
    parallel, in basis points."""

    CPR = "cpr"
    PSA = "psa"
    ABS = "abs"
    CDR = "cdr"
    SDA = "sda"
    SEVERITY = "severity"
    PREPAYMENT_MULTIPLIER = "prepayment_multiplier"
    DEFAULT_MULTIPLIER = "default_multiplier"
    SEVERITY_ADDON = "severity_addon"
    RATE_SHIFT_BP = "rate_shift_bp"


class Measure(StrEnum):
    """Every measure: npv (currency), price_percent (npv / starting balance × 100), yield
    (decimal, at valuation.price), durations (years), convexity (years²), dv01 (currency per
    bp), wal and loss_wal_years (years), cumulative loss/default (currency),
    cumulative_loss_fraction (decimal of the starting balance), loss_half_period and
    peak_loss_period (period numbers)."""

    NPV = "npv"
    PRICE_PERCENT = "price_percent"
    YIELD = "yield"
    MODIFIED_DURATION = "modified_duration"
    EFFECTIVE_DURATION = "effective_duration"
    EFFECTIVE_CONVEXITY = "effective_convexity"
    DV01 = "dv01"
    SPREAD_DURATION = "spread_duration"
    WAL = "wal"
    CUMULATIVE_LOSS = "cumulative_loss"
    CUMULATIVE_LOSS_FRACTION = "cumulative_loss_fraction"
    LOSS_WAL_YEARS = "loss_wal_years"
    LOSS_HALF_PERIOD = "loss_half_period"
    PEAK_LOSS_PERIOD = "peak_loss_period"
    CUMULATIVE_DEFAULT = "cumulative_default"


VALUE_MEASURES: tuple[Measure, ...] = (
    Measure.NPV,
    Measure.PRICE_PERCENT,
    Measure.YIELD,
    Measure.MODIFIED_DURATION,
    Measure.EFFECTIVE_DURATION,
    Measure.EFFECTIVE_CONVEXITY,
    Measure.DV01,
    Measure.SPREAD_DURATION,
)
"""Measures that need a discount basis (a valuation)."""

CREDIT_MEASURES: tuple[Measure, ...] = (
    Measure.WAL,
    Measure.CUMULATIVE_LOSS,
    Measure.CUMULATIVE_LOSS_FRACTION,
    Measure.LOSS_WAL_YEARS,
    Measure.LOSS_HALF_PERIOD,
    Measure.PEAK_LOSS_PERIOD,
    Measure.CUMULATIVE_DEFAULT,
)
"""Measures of the projected flows alone."""

MEASURES: tuple[Measure, ...] = VALUE_MEASURES + CREDIT_MEASURES


class BreakEvenVariable(StrEnum):
    """What a break-even solves for: a constant CDR (decimal), an SDA speed (percent), or a
    multiplier of the base default speed."""

    CDR = "cdr"
    SDA = "sda"
    DEFAULT_MULTIPLIER = "default_multiplier"


BREAKEVEN_MEASURES: tuple[Measure, ...] = (
    Measure.CUMULATIVE_LOSS,
    Measure.CUMULATIVE_LOSS_FRACTION,
    Measure.YIELD,
    Measure.NPV,
    Measure.PRICE_PERCENT,
)
"""Measures a break-even can target."""


class StandardStress(StrEnum):
    """Names of the standard stresses (`standard_stresses()`), in their order."""

    DOWN_300 = "-300bp"
    DOWN_200 = "-200bp"
    DOWN_100 = "-100bp"
    UP_100 = "+100bp"
    UP_200 = "+200bp"
    UP_300 = "+300bp"
    STEEPENER = "steepener"
    FLATTENER = "flattener"
    DEFAULTS_X2 = "defaults x2"
    SEVERITY_PLUS_10 = "severity +10pts"
    PREPAYMENTS_X0_5 = "prepayments x0.5"
    PREPAYMENTS_X1_5 = "prepayments x1.5"
    COMBINED_UP = "+200bp, prepayments x0.5, defaults x2, severity +10pts"
    COMBINED_DOWN = "-200bp, prepayments x1.5, defaults x1.5"


class BasisKind(StrEnum):
    """A discount basis: a flat yield, or a zero curve plus a Z-spread."""

    YIELD = "yield"
    CURVE = "curve"


def member_of(enum: type[E], value: object) -> E | None:
    """`value` as a member of `enum`, or None for a word the enum does not have."""
    if not isinstance(value, str):
        return None
    try:
        return enum(value)
    except ValueError:
        return None


def words(members: Iterable[StrEnum]) -> list[str]:
    """The string values of `members` (for messages)."""
    return [m.value for m in members]
