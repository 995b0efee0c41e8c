"""Valuation of a pool's total cash flow: the request (curve, flat yield or price) and the
resolved discount basis (a flat yield, or the curve plus the Z-spread of the price) that
measures under shocks hold fixed while the rates move.

Conventions: cash flows at t = period / 12 years (30/360 monthly, end of period); zero rates
continuously compounded ACT/365F; the flat yield in the valuation's own compounding.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.engine.analytics.conventions import Compounding, discount_factor
from app.engine.analytics.curves import Interpolation, ZeroCurve
from app.engine.analytics.measures import spread_discount, yield_from_price, z_spread
from app.engine.errors import EngineError
from app.engine.sensitivity.shocks import NO_RATE_SHOCK, RateShock
from app.engine.sensitivity.vocabulary import BasisKind


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

    kind: BasisKind
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
        if self.kind == BasisKind.YIELD:
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
        return Basis(BasisKind.CURVE, v, spread=spread)
    if v.discount_rate is not None:
        return Basis(BasisKind.YIELD, v, y=float(v.discount_rate))
    if v.price is not None:
        return Basis(
            BasisKind.YIELD, v, y=yield_from_price(amounts, t, v.price, v.compounding, v.frequency)
        )
    raise EngineError("valuation needs a curve, a discount_rate or a price", field="valuation")
