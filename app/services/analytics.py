"""Use case: every analytics measure of one cash-flow vector (POST /api/v1/analytics/cashflows).

Parses conventions once into the engine's enums, turns dates or periods into year fractions,
calls the engine, and maps engine errors to 422 problems at the request's field paths.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from app.core.errors import ValidationFailed
from app.engine.analytics.conventions import (
    Compounding,
    DayCount,
    Frequency,
    year_fraction,
)
from app.engine.analytics.curves import Interpolation, ZeroCurve
from app.engine.analytics.measures import _has_sign_change, xirr
from app.engine.analytics.summary import cashflow_measures
from app.engine.errors import EngineError
from app.models.analytics import CashflowAnalyticsRequest, CashflowAnalyticsResponse, Conventions
from app.services.value_warnings import Warnings

_FIELD_LOC = {
    "cashflows.amount": ("cashflows",),
    "cashflows.time": ("cashflows",),
    "times": ("cashflows",),
    "principal": ("cashflows",),
}


def _engine_422(exc: EngineError) -> ValidationFailed:
    field = exc.field or ""
    loc = _FIELD_LOC.get(field, tuple(p for p in field.split(".") if p))
    return ValidationFailed(
        [{"loc": ["body", *loc], "msg": exc.message, "type": type(exc).__name__}]
    )


def _times(req: CashflowAnalyticsRequest, dc: DayCount, f: Frequency) -> np.ndarray:
    if req.cashflows[0].date is None:
        return np.array([c.period for c in req.cashflows], dtype=np.float64) / float(f)
    if req.settlement_date is None:
        raise ValidationFailed.single(
            ["body", "settlement_date"], "required when cash flows are dated"
        )
    settle = req.settlement_date
    problems = [
        {
            "loc": ["body", "cashflows", i, "date"],
            "msg": "before settlement_date",
            "type": "value_error",
        }
        for i, c in enumerate(req.cashflows)
        if c.date is not None and c.date < settle
    ]
    if problems:
        raise ValidationFailed(problems)
    dates = [c.date for c in req.cashflows if c.date is not None]
    return np.array([year_fraction(settle, d, dc) for d in dates], dtype=np.float64)


def _curve(req: CashflowAnalyticsRequest) -> ZeroCurve | None:
    if req.curve is None:
        return None
    times = []
    for i, node in enumerate(req.curve.nodes):
        if node.date is not None:
            if req.settlement_date is None or node.date < req.settlement_date:
                raise ValidationFailed.single(
                    ["body", "curve", "nodes", i, "date"],
                    "a dated node needs settlement_date and must not be before it",
                )
            times.append(year_fraction(req.settlement_date, node.date, DayCount.ACT_365F))
        else:
            times.append(float(node.tenor_years))  # type: ignore[arg-type]
    order = np.argsort(times, kind="stable")
    t = np.asarray(times)[order]
    z = np.asarray([n.rate for n in req.curve.nodes])[order]
    return ZeroCurve(t, z, Interpolation.parse(req.curve.interpolation))


def _xirr(req: CashflowAnalyticsRequest, amounts: np.ndarray) -> float | None:
    """Excel XIRR of dated flows; of (−price at settlement, flows) for positive flows."""
    days = np.array([c.date.toordinal() for c in req.cashflows], dtype=np.float64)  # type: ignore[union-attr]
    if _has_sign_change(amounts):
        return xirr(amounts, days)
    if req.price is not None and np.all(amounts >= 0.0):
        settle = float(req.settlement_date.toordinal())  # type: ignore[union-attr]
        return xirr(np.concatenate(([-req.price], amounts)), np.concatenate(([settle], days)))
    return None


def compute_cashflow_analytics(req: CashflowAnalyticsRequest) -> CashflowAnalyticsResponse:
    """All measures of the request's cash flows (see cashflow_measures for their conventions)."""
    dc = DayCount.parse(req.day_count)
    f = Frequency.parse(req.frequency)
    comp = Compounding.parse(req.compounding)
    s_comp = Compounding.parse(req.spread_compounding)
    s_freq = Frequency.parse(req.spread_frequency, field="spread_frequency")
    dated = req.cashflows[0].date is not None
    warnings = Warnings()
    reasons: dict[str, str] = {}
    try:
        times = _times(req, dc, f)
        amounts = np.array([c.amount for c in req.cashflows], dtype=np.float64)
        principal = None
        if any(c.principal is not None for c in req.cashflows):
            principal = np.array([c.principal or 0.0 for c in req.cashflows], dtype=np.float64)
        curve = _curve(req)
        out: dict[str, Any] = cashflow_measures(
            amounts,
            times,
            principal=principal,
            frequency=f,
            compounding=comp,
            discount_rate=req.discount_rate,
            curve=curve,
            price=req.price,
            spread_compounding=s_comp,
            spread_frequency=s_freq,
            bump=req.bump,
            reasons=reasons,
        )
    except EngineError as exc:  # invalid input (empty, non-finite, before settlement)
        raise _engine_422(exc) from None
    out["xirr"] = None
    if dated:
        try:
            out["xirr"] = _xirr(req, amounts)
        except EngineError as exc:
            reasons["xirr"] = exc.message
    warnings.add_all(reasons)
    basis = f"{dc.value} year fraction from settlement_date" if dated else "period / frequency"
    return CashflowAnalyticsResponse(
        **{("yield_" if k == "yield" else k): warnings.finite(k, v) for k, v in out.items()},
        warnings=warnings.items(),
        conventions=Conventions(
            time_basis=basis,
            compounding=comp.value,
            frequency=int(f),  # type: ignore[arg-type]
            spread_compounding=s_comp.value,
            spread_frequency=int(s_freq),  # type: ignore[arg-type]
        ),
    )
