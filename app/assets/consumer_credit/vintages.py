"""Vintage curves: per origination cohort, cumulative charge-off and prepayment rates by months on
book (MOB), as fractions of original balance and of loan count; chain-ladder completion of the
immature vintages, an optional fitted curve, loss rates by segment, and the loss timing curve as
a monthly default vector.

Definitions (m = 1..M months on book, v a vintage):
- C_v(m) = Σ charge-off amount of loans of v charged off at MOB <= m / Σ original balance of v
  (count: number charged off / number of loans); prepayment likewise.
- A vintage is observed up to age a_v = the 5th percentile over its loans of (as_of month -
  origination month), so that 95% of its loans are seasoned at every reported MOB, when
  origination dates are given, else the largest event MOB seen in it; cells m > a_v are
  immature (null in `observed`).
- Chain ladder (balance curve): f_m = Σ_{v: a_v >= m+1} C_v(m+1) / Σ_{same v} C_v(m); a vintage
  is completed by C_v(m+1) = C_v(m) f_m beyond its age (f_m = 1, with a warning, when the
  denominator is 0).
- Fitted curve (optional): Weibull form C(m) = A (1 - exp(-(m / λ)^k)), least squares on the
  pooled completed curve c(m) below (A: lifetime loss rate, λ: months to 63% of it, k: shape).
- Loss timing: c(m) the original-balance-weighted mean of the completed curves; timing(m) =
  (c(m) - c(m-1)) / c(M); default vector MDR(m) = (c(m) - c(m-1)) / (1 - c(m-1) - p(m-1)), p the
  mean cumulative prepayment curve (0 when not given): a monthly default rate on the surviving
  original balance, amortisation ignored.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from app.assets.consumer_credit.panel import Panel, arrays, as_array, codes_of, month_index
from app.engine.errors import FieldProblem, InvalidInput

MAX_MOB = 600


@dataclass(frozen=True)
class Outcomes:
    """Loan-level outcomes: vintage code, original balance, event MOBs (NaN: none) and amounts."""

    vintage: np.ndarray
    labels: list[Any]
    original: np.ndarray
    co_mob: np.ndarray
    co_amount: np.ndarray
    pp_mob: np.ndarray
    pp_amount: np.ndarray
    age: np.ndarray  # observed months per loan (NaN: unknown)
    attributes: dict[str, pa.Array]


def _floats(values: Any, name: str, problems: list[FieldProblem]) -> np.ndarray:
    arr = as_array(values)
    try:
        f = pc.fill_null(pc.cast(arr, pa.float64()), np.nan).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        problems.append(FieldProblem(None, name, "must be numbers"))
        return np.full(len(arr), np.nan)
    return f


def _mob(
    cols: Mapping[str, Any], date_col: str, month_col: str, orig: np.ndarray | None, n: int
) -> np.ndarray:
    if month_col in cols:
        return _floats(cols[month_col], month_col, [])
    if date_col in cols and orig is not None:
        m, missing = month_index(cols[date_col], date_col)
        return np.where(missing, np.nan, (m - orig).astype(np.float64))
    return np.full(n, np.nan)


def outcomes_from_columns(cols: Mapping[str, Any], *, as_of: str | int | None = None) -> Outcomes:
    """Columns: `vintage` (any label) and/or `origination_date` (the vintage is then its year
    unless `vintage` is given), `original_balance`; `charge_off_date` or `charge_off_month`
    (MOB), `charge_off_amount` (default: the original balance); `prepay_date` or
    `prepay_month`, `prepay_amount` (default: the original balance). `as_of` ('YYYY-MM' or a
    month index): end of observation (default: the latest event)."""
    problems: list[FieldProblem] = []
    cols = arrays(cols)
    if "original_balance" not in cols:
        problems.append(FieldProblem(None, "original_balance", "required column is missing"))
    if "vintage" not in cols and "origination_date" not in cols:
        problems.append(FieldProblem(None, "vintage", "give vintage or origination_date"))
    if problems:
        raise InvalidInput(problems)
    orig_bal = _floats(cols["original_balance"], "original_balance", problems)
    n = orig_bal.shape[0]
    bad = np.flatnonzero(~(orig_bal > 0) | ~np.isfinite(orig_bal))
    problems += [
        FieldProblem(int(r), "original_balance", "must be a finite amount > 0") for r in bad[:20]
    ]
    orig_m = None
    if "origination_date" in cols:
        orig_m, miss = month_index(cols["origination_date"], "origination_date")
        problems += [
            FieldProblem(int(r), "origination_date", "missing value")
            for r in np.flatnonzero(miss)[:20]
        ]
    if problems:
        raise InvalidInput(problems)
    vint_src = cols["vintage"] if "vintage" in cols else pa.array(orig_m // 12)  # type: ignore[operator]
    vint, labels = codes_of(vint_src)
    co_mob = _mob(cols, "charge_off_date", "charge_off_month", orig_m, n)
    pp_mob = _mob(cols, "prepay_date", "prepay_month", orig_m, n)
    co_amt = (
        _floats(cols["charge_off_amount"], "charge_off_amount", problems)
        if "charge_off_amount" in cols
        else orig_bal.copy()
    )
    pp_amt = (
        _floats(cols["prepay_amount"], "prepay_amount", problems)
        if "prepay_amount" in cols
        else orig_bal.copy()
    )
    for name, amt, mob in (
        ("charge_off_amount", co_amt, co_mob),
        ("prepay_amount", pp_amt, pp_mob),
    ):
        bad = np.flatnonzero(np.isfinite(mob) & ~(amt >= 0))
        problems += [
            FieldProblem(int(r), name, "must be an amount >= 0 where the event happened")
            for r in bad[:20]
        ]
    if problems:
        raise InvalidInput(problems)
    if orig_m is not None:
        events = np.concatenate(
            [orig_m + np.nan_to_num(co_mob, nan=0), orig_m + np.nan_to_num(pp_mob, nan=0)]
        )
        end = (
            int(month_index([as_of], "as_of")[0][0])
            if as_of is not None
            else int(events.max(initial=0))
        )
        age = (end - orig_m).astype(np.float64)
    else:
        age = np.full(n, np.nan)
    known = {
        "vintage",
        "origination_date",
        "original_balance",
        "charge_off_date",
        "charge_off_month",
        "charge_off_amount",
        "prepay_date",
        "prepay_month",
        "prepay_amount",
    }
    attrs = {k: as_array(v) for k, v in cols.items() if k not in known}
    return Outcomes(
        vint,
        labels,
        orig_bal,
        co_mob,
        np.where(np.isfinite(co_mob), co_amt, 0.0),
        pp_mob,
        np.where(np.isfinite(pp_mob), pp_amt, 0.0),
        age,
        attrs,
    )


def outcomes_from_panel(
    panel: Panel, *, origination: str = "origination_date", as_of: str | int | None = None
) -> Outcomes:
    """Loan-level outcomes from a delinquency panel whose rows carry the loan's origination
    month (column `origination`, 'YYYY-MM' or a month index; vintage = its year unless a
    `vintage` column is given): the charge-off (prepayment) MOB is the first period in the
    charged-off (prepaid) state minus the origination month, its amount the balance of the
    loan's last row before it; the original balance is `original_balance` if given, else the
    balance of the loan's first row; the observation ends at `as_of` or the panel's last period."""
    from app.assets.consumer_credit.states import StateRole

    if panel.balance is None:
        raise InvalidInput(
            [FieldProblem(None, "balance", "vintages from a panel need a balance column")]
        )
    balance = panel.balance
    orig_m, miss = month_index(panel.attribute(origination), origination)
    if miss.any():
        raise InvalidInput(
            [
                FieldProblem(int(panel.rows[r]), origination, "missing value")
                for r in np.flatnonzero(miss)[:20]
            ]
        )
    first = np.flatnonzero(np.concatenate([[True], panel.loan[1:] != panel.loan[:-1]]))
    n_l = first.size
    loan_of_row = np.cumsum(np.concatenate([[True], panel.loan[1:] != panel.loan[:-1]])) - 1

    def event(role: StateRole) -> tuple[np.ndarray, np.ndarray]:
        k = panel.space.index(role)
        mob, amount = np.full(n_l, np.nan), np.zeros(n_l)
        if k is None:
            return mob, amount
        hit = np.flatnonzero(panel.state == k)
        if hit.size == 0:
            return mob, amount
        loans, pos = np.unique(loan_of_row[hit], return_index=True)
        rows = hit[pos]
        mob[loans] = (panel.period[rows] - orig_m[rows]).astype(np.float64)
        prev = np.where(rows > first[loans], rows - 1, rows)  # the loan's last row before the event
        amount[loans] = balance[prev]
        return mob, amount

    co_mob, co_amt = event(StateRole.CHARGED_OFF)
    pp_mob, pp_amt = event(StateRole.PREPAID)
    if "original_balance" in panel.attributes:
        original = pc.cast(panel.attributes["original_balance"], pa.float64()).to_numpy(
            zero_copy_only=False
        )[first]
    else:
        original = balance[first]
    bad = np.flatnonzero(~(original > 0))
    if bad.size:
        raise InvalidInput(
            [
                FieldProblem(
                    int(panel.rows[first[r]]), "balance", "a loan's original balance must be > 0"
                )
                for r in bad[:20]
            ]
        )
    end = int(month_index([as_of], "as_of")[0][0]) if as_of is not None else int(panel.period.max())
    vint_src = (
        panel.attributes["vintage"].take(pa.array(first))
        if "vintage" in panel.attributes
        else pa.array(orig_m[first] // 12)
    )
    vint, labels = codes_of(vint_src)
    attrs = {
        k: v.take(pa.array(first))
        for k, v in panel.attributes.items()
        if k not in (origination, "vintage")
    }
    return Outcomes(
        vint,
        labels,
        original,
        co_mob,
        co_amt,
        pp_mob,
        pp_amt,
        (end - orig_m[first]).astype(np.float64),
        attrs,
    )


def _cumulative(
    vint: np.ndarray, mob: np.ndarray, weight: np.ndarray, n_v: int, m_max: int
) -> np.ndarray:
    """(V, M) Σ weight of events at MOB <= m, m = 1..M (events at MOB <= 1 in month 1)."""
    ok = np.isfinite(mob)
    cell = np.clip(np.nan_to_num(mob, nan=0.0), 1, m_max + 1).astype(np.int64) - 1
    flat = np.bincount(
        vint[ok] * (m_max + 1) + cell[ok], weights=weight[ok], minlength=n_v * (m_max + 1)
    )
    return np.cumsum(flat.reshape(n_v, m_max + 1), axis=1)[:, :m_max]


def chain_ladder(curves: np.ndarray, ages: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(completed curves, development factors f_1..f_{M-1}, warnings); see module docstring."""
    v_n, m_n = curves.shape
    m = np.arange(1, m_n + 1)
    seen = m[None, :] <= ages[:, None]
    factors = np.ones(m_n - 1)
    warnings = []
    for k in range(m_n - 1):  # over MOB columns (≤ 600), vectorised over vintages
        rows = seen[:, k + 1]
        den = curves[rows, k].sum()
        if rows.any() and den > 0:
            factors[k] = curves[rows, k + 1].sum() / den
        elif rows.any():
            warnings.append(f"development factor at MOB {k + 1} has a zero base: set to 1")
    completed = np.where(seen, curves, np.nan)
    for k in range(1, m_n):
        fill = ~seen[:, k]
        completed[fill, k] = completed[fill, k - 1] * factors[k - 1]
    return completed, factors, warnings[:5]


