"""Lay a deal out as the flat arrays the waterfall kernel reads.

Coupons become a per-(tranche, period) annual rate (index path + margin, floored, for floaters;
an index path shorter than the deal holds its last value) and a per-(tranche, period) accrual
fraction from the tranche's day count (schema.DayCountBasis).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, fields

import numpy as np

from app.engine.deals.parse import DealError
from app.engine.deals.schema import (
    MODE_CODES,
    SOURCE_CODES,
    STEP_CODES,
    CouponType,
    CureAction,
    CureMode,
    DayCountBasis,
    Deal,
    FeeBasis,
    LossAllocation,
    TestKind,
    TrancheRole,
)

ACT_DAYS_PER_PERIOD = 365.0 / 12.0


@dataclass(frozen=True)
class DealArrays:
    """The deal as arrays, in the kernel's argument order after the collateral (see
    `_kernels.waterfall_nb.waterfall_nb`)."""

    tr_bal0: np.ndarray
    tr_rate: np.ndarray
    tr_acc: np.ndarray
    tr_defer: np.ndarray
    tr_compound: np.ndarray
    fee_rate: np.ndarray
    fee_amt: np.ndarray
    acc_init: np.ndarray
    acc_pct: np.ndarray
    acc_amt: np.ndarray
    test_kind: np.ndarray
    test_trig: np.ndarray
    test_member: np.ndarray
    st_kind: np.ndarray
    st_src: np.ndarray
    st_mode: np.ndarray
    st_cure: np.ndarray
    st_action: np.ndarray
    st_test: np.ndarray
    st_account: np.ndarray
    st_to: np.ndarray
    st_tpct: np.ndarray
    st_tamt: np.ndarray
    st_share: np.ndarray
    st_start: np.ndarray
    st_len: np.ndarray
    st_list: np.ndarray
    rb_rate: np.ndarray
    rb_acc: float
    rb_smm: float
    rb_mdr: float
    rb_rec: float
    rb_price: float
    rb_end: int
    rb_mat: int
    writedown: bool

    def args(self) -> tuple:
        return tuple(getattr(self, f.name) for f in fields(self))


def index_path(index_paths: Mapping[str, np.ndarray], name: str, n: int, path: tuple) -> np.ndarray:
    """The index (annual decimal) for periods 1..n; a shorter path holds its last value."""
    if name not in index_paths:
        raise DealError(path, f"index {name!r} has no path in index_paths")
    v = np.asarray(index_paths[name], dtype=np.float64).ravel()
    if v.size == 0 or not np.all(np.isfinite(v)):
        raise DealError(("index_paths", name), "must be a non-empty list of finite rates")
    if v.size >= n:
        return v[:n].copy()
    return np.concatenate([v, np.full(n - v.size, v[-1])])


def accruals(day_count: DayCountBasis, n: int, closing_date: str | None) -> np.ndarray:
    """Accrual fraction of each monthly period: 30/360 → 1/12; ACT/360 and ACT/365 → actual
    days between monthly dates from `closing_date` (or 365/12 days) over 360 or 365."""
    if day_count is DayCountBasis.THIRTY_360:
        return np.full(n, 1.0 / 12.0)
    base = 360.0 if day_count is DayCountBasis.ACT_360 else 365.0
    if closing_date is None:
        return np.full(n, ACT_DAYS_PER_PERIOD / base)
    try:
        d0 = dt.date.fromisoformat(closing_date)
    except ValueError:
        raise DealError(("deal", "closing_date"), "must be an ISO date (YYYY-MM-DD)") from None
    months = np.arange(n + 1)
    y = d0.year + (d0.month - 1 + months) // 12
    mo = (d0.month - 1 + months) % 12 + 1
    days = np.array(
        [dt.date(int(a), int(b), min(d0.day, 28)).toordinal() for a, b in zip(y, mo, strict=True)]
    )
    return np.diff(days).astype(np.float64) / base


def compile_deal(
    deal: Deal, n_periods: int, index_paths: Mapping[str, np.ndarray] | None = None
) -> DealArrays:
    """The deal's arrays for an n_periods run."""
    idx = index_paths or {}
    n = len(deal.tranches)
    rate = np.zeros((n, n_periods))
    acc = np.zeros((n, n_periods))
    for j, t in enumerate(deal.tranches):
        if t.role is TrancheRole.EQUITY:
            continue
        c = t.coupon
        if c.type is CouponType.FLOATING:
            assert c.index is not None
            r = index_path(idx, c.index, n_periods, ("deal", "tranches", j, "coupon", "index"))
            r = r + c.margin
            if c.floor is not None:
                r = np.maximum(r, c.floor)
        else:
            r = np.full(n_periods, c.rate)
        rate[j] = r
        acc[j] = accruals(t.day_count, n_periods, deal.closing_date)
    members = np.zeros((len(deal.tests), n), dtype=np.int8)
    for k, test in enumerate(deal.tests):
        senior_to = max(test.tranches)
        for j in range(senior_to + 1):
            if deal.tranches[j].role is TrancheRole.DEBT:
                members[k, j] = 1
    lists: list[int] = []
    start, length = [], []
    for s in deal.waterfall:
        items = s.fees if s.fees else s.tranches
        start.append(len(lists))
        length.append(len(items))
        lists.extend(items)
    steps = deal.waterfall
    rv = deal.reinvestment
    if rv is not None:
        if rv.coupon is not None:
            rb_rate = np.full(n_periods, rv.coupon)
        elif rv.index is not None:
            rb_rate = (
                index_path(idx, rv.index, n_periods, ("deal", "reinvestment", "index")) + rv.spread
            )
        else:
            rb_rate = np.full(n_periods, rv.spread)
        if rv.floor is not None:
            rb_rate = np.maximum(rb_rate, rv.floor)
        rb = (
            ACT_DAYS_PER_PERIOD / 360.0,
            1.0 - (1.0 - rv.cpr) ** (1.0 / 12.0),
            1.0 - (1.0 - rv.cdr) ** (1.0 / 12.0),
            rv.recovery_rate,
            rv.price,
            rv.end_period,
            min(rv.maturity_period, n_periods),
        )  # what is left at the horizon repays at par
    else:
        rb_rate = np.zeros(n_periods)
        rb = (0.0, 0.0, 0.0, 0.0, 1.0, 0, n_periods + 1)
    i8 = np.int64
    return DealArrays(
        tr_bal0=np.array([t.balance if t.role is TrancheRole.DEBT else 0.0 for t in deal.tranches]),
        tr_rate=rate,
        tr_acc=acc,
        tr_defer=np.array([t.deferrable for t in deal.tranches], dtype=np.bool_),
        tr_compound=np.array([t.compound_shortfall for t in deal.tranches], dtype=np.bool_),
        fee_rate=np.array(
            [f.rate if f.basis is FeeBasis.COLLATERAL_BALANCE else 0.0 for f in deal.fees],
            dtype=np.float64,
        ),
        fee_amt=np.array(
            [f.amount if f.basis is FeeBasis.FIXED else 0.0 for f in deal.fees], dtype=np.float64
        ),
        acc_init=np.array([a.initial for a in deal.accounts], dtype=np.float64),
        acc_pct=np.array([a.target_percent for a in deal.accounts], dtype=np.float64),
        acc_amt=np.array([a.target_amount for a in deal.accounts], dtype=np.float64),
        test_kind=np.array([0 if t.kind is TestKind.OC else 1 for t in deal.tests], dtype=i8),
        test_trig=np.array([t.trigger for t in deal.tests], dtype=np.float64),
        test_member=members,
        st_kind=np.array([STEP_CODES[s.kind] for s in steps], dtype=i8),
        st_src=np.array([SOURCE_CODES[s.source] for s in steps], dtype=i8),
        st_mode=np.array([MODE_CODES[s.mode] for s in steps], dtype=i8),
        st_cure=np.array([1 if s.cure_mode is CureMode.CURE else 0 for s in steps], dtype=i8),
        st_action=np.array([1 if s.action is CureAction.REINVEST else 0 for s in steps], dtype=i8),
        st_test=np.array([s.test for s in steps], dtype=i8),
        st_account=np.array([s.account for s in steps], dtype=i8),
        st_to=np.array([s.to for s in steps], dtype=i8),
        st_tpct=np.array([s.target_percent for s in steps], dtype=np.float64),
        st_tamt=np.array([s.target_amount for s in steps], dtype=np.float64),
        st_share=np.array([s.share for s in steps], dtype=np.float64),
        st_start=np.array(start, dtype=i8),
        st_len=np.array(length, dtype=i8),
        st_list=np.array(lists, dtype=i8),
        rb_rate=rb_rate,
        rb_acc=float(rb[0]),
        rb_smm=float(rb[1]),
        rb_mdr=float(rb[2]),
        rb_rec=float(rb[3]),
        rb_price=float(rb[4]),
        rb_end=int(rb[5]),
        rb_mat=int(rb[6]),
        writedown=deal.loss_allocation is LossAllocation.WRITEDOWN,
    )
