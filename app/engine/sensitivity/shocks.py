"""Shocks of scenario analytics: rate shocks (parallel and 2s10s-style twists, decimals),
credit shocks (multipliers of the quoted speed levels, an additive severity), named stresses
and the standard set, and how they move a run's assumptions.

A shock that takes a value outside its domain is an `InvalidInput`, never a silent clamp.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import numpy as np

from app.engine.errors import FieldProblem, InvalidInput
from app.engine.sensitivity.vocabulary import StandardStress
from app.engine.types import Assumptions, Speed, SpeedKind

BP = 1e-4
"""One basis point as a decimal."""
RATE_KINDS = frozenset({SpeedKind.CPR, SpeedKind.SMM, SpeedKind.ABS, SpeedKind.CDR, SpeedKind.MDR})
CURVE_KINDS = frozenset({SpeedKind.PSA, SpeedKind.SDA})
MAX_CURVE_SPEED = 10_000.0  # percent of the standard curve, as the API allows


def invalid(field_name: str, reason: str) -> InvalidInput:
    """An InvalidInput naming one field."""
    return InvalidInput([FieldProblem(None, field_name, reason)])


@dataclass(frozen=True)
class RateShock:
    """A move of the rates used for valuation and for floating-rate indices.

    parallel: added to every rate (decimal; 0.01 = +100 bp).
    short, long: twist (decimal) added to the zero rate at maturities <= short_tenor and
        >= long_tenor years, linear in maturity in between (a steepener has short < long).
    """

    parallel: float = 0.0
    short: float = 0.0
    long: float = 0.0
    short_tenor: float = 2.0
    long_tenor: float = 10.0

    def __post_init__(self) -> None:
        for name in ("parallel", "short", "long", "short_tenor", "long_tenor"):
            if not math.isfinite(getattr(self, name)):
                raise invalid(name, "must be finite")
        if not (0.0 <= self.short_tenor < self.long_tenor):
            raise invalid("long_tenor", "tenors must satisfy 0 <= short_tenor < long_tenor")

    @property
    def has_twist(self) -> bool:
        return self.short != 0.0 or self.long != 0.0

    @property
    def is_zero(self) -> bool:
        return self.parallel == 0.0 and not self.has_twist

    def twist(self, t: np.ndarray) -> np.ndarray:
        """Twist part of the shift (decimal) at maturities t (years)."""
        w = np.clip(
            (np.asarray(t, dtype=np.float64) - self.short_tenor)
            / (self.long_tenor - self.short_tenor),
            0.0,
            1.0,
        )
        return self.short + (self.long - self.short) * w

    def total(self, t: np.ndarray) -> np.ndarray:
        """Whole shift (decimal) at maturities t (years): parallel + twist."""
        return self.parallel + self.twist(t)

    def plus(self, other: RateShock) -> RateShock:
        """Both shocks at once (twists must share their tenors)."""
        if (
            other.has_twist
            and self.has_twist
            and (other.short_tenor != self.short_tenor or other.long_tenor != self.long_tenor)
        ):
            raise invalid("short_tenor", "combined twists must use the same tenors")
        base = self if self.has_twist else other
        return RateShock(
            self.parallel + other.parallel,
            self.short + other.short,
            self.long + other.long,
            base.short_tenor,
            base.long_tenor,
        )


NO_RATE_SHOCK = RateShock()


@dataclass(frozen=True)
class CreditShock:
    """Multiplicative shocks on the quoted speed levels and an additive severity shock.

    default_multiplier: scales the default speed (CDR/MDR rate, SDA speed, vector values).
    prepayment_multiplier: scales the prepayment speed (CPR/SMM/ABS rate, PSA speed, vectors).
    severity_addon: added to the severity (decimal); the result must stay in [0, 1].
    """

    default_multiplier: float = 1.0
    prepayment_multiplier: float = 1.0
    severity_addon: float = 0.0

    def __post_init__(self) -> None:
        for name in ("default_multiplier", "prepayment_multiplier"):
            v = getattr(self, name)
            if not (math.isfinite(v) and v >= 0.0):
                raise invalid(name, "must be a finite multiplier >= 0")
        if not math.isfinite(self.severity_addon):
            raise invalid("severity_addon", "must be finite")

    def plus(self, other: CreditShock) -> CreditShock:
        return CreditShock(
            self.default_multiplier * other.default_multiplier,
            self.prepayment_multiplier * other.prepayment_multiplier,
            self.severity_addon + other.severity_addon,
        )


@dataclass(frozen=True)
class StressShock:
    """One named stress: a rate shock and a credit shock applied together."""

    name: str
    rate: RateShock = NO_RATE_SHOCK
    credit: CreditShock = field(default_factory=CreditShock)


def standard_stresses() -> list[StressShock]:
    """The standard set: parallel ±100/200/300 bp, a 2s10s steepener and flattener (∓/±50 bp),
    defaults ×2, severity +10 points, prepayments ×0.5 and ×1.5, and two combined shocks."""
    s = StandardStress
    parallel = {
        s.DOWN_300: -300,
        s.DOWN_200: -200,
        s.DOWN_100: -100,
        s.UP_100: 100,
        s.UP_200: 200,
        s.UP_300: 300,
    }
    out = [StressShock(name.value, RateShock(parallel=bp * BP)) for name, bp in parallel.items()]
    out += [
        StressShock(s.STEEPENER.value, RateShock(short=-50 * BP, long=50 * BP)),
        StressShock(s.FLATTENER.value, RateShock(short=50 * BP, long=-50 * BP)),
        StressShock(s.DEFAULTS_X2.value, credit=CreditShock(default_multiplier=2.0)),
        StressShock(s.SEVERITY_PLUS_10.value, credit=CreditShock(severity_addon=0.10)),
        StressShock(s.PREPAYMENTS_X0_5.value, credit=CreditShock(prepayment_multiplier=0.5)),
        StressShock(s.PREPAYMENTS_X1_5.value, credit=CreditShock(prepayment_multiplier=1.5)),
        StressShock(s.COMBINED_UP.value, RateShock(parallel=200 * BP), CreditShock(2.0, 0.5, 0.10)),
        StressShock(
            s.COMBINED_DOWN.value, RateShock(parallel=-200 * BP), CreditShock(1.5, 1.5, 0.0)
        ),
    ]
    return out


def scale_speed(speed: Speed, k: float, *, name: str) -> Speed:
    """The speed with its quoted level multiplied by k (rate, PSA/SDA speed or vector values).

    Raises InvalidInput naming `name` when the scaled level leaves its domain (a rate above 1,
    an ABS speed of 1 or more, a curve speed above 10,000%).
    """
    if k == 1.0:
        return speed
    kind = speed.kind
    if kind in CURVE_KINDS:
        lr = None if speed.loan_rates is None else np.asarray(speed.loan_rates) * k
        top = speed.speed * k if lr is None else float(lr.max(initial=0.0))
        if top > MAX_CURVE_SPEED:
            raise invalid(name, f"x{k:g} gives {top:g}% of the curve, above {MAX_CURVE_SPEED:g}%")
        return replace(speed, speed=speed.speed * k, loan_rates=lr)
    if kind in RATE_KINDS:
        lr = None if speed.loan_rates is None else np.asarray(speed.loan_rates) * k
        top = speed.rate * k if lr is None else float(lr.max(initial=0.0))
        limit_ok = top < 1.0 if kind == SpeedKind.ABS else top <= 1.0
        if not limit_ok:
            raise invalid(name, f"x{k:g} gives a {kind.value} of {top:g}, outside [0, 1]")
        return replace(speed, rate=speed.rate * k, loan_rates=lr)
    values = np.asarray(speed.values, dtype=np.float64) * k
    if values.size and float(values.max()) > 1.0:
        raise invalid(name, f"x{k:g} gives vector values above 1")
    return replace(speed, values=values)


def shock_index_paths(
    paths: Mapping[str, np.ndarray], shock: RateShock, n_periods: int
) -> dict[str, np.ndarray]:
    """Index paths moved by the shock at each period's maturity t = period / 12 (a path shorter
    than the horizon is first extended with its last value, as the engine reads it)."""
    if shock.is_zero:
        return {k: np.asarray(v, dtype=np.float64) for k, v in paths.items()}
    t = np.arange(1, n_periods + 1, dtype=np.float64) / 12.0
    out = {}
    for name, path in paths.items():
        p = np.asarray(path, dtype=np.float64)
        full = p[np.minimum(np.arange(n_periods), p.shape[0] - 1)]
        out[name] = full + shock.total(t)
    return out


def apply_shock(
    assumptions: Assumptions,
    *,
    credit: CreditShock | None = None,
    rate: RateShock | None = None,
    n_periods: int | None = None,
) -> Assumptions:
    """Assumptions under a credit shock (speeds scaled, severity moved) and a rate shock (the
    floating-rate index paths moved; needs the horizon `n_periods` when there are paths)."""
    a = assumptions
    if credit is not None:
        sev = a.severity + credit.severity_addon
        if not (0.0 <= sev <= 1.0):
            raise invalid(
                "severity_addon",
                f"severity {a.severity:g} + {credit.severity_addon:g} is outside [0, 1]",
            )
        a = replace(
            a,
            prepayment=scale_speed(
                a.prepayment, credit.prepayment_multiplier, name="prepayment_multiplier"
            ),
            default=scale_speed(a.default, credit.default_multiplier, name="default_multiplier"),
            severity=sev,
        )
    if rate is not None and not rate.is_zero and a.index_paths:
        if n_periods is None:
            raise invalid("n_periods", "a rate shock on index paths needs the horizon")
        a = replace(a, index_paths=shock_index_paths(a.index_paths, rate, n_periods))
    return a