def fit_weibull(curve: np.ndarray) -> dict[str, Any] | None:
    """Least-squares fit of C(m) = A (1 - exp(-(m/λ)^k)) to the pooled completed curve c(m),
    m = 1..M (module docstring); None when the curve has no loss or the fit fails."""
    from scipy.optimize import curve_fit

    m = np.arange(1, curve.shape[0] + 1, dtype=np.float64)
    ok = np.isfinite(curve)
    if ok.sum() < 3 or not np.any(curve[ok] > 0):
        return None
    top = float(curve[ok].max())
    half = float(m[ok][np.argmax(curve[ok] >= 0.5 * top)])

    def form(t: np.ndarray, a: float, lam: float, k: float) -> np.ndarray:
        return a * (1.0 - np.exp(-np.power(t / lam, k)))

    try:
        p, _ = curve_fit(
            form,
            m[ok],
            curve[ok],
            p0=(top * 1.05, max(half, 1.0) * 1.2, 2.0),
            bounds=([0, 1e-6, 0.05], [1.0, 1e5, 20.0]),
            maxfev=10000,
        )
    except (RuntimeError, ValueError):
        return None
    fitted = form(m, *p)
    return {
        "form": "A * (1 - exp(-(m / lambda)^k))",
        "fitted_to": "the original-balance-weighted mean of the completed charge-off curves",
        "parameters": {"A": float(p[0]), "lambda": float(p[1]), "k": float(p[2])},
        "rmse": float(np.sqrt(np.mean((fitted[ok] - curve[ok]) ** 2))),
        "curve": fitted,
    }


