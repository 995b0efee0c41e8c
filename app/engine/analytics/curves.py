"""Zero-coupon yield curves: continuously compounded ACT/365F zero rates at times in years.

Interpolation (DOMAIN.md §5, QuantLib semantics):
- LINEAR_ZERO (default): zero rate linear in t between nodes (QuantLib `ZeroCurve`).
- LOG_LINEAR_DISCOUNT: ln DF linear in t between nodes (QuantLib `DiscountCurve`).
- FLAT_FORWARD: instantaneous forward constant between nodes (QuantLib `ForwardCurve` with
  backward-flat forwards). Given zero-rate nodes this is the same curve as LOG_LINEAR_DISCOUNT
  (a constant forward on [t_i, t_i+1] is exactly a linear ln DF there); both names are accepted.
Before the first node the zero rate is held flat at the first node's rate (ln DF runs linearly
from DF(0) = 1); beyond the last node the instantaneous forward at the last node is held flat,
as QuantLib extrapolates.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from enum import StrEnum

import numpy as np

from app.engine.analytics.conventions import DayCount, Frequency, year_fraction
from app.engine.analytics.solvers import solve
from app.engine.errors import EngineError, NonFiniteInput


class Interpolation(StrEnum):
    LINEAR_ZERO = "linear_zero"
    LOG_LINEAR_DISCOUNT = "log_linear_discount"
    FLAT_FORWARD = "flat_forward"

    @classmethod
    def parse(cls, value: Interpolation | str) -> Interpolation:
        try:
            return value if isinstance(value, Interpolation) else cls(str(value).strip().lower())
        except ValueError:
            raise EngineError(
                f"unknown interpolation {value!r}; expected one of {[i.value for i in cls]}",
                field="interpolation",
            ) from None


class ZeroCurve:
    """Continuously compounded ACT/365F zero curve on nodes (times in years, rates decimal/yr).

    >>> ZeroCurve.flat(0.05).discount(np.array([2.0]))  # exp(-0.10)
    array([0.90483742])
    """

    __slots__ = ("times", "rates", "interpolation", "_t", "_lndf", "_f_last", "_slope_last")

    def __init__(
        self,
        times: Sequence[float] | np.ndarray,
        rates: Sequence[float] | np.ndarray,
        interpolation: Interpolation | str = Interpolation.LINEAR_ZERO,
    ) -> None:
        t = np.array(times, dtype=np.float64).ravel()
        z = np.array(rates, dtype=np.float64).ravel()
        if t.size == 0 or t.size != z.size:
            raise EngineError(
                "a curve needs at least one node and as many rates as times", field="curve.nodes"
            )
        if not (np.all(np.isfinite(t)) and np.all(np.isfinite(z))):
            raise NonFiniteInput("curve node times and rates must be finite", field="curve.nodes")
        if t[0] < 0.0 or np.any(np.diff(t) <= 0.0):
            raise EngineError(
                "curve node times must be >= 0 and strictly increasing", field="curve.nodes"
            )
        t.setflags(write=False)
        z.setflags(write=False)
        self.times = t
        self.rates = z
        self.interpolation = Interpolation.parse(interpolation)
        # ln DF nodes, with DF(0) = 1 prepended when the first node is after t = 0.
        if t[0] > 0.0:
            self._t = np.concatenate(([0.0], t))
            self._lndf = np.concatenate(([0.0], -z * t))
        else:
            self._t = t
            self._lndf = -z * t
        if self._t.size >= 2:
            self._f_last = -(self._lndf[-1] - self._lndf[-2]) / (self._t[-1] - self._t[-2])
        else:
            self._f_last = float(z[0])
        self._slope_last = (z[-1] - z[-2]) / (t[-1] - t[-2]) if t.size >= 2 else 0.0

    # ---- constructors -------------------------------------------------------------------
    @classmethod
    def flat(cls, rate: float) -> ZeroCurve:
        """A flat curve: the same continuously compounded zero rate at every maturity."""
        return cls([1.0], [rate])

    @classmethod
    def from_dates(
        cls,
        reference_date: dt.date,
        dates: Sequence[dt.date],
        rates: Sequence[float],
        interpolation: Interpolation | str = Interpolation.LINEAR_ZERO,
    ) -> ZeroCurve:
        """Curve from dated nodes; times are ACT/365F year fractions from `reference_date`."""
        times = [year_fraction(reference_date, d, DayCount.ACT_365F) for d in dates]
        return cls(times, rates, interpolation)

    @classmethod
    def from_par_yields(
        cls,
        tenors: Sequence[float],
        par_yields: Sequence[float],
        frequency: Frequency | int = Frequency.SEMIANNUAL,
        interpolation: Interpolation | str = Interpolation.LINEAR_ZERO,
    ) -> ZeroCurve:
        """Bootstrap zero rates so that a bond paying each par yield prices at par.

        The instrument at tenor T pays coupon c·τ_k at t_k = T, T − 1/f, ... > 0 (a short first
        period from 0 when T is not a multiple of 1/f; τ_k = t_k − t_{k−1}) and 1 at T, and
        satisfies Σ c·τ_k·DF(t_k) + DF(T) = 1. Nodes are solved one by one (Brent), each under
        the curve's own interpolation, so the result reprices every input exactly.
        """
        f = Frequency.parse(frequency)
        tn = np.asarray(tenors, dtype=np.float64)
        cs = np.asarray(par_yields, dtype=np.float64)
        if tn.size == 0 or tn.size != cs.size:
            raise EngineError("need as many par yields as tenors", field="par_yields")
        if not (np.all(np.isfinite(tn)) and np.all(np.isfinite(cs))):
            raise NonFiniteInput("tenors and par yields must be finite", field="par_yields")
        if tn[0] <= 0.0 or np.any(np.diff(tn) <= 0.0):
            raise EngineError("tenors must be > 0 and strictly increasing", field="tenors")
        interp = Interpolation.parse(interpolation)
        zs: list[float] = []
        for i, (big_t, c) in enumerate(zip(tn, cs, strict=True)):
            pay = big_t - np.arange(int(np.floor(big_t * f + 1e-9)) + 1) / f
            pay = np.sort(pay[pay > 1e-12])
            tau = np.diff(np.concatenate(([0.0], pay)))

            def residual(z: float, pay=pay, tau=tau, c=c, i=i) -> float:
                curve = cls(tn[: i + 1], [*zs, z], interp)
                df = curve.discount(pay)
                return float(c * np.dot(tau, df) + df[-1] - 1.0)

            guess = zs[-1] if zs else float(np.log1p(c / f) * f)
            zs.append(solve(residual, guess, -1.0, 2.0, what="zero rate", field="par_yields"))
        return cls(tn, zs, interp)

    @classmethod
    def from_swap_rates(
        cls,
        tenors: Sequence[float],
        swap_rates: Sequence[float],
        frequency: Frequency | int = Frequency.ANNUAL,
        interpolation: Interpolation | str = Interpolation.LINEAR_ZERO,
    ) -> ZeroCurve:
        """Bootstrap from par swap rates (single curve: the floating leg is worth 1 − DF(T)),
        which is the par-yield bootstrap at the fixed leg's frequency."""
        return cls.from_par_yields(tenors, swap_rates, frequency, interpolation)

    # ---- evaluation ---------------------------------------------------------------------
    def _times(self, t: np.ndarray | float) -> np.ndarray:
        arr = np.asarray(t, dtype=np.float64)
        if not np.all(np.isfinite(arr)):
            raise NonFiniteInput("curve times must be finite", field="times")
        if np.any(arr < 0.0):
            raise EngineError("curve times must be >= 0", field="times")
        return arr

    def log_discount(self, t: np.ndarray | float) -> np.ndarray:
        """ln DF(t) for times in years (vectorised)."""
        t = self._times(t)
        t_max = self.times[-1]
        if self.interpolation is Interpolation.LINEAR_ZERO:
            z = np.interp(t, self.times, self.rates)
            f_max = self.rates[-1] + t_max * self._slope_last
            beyond = t > t_max
            if np.any(beyond):
                tb = t[beyond] if t.ndim else t
                zb = (self.rates[-1] * t_max + f_max * (tb - t_max)) / tb
                if t.ndim:
                    z[beyond] = zb
                else:
                    z = zb
            return -z * t
        out = np.interp(t, self._t, self._lndf)
        beyond = t > self._t[-1]
        if np.any(beyond):
            extra = self._lndf[-1] - self._f_last * (t - self._t[-1])
            out = np.where(beyond, extra, out)
        return out

    def discount(self, t: np.ndarray | float) -> np.ndarray:
        """Discount factor DF(t) = exp(−z(t)·t), t in years from the reference date."""
        return np.exp(self.log_discount(t))

    def zero_rate(self, t: np.ndarray | float) -> np.ndarray:
        """Continuously compounded ACT/365F zero rate z(t); at t = 0 its right limit."""
        t = self._times(t)
        tt = np.where(t > 0.0, t, 1.0)
        z = -self.log_discount(tt) / tt
        if np.any(t == 0.0):
            if self.interpolation is Interpolation.LINEAR_ZERO or self._t.size < 2:
                z0 = float(self.rates[0])
            else:
                z0 = -(self._lndf[1] - self._lndf[0]) / (self._t[1] - self._t[0])
            z = np.where(t > 0.0, z, z0)
        return z

    def forward_rate(self, t1: np.ndarray | float, t2: np.ndarray | float) -> np.ndarray:
        """Continuously compounded forward rate between t1 < t2: (ln DF(t1) − ln DF(t2))/(t2 − t1)."""
        a = self._times(t1)
        b = self._times(t2)
        if np.any(b <= a):
            raise EngineError("forward_rate needs t2 > t1", field="times")
        return (self.log_discount(a) - self.log_discount(b)) / (b - a)

    # ---- scenarios ----------------------------------------------------------------------
    def shifted(self, dz: float) -> ZeroCurve:
        """Parallel shift: every zero rate (continuous, ACT/365F) moves by `dz` (decimal)."""
        if not np.isfinite(dz):
            raise NonFiniteInput("shift must be finite", field="bump")
        return ZeroCurve(self.times, self.rates + dz, self.interpolation)

    def key_rate_shifted(
        self, tenor: float, dz: float, key_tenors: Sequence[float] | None = None
    ) -> ZeroCurve:
        """Key-rate shift: zero rates move by dz·w(t), w a triangle that is 1 at `tenor` and
        falls linearly to 0 at the neighbouring key tenors (held at 1 before the first / after
        the last key tenor), so the shifts of all key tenors add up to a parallel shift.

        key_tenors defaults to the curve's node times; `tenor` must be one of them. The result
        has nodes at the union of the curve's nodes and the key tenors.
        """
        keys = np.asarray(self.times if key_tenors is None else key_tenors, dtype=np.float64)
        if keys.size == 0 or np.any(np.diff(keys) <= 0.0):
            raise EngineError("key tenors must be strictly increasing", field="key_tenors")
        k = int(np.argmin(np.abs(keys - tenor)))
        if abs(keys[k] - tenor) > 1e-12:
            raise EngineError(f"tenor {tenor} is not a key tenor", field="tenor")
        nodes = np.union1d(self.times, keys)
        weight = np.zeros(keys.size)
        weight[k] = 1.0
        w = np.interp(nodes, keys, weight)  # np.interp holds end values flat, as intended
        return ZeroCurve(nodes, self.zero_rate(nodes) + dz * w, self.interpolation)

    def __repr__(self) -> str:
        return (
            f"ZeroCurve(times={self.times.tolist()}, rates={self.rates.tolist()}, "
            f"interpolation={self.interpolation.value!r})"
        )
