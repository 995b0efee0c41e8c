"""Scenario analytics on a projected pool: shocks, valuation bases, sensitivity grids, stress
tests, risk measures and the break-even solver.

Conventions: cash flows fall at t = period / 12 years (30/360 monthly, end of period, as the
forecasts API values them). Rate shocks are in decimals (0.01 = 100 bp) and move either the
flat yield of the valuation (parallel shocks, in the yield's own compounding) or the
continuously compounded ACT/365F zero rates of its curve; twists (steepener/flattener) move the
zero rates by a piecewise-linear amount in maturity. Credit shocks scale the quoted level of a
speed (CDR/CPR/ABS rate, PSA/SDA speed, vector values) and add to the severity; a shock that
takes a value outside its domain is an `InvalidInput`, never a silent clamp.

Everything here is pure NumPy on top of `project_pool` (compiled kernel) and the analytics
measures; the only Python loops are over grid cells, shocks and solver iterations.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
from scipy.optimize import brentq

from app.engine.analytics.conventions import Compounding, discount_factor
from app.engine.analytics.curves import Interpolation, ZeroCurve
from app.engine.analytics.measures import (
    as_flows,
    modified_duration,
    spread_discount,
    yield_from_price,
    z_spread,
)
from app.engine.analytics.solvers import find_bracket
from app.engine.errors import EngineError, FieldProblem, InvalidInput, NoSolution
from app.engine.pool import LoanPool
from app.engine.projection import Engine, horizon, project_pool
from app.engine.scenario_batch import ScenarioBatch
from app.engine.types import Assumptions, RateType, Speed, SpeedKind

PRINCIPAL_COLUMNS = ("scheduled_principal", "prepayment", "defaulted_amortization", "recovery")
"""Principal returned each period (for WAL): scheduled, prepaid, advanced amortisation of
defaulted loans, and recoveries (as the forecasts service)."""

BP = 1e-4
_RATE_KINDS = frozenset({SpeedKind.CPR, SpeedKind.SMM, SpeedKind.ABS, SpeedKind.CDR, SpeedKind.MDR})
_CURVE_KINDS = frozenset({SpeedKind.PSA, SpeedKind.SDA})
_MAX_CURVE_SPEED = 10_000.0  # percent of the standard curve, as the API allows


def _invalid(field_name: str, reason: str) -> InvalidInput:
    return InvalidInput([FieldProblem(None, field_name, reason)])


# ---- shocks --------------------------------------------------------------------------------
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
                raise _invalid(name, "must be finite")
        if not (0.0 <= self.short_tenor < self.long_tenor):
            raise _invalid("long_tenor", "tenors must satisfy 0 <= short_tenor < long_tenor")

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
            raise _invalid("short_tenor", "combined twists must use the same tenors")
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
                raise _invalid(name, "must be a finite multiplier >= 0")
        if not math.isfinite(self.severity_addon):
            raise _invalid("severity_addon", "must be finite")

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
    out = [
        StressShock(f"{'+' if bp > 0 else ''}{bp}bp", RateShock(parallel=bp * BP))
        for bp in (-300, -200, -100, 100, 200, 300)
    ]
    out += [
        StressShock("steepener", RateShock(short=-50 * BP, long=50 * BP)),
        StressShock("flattener", RateShock(short=50 * BP, long=-50 * BP)),
        StressShock("defaults x2", credit=CreditShock(default_multiplier=2.0)),
        StressShock("severity +10pts", credit=CreditShock(severity_addon=0.10)),
        StressShock("prepayments x0.5", credit=CreditShock(prepayment_multiplier=0.5)),
        StressShock("prepayments x1.5", credit=CreditShock(prepayment_multiplier=1.5)),
        StressShock(
            "+200bp, prepayments x0.5, defaults x2, severity +10pts",
            RateShock(parallel=200 * BP),
            CreditShock(2.0, 0.5, 0.10),
        ),
        StressShock(
            "-200bp, prepayments x1.5, defaults x1.5",
            RateShock(parallel=-200 * BP),
            CreditShock(1.5, 1.5, 0.0),
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
    if kind in _CURVE_KINDS:
        lr = None if speed.loan_rates is None else np.asarray(speed.loan_rates) * k
        top = speed.speed * k if lr is None else float(lr.max(initial=0.0))
        if top > _MAX_CURVE_SPEED:
            raise _invalid(name, f"x{k:g} gives {top:g}% of the curve, above {_MAX_CURVE_SPEED:g}%")
        return replace(speed, speed=speed.speed * k, loan_rates=lr)
    if kind in _RATE_KINDS:
        lr = None if speed.loan_rates is None else np.asarray(speed.loan_rates) * k
        top = speed.rate * k if lr is None else float(lr.max(initial=0.0))
        limit_ok = top < 1.0 if kind == SpeedKind.ABS else top <= 1.0
        if not limit_ok:
            raise _invalid(name, f"x{k:g} gives a {kind.value} of {top:g}, outside [0, 1]")
        return replace(speed, rate=speed.rate * k, loan_rates=lr)
    values = np.asarray(speed.values, dtype=np.float64) * k
    if values.size and float(values.max()) > 1.0:
        raise _invalid(name, f"x{k:g} gives vector values above 1")
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
            raise _invalid(
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
            raise _invalid("n_periods", "a rate shock on index paths needs the horizon")
        a = replace(a, index_paths=shock_index_paths(a.index_paths, rate, n_periods))
    return a


# ---- valuation -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Valuation:
    """How to value a pool's total cash flow (t = period / 12 years).

    curve: zero curve (continuous ACT/365F); discount_rate: flat yield (decimal/yr) in
    (compounding, frequency); price: dirty price in currency. The discount basis is the curve
    plus the Z-spread that reprices `price` (spread 0 without a price), else the flat
    `discount_rate`, else the flat yield implied by `price`. Measures under shocks hold that
    spread or yield fixed and move the rates.
    """

    discount_rate: float | None = None
    curve: ZeroCurve | None = None
    price: float | None = None
    compounding: Compounding = Compounding.COMPOUNDED
    frequency: int = 12
    spread_compounding: Compounding = Compounding.CONTINUOUS
    spread_frequency: int = 1

    @property
    def has_basis(self) -> bool:
        return self.curve is not None or self.discount_rate is not None or self.price is not None


@dataclass(frozen=True)
class Basis:
    """A resolved discount basis: flat yield `y` (kind "yield") or `curve` + Z-spread."""

    kind: Literal["yield", "curve"]
    valuation: Valuation
    y: float = 0.0
    spread: float = 0.0

    def discount(
        self, t: np.ndarray, shock: RateShock = NO_RATE_SHOCK, dspread: float = 0.0
    ) -> np.ndarray:
        """Discount factors at times t (years) under `shock`, with the spread (or, on a yield
        basis, the yield) moved by `dspread`.

        Yield basis: DF = (1 + (y + parallel + dspread)/f)^(−f t) (in the valuation's
        compounding) × exp(−twist(t) t). Curve basis: zero rates z(t) + parallel + twist(t)
        (continuous), then the Z-spread + dspread in the spread's compounding.
        """
        v = self.valuation
        if self.kind == "yield":
            df = discount_factor(self.y + shock.parallel + dspread, t, v.compounding, v.frequency)
            if shock.has_twist:
                df = df * np.exp(-shock.twist(t) * t)
            return df
        curve = v.curve
        assert curve is not None
        if not shock.is_zero:
            curve = ZeroCurve(t, curve.zero_rate(t) + shock.total(t), Interpolation.LINEAR_ZERO)
        return spread_discount(
            curve, t, self.spread + dspread, v.spread_compounding, v.spread_frequency
        )

    def value(
        self,
        amounts: np.ndarray,
        t: np.ndarray,
        shock: RateShock = NO_RATE_SHOCK,
        dspread: float = 0.0,
    ) -> float:
        """Present value (currency) of `amounts` at times t under the basis."""
        return float(np.dot(amounts, self.discount(t, shock, dspread)))


def resolve_basis(valuation: Valuation, amounts: np.ndarray, t: np.ndarray) -> Basis:
    """Fix the discount basis on the base cash flow (solves the Z-spread or yield of a price)."""
    v = valuation
    if v.curve is not None:
        spread = 0.0
        if v.price is not None:
            spread = z_spread(
                amounts, t, v.curve, v.price, v.spread_compounding, v.spread_frequency
            )
        return Basis("curve", v, spread=spread)
    if v.discount_rate is not None:
        return Basis("yield", v, y=float(v.discount_rate))
    if v.price is not None:
        return Basis(
            "yield", v, y=yield_from_price(amounts, t, v.price, v.compounding, v.frequency)
        )
    raise EngineError("valuation needs a curve, a discount_rate or a price", field="valuation")


# ---- measures ------------------------------------------------------------------------------
VALUE_MEASURES = (
    "npv",
    "price_percent",
    "yield",
    "modified_duration",
    "effective_duration",
    "effective_convexity",
    "dv01",
    "spread_duration",
)
CREDIT_MEASURES = (
    "wal",
    "cumulative_loss",
    "cumulative_loss_fraction",
    "loss_wal_years",
    "loss_half_period",
    "peak_loss_period",
    "cumulative_default",
)
MEASURES = VALUE_MEASURES + CREDIT_MEASURES
"""Every measure name: npv (currency), price_percent (npv / starting balance × 100), yield
(decimal, at valuation.price), durations (years), convexity (years²), dv01 (currency per bp),
wal and loss_wal_years (years), cumulative loss/default (currency), cumulative_loss_fraction
(decimal of the starting balance), loss_half_period and peak_loss_period (period numbers)."""

Reprojector = Callable[[RateShock], Mapping[str, np.ndarray]]


def flow_times(columns: Mapping[str, np.ndarray]) -> np.ndarray:
    """Cash-flow times in years: period / 12 (30/360, end of month)."""
    return np.asarray(columns["period"], dtype=np.float64) / 12.0


def principal_flow(columns: Mapping[str, np.ndarray]) -> np.ndarray:
    return np.sum([np.asarray(columns[c]) for c in PRINCIPAL_COLUMNS], axis=0)


def credit_measures(
    columns: Mapping[str, np.ndarray], start_balance: float
) -> dict[str, float | None]:
    """WAL (years, Σ t·principal / Σ principal), cumulative loss and default (currency), loss as
    a fraction of the starting balance, and the timing of losses: loss-weighted average time
    (years), the first period by which half the loss has occurred, and the period of the
    largest loss (None when there is no loss)."""
    t = flow_times(columns)
    pr = principal_flow(columns)
    total_pr = float(pr.sum())
    loss = np.asarray(columns["loss"], dtype=np.float64)
    cum = float(loss.sum())
    out: dict[str, float | None] = {
        "wal": float(np.dot(t, pr) / total_pr) if total_pr > 0 else None,
        "cumulative_loss": cum,
        "cumulative_loss_fraction": cum / start_balance if start_balance > 0 else None,
        "cumulative_default": float(np.sum(columns["default"])),
        "loss_wal_years": None,
        "loss_half_period": None,
        "peak_loss_period": None,
    }
    if cum > 0:
        periods = np.asarray(columns["period"])
        out["loss_wal_years"] = float(np.dot(t, loss) / cum)
        out["loss_half_period"] = float(periods[int(np.searchsorted(np.cumsum(loss), 0.5 * cum))])
        out["peak_loss_period"] = float(periods[int(np.argmax(loss))])
    return out


def value_measures(
    columns: Mapping[str, np.ndarray],
    basis: Basis,
    start_balance: float,
    *,
    names: Sequence[str] = VALUE_MEASURES,
    shock: RateShock = NO_RATE_SHOCK,
    bump: float = 25 * BP,
    reproject: Reprojector | None = None,
) -> dict[str, float | None]:
    """Value and rate-risk measures of one projection under `basis` (and a rate `shock`).

    npv: Σ CF·DF. yield: flat yield (valuation compounding) at valuation.price (None without a
    price). modified_duration: at the flat yield that prices the flows at their npv.
    effective duration/convexity: parallel ±bump of the basis, (P₋ − P₊)/(2P₀h) and
    (P₊ + P₋ − 2P₀)/(P₀h²), the flows re-projected through `reproject` when given (floaters).
    dv01: (P₋ − P₊)/2 for ±1 bp (currency per bp). spread_duration: −(dP/ds)/P from ±1 bp of
    the Z-spread (or yield) with flows and rates fixed.
    """
    amounts, t = as_flows(columns["total_cashflow"], flow_times(columns))
    v = basis.valuation
    want = set(names)
    p0 = basis.value(amounts, t, shock)
    out: dict[str, float | None] = {}
    if "npv" in want:
        out["npv"] = p0
    if "price_percent" in want:
        out["price_percent"] = 100.0 * p0 / start_balance if start_balance > 0 else None
    if "yield" in want:
        out["yield"] = (
            yield_from_price(amounts, t, v.price, v.compounding, v.frequency)
            if v.price is not None
            else None
        )
    if "modified_duration" in want:
        y = (
            basis.y
            if basis.kind == "yield" and shock.is_zero
            else (yield_from_price(amounts, t, p0, v.compounding, v.frequency))
        )
        out["modified_duration"] = modified_duration(amounts, t, y, v.compounding, v.frequency)

    def shifted_value(h: float) -> float:
        s = shock.plus(RateShock(parallel=h))
        if reproject is None:
            return basis.value(amounts, t, s)
        cols = reproject(s)
        a2, t2 = as_flows(cols["total_cashflow"], flow_times(cols))
        return basis.value(a2, t2, s)

    if want & {"effective_duration", "effective_convexity"}:
        p_up, p_dn = shifted_value(bump), shifted_value(-bump)
        out["effective_duration"] = (p_dn - p_up) / (2.0 * p0 * bump)
        out["effective_convexity"] = (p_up + p_dn - 2.0 * p0) / (p0 * bump * bump)
    if "dv01" in want:
        out["dv01"] = (shifted_value(-BP) - shifted_value(BP)) / 2.0
    if "spread_duration" in want:
        s_up = basis.value(amounts, t, shock, BP)
        s_dn = basis.value(amounts, t, shock, -BP)
        out["spread_duration"] = (s_dn - s_up) / (2.0 * p0 * BP)
    return {k: out[k] for k in names if k in out}


def measures_of(
    columns: Mapping[str, np.ndarray],
    basis: Basis | None,
    start_balance: float,
    names: Sequence[str],
    *,
    shock: RateShock = NO_RATE_SHOCK,
    bump: float = 25 * BP,
    reproject: Reprojector | None = None,
) -> dict[str, float | None]:
    """The requested measures (see MEASURES) of one projection, in the order asked."""
    unknown = [n for n in names if n not in MEASURES]
    if unknown:
        raise _invalid(
            "measures", f"unknown measure(s) {unknown}; expected some of {list(MEASURES)}"
        )
    out: dict[str, float | None] = {}
    if any(n in CREDIT_MEASURES for n in names):
        out.update(credit_measures(columns, start_balance))
    vnames = [n for n in names if n in VALUE_MEASURES]
    if vnames:
        if basis is None:
            raise EngineError(f"measures {vnames} need a valuation", field="valuation")
        out.update(
            value_measures(
                columns,
                basis,
                start_balance,
                names=vnames,
                shock=shock,
                bump=bump,
                reproject=reproject,
            )
        )
    return {n: out[n] for n in names}


# ---- running projections -------------------------------------------------------------------
@dataclass
class Runner:
    """Projects one pool under varied assumptions, caching identical runs by a caller's tag (a
    rate shift that moves only the valuation re-uses the projection of a fixed-rate pool)."""

    pool: LoanPool
    engine: Engine = "numba"
    batch: bool = True
    runs: int = 0
    kernel_runs: int = 0
    _cache: dict[Hashable, dict[str, np.ndarray]] = field(default_factory=dict)
    _batch: ScenarioBatch | None = None

    @property
    def has_floaters(self) -> bool:
        return bool(np.any(self.pool.rate_type == RateType.FLOATING))

    def project(self, a: Assumptions) -> dict[str, np.ndarray]:
        """Pool cash-flow columns under `a`: from the scheduled-balance batch when it is exact
        for `a` (fixed-rate pool, pool-wide speeds), else one compiled projection."""
        self.runs += 1
        if self.batch and self.engine == "numba":
            if self._batch is None:
                self._batch = ScenarioBatch(self.pool)
            if self._batch.supports(a):
                return self._batch.project(a)
        self.kernel_runs += 1
        return project_pool(self.pool, a, engine=self.engine).columns

    def rate_matters(self, a: Assumptions) -> bool:
        """Whether a rate shock changes the projection (floating loans with index paths)."""
        return self.has_floaters and bool(a.index_paths)

    def project_shocked(
        self, a: Assumptions, credit: CreditShock, rate: RateShock, tag: Hashable
    ) -> dict[str, np.ndarray]:
        """Project `a` (identified by `tag`) under the shocks; cached by (tag, shocks)."""
        eff_rate = rate if self.rate_matters(a) else NO_RATE_SHOCK
        key = (tag, credit, eff_rate)
        cols = self._cache.get(key)
        if cols is None:
            shocked = apply_shock(a, credit=credit, rate=eff_rate, n_periods=horizon(self.pool, a))
            cols = self._cache[key] = self.project(shocked)
        return cols

    def reprojector(self, a: Assumptions, credit: CreditShock, tag: Hashable) -> Reprojector | None:
        """Re-projection under rate shocks, for effective duration; None for a fixed-rate pool."""
        if not self.rate_matters(a):
            return None
        return lambda rate: self.project_shocked(a, credit, rate, tag)


# ---- sensitivity grids ---------------------------------------------------------------------
GRID_VARIABLES = (
    "cpr",
    "psa",
    "abs",
    "cdr",
    "sda",
    "severity",
    "prepayment_multiplier",
    "default_multiplier",
    "severity_addon",
    "rate_shift_bp",
)
"""Grid axes: cpr/cdr (annual decimals), psa/sda (percent of the curve), abs (monthly decimal),
severity (decimal) replace the base assumption; the multipliers and severity_addon shock it;
rate_shift_bp moves the valuation rates (and floating indices) in parallel, in basis points."""


@dataclass(frozen=True)
class GridAxis:
    variable: str
    values: tuple[float, ...]


_ASSUMPTION_VARIABLES = frozenset({"cpr", "psa", "abs", "cdr", "sda", "severity"})


def _cell(
    base: Assumptions, settings: dict[str, float]
) -> tuple[Assumptions, CreditShock, RateShock]:
    a = base
    credit = CreditShock()
    rate = NO_RATE_SHOCK
    for var, x in settings.items():
        if var == "cpr":
            a = replace(a, prepayment=Speed(SpeedKind.CPR, rate=x))
        elif var == "psa":
            a = replace(a, prepayment=Speed(SpeedKind.PSA, speed=x))
        elif var == "abs":
            a = replace(a, prepayment=Speed(SpeedKind.ABS, rate=x))
        elif var == "cdr":
            a = replace(a, default=Speed(SpeedKind.CDR, rate=x))
        elif var == "sda":
            a = replace(a, default=Speed(SpeedKind.SDA, speed=x))
        elif var == "severity":
            a = replace(a, severity=x)
        elif var == "prepayment_multiplier":
            credit = replace(credit, prepayment_multiplier=x)
        elif var == "default_multiplier":
            credit = replace(credit, default_multiplier=x)
        elif var == "severity_addon":
            credit = replace(credit, severity_addon=x)
        elif var == "rate_shift_bp":
            rate = RateShock(parallel=x * BP)
    return a, credit, rate


def _check_axis(axis: GridAxis, label: str) -> None:
    if axis.variable not in GRID_VARIABLES:
        raise _invalid(
            f"{label}.variable",
            f"unknown grid variable {axis.variable!r}; expected one of {list(GRID_VARIABLES)}",
        )
    vals = np.asarray(axis.values, dtype=np.float64)
    if vals.size == 0 or not np.all(np.isfinite(vals)):
        raise _invalid(f"{label}.values", "needs at least one finite value")
    lo = float(vals.min())
    hi = float(vals.max())
    bounds = {
        "cpr": (0.0, 1.0),
        "cdr": (0.0, 1.0),
        "severity": (0.0, 1.0),
        "abs": (0.0, np.nextafter(1.0, 0.0)),
        "psa": (0.0, _MAX_CURVE_SPEED),
        "sda": (0.0, _MAX_CURVE_SPEED),
        "prepayment_multiplier": (0.0, np.inf),
        "default_multiplier": (0.0, np.inf),
        "severity_addon": (-1.0, 1.0),
        "rate_shift_bp": (-5_000.0, 5_000.0),
    }[axis.variable]
    if lo < bounds[0] or hi > bounds[1]:
        raise _invalid(
            f"{label}.values", f"{axis.variable} values must lie in [{bounds[0]:g}, {bounds[1]:g}]"
        )


@dataclass(frozen=True)
class GridResult:
    """values[name] has shape (len(x.values), len(y.values)) (a single column for a 1-D grid)."""

    x: GridAxis
    y: GridAxis | None
    measures: dict[str, np.ndarray]
    projections: int


def sensitivity_grid(
    pool: LoanPool,
    base: Assumptions,
    x: GridAxis,
    y: GridAxis | None,
    names: Sequence[str],
    valuation: Valuation | None = None,
    *,
    engine: Engine = "numba",
    progress: Callable[[int, int], None] | None = None,
) -> GridResult:
    """Measures of the pool over a one- or two-way grid of assumptions.

    Each cell applies its x and y settings to `base` and is projected once by the compiled
    kernel (cells that differ only in their valuation re-use the projection). The discount
    basis (Z-spread or yield of `valuation.price`) is fixed on the base assumptions, so a
    cell's npv is its flows valued at the base spread, and its yield is at the given price.
    Cells whose measure is undefined (e.g. no yield prices the flows) are None.
    """
    _check_axis(x, "x")
    if y is not None:
        _check_axis(y, "y")
        if y.variable == x.variable:
            raise _invalid("y.variable", "the two axes must vary different assumptions")
    unknown = [n for n in names if n not in MEASURES]
    if not names or unknown:
        raise _invalid("measures", f"choose measures from {list(MEASURES)}")
    runner = Runner(pool, engine)
    start = pool.total_balance
    basis = _basis_for(runner, base, names, valuation)
    ys: tuple[float, ...] = y.values if y is not None else (math.nan,)
    out = {n: np.full((len(x.values), len(ys)), np.nan) for n in names}
    total = len(x.values) * len(ys)
    done = 0
    for i, xv in enumerate(x.values):  # one compiled projection per distinct cell
        for j, yv in enumerate(ys):
            settings = {x.variable: float(xv)}
            if y is not None:
                settings[y.variable] = float(yv)
            a, credit, rate = _cell(base, settings)
            tag = (
                tuple(sorted((k, v) for k, v in settings.items() if k in _ASSUMPTION_VARIABLES))
                or "base"
            )
            cols = runner.project_shocked(a, credit, rate, tag)
            vals = _safe_measures(
                cols, basis, start, names, rate, runner.reprojector(a, credit, tag)
            )
            for n in names:
                v = vals.get(n)
                out[n][i, j] = np.nan if v is None else v
            done += 1
            if progress is not None:
                progress(done, total)
    return GridResult(x, y, out, runner.runs)


def _basis_for(
    runner: Runner, base: Assumptions, names: Sequence[str], valuation: Valuation | None
) -> Basis | None:
    """The discount basis fixed on the base projection, when a value measure is asked for."""
    if not any(n in VALUE_MEASURES for n in names):
        return None
    if valuation is None or not valuation.has_basis:
        raise EngineError("value measures need a valuation", field="valuation")
    cols = runner.project_shocked(base, CreditShock(), NO_RATE_SHOCK, "base")
    return resolve_basis(valuation, *as_flows(cols["total_cashflow"], flow_times(cols)))


def _safe_measures(
    cols: Mapping[str, np.ndarray],
    basis: Basis | None,
    start: float,
    names: Sequence[str],
    rate: RateShock,
    reproject: Reprojector | None,
    bump: float = 25 * BP,
) -> dict[str, float | None]:
    """All measures at once; when one is undefined (a yield no rate reaches, a zero value),
    measure by measure so that it alone is None. Bad input (InvalidInput) still raises."""
    try:
        return measures_of(cols, basis, start, names, shock=rate, bump=bump, reproject=reproject)
    except InvalidInput:
        raise
    except EngineError:
        pass
    out: dict[str, float | None] = {}
    for n in names:
        try:
            out.update(
                measures_of(cols, basis, start, [n], shock=rate, bump=bump, reproject=reproject)
            )
        except InvalidInput:
            raise
        except EngineError:
            out[n] = None
    return out


# ---- stress tests --------------------------------------------------------------------------
@dataclass(frozen=True)
class StressOutcome:
    name: str
    measures: dict[str, float | None]
    deltas: dict[str, float | None]
    columns: dict[str, np.ndarray]


def stress_test(
    pool: LoanPool,
    base: Assumptions,
    shocks: Sequence[StressShock],
    names: Sequence[str],
    valuation: Valuation | None = None,
    *,
    engine: Engine = "numba",
    bump: float = 25 * BP,
) -> tuple[StressOutcome, list[StressOutcome]]:
    """Measures of the base and of each shock, with each shock's deltas to the base (shocked −
    base, in the measure's unit). Rate shocks move the valuation (spread or yield held) and the
    floating-rate indices; credit shocks change the projection."""
    runner = Runner(pool, engine)
    start = pool.total_balance
    basis = _basis_for(runner, base, names, valuation)

    def run(
        credit: CreditShock, rate: RateShock
    ) -> tuple[dict[str, np.ndarray], dict[str, float | None]]:
        cols = runner.project_shocked(base, credit, rate, "base")
        vals = _safe_measures(
            cols, basis, start, names, rate, runner.reprojector(base, credit, "base"), bump
        )
        return cols, vals

    base_cols, base_vals = run(CreditShock(), NO_RATE_SHOCK)
    zero = {n: 0.0 if base_vals[n] is not None else None for n in names}
    base_out = StressOutcome("base", base_vals, zero, base_cols)
    outs = []
    for s in shocks:
        cols, vals = run(s.credit, s.rate)
        deltas = {n: _delta(vals[n], base_vals[n]) for n in names}
        outs.append(StressOutcome(s.name, vals, deltas, cols))
    return base_out, outs


def _delta(shocked: float | None, base: float | None) -> float | None:
    return None if shocked is None or base is None else shocked - base


# ---- risk metrics of one run ---------------------------------------------------------------
RISK_SHOCKS_BP = (-200, -100, 100, 200)


def run_risk(
    pool: LoanPool,
    assumptions: Assumptions,
    columns: Mapping[str, np.ndarray],
    valuation: Valuation | None,
    *,
    shock: RateShock = NO_RATE_SHOCK,
    engine: Engine = "numba",
    bump: float = 25 * BP,
) -> dict[str, object]:
    """Risk block of a run: DV01, effective duration and convexity, spread duration and npv
    (when a valuation is given), WAL and its change under parallel shocks of ±100/200 bp, and the
    cumulative loss with its timing. `shock` is the run's own rate shock (its scenario's)."""
    runner = Runner(pool, engine)
    start = pool.total_balance
    # the run's own columns stand for its unshocked projection (they already include `shock`
    # on floating indices, which the re-projections below apply again from `assumptions`)
    if not runner.rate_matters(assumptions):
        runner._cache[("run", CreditShock(), NO_RATE_SHOCK)] = dict(columns)
    out: dict[str, object] = dict(credit_measures(columns, start))
    base_wal = out["wal"]
    wal_change: dict[str, float | None] = {}
    for bp in RISK_SHOCKS_BP:
        cols = runner.project_shocked(
            assumptions, CreditShock(), shock.plus(RateShock(parallel=bp * BP)), "run"
        )
        w = credit_measures(cols, start)["wal"]
        wal_change[f"{bp:+d}bp"] = None if w is None or base_wal is None else w - float(base_wal)  # type: ignore[arg-type]
    out["wal_change"] = wal_change
    if valuation is not None and valuation.has_basis:
        basis = resolve_basis(valuation, *as_flows(columns["total_cashflow"], flow_times(columns)))
        out.update(
            _safe_value(
                columns,
                basis,
                start,
                shock,
                bump,
                runner.reprojector(assumptions, CreditShock(), "run"),
            )
        )
    return out


def _safe_value(columns, basis, start, shock, bump, reproject) -> dict[str, float | None]:
    names = (
        "npv",
        "yield",
        "dv01",
        "effective_duration",
        "effective_convexity",
        "spread_duration",
        "modified_duration",
    )
    out: dict[str, float | None] = {}
    for n in names:
        try:
            out.update(
                value_measures(
                    columns, basis, start, names=[n], shock=shock, bump=bump, reproject=reproject
                )
            )
        except InvalidInput:
            raise
        except EngineError:
            out[n] = None
    return out


# ---- break-even ----------------------------------------------------------------------------
BREAKEVEN_VARIABLES = ("cdr", "sda", "default_multiplier")
BREAKEVEN_MEASURES = (
    "cumulative_loss",
    "cumulative_loss_fraction",
    "yield",
    "npv",
    "price_percent",
)


@dataclass(frozen=True)
class BreakEven:
    """Solution of measure(variable) = target: the variable's value, the measure there, the
    bracket used, and the iterations / function evaluations of the root finder."""

    variable: str
    measure: str
    target: float
    value: float
    achieved: float
    bracket: tuple[float, float]
    iterations: int
    evaluations: int


def break_even(
    pool: LoanPool,
    base: Assumptions,
    *,
    variable: str,
    measure: str,
    target: float,
    valuation: Valuation | None = None,
    lower: float | None = None,
    upper: float | None = None,
    xtol: float = 1e-12,
    engine: Engine = "numba",
) -> BreakEven:
    """The constant CDR (decimal), SDA speed (percent) or default multiplier at which `measure`
    equals `target` (e.g. cumulative_loss_fraction = 0.05, or yield = 0 at valuation.price).

    Bracketing: walks out from the lower end of [lower, upper] until the sign of
    measure − target changes (`find_bracket` of the analytics solvers), then Brent's method
    (scipy brentq) to xtol; `iterations` and `evaluations` count the Brent steps and every
    projection made (bracketing included). Raises NoSolution when the target is not crossed in
    the range.
    """
    if variable not in BREAKEVEN_VARIABLES:
        raise _invalid("variable", f"expected one of {list(BREAKEVEN_VARIABLES)}")
    if measure not in BREAKEVEN_MEASURES:
        raise _invalid("measure", f"expected one of {list(BREAKEVEN_MEASURES)}")
    if not math.isfinite(target):
        raise _invalid("target", "must be finite")
    default_upper = {
        "cdr": 1.0,
        "sda": _MAX_CURVE_SPEED,
        "default_multiplier": _max_multiplier(base.default),
    }[variable]
    lo = 0.0 if lower is None else float(lower)
    hi = default_upper if upper is None else float(upper)
    if not (math.isfinite(lo) and math.isfinite(hi) and 0.0 <= lo < hi <= default_upper):
        raise _invalid("upper", f"need 0 <= lower < upper <= {default_upper:g} for {variable}")
    if measure == "yield" and (valuation is None or valuation.price is None):
        raise EngineError("a yield break-even needs valuation.price", field="valuation.price")
    runner = Runner(pool, engine)
    start = pool.total_balance
    basis = None
    if measure in VALUE_MEASURES:
        if valuation is None or not valuation.has_basis:
            raise EngineError(f"{measure} needs a valuation", field="valuation")
        base_cols = runner.project(base)
        basis = resolve_basis(
            valuation, *as_flows(base_cols["total_cashflow"], flow_times(base_cols))
        )
    evaluations = 0

    def assumptions_at(x: float) -> Assumptions:
        if variable == "cdr":
            return replace(base, default=Speed(SpeedKind.CDR, rate=x))
        if variable == "sda":
            return replace(base, default=Speed(SpeedKind.SDA, speed=x))
        return apply_shock(base, credit=CreditShock(default_multiplier=x))

    def f(x: float) -> float:
        nonlocal evaluations
        evaluations += 1
        cols = runner.project(assumptions_at(x))
        try:
            v = measures_of(cols, basis, start, [measure])[measure]
        except NoSolution:
            return math.nan
        return math.nan if v is None else float(v) - target

    step = (hi - lo) / 64.0
    try:
        a, b = find_bracket(f, lo, lo, hi, step=step, what=f"break-even {variable}", field="target")
    except NoSolution:
        raise NoSolution(
            f"{measure} does not cross {target:g} for {variable} in [{lo:g}, {hi:g}]",
            field="target",
        ) from None
    if a == b:
        return BreakEven(variable, measure, target, a, target + f(a), (a, b), 0, evaluations)
    root, info = brentq(
        f, a, b, xtol=xtol, rtol=4 * np.finfo(float).eps, maxiter=200, full_output=True, disp=False
    )
    if not info.converged:
        raise NoSolution(f"break-even did not converge ({info.flag})", field="target")
    achieved = f(root) + target
    return BreakEven(
        variable, measure, target, float(root), achieved, (a, b), int(info.iterations), evaluations
    )


def _max_multiplier(speed: Speed) -> float:
    """Largest default multiplier that keeps the speed in its domain (capped at 1,000)."""
    cap = 1000.0
    if speed.kind in _CURVE_KINDS:
        lvl = (
            speed.speed
            if speed.loan_rates is None
            else float(np.max(speed.loan_rates, initial=0.0))
        )
        top = _MAX_CURVE_SPEED
    elif speed.kind in _RATE_KINDS:
        lvl = (
            speed.rate if speed.loan_rates is None else float(np.max(speed.loan_rates, initial=0.0))
        )
        top = 1.0
    else:
        lvl = float(np.max(np.asarray(speed.values, dtype=np.float64), initial=0.0))
        top = 1.0
    if lvl <= 0.0:
        raise _invalid("default", "a default multiplier needs a non-zero base default speed")
    return min(cap, top / lvl)
