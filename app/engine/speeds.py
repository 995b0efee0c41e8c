"""Prepayment and default speeds (DOMAIN.md §2) as monthly rates per loan and period.

Two forms of the same rules: `rate_matrix` evaluates the formulas directly for every
(loan, period) (used by the NumPy reference), and `speed_table` packs them into a small
table plus per-loan row offsets that the Numba kernel reads without materialising a
loans x periods matrix. Month `t` of a projection of a loan aged `age` is loan-age month
`age + t` (DOMAIN.md §1); PSA, SDA and ABS run on loan age, vectors on projection period.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from app.engine.errors import FieldProblem, InvalidInput
from app.engine.types import Speed, SpeedKind

PREPAY_KINDS = frozenset(
    {
        SpeedKind.CPR,
        SpeedKind.SMM,
        SpeedKind.PSA,
        SpeedKind.ABS,
        SpeedKind.CPR_VECTOR,
        SpeedKind.SMM_VECTOR,
    }
)
DEFAULT_KINDS = frozenset(
    {SpeedKind.CDR, SpeedKind.MDR, SpeedKind.SDA, SpeedKind.CDR_VECTOR, SpeedKind.MDR_VECTOR}
)
_ANNUAL = frozenset({SpeedKind.CPR, SpeedKind.CDR, SpeedKind.CPR_VECTOR, SpeedKind.CDR_VECTOR})
_VECTORS = frozenset(
    {SpeedKind.CPR_VECTOR, SpeedKind.SMM_VECTOR, SpeedKind.CDR_VECTOR, SpeedKind.MDR_VECTOR}
)
_CURVES = frozenset({SpeedKind.PSA, SpeedKind.SDA, SpeedKind.ABS})
_MAX_TABLE_CELLS = 50_000_000


def annual_to_monthly(rate: np.ndarray | float) -> np.ndarray:
    """SMM = 1 - (1 - CPR)^(1/12) (also MDR from CDR); annual decimal -> monthly decimal.

    >>> round(float(annual_to_monthly(0.06)), 8)
    0.00514301
    """
    return 1.0 - np.power(1.0 - np.asarray(rate, dtype=np.float64), 1.0 / 12.0)


def psa_cpr(age_month: np.ndarray | int, speed: np.ndarray | float = 100.0) -> np.ndarray:
    """CPR of `speed`% PSA at loan-age month m (>= 1): 0.2% x m up to m = 30, then 6%, x speed/100,
    capped at 100%.

    >>> float(psa_cpr(10, 150.0))
    0.03
    """
    m = np.asarray(age_month, dtype=np.float64)
    return np.minimum(
        1.0, np.asarray(speed, dtype=np.float64) / 100.0 * 0.002 * np.minimum(m, 30.0)
    )


def sda_cdr(age_month: np.ndarray | int, speed: np.ndarray | float = 100.0) -> np.ndarray:
    """CDR of `speed`% SDA at loan-age month m: 0.02% x m for m <= 30, 0.60% for 31..60, then down
    0.0095% a month to 0.03% at m = 120, 0.03% after; x speed/100, capped at 100%.

    >>> float(sda_cdr(90))
    0.00315
    """
    m = np.asarray(age_month, dtype=np.float64)
    base = np.where(
        m <= 30,
        0.0002 * m,
        np.where(m <= 60, 0.006, np.where(m <= 120, 0.006 - 0.000095 * (m - 60.0), 0.0003)),
    )
    return np.minimum(1.0, np.asarray(speed, dtype=np.float64) / 100.0 * base)


def abs_smm(age_month: np.ndarray | int, abs_speed: np.ndarray | float) -> np.ndarray:
    """SMM of an ABS (absolute prepayment) speed at loan-age month m: ABS / (1 - ABS x (m - 1)).

    ABS is a monthly fraction of the original loan count. Once ABS x m >= 1 every original loan
    has prepaid, so the SMM is 1 from then on (the formula's denominator reaches ABS or less).

    >>> round(float(abs_smm(10, 0.015)), 8)
    0.01734104
    """
    m = np.asarray(age_month, dtype=np.float64)
    a = np.asarray(abs_speed, dtype=np.float64)
    den = 1.0 - a * (m - 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(den > a, a / np.where(den > 0, den, 1.0), 1.0)
    return np.where(a == 0.0, 0.0, out)


def multiplier_by_group(
    keys: np.ndarray, mapping: Mapping[Any, float], default: float = 1.0
) -> np.ndarray:
    """Per-loan multipliers from a group column (e.g. `pool.extra["state"]`) and a {group: x} map.

    >>> multiplier_by_group(np.array(["CA", "NY", "CA"]), {"CA": 1.5}).tolist()
    [1.5, 1.0, 1.5]
    """
    uniq, inv = np.unique(np.asarray(keys), return_inverse=True)
    vals = np.array([float(mapping.get(u, default)) for u in uniq.tolist()], dtype=np.float64)
    return vals[inv.reshape(-1)]


def _problem(name: str, reason: str) -> InvalidInput:
    return InvalidInput([FieldProblem(None, name, reason)])


def validate_speed(speed: Speed, n_loans: int, *, name: str, default: bool) -> None:
    """Raise InvalidInput when a speed is of the wrong family or out of range."""
    kinds = DEFAULT_KINDS if default else PREPAY_KINDS
    if speed.kind not in kinds:
        raise _problem(
            name, f"{speed.kind.value!r} is not a {'default' if default else 'prepayment'} speed"
        )
    if speed.kind in _CURVES - {SpeedKind.ABS}:
        if not (np.isfinite(speed.speed) and speed.speed >= 0):
            raise _problem(f"{name}.speed", "must be a finite percentage >= 0")
    elif speed.kind in _VECTORS:
        if speed.values is None or len(np.atleast_1d(speed.values)) == 0:
            raise _problem(f"{name}.values", "a vector speed needs at least one value")
        v = np.asarray(speed.values, dtype=np.float64)
        if v.ndim != 1 or not np.all((v >= 0) & (v <= 1)):
            raise _problem(f"{name}.values", "must be a 1-D vector of decimals in [0, 1]")
    else:
        upper = 1.0 if speed.kind != SpeedKind.ABS else np.nextafter(1.0, 0.0)
        if not (0.0 <= speed.rate <= upper):
            raise _problem(f"{name}.rate", "must be a decimal in [0, 1]")
    if speed.loan_rates is not None:
        if speed.kind in _VECTORS:
            raise _problem(f"{name}.loan_rates", "per-loan rates do not apply to a vector speed")
        lr = np.asarray(speed.loan_rates, dtype=np.float64)
        if lr.shape != (n_loans,):
            raise _problem(f"{name}.loan_rates", f"needs one value per loan ({n_loans})")
        hi = np.inf if speed.kind in (SpeedKind.PSA, SpeedKind.SDA) else 1.0
        if not np.all((lr >= 0) & (lr <= hi)):
            raise _problem(
                f"{name}.loan_rates",
                "values out of range (decimals in [0, 1]; PSA/SDA speeds >= 0)",
            )
    if speed.loan_multiplier is not None:
        lm = np.asarray(speed.loan_multiplier, dtype=np.float64)
        if lm.shape != (n_loans,):
            raise _problem(f"{name}.loan_multiplier", f"needs one value per loan ({n_loans})")
        if not np.all(np.isfinite(lm) & (lm >= 0)):
            raise _problem(f"{name}.loan_multiplier", "must be finite and >= 0")


def _curve_monthly(kind: SpeedKind, m: np.ndarray, level: np.ndarray | float) -> np.ndarray:
    if kind == SpeedKind.PSA:
        return annual_to_monthly(psa_cpr(m, level))
    if kind == SpeedKind.SDA:
        return annual_to_monthly(sda_cdr(m, level))
    return abs_smm(m, level)


def rate_matrix(
    speed: Speed,
    age_months: np.ndarray,
    remaining_months: np.ndarray,
    n_periods: int,
    *,
    recovery_lag: int = 0,
) -> np.ndarray:
    """Monthly rate (SMM or MDR) per (loan, period), shape (n_loans, n_periods), from the formulas.

    Per-loan `loan_rates` replace `rate` (or the PSA/SDA `speed`, in percent); `loan_multiplier`
    scales the monthly rate, capped at 1. SDA is zero in the last `recovery_lag` months of each
    loan's term (DOMAIN.md §2).
    """
    n = age_months.shape[0]
    t = np.arange(1, n_periods + 1, dtype=np.float64)[None, :]
    m = age_months[:, None].astype(np.float64) + t
    kind = speed.kind
    if kind in _VECTORS:
        v = np.asarray(speed.values, dtype=np.float64)
        col = np.minimum(np.arange(n_periods), v.shape[0] - 1)
        row = annual_to_monthly(v[col]) if kind in _ANNUAL else v[col]
        out = np.broadcast_to(row[None, :], (n, n_periods)).copy()
    elif kind in _CURVES:
        level: np.ndarray | float
        if speed.loan_rates is not None:
            level = np.asarray(speed.loan_rates, dtype=np.float64)[:, None]
        else:
            level = speed.speed if kind != SpeedKind.ABS else speed.rate
        out = _curve_monthly(kind, m, level) * np.ones((n, 1))
    else:
        base = speed.loan_rates if speed.loan_rates is not None else np.full(n, speed.rate)
        base = np.asarray(base, dtype=np.float64)
        mon = annual_to_monthly(base) if kind in _ANNUAL else base
        out = np.broadcast_to(mon[:, None], (n, n_periods)).copy()
    if speed.loan_multiplier is not None:
        out = np.minimum(1.0, out * np.asarray(speed.loan_multiplier, dtype=np.float64)[:, None])
    if kind == SpeedKind.SDA and recovery_lag > 0:
        out = np.where(t > (remaining_months[:, None] - recovery_lag), 0.0, out)
    return out


@dataclass(frozen=True)
class SpeedTable:
    """A speed packed for the kernel: monthly rate of loan j in period t (1-based) is
    min(1, mult[j] * table[start[j] + min(t - 1 + shift[j], width - 1)]), zero when
    t > remaining[j] - zero_tail.

    table: flat float64 rows of `width` cells; start: per-loan row offset; shift: loan age for
    age-based curves (0 for per-period vectors and constants); mult: per-loan multiplier (1.0).
    """

    table: np.ndarray
    width: int
    start: np.ndarray
    shift: np.ndarray
    mult: np.ndarray
    zero_tail: int


def speed_table(
    speed: Speed, age_months: np.ndarray, n_periods: int, *, recovery_lag: int = 0
) -> SpeedTable:
    """Pack a validated speed into a `SpeedTable` (no loans x periods matrix).

    Curves become one row per distinct level (per-loan speeds share rows), tabulated on loan-age
    months 1..width where the curve is constant beyond `width` (30 for PSA, 120 for SDA; ABS to
    the last projected age).
    """
    n = age_months.shape[0]
    kind = speed.kind
    zero_start = np.zeros(n, dtype=np.int64)
    shift0 = np.zeros(n, dtype=np.int64)
    mult = (
        np.ones(n)
        if speed.loan_multiplier is None
        else np.ascontiguousarray(speed.loan_multiplier, dtype=np.float64)
    )
    if kind in _VECTORS:
        v = np.asarray(speed.values, dtype=np.float64)
        row = annual_to_monthly(v) if kind in _ANNUAL else v.copy()
        return SpeedTable(row, row.shape[0], zero_start, shift0, mult, 0)
    if kind in _CURVES:
        if kind == SpeedKind.PSA:
            width = 30
        elif kind == SpeedKind.SDA:
            width = 120
        else:
            width = int(age_months.max(initial=0)) + n_periods
        m = np.arange(1, width + 1, dtype=np.float64)
        if speed.loan_rates is None:
            level = speed.speed if kind != SpeedKind.ABS else speed.rate
            table = _curve_monthly(kind, m, level)
            start = zero_start
        else:
            uniq, inv = np.unique(
                np.asarray(speed.loan_rates, dtype=np.float64), return_inverse=True
            )
            if uniq.shape[0] * width > _MAX_TABLE_CELLS:
                raise _problem(
                    "loan_rates",
                    f"{uniq.shape[0]} distinct per-loan curve speeds are too many to tabulate; "
                    "group them or use loan_multiplier",
                )
            table = _curve_monthly(kind, m[None, :], uniq[:, None]).reshape(-1)
            start = inv.reshape(-1).astype(np.int64) * width
        tail = recovery_lag if kind == SpeedKind.SDA else 0
        return SpeedTable(table, width, start, age_months.astype(np.int64), mult, tail)
    if speed.loan_rates is None:
        val = annual_to_monthly(speed.rate) if kind in _ANNUAL else np.float64(speed.rate)
        return SpeedTable(np.array([float(val)]), 1, zero_start, shift0, mult, 0)
    uniq, inv = np.unique(np.asarray(speed.loan_rates, dtype=np.float64), return_inverse=True)
    table = annual_to_monthly(uniq) if kind in _ANNUAL else uniq
    return SpeedTable(table, 1, inv.reshape(-1).astype(np.int64), shift0, mult, 0)
