"""Every measure that applies to one cash-flow vector, in one call (the API and the forecast
endpoint's per-scenario analytics block use this)."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from app.engine.analytics.conventions import Compounding, Frequency
from app.engine.analytics.curves import ZeroCurve
from app.engine.analytics.measures import (
    Repricer,
    _has_sign_change,
    as_flows,
    effective_duration_convexity,
    fixed_flow_repricer,
    irr,
    npv,
    npv_curve,
    wal,
    yield_from_price,
    yield_risk,
    z_spread,
)
from app.engine.errors import EngineError, NonFiniteInput

KEYS = (
    "npv",
    "irr",
    "yield",
    "wal",
    "macaulay_duration",
    "modified_duration",
    "convexity",
    "dv01",
    "z_spread",
    "effective_duration",
    "effective_convexity",
)


def cashflow_measures(
    amounts: np.ndarray,
    times: np.ndarray,
    *,
    principal: np.ndarray | None = None,
    frequency: Frequency | int = 12,
    compounding: Compounding | str = Compounding.COMPOUNDED,
    discount_rate: float | None = None,
    curve: ZeroCurve | None = None,
    price: float | None = None,
    spread_compounding: Compounding | str = Compounding.CONTINUOUS,
    spread_frequency: Frequency | int = 1,
    bump: float = 0.0025,
    reprice: Repricer | None = None,
    reasons: dict[str, str] | None = None,
) -> dict[str, float | None]:
    """Measures of flows `amounts` (currency) at `times` (years from settlement).

    - npv: at `discount_rate` (flat, `compounding` at `frequency`) if given, else on `curve`.
    - irr: nominal annual rate compounded at `frequency` (frequency × the periodic IRR, flows at
      period t·f) of the flows themselves when they change sign, else of (−price at t = 0,
      flows) when a price is given.
    - yield: flat yield (`compounding`, `frequency`) that reprices the flows to `price` (dirty).
    - macaulay/modified duration (years), convexity (years²), dv01 (currency per 1 bp fall in
      yield): at that yield; without a price at `discount_rate`; without either at the yield
      that reproduces the curve NPV. None when the present value there is not positive.
    - wal: of `principal` (years), when given.
    - z_spread: over `curve` to `price`, in `spread_compounding`/`spread_frequency`.
    - effective duration/convexity: parallel curve shifts ±bump, repriced by `reprice`
      (default: these fixed flows on the curve at the Z-spread, or at 0 without a price).
    Every key is present; None where the measure does not apply.
    reasons: when given, each measure is computed independently: one that cannot be computed
    (no sign change, no root in range, a non-positive present value) is None and
    `reasons[key]` says why, the others are returned. Without it the first failure raises.
    Invalid input (empty, non-finite, t < 0) raises in both cases.
    """
    a, t = as_flows(amounts, times)
    f = Frequency.parse(frequency)
    comp = Compounding.parse(compounding)
    s_comp = Compounding.parse(spread_compounding)
    s_freq = Frequency.parse(spread_frequency, field="spread_frequency")
    for name, value in (("discount_rate", discount_rate), ("price", price), ("bump", bump)):
        if value is not None and not math.isfinite(value):
            raise NonFiniteInput(f"{name} must be a finite number", field=name)
    pr = None
    if principal is not None:
        pr = np.asarray(principal, dtype=np.float64).ravel()
        if pr.size != a.size:
            raise EngineError(f"{pr.size} principal values for {a.size} flows", field="principal")
    out: dict[str, float | None] = dict.fromkeys(KEYS)

    def attempt(keys: tuple[str, ...], compute: Callable[[], None]) -> None:
        """Run one measure's computation; with `reasons`, a failure nulls only its keys."""
        if reasons is None:
            compute()
            return
        try:
            compute()
        except EngineError as exc:
            for key in keys:
                out[key] = None
                reasons.setdefault(key, exc.message)

    def _npv() -> None:
        if discount_rate is not None:
            out["npv"] = npv(a, t, discount_rate, comp, f)
        elif curve is not None:
            out["npv"] = npv_curve(a, t, curve)

    attempt(("npv",), _npv)

    periods = t * float(f)

    def _irr() -> None:
        if _has_sign_change(a):
            out["irr"] = irr(a, periods) * float(f)
        elif price is not None and price > 0.0 and np.all(a >= 0.0):
            flows = np.concatenate(([-price], a))
            out["irr"] = irr(flows, np.concatenate(([0.0], periods))) * float(f)

    attempt(("irr",), _irr)

    def _yield() -> None:
        if price is not None:
            out["yield"] = yield_from_price(a, t, price, comp, f)

    attempt(("yield",), _yield)

    risk = ("macaulay_duration", "modified_duration", "convexity", "dv01")

    def _risk() -> None:
        y_ref: float | None = None
        if price is not None:
            y_ref = out["yield"]
            if y_ref is None:
                raise EngineError("no yield reprices the flows to price", field="price")
        elif discount_rate is not None:
            y_ref = discount_rate
        elif curve is not None and out["npv"] is not None and out["npv"] > 0.0:
            y_ref = yield_from_price(a, t, out["npv"], comp, f)
        if y_ref is None:
            return
        p_ref = npv(a, t, y_ref, comp, f)
        if p_ref > 0.0:
            r = yield_risk(a, t, y_ref, comp, f)
            out["macaulay_duration"] = r.macaulay
            out["modified_duration"] = r.modified
            out["convexity"] = r.convexity
            out["dv01"] = r.modified * p_ref * 1e-4
        elif reasons is not None:
            for key in risk:
                reasons.setdefault(key, "present value at the reference yield is not positive")

    attempt(risk, _risk)

    def _wal() -> None:
        if pr is not None and float(pr.sum()) > 0.0:
            out["wal"] = wal(pr, t)

    attempt(("wal",), _wal)

    if curve is not None:
        spread_box: list[float] = [0.0]

        def _z() -> None:
            if price is not None:
                spread_box[0] = z_spread(a, t, curve, price, s_comp, s_freq)
                out["z_spread"] = spread_box[0]

        attempt(("z_spread",), _z)

        def _effective() -> None:
            if price is not None and out["z_spread"] is None and reprice is None:
                raise EngineError("no Z-spread reprices the flows to price", field="price")
            rp = reprice or fixed_flow_repricer(a, t, spread_box[0], s_comp, s_freq)
            if reprice is not None or rp(curve) > 0.0:
                _, d, c = effective_duration_convexity(rp, curve, bump)
                out["effective_duration"] = d
                out["effective_convexity"] = c

        attempt(("effective_duration", "effective_convexity"), _effective)
    return out
