"""Measures of one projection: credit measures of the flows (WAL, losses and their timing) and
value measures under a discount basis and a rate shock (npv, yield, durations, convexity,
dv01, spread duration). Names are `Measure` members; see vocabulary.py for their units.

Conventions: t = period / 12 years; effective measures bump the basis in parallel by ±`bump`
(decimal), the flows re-projected when a `Reprojector` is given (floating-rate pools).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

from app.engine.analytics.measures import as_flows, modified_duration, yield_from_price
from app.engine.errors import EngineError
from app.engine.sensitivity.shocks import BP, NO_RATE_SHOCK, RateShock, invalid
from app.engine.sensitivity.valuation import Basis, BasisKind
from app.engine.sensitivity.vocabulary import (
    CREDIT_MEASURES,
    MEASURES,
    VALUE_MEASURES,
    Measure,
    member_of,
    words,
)

PRINCIPAL_COLUMNS = ("scheduled_principal", "prepayment", "defaulted_amortization", "recovery")
"""Principal returned each period (for WAL): scheduled, prepaid, advanced amortisation of
defaulted loans, and recoveries (as the forecasts service)."""

Reprojector = Callable[[RateShock], Mapping[str, np.ndarray]]


def _measure(name: Measure | str) -> Measure:
    found = member_of(Measure, name)
    if found is None:
        raise invalid("measures", f"unknown measure {name!r}; expected some of {words(MEASURES)}")
    return found


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
    out: dict[Measure, float | None] = {
        Measure.WAL: float(np.dot(t, pr) / total_pr) if total_pr > 0 else None,
        Measure.CUMULATIVE_LOSS: cum,
        Measure.CUMULATIVE_LOSS_FRACTION: cum / start_balance if start_balance > 0 else None,
        Measure.CUMULATIVE_DEFAULT: float(np.sum(columns["default"])),
        Measure.LOSS_WAL_YEARS: None,
        Measure.LOSS_HALF_PERIOD: None,
        Measure.PEAK_LOSS_PERIOD: None,
    }
    if cum > 0:
        periods = np.asarray(columns["period"])
        out[Measure.LOSS_WAL_YEARS] = float(np.dot(t, loss) / cum)
        half = int(np.searchsorted(np.cumsum(loss), 0.5 * cum))
        out[Measure.LOSS_HALF_PERIOD] = float(periods[half])
        out[Measure.PEAK_LOSS_PERIOD] = float(periods[int(np.argmax(loss))])
    return {m.value: v for m, v in out.items()}


def value_measures(
    columns: Mapping[str, np.ndarray],
    basis: Basis,
    start_balance: float,
    *,
    names: Sequence[Measure | str] = VALUE_MEASURES,
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
    asked = [_measure(n) for n in names]
    amounts, t = as_flows(columns["total_cashflow"], flow_times(columns))
    v = basis.valuation
    want = set(asked)
    p0 = basis.value(amounts, t, shock)
    out: dict[Measure, float | None] = {}
    if Measure.NPV in want:
        out[Measure.NPV] = p0
    if Measure.PRICE_PERCENT in want:
        out[Measure.PRICE_PERCENT] = 100.0 * p0 / start_balance if start_balance > 0 else None
    if Measure.YIELD in want:
        out[Measure.YIELD] = (
            yield_from_price(amounts, t, v.price, v.compounding, v.frequency)
            if v.price is not None
            else None
        )
    if Measure.MODIFIED_DURATION in want:
        y = (
            basis.y
            if basis.kind == BasisKind.YIELD and shock.is_zero
            else (yield_from_price(amounts, t, p0, v.compounding, v.frequency))
        )
        out[Measure.MODIFIED_DURATION] = modified_duration(
            amounts, t, y, v.compounding, v.frequency
        )

    def shifted_value(h: float) -> float:
        s = shock.plus(RateShock(parallel=h))
        if reproject is None:
            return basis.value(amounts, t, s)
        cols = reproject(s)
        a2, t2 = as_flows(cols["total_cashflow"], flow_times(cols))
        return basis.value(a2, t2, s)

    if want & {Measure.EFFECTIVE_DURATION, Measure.EFFECTIVE_CONVEXITY}:
        p_up, p_dn = shifted_value(bump), shifted_value(-bump)
        out[Measure.EFFECTIVE_DURATION] = (p_dn - p_up) / (2.0 * p0 * bump)
        out[Measure.EFFECTIVE_CONVEXITY] = (p_up + p_dn - 2.0 * p0) / (p0 * bump * bump)
    if Measure.DV01 in want:
        out[Measure.DV01] = (shifted_value(-BP) - shifted_value(BP)) / 2.0
    if Measure.SPREAD_DURATION in want:
        s_up = basis.value(amounts, t, shock, BP)
        s_dn = basis.value(amounts, t, shock, -BP)
        out[Measure.SPREAD_DURATION] = (s_dn - s_up) / (2.0 * p0 * BP)
    return {k.value: out[k] for k in asked if k in out}


def measures_of(
    columns: Mapping[str, np.ndarray],
    basis: Basis | None,
    start_balance: float,
    names: Sequence[Measure | str],
    *,
    shock: RateShock = NO_RATE_SHOCK,
    bump: float = 25 * BP,
    reproject: Reprojector | None = None,
) -> dict[str, float | None]:
    """The requested measures (see MEASURES) of one projection, in the order asked, keyed by
    their names."""
    unknown = [n for n in names if member_of(Measure, n) is None]
    if unknown:
        raise invalid(
            "measures", f"unknown measure(s) {unknown}; expected some of {words(MEASURES)}"
        )
    asked = [Measure(n) for n in names]
    out: dict[str, float | None] = {}
    if any(n in CREDIT_MEASURES for n in asked):
        out.update(credit_measures(columns, start_balance))
    vnames = [n for n in asked if n in VALUE_MEASURES]
    if vnames:
        if basis is None:
            raise EngineError(f"measures {words(vnames)} need a valuation", field="valuation")
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
    return {n.value: out[n.value] for n in asked}
