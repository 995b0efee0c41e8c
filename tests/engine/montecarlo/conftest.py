"""Shared inputs for the Monte Carlo tests: a sloped curve and an independent SIFMA loop."""

from __future__ import annotations

import numpy as np
import pytest


class SlopedCurve:
    """z(t) = 0.03 + 0.015·(1 − e^{−t/4}) − 0.002·t·e^{−t/2}, continuous ACT/365F."""

    def zero_rate(self, t: np.ndarray) -> np.ndarray:
        t = np.asarray(t, dtype=np.float64)
        return 0.03 + 0.015 * (1 - np.exp(-t / 4)) - 0.002 * t * np.exp(-t / 2)

    def discount(self, t: np.ndarray) -> np.ndarray:
        t = np.asarray(t, dtype=np.float64)
        return np.exp(-self.zero_rate(t) * t)

    def shifted(self, dz: float) -> ShiftedSloped:
        return ShiftedSloped(self, dz)


class ShiftedSloped(SlopedCurve):
    def __init__(self, base: SlopedCurve, dz: float) -> None:
        self.base, self.dz = base, dz

    def zero_rate(self, t: np.ndarray) -> np.ndarray:
        return self.base.zero_rate(t) + self.dz


@pytest.fixture
def curve() -> SlopedCurve:
    return SlopedCurve()


def sifma_hand(
    balance: float,
    note: float,
    net: float,
    term: int,
    smm: np.ndarray,
    mdr: np.ndarray,
    severity: float,
    lag: int,
    advancing: bool,
) -> dict[str, np.ndarray]:
    """One level-pay loan, month by month, written straight from DOMAIN.md §3 (scalar loop)."""
    n = smm.size
    r = note / 12

    def sch(k: int) -> float:
        if k >= term:
            return 0.0
        if r == 0:
            return (term - k) / term
        return (1 - (1 + r) ** -(term - k)) / (1 - (1 + r) ** -term)

    perf, fcl = balance, 0.0
    new_def = [0.0] * (n + 1)
    out = {k: np.zeros(n) for k in ("cf", "principal", "loss", "interest")}
    for i in range(1, n + 1):
        af = sch(i) / sch(i - 1) if sch(i - 1) > 0 else 0.0
        md = mdr[i - 1] if i <= term - lag else 0.0
        nd = md * perf
        new_def[i] = nd
        pp = smm[i - 1] * perf * af
        sc = (perf - nd) * (1 - af)
        interest = (perf + fcl) * net / 12 - (nd + fcl) * net / 12
        if i > lag and new_def[i - lag] > 0:
            adb = new_def[i - lag] * (sch(i - 1) / sch(i - 1 - lag) if advancing else 1.0)
            old = new_def[i - lag]
        else:
            adb = old = 0.0
        am_def = (nd + fcl - adb) * (1 - af) if advancing else 0.0
        fcl = fcl + nd - adb - am_def
        loss = min(severity * old, adb)
        rec = adb - loss
        perf = perf - nd - pp - sc
        prin = sc + pp + am_def + rec
        out["cf"][i - 1] = interest + prin
        out["principal"][i - 1] = prin
        out["loss"][i - 1] = loss
        out["interest"][i - 1] = interest
    return out
