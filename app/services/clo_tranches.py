"""Tranche analytics of a CLO: yield, WAL, modified duration, discount margin, break-even CDR
and OC/IC cushion paths, on the deal run at the request's CPR/CDR.

Conventions: cash flows fall at t = period/12 years (30/360 months from the analysis date);
yields are compounded monthly (app.engine.analytics.measures); the discount margin discounts
period k's cash at Π_{i≤k} (1 + (I_i + dm)·τ_i) with the index path I and the tranche's own
accruals τ; the break-even CDR is the constant annual default rate of the collateral at which
the tranche's loss (original balance not repaid as principal, plus interest shortfall left at
the end) first exceeds `breakeven_tolerance`, found by a shared grid scan then Brent's method.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from app.core.config import Settings
from app.engine._lazy import lazy_function, lazy_module
from app.engine.analytics.conventions import Compounding
from app.engine.analytics.measures import irr, modified_duration, wal, yield_from_price
from app.engine.analytics.solvers import solve
from app.engine.deals.run import DealResult
from app.engine.deals.schema import CouponType, TrancheRole
from app.engine.errors import EngineError
from app.models.clo import CloTrancheAnalysisRequest
from app.services import clo

wk = lazy_module("app.engine._kernels.waterfall_nb")  # Numba is imported at the first run

brentq = lazy_function("scipy.optimize", "brentq")  # SciPy imported at the first call

CDR_MAX = 0.9999
BREAKEVEN_XTOL = 1e-8
GRID = np.concatenate([[0.0], np.geomspace(0.001, CDR_MAX, 24)])


def tranche_losses(res: DealResult) -> np.ndarray:
    """Loss of each tranche (currency): max(0, balance − Σ principal paid) + final shortfall."""
    tr = res.ledgers.tranches
    bal0 = np.array([t.balance if t.role is TrancheRole.DEBT else 0.0 for t in res.deal.tranches])
    return np.maximum(0.0, bal0 - tr[wk.T_PPAID].sum(axis=1)) + tr[wk.T_SHORT, :, -1]


def breakeven_cdrs(
    loss_at: Callable[[float], np.ndarray], debt: list[int], tol: float
) -> dict[int, tuple[float | None, str | None]]:
    """Per debt tranche: (break-even CDR or None, warning or None)."""
    cache: dict[float, np.ndarray] = {}

    def losses(c: float) -> np.ndarray:
        if c not in cache:
            cache[c] = loss_at(c)
        return cache[c]

    grid = np.array([losses(float(c)) for c in GRID])  # (grid, tranches)
    out: dict[int, tuple[float | None, str | None]] = {}
    for j in debt:
        over = np.flatnonzero(grid[:, j] > tol)
        if over.size == 0:
            out[j] = (None, f"no break-even CDR below {CDR_MAX:g}: the tranche never loses")
            continue
        k = int(over[0])
        if k == 0:
            out[j] = (0.0, "the tranche loses even with no defaults")
            continue
        lo, hi = float(GRID[k - 1]), float(GRID[k])

        def excess(c: float, j: int = j) -> float:
            return float(losses(c)[j] - tol)

        # excess(lo) <= 0 < excess(hi): a bracket; Brent to 1e-8 of CDR
        out[j] = (float(brentq(excess, lo, hi, xtol=BREAKEVEN_XTOL, rtol=1e-12, maxiter=200)), None)
    return out


def _discount_margin(cf: np.ndarray, price: float, index: np.ndarray, tau: np.ndarray) -> float:
    def pv(dm: float) -> float:
        growth = 1.0 + (index + dm) * tau
        if np.any(growth <= 0.0):
            return math.inf
        return float(np.dot(cf, np.exp(-np.cumsum(np.log(growth)))))

    return solve(
        lambda dm: (pv(dm) - price) / max(price, 1.0),
        0.01,
        -0.5,
        5.0,
        what="discount margin",
        field="prices",
    )


def _annual_irr(flows: np.ndarray) -> float:
    """12 × the monthly IRR (nominal annual, monthly compounded)."""
    return 12.0 * irr(flows)


def tranche_analysis(req: CloTrancheAnalysisRequest, settings: Settings) -> dict[str, Any]:
    setup = clo.build_setup(req, settings, need_deal=True)
    assert setup.deal is not None and setup.arrays is not None
    deal, arr = setup.deal, setup.arrays
    base = clo.run_at(setup, req, req.assumptions.cdr)
    led = base.ledgers
    n = base.n_periods
    t = np.arange(1, n + 1) / 12.0
    warnings: list[str] = list(setup.warnings)
    debt = [j for j, tr in enumerate(deal.tranches) if tr.role is TrancheRole.DEBT]
    be = breakeven_cdrs(
        lambda c: tranche_losses(clo.run_at(setup, req, c)), debt, req.breakeven_tolerance
    )
    par = float(setup.portfolio.par.sum())
    out: dict[str, Any] = {}
    for j, tr in enumerate(deal.tranches):
        price = req.prices.get(tr.name, 1.0)

        def measure(
            name: str, fn: Callable[..., float], *args: Any, tranche: str = tr.name
        ) -> float | None:
            try:
                return float(fn(*args))
            except EngineError as exc:
                warnings.append(f"{tranche} {name}: {exc.message}")
                return None

        if tr.role is TrancheRole.EQUITY:
            notional = max(par - sum(deal.tranches[k].balance for k in debt), 0.0)
            cash = led.tranches[wk.T_RESID, j]
            flows = np.concatenate([[-notional * price], cash])
            out[tr.name] = {
                "role": "equity",
                "notional": notional,
                "price": price,
                "irr": measure("irr", _annual_irr, flows),
            }
            continue
        cf = led.tranches[wk.T_IPAID, j] + led.tranches[wk.T_PPAID, j]
        prin = led.tranches[wk.T_PPAID, j]
        dirty = price * tr.balance
        y = measure("yield", yield_from_price, cf, t, dirty, Compounding.COMPOUNDED, 12)
        row: dict[str, Any] = {
            "role": "debt",
            "price": price,
            "yield": y,
            "wal": measure("wal", wal, prin, t),
            "modified_duration": None
            if y is None
            else measure(
                "modified_duration", modified_duration, cf, t, y, Compounding.COMPOUNDED, 12
            ),
            "discount_margin": None,
            "breakeven_cdr": be[j][0],
            "loss_at_assumptions": float(tranche_losses(base)[j]),
        }
        if be[j][1]:
            warnings.append(f"{tr.name}: {be[j][1]}")
        if tr.coupon.type is CouponType.FLOATING:
            index = arr.tr_rate[j] - tr.coupon.margin
            row["discount_margin"] = measure(
                "discount_margin", _discount_margin, cf, dirty, index, arr.tr_acc[j]
            )
        out[tr.name] = row
    cushions = {}
    for k, test in enumerate(deal.tests):
        v = led.tests[0, k] - test.trigger
        cushions[test.name] = [float(x) if np.isfinite(x) else None for x in v]
    return {
        "deal": deal.name,
        "n_periods": n,
        "tranches": out,
        "cushions": cushions,
        "conventions": {
            "time": "period / 12 years",
            "yield": "monthly compounded",
            "discount_margin": "simple over each period on the index path",
            "breakeven_tolerance": req.breakeven_tolerance,
        },
        "warnings": warnings,
    }