def _low_quantile(group: np.ndarray, x: np.ndarray, n_g: int, q: float) -> np.ndarray:
    """Per group, the q-quantile of x (lower order statistic), by one lexsort."""
    order = np.lexsort((x, group))
    g_sorted = group[order]
    start = np.searchsorted(g_sorted, np.arange(n_g), side="left")
    size = np.bincount(group, minlength=n_g)
    pick = start + np.floor(q * np.maximum(size - 1, 0)).astype(np.int64)
    return np.where(size > 0, x[order][np.minimum(pick, len(x) - 1)], 0.0)


def vintage_curves(
    out: Outcomes,
    *,
    fit: bool = False,
    max_months: int | None = None,
    segment_by: Sequence[str] = (),
) -> dict[str, Any]:
    """Everything of part 4 as JSON-ready arrays (module docstring)."""
    n_v = len(out.labels)
    ev = np.concatenate(
        [out.co_mob[np.isfinite(out.co_mob)], out.pp_mob[np.isfinite(out.pp_mob)], [1.0]]
    )
    m_max = int(
        min(
            max_months or MAX_MOB,
            MAX_MOB,
            max(1, ev.max(), np.nanmax(out.age) if np.isfinite(out.age).any() else 1),
        )
    )
    ones = np.ones_like(out.original)
    bal = np.bincount(out.vintage, weights=out.original, minlength=n_v)
    cnt = np.bincount(out.vintage, minlength=n_v).astype(np.float64)
    if np.isfinite(out.age).any():
        ages = _low_quantile(out.vintage, out.age, n_v, 0.05)
    else:
        ages = np.zeros(n_v)
        np.maximum.at(
            ages,
            out.vintage,
            np.fmax(np.nan_to_num(out.co_mob, nan=0), np.nan_to_num(out.pp_mob, nan=0)),
        )
    ages = np.clip(ages, 0, m_max)
    co_b = _cumulative(out.vintage, out.co_mob, out.co_amount, n_v, m_max) / bal[:, None]
    co_c = _cumulative(out.vintage, out.co_mob, ones, n_v, m_max) / cnt[:, None]
    pp_b = _cumulative(out.vintage, out.pp_mob, out.pp_amount, n_v, m_max) / bal[:, None]
    pp_c = _cumulative(out.vintage, out.pp_mob, ones, n_v, m_max) / cnt[:, None]
    m = np.arange(1, m_max + 1)
    seen = m[None, :] <= ages[:, None]
    completed, factors, warnings = chain_ladder(co_b, ages)
    w = bal / bal.sum()
    c = np.nansum(completed * w[:, None], axis=0)
    pp_mean = (
        (np.where(seen, pp_b, 0.0) * w[:, None]).sum(axis=0)
        if np.isfinite(out.pp_mob).any()
        else np.zeros(m_max)
    )
    inc = np.diff(np.concatenate([[0.0], c]))
    timing = inc / c[-1] if c[-1] > 0 else np.zeros(m_max)
    surv = 1.0 - np.concatenate([[0.0], c[:-1]]) - np.concatenate([[0.0], pp_mean[:-1]])
    mdr = np.clip(np.divide(inc, surv, out=np.zeros(m_max), where=surv > 0), 0.0, 1.0)
    result: dict[str, Any] = {
        "months_on_book": m,
        "vintages": [
            {
                "vintage": out.labels[v],
                "loans": int(cnt[v]),
                "original_balance": float(bal[v]),
                "observed_months": int(ages[v]),
                "charge_off_rate": np.where(seen[v], co_b[v], np.nan),
                "charge_off_rate_count": np.where(seen[v], co_c[v], np.nan),
                "prepayment_rate": np.where(seen[v], pp_b[v], np.nan),
                "prepayment_rate_count": np.where(seen[v], pp_c[v], np.nan),
                "completed_charge_off_rate": completed[v],
            }
            for v in range(n_v)
        ],
        "development_factors": factors,
        "completion": "chain ladder on the balance charge-off curves of the vintages observed at "
        "both MOB m and m + 1",
        "loss_timing": timing,
        "default_vector": {"type": "mdr_vector", "values": mdr},
        "fitted": fit_weibull(c) if fit else None,
        "loss_rates": [loss_rates(out, nm) for nm in segment_by],
        "warnings": warnings,
    }
    return result


def loss_rates(out: Outcomes, name: str) -> dict[str, Any]:
    """Lifetime charge-off rate per value of attribute `name`: Σ charge-off amount / Σ original
    balance and charged-off count / loans (whatever the seasoning; no completion)."""
    if name not in out.attributes:
        raise InvalidInput([FieldProblem(None, name, "no such column in the outcomes")])
    codes, labels = codes_of(out.attributes[name])
    k = len(labels)
    bal = np.bincount(codes, weights=out.original, minlength=k)
    n = np.bincount(codes, minlength=k)
    co = np.bincount(codes, weights=out.co_amount, minlength=k)
    nco = np.bincount(codes, weights=np.isfinite(out.co_mob).astype(np.float64), minlength=k)
    return {
        "by": name,
        "segments": [
            {
                "segment": labels[i],
                "loans": int(n[i]),
                "original_balance": float(bal[i]),
                "charge_off_amount": float(co[i]),
                "loss_rate": float(co[i] / bal[i]),
                "count_rate": float(nco[i] / n[i]),
            }
            for i in range(k)
            if n[i] > 0
        ],
    }
