"""IRR, XIRR and yields of many cash-flow vectors in one call (Numba kernels, one row each).

Each row is solved as `measures.irr` / `measures.xirr` would solve it (same equations, same
conventions); the kernels bracket every root before returning it and report a status per row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Literal

import numpy as np

from app.engine._lazy import lazy_module
from app.engine.analytics.conventions import Frequency
from app.engine.errors import (
    ConvergenceError,
    EmptyCashflows,
    EngineError,
    NonFiniteInput,
    NoSignChange,
    UnreachablePrice,
)

irr_nb = lazy_module("app.engine._kernels.irr_nb")  # Numba is imported at the first solve


def _error_type(code: int) -> type[EngineError]:
    """The engine error for a kernel status code."""
    return {
        irr_nb.EMPTY: EmptyCashflows,
        irr_nb.NON_FINITE: NonFiniteInput,
        irr_nb.NO_SIGN_CHANGE: NoSignChange,
        irr_nb.NO_BRACKET: UnreachablePrice,
        irr_nb.NOT_CONVERGED: ConvergenceError,
    }.get(code, EngineError)


MAX_TABLE_GAP = 4096  # XIRR: longer two-step day gaps use exp() instead of the power table

Errors = Literal["raise", "nan"]


def _matrix(flows: np.ndarray | Sequence[Sequence[float]]) -> np.ndarray:
    a = np.ascontiguousarray(flows, dtype=np.float64)
    if a.ndim == 1:
        a = a[None, :]
    if a.ndim != 2 or a.shape[1] == 0:
        raise EmptyCashflows(
            "need a 2-D array of cash flows with at least one column", field="cashflows"
        )
    return a


def _finish(out: np.ndarray, status: np.ndarray, errors: Errors) -> np.ndarray:
    if errors == "raise":
        bad = np.flatnonzero(status != irr_nb.OK)
        if bad.size:
            code = int(status[bad[0]])
            raise _error_type(code)(
                f"row {bad[0]}: {irr_nb.STATUS_TEXT[code]} ({bad.size} failing row(s))",
                field=f"cashflows[{bad[0]}]",
            )
    return out


def irr_many(flows: np.ndarray, *, errors: Errors = "raise") -> np.ndarray:
    """Periodic IRR of each row of `flows` (n, m): Σ_k flows[i, k] (1 + r_i)^(−k) = 0, the first
    flow at period 0 (as numpy-financial). errors="nan" gives NaN for unsolvable rows instead of
    raising the row's EngineError subclass."""
    a = _matrix(flows)
    out = np.empty(a.shape[0])
    status = np.empty(a.shape[0], dtype=np.int8)
    irr_nb.irr_many_nb(a, out, status)
    return _finish(out, status, errors)


def yields_many(
    amounts: np.ndarray,
    prices: np.ndarray | float,
    frequency: Frequency | int = Frequency.MONTHLY,
    *,
    errors: Errors = "raise",
) -> np.ndarray:
    """Yield (decimal/yr, compounded at `frequency`) of each row of `amounts` (n, m) paid at
    periods 1..m (t = k/f years) for the dirty price `prices[i]` paid at settlement: f × the
    periodic IRR of (−price, amounts)."""
    f = Frequency.parse(frequency)
    a = _matrix(amounts)
    p = np.broadcast_to(np.asarray(prices, dtype=np.float64), (a.shape[0],))
    flows = np.empty((a.shape[0], a.shape[1] + 1))
    flows[:, 0] = -p
    flows[:, 1:] = a
    return irr_many(flows, errors=errors) * float(f)


def _day_matrix(dates: np.ndarray | Sequence) -> np.ndarray:
    arr = np.asarray(dates)
    if arr.dtype.kind == "M":
        days = arr.astype("datetime64[D]").astype(np.int64).astype(np.float64)
    elif arr.dtype.kind == "O":
        days = np.vectorize(
            lambda d: d.toordinal() if isinstance(d, dt.date) else np.nan, otypes=[float]
        )(arr)
    else:
        days = arr.astype(np.float64)
    if not np.all(np.isfinite(days)) or np.any(days != np.round(days)):
        raise EngineError("dates must be whole days", field="dates")
    return days if days.ndim == 2 else days[None, :]


def xirr_many(
    flows: np.ndarray, dates: np.ndarray | Sequence, *, errors: Errors = "raise"
) -> np.ndarray:
    """Excel XIRR (annual compounding, ACT/365F) of each row of `flows` (n, m).

    `dates`: (m,) shared by all rows or (n, m); datetime64, datetime.date objects or integer
    day numbers. Rows are sorted by date if needed (the root does not depend on the order).
    """
    a = _matrix(flows)
    days = _day_matrix(dates)
    if days.shape[1] != a.shape[1] or days.shape[0] not in (1, a.shape[0]):
        raise EngineError(f"dates shape {days.shape} does not match flows {a.shape}", field="dates")
    if np.any(np.diff(days, axis=1) < 0):
        order = np.argsort(days, axis=1, kind="stable")
        if days.shape[0] == 1:
            days = days[:, order[0]]
            a = np.ascontiguousarray(a[:, order[0]])
        else:
            days = np.take_along_axis(days, order, axis=1)
            a = np.ascontiguousarray(np.take_along_axis(a, order, axis=1))
    days = np.ascontiguousarray(days - days[:, :1])
    two_step = days[:, 2:] - days[:, :-2]
    max_gap = int(min(two_step.max(initial=0.0), MAX_TABLE_GAP))
    out = np.empty(a.shape[0])
    status = np.empty(a.shape[0], dtype=np.int8)
    irr_nb.xirr_many_nb(a, days, days.shape[0] == 1, max_gap, out, status)
    return _finish(out, status, errors)
