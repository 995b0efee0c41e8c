"""Read a deal from its JSON form (the public contract) into the engine's dataclasses.

Every reference (a step naming a tranche, fee, account or test) is resolved here, once, to an
index; a bad reference or a missing required field raises `DealError` naming its path in the
deal (`deal.waterfall[3].tranches[0]`) and the reason.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from app.engine.deals.schema import (
    Account,
    CollateralFlows,
    Coupon,
    CouponType,
    CoverageTest,
    CureAction,
    CureMode,
    DayCountBasis,
    Deal,
    Fee,
    FeeBasis,
    LossAllocation,
    PrincipalMode,
    Reinvestment,
    Source,
    Step,
    StepKind,
    TestKind,
    Tranche,
    TrancheRole,
)
from app.engine.errors import EngineError

Path = tuple[str | int, ...]


class DealError(EngineError):
    """A deal that breaks a rule; `path` is the location in the request (`("deal",
    "waterfall", 3, "tranches", 0)`), `field` the same path written as text."""

    def __init__(self, path: Path, message: str) -> None:
        path = tuple(p if isinstance(p, str) else int(p) for p in path)
        self.path = path
        super().__init__(message, field=path_text(path))


def path_text(path: Path) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else p)
    return out


def _enum(cls: Any, value: Any, path: Path) -> Any:
    try:
        return cls(value)
    except ValueError:
        allowed = ", ".join(repr(m.value) for m in cls)
        raise DealError(path, f"{value!r} is not one of {allowed}") from None


def _num(
    value: Any, path: Path, *, lo: float | None = None, required: bool = False, default: float = 0.0
) -> float:
    if value is None:
        if required:
            raise DealError(path, "is required")
        return default
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise DealError(path, "must be a number")
    x = float(value)
    if not math.isfinite(x):
        raise DealError(path, "must be finite")
    if lo is not None and x < lo:
        raise DealError(path, f"must be >= {lo:g}")
    return x


def _names(items: Any, index: Mapping[str, int], path: Path, what: str) -> tuple[int, ...]:
    if items is None:
        return ()
    if not isinstance(items, list | tuple):
        raise DealError(path, f"must be a list of {what} names")
    out = []
    for j, name in enumerate(items):
        if name not in index:
            raise DealError((*path, j), f"unknown {what} {name!r}")
        out.append(index[name])
    return tuple(out)


def _ref(name: Any, index: Mapping[str, int], path: Path, what: str) -> int:
    if name is None:
        raise DealError(path, f"is required (the {what} this step uses)")
    if name not in index:
        raise DealError(path, f"unknown {what} {name!r}")
    return index[name]


def _unique(items: Sequence[Mapping[str, Any]], path: Path) -> dict[str, int]:
    seen: dict[str, int] = {}
    for i, it in enumerate(items):
        name = it.get("name")
        if not isinstance(name, str) or not name:
            raise DealError((*path, i, "name"), "is required")
        if name in seen:
            raise DealError((*path, i, "name"), f"duplicate name {name!r}")
        seen[name] = i
    return seen


def _tranche(d: Mapping[str, Any], path: Path) -> Tranche:
    role = _enum(TrancheRole, d.get("role", "debt"), (*path, "role"))
    c = d.get("coupon") or {}
    ctype = _enum(CouponType, c.get("type", "fixed"), (*path, "coupon", "type"))
    if role is TrancheRole.EQUITY:
        coupon = Coupon()
    elif ctype is CouponType.FLOATING:
        if not c.get("index"):
            raise DealError((*path, "coupon", "index"), "a floating coupon needs its index")
        coupon = Coupon(
            ctype,
            index=str(c["index"]),
            margin=_num(c.get("margin"), (*path, "coupon", "margin")),
            floor=None
            if c.get("floor") is None
            else _num(c.get("floor"), (*path, "coupon", "floor")),
        )
    else:
        coupon = Coupon(ctype, rate=_num(c.get("rate"), (*path, "coupon", "rate")))
    balance = _num(d.get("balance"), (*path, "balance"), lo=0.0, required=role is TrancheRole.DEBT)
    return Tranche(
        name=str(d["name"]),
        balance=balance,
        coupon=coupon,
        day_count=_enum(DayCountBasis, d.get("day_count", "30/360"), (*path, "day_count")),
        deferrable=bool(d.get("deferrable", False)),
        compound_shortfall=bool(d.get("compound_shortfall", False)),
        role=role,
    )


def _fee(d: Mapping[str, Any], path: Path) -> Fee:
    if d.get("rate") is not None:
        basis = _enum(FeeBasis, d.get("basis", "collateral_balance"), (*path, "basis"))
        return Fee(str(d["name"]), basis, rate=_num(d["rate"], (*path, "rate"), lo=0.0))
    if d.get("amount") is None:
        raise DealError(path, "a fee needs a `rate` (with its basis) or an `amount`")
    return Fee(str(d["name"]), FeeBasis.FIXED, amount=_num(d["amount"], (*path, "amount"), lo=0.0))


def _target(t: Any, path: Path) -> tuple[float, float]:
    if t is None:
        return 0.0, 0.0
    if not isinstance(t, Mapping):
        raise DealError(path, "must be {percent_of_collateral} and/or {amount}")
    return (
        _num(t.get("percent_of_collateral"), (*path, "percent_of_collateral"), lo=0.0),
        _num(t.get("amount"), (*path, "amount"), lo=0.0),
    )


def _test(d: Mapping[str, Any], path: Path, tr: Mapping[str, int]) -> CoverageTest:
    kind = _enum(TestKind, d.get("type"), (*path, "type"))
    if d.get("trigger") is None:
        raise DealError((*path, "trigger"), "a test needs its trigger")
    trigger = _num(d.get("trigger"), (*path, "trigger"), lo=0.0)
    names = _names(d.get("tranches"), tr, (*path, "tranches"), "tranche")
    if not names:
        raise DealError((*path, "tranches"), "a test lists at least one tranche")
    return CoverageTest(str(d["name"]), kind, names, trigger)


def _step(
    d: Mapping[str, Any],
    path: Path,
    ix: Mapping[str, Mapping[str, int]],
    deal_tranches: Sequence[Tranche],
) -> Step:
    kind = _enum(StepKind, d.get("pay"), (*path, "pay"))
    source = _enum(Source, d.get("source"), (*path, "source"))
    tranches = _names(d.get("tranches"), ix["tranche"], (*path, "tranches"), "tranche")
    for j, t in enumerate(tranches):
        if kind is not StepKind.RESIDUAL and deal_tranches[t].role is TrancheRole.EQUITY:
            raise DealError((*path, "tranches", j), "the equity takes only the residual")
    kw: dict[str, Any] = {"kind": kind, "source": source, "tranches": tranches}
    if kind is StepKind.FEES:
        kw["fees"] = _names(d.get("fees"), ix["fee"], (*path, "fees"), "fee")
        if not kw["fees"]:
            raise DealError((*path, "fees"), "a fees step lists at least one fee")
    elif kind in (StepKind.INTEREST, StepKind.PRINCIPAL) and not tranches:
        raise DealError((*path, "tranches"), f"a {kind.value} step lists at least one tranche")
    if kind is StepKind.PRINCIPAL:
        kw["mode"] = _enum(PrincipalMode, d.get("mode", "sequential"), (*path, "mode"))
        if kw["mode"] is PrincipalMode.TO_TARGET:
            if d.get("target") is None:
                raise DealError((*path, "target"), "a to_target step needs its target")
            kw["target_percent"], kw["target_amount"] = _target(d["target"], (*path, "target"))
    elif kind is StepKind.CURE:
        kw["test"] = _ref(d.get("test"), ix["test"], (*path, "test"), "test")
        kw["cure_mode"] = _enum(CureMode, d.get("mode", "full"), (*path, "mode"))
        kw["action"] = _enum(CureAction, d.get("action", "paydown"), (*path, "action"))
        kw["share"] = _num(d.get("share"), (*path, "share"), lo=0.0, default=1.0)
        if kw["share"] > 1.0:
            raise DealError((*path, "share"), "must be <= 1")
        if kw["action"] is CureAction.PAYDOWN and not tranches:
            raise DealError((*path, "tranches"), "a cure step lists the tranches it pays down")
    elif kind in (StepKind.DEPOSIT, StepKind.WITHDRAW):
        kw["account"] = _ref(d.get("account"), ix["account"], (*path, "account"), "account")
    elif kind is StepKind.RESIDUAL:
        kw["to"] = _ref(d.get("to"), ix["tranche"], (*path, "to"), "tranche")
        if deal_tranches[kw["to"]].role is not TrancheRole.EQUITY:
            raise DealError((*path, "to"), "the residual goes to an equity tranche")
    return Step(**kw)


def _reinvestment(d: Any, path: Path) -> Reinvestment | None:
    if d is None:
        return None
    if not isinstance(d, Mapping):
        raise DealError(path, "must be an object")
    r = Reinvestment(
        end_period=int(_num(d.get("end_period"), (*path, "end_period"), lo=0.0, required=True)),
        price=_num(d.get("price"), (*path, "price"), lo=1e-9, default=1.0),
        spread=_num(d.get("spread"), (*path, "spread")),
        coupon=None if d.get("coupon") is None else _num(d["coupon"], (*path, "coupon")),
        index=d.get("index"),
        floor=None if d.get("floor") is None else _num(d["floor"], (*path, "floor")),
        cpr=_num(d.get("cpr"), (*path, "cpr"), lo=0.0),
        cdr=_num(d.get("cdr"), (*path, "cdr"), lo=0.0),
        recovery_rate=_num(d.get("recovery_rate"), (*path, "recovery_rate"), lo=0.0),
        maturity_period=int(
            _num(d.get("maturity_period"), (*path, "maturity_period"), lo=1.0, required=True)
        ),
    )
    if r.cpr >= 1.0 or r.cdr >= 1.0 or r.recovery_rate > 1.0:
        raise DealError(path, "cpr and cdr must be < 1 and recovery_rate <= 1")
    if r.end_period >= r.maturity_period:
        raise DealError(
            (*path, "end_period"),
            "circular reinvestment: reinvested assets would mature inside the "
            "reinvestment period and be bought again forever; end_period must be "
            "before maturity_period",
        )
    return r


def parse_deal(d: Mapping[str, Any], prefix: Path = ("deal",)) -> Deal:
    """The engine Deal of a JSON deal; raises DealError naming the path of the first problem."""
    if not isinstance(d, Mapping):
        raise DealError(prefix, "must be an object")
    raw_tr = list(d.get("tranches") or [])
    if not raw_tr:
        raise DealError((*prefix, "tranches"), "a deal has at least one tranche")
    tr_ix = _unique(raw_tr, (*prefix, "tranches"))
    tranches = tuple(_tranche(t, (*prefix, "tranches", i)) for i, t in enumerate(raw_tr))
    raw_fees = list(d.get("fees") or [])
    fee_ix = _unique(raw_fees, (*prefix, "fees"))
    fees = tuple(_fee(f, (*prefix, "fees", i)) for i, f in enumerate(raw_fees))
    raw_acc = list(d.get("accounts") or [])
    acc_ix = _unique(raw_acc, (*prefix, "accounts"))
    accounts = []
    for i, a in enumerate(raw_acc):
        pct, amt = _target(a.get("target"), (*prefix, "accounts", i, "target"))
        accounts.append(
            Account(
                str(a["name"]),
                _num(a.get("initial"), (*prefix, "accounts", i, "initial"), lo=0.0),
                pct,
                amt,
            )
        )
    raw_tests = list(d.get("tests") or [])
    test_ix = _unique(raw_tests, (*prefix, "tests"))
    tests = tuple(_test(t, (*prefix, "tests", i), tr_ix) for i, t in enumerate(raw_tests))
    ix = {"tranche": tr_ix, "fee": fee_ix, "account": acc_ix, "test": test_ix}
    raw_steps = list(d.get("waterfall") or [])
    if not raw_steps:
        raise DealError((*prefix, "waterfall"), "a deal has at least one waterfall step")
    steps = tuple(
        _step(s, (*prefix, "waterfall", i), ix, tranches) for i, s in enumerate(raw_steps)
    )
    reinv = _reinvestment(d.get("reinvestment"), (*prefix, "reinvestment"))
    for i, s in enumerate(steps):
        if (s.kind is StepKind.REINVEST or s.action is CureAction.REINVEST) and reinv is None:
            raise DealError(
                (*prefix, "waterfall", i), "reinvestment needs deal.reinvestment (what it buys)"
            )
    return Deal(
        name=str(d.get("name") or "deal"),
        tranches=tranches,
        fees=fees,
        accounts=tuple(accounts),
        tests=tests,
        waterfall=steps,
        reinvestment=reinv,
        loss_allocation=_enum(
            LossAllocation, d.get("loss_allocation", "writedown"), (*prefix, "loss_allocation")
        ),
        closing_date=d.get("closing_date"),
    )


def _series(values: Any, path: Path, n: int | None) -> np.ndarray:
    if not isinstance(values, list | tuple | np.ndarray):
        raise DealError(path, "must be a list of numbers, one per period")
    a = np.asarray(values, dtype=np.float64)
    if a.ndim != 1 or a.size == 0:
        raise DealError(path, "must be a non-empty list of numbers")
    if n is not None and a.size != n:
        raise DealError(path, f"has {a.size} periods but interest has {n}")
    bad = np.flatnonzero(~np.isfinite(a))
    if bad.size:
        raise DealError((*path, int(bad[0])), "must be finite")
    neg = np.flatnonzero(a < 0.0)
    if neg.size:
        raise DealError((*path, int(neg[0])), "collections and losses cannot be negative")
    return a


def parse_collateral(
    d: Mapping[str, Any], prefix: Path = ("collateral_cashflows",)
) -> CollateralFlows:
    """Given collateral flows (starting balance, per-period interest, principal, losses)."""
    balance = _num(d.get("balance"), (*prefix, "balance"), lo=0.0, required=True)
    interest = _series(d.get("interest"), (*prefix, "interest"), None)
    n = interest.size
    principal = _series(d.get("principal"), (*prefix, "principal"), n)
    losses = (
        np.zeros(n) if d.get("losses") is None else _series(d.get("losses"), (*prefix, "losses"), n)
    )
    out = balance - np.cumsum(principal + losses)
    if out.size and out.min() < -1e-6 * max(balance, 1.0):
        t = int(np.flatnonzero(out < -1e-6 * max(balance, 1.0))[0])
        raise DealError(
            (*prefix, "principal", t),
            "principal plus losses exceed the starting balance by this period",
        )
    return CollateralFlows(balance, interest, principal, losses)


def check_capital_structure(
    deal: Deal, collateral_balance: float, prefix: Path = ("deal",)
) -> None:
    """Debt above the collateral with no equity to absorb the gap is refused."""
    debt = sum(deal.tranches[i].balance for i in deal.debt)
    has_equity = any(t.role is TrancheRole.EQUITY for t in deal.tranches)
    if debt > collateral_balance * (1.0 + 1e-12) and not has_equity:
        raise DealError(
            (*prefix, "tranches"),
            f"tranche balances ({debt:,.2f}) exceed the collateral "
            f"({collateral_balance:,.2f}) and the deal has no equity tranche",
        )
