"""Revolving credit cards as a master-trust projection (monthly, receivables in currency).

Per month t, R_{t-1} the receivables at the start (rates may be constants or per-month vectors,
a shorter vector holds its last value):
    principal collections  = payment_rate_t x R_{t-1}          (monthly payment rate, MPR)
    finance charges        = portfolio_yield_t / 12 x R_{t-1}   (yield: annual decimal)
    charge-offs            = charge_off_rate_t / 12 x R_{t-1}   (annual decimal)
    purchases (new draws)  = purchase_rate_t x R_{t-1}          (monthly fraction of receivables)
    R_t = R_{t-1} - principal collections - charge-offs + purchases
    base rate_t = coupon_t + servicing_fee_t (annual); investor interest and servicing =
        base rate_t / 12 x R_{t-1}
    excess spread_t = portfolio_yield_t - charge_off_rate_t - base rate_t (annualised decimal)
    three-month average excess spread_t = mean of months t-2..t (null for t < 3).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from app.engine.errors import FieldProblem, InvalidInput

RATES = (
    "payment_rate",
    "purchase_rate",
    "portfolio_yield",
    "charge_off_rate",
    "coupon",
    "servicing_fee",
)


def _vector(name: str, value: float | list[float], months: int) -> np.ndarray:
    x = np.atleast_1d(np.asarray(value, dtype=np.float64))
    if x.size == 0 or not np.all(np.isfinite(x)) or np.any(x < 0):
        raise InvalidInput([FieldProblem(None, name, "must be finite decimals >= 0")])
    if name == "payment_rate" and np.any(x > 1):
        raise InvalidInput([FieldProblem(None, name, "a monthly payment rate must be <= 1")])
    return np.concatenate([x, np.full(max(0, months - x.size), x[-1])])[:months]


def project_trust(receivables: float, months: int, rates: Mapping[str, Any]) -> dict[str, Any]:
    """The trust's monthly columns (module docstring) as JSON-ready arrays."""
    if not (np.isfinite(receivables) and receivables > 0):
        raise InvalidInput([FieldProblem(None, "receivables", "must be a finite amount > 0")])
    if not (1 <= months <= 1200):
        raise InvalidInput([FieldProblem(None, "months", "must be in 1..1200")])
    r = {k: _vector(k, rates[k], months) for k in RATES}
    if np.any(r["payment_rate"] + r["charge_off_rate"] / 12 > 1):
        raise InvalidInput(
            [FieldProblem(None, "payment_rate", "payments plus charge-offs exceed the receivables")]
        )
    growth = 1.0 - r["payment_rate"] - r["charge_off_rate"] / 12 + r["purchase_rate"]
    start = receivables * np.concatenate([[1.0], np.cumprod(growth)[:-1]])
    end = start * growth
    base = r["coupon"] + r["servicing_fee"]
    excess = r["portfolio_yield"] - r["charge_off_rate"] - base
    avg3 = np.full(months, np.nan)
    if months >= 3:
        avg3[2:] = np.convolve(excess, np.ones(3) / 3.0, mode="valid")
    return {
        "months": np.arange(1, months + 1),
        "beginning_receivables": start,
        "ending_receivables": end,
        "principal_collections": r["payment_rate"] * start,
        "finance_charges": r["portfolio_yield"] / 12 * start,
        "charge_offs": r["charge_off_rate"] / 12 * start,
        "purchases": r["purchase_rate"] * start,
        "investor_interest_and_servicing": base / 12 * start,
        "payment_rate": r["payment_rate"],
        "purchase_rate": r["purchase_rate"],
        "portfolio_yield": r["portfolio_yield"],
        "charge_off_rate": r["charge_off_rate"],
        "base_rate": base,
        "excess_spread": excess,
        "excess_spread_3m_avg": avg3,
        "warnings": ["excess_spread_3m_avg is null for months 1-2 (fewer than three months)"]
        if months >= 1
        else [],
    }
