"""The minimal curve interface the rate models need, and a parallel shift of any such curve.

The rate models only call `discount(t)` (t in years, ACT/365F, vectorised) and `zero_rate(t)`
(continuously compounded). `app.engine.analytics.curves.ZeroCurve` satisfies this protocol;
so does any object with the same two methods.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class DiscountCurve(Protocol):
    """Anything with vectorised discount factors and continuously compounded zero rates."""

    def discount(self, t: np.ndarray) -> np.ndarray: ...

    def zero_rate(self, t: np.ndarray) -> np.ndarray: ...


class ShiftedCurve:
    """`base` with every continuously compounded zero rate moved by `dz` (a decimal per year).

    discount(t) = base.discount(t)·exp(−dz·t); used when the base curve has no `shifted`.
    """

    def __init__(self, base: DiscountCurve, dz: float) -> None:
        self.base = base
        self.dz = float(dz)

    def discount(self, t: np.ndarray) -> np.ndarray:
        t = np.asarray(t, dtype=np.float64)
        return np.asarray(self.base.discount(t), dtype=np.float64) * np.exp(-self.dz * t)

    def zero_rate(self, t: np.ndarray) -> np.ndarray:
        t = np.asarray(t, dtype=np.float64)
        return np.asarray(self.base.zero_rate(t), dtype=np.float64) + self.dz


def shift_curve(curve: DiscountCurve, dz: float) -> DiscountCurve:
    """Parallel shift of the continuously compounded zero rates by `dz`.

    Uses the curve's own `shifted(dz)` when it has one (ZeroCurve does), else `ShiftedCurve`.
    """
    shifted = getattr(curve, "shifted", None)
    if callable(shifted):
        return shifted(dz)
    return ShiftedCurve(curve, dz)


class FlatCurve:
    """A flat continuously compounded zero curve: discount(t) = exp(−rate·t).

    Only a convenience for tests and examples; the service passes analytics' ZeroCurve.
    """

    def __init__(self, rate: float) -> None:
        self.rate = float(rate)

    def discount(self, t: np.ndarray) -> np.ndarray:
        return np.exp(-self.rate * np.asarray(t, dtype=np.float64))

    def zero_rate(self, t: np.ndarray) -> np.ndarray:
        return np.full(np.shape(t), self.rate, dtype=np.float64)

    def shifted(self, dz: float) -> FlatCurve:
        return FlatCurve(self.rate + dz)
