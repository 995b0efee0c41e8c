"""A CLO's collateral as arrays, its quality tests, and its projected cash flows.

Assets accrue ACT/360 on 365/12 days a month; a floater pays max(index, floor) + spread, a
fixed asset its coupon. Projection (monthly, deterministic): defaults at MDR on the performing
balance before prepayment, prepayments at SMM on what survives, the rest at maturity (bullet);
a defaulting asset pays no interest in its default month and recovers `recovery_rate` of its
balance in that month. Assets flagged `defaulted` at the start are carried at min(price,
recovery) in OC numerators and recover in month `workout_months`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from app.assets.clo.ratings import (
    CAA_OR_BELOW,
    ONE_YEAR_PD,
    RATING_FACTOR,
    MoodysRating,
    industry_diversity_score,
)
from app.engine.deals.compile import ACT_DAYS_PER_PERIOD, index_path
from app.engine.deals.parse import DealError
from app.engine.deals.schema import CollateralFlows

ACCRUAL = ACT_DAYS_PER_PERIOD / 360.0  # ACT/360 on an average month


@dataclass(frozen=True)
class Portfolio:
    """Collateral assets as arrays (one entry per asset); money in currency, rates decimals."""

    asset_id: list[str]
    par: np.ndarray
    price: np.ndarray  # per unit of par (0.97 = 97%)
    spread: np.ndarray  # floaters; 0 for fixed
    coupon: np.ndarray  # fixed assets; 0 for floaters
    floating: np.ndarray  # bool
    index: list[str | None]
    floor: np.ndarray  # index floor, decimal
    rating: list[MoodysRating]
    industry: list[str]
    obligor: list[str]
    maturity_months: np.ndarray  # int, months from the analysis date (>= 1)
    defaulted: np.ndarray  # bool
    recovery_rate: np.ndarray
    pd: np.ndarray  # one-year default probability

    @property
    def n(self) -> int:
        return int(self.par.size)

    @property
    def performing(self) -> np.ndarray:
        return ~self.defaulted


def _months_between(start: dt.date, end: dt.date) -> int:
    return (
        (end.year - start.year) * 12 + end.month - start.month + (1 if end.day > start.day else 0)
    )


def portfolio_from_assets(
    assets: Sequence[Mapping[str, Any]],
    analysis_date: dt.date,
    pd_table: Mapping[str, float] | None = None,
    prefix: tuple = ("assets",),
) -> Portfolio:
    """Assets (dicts of the API's asset fields) as a Portfolio; errors name `assets[i].field`."""
    n = len(assets)
    par = np.empty(n)
    price = np.empty(n)
    spread = np.zeros(n)
    coupon = np.zeros(n)
    floating = np.zeros(n, dtype=bool)
    floor = np.zeros(n)
    mat = np.empty(n, dtype=np.int64)
    defaulted = np.zeros(n, dtype=bool)
    rec = np.empty(n)
    pd = np.empty(n)
    ratings: list[MoodysRating] = []
    table = {**ONE_YEAR_PD, **{MoodysRating(k): float(v) for k, v in (pd_table or {}).items()}}
    for i, a in enumerate(assets):
        where = (*prefix, i)
        par[i] = a["par"]
        price[i] = a.get("price", 1.0)
        if a.get("spread") is not None:
            floating[i] = True
            spread[i] = a["spread"]
            if not a.get("index"):
                raise DealError((*where, "index"), "a floating asset (spread) needs its index")
        elif a.get("coupon") is not None:
            coupon[i] = a["coupon"]
        else:
            raise DealError(where, "an asset needs a spread (floater) or a coupon (fixed)")
        floor[i] = a.get("floor") or 0.0
        try:
            r = MoodysRating(a["rating"])
        except (KeyError, ValueError):
            raise DealError((*where, "rating"), "must be a Moody's rating (Aaa … C)") from None
        ratings.append(r)
        if a.get("maturity_date") is not None:
            m = _months_between(analysis_date, dt.date.fromisoformat(str(a["maturity_date"])))
        else:
            m = int(a.get("maturity_months") or 0)
        if m < 1:
            raise DealError((*where, "maturity_date"), "must be after the analysis date")
        mat[i] = m
        defaulted[i] = bool(a.get("defaulted", False))
        rec[i] = a.get(
            "recovery_rate", 0.45 if a.get("recovery_rate") is None else a["recovery_rate"]
        )
        pd[i] = a["pd"] if a.get("pd") is not None else table[r]
    return Portfolio(
        asset_id=[str(a.get("asset_id", i)) for i, a in enumerate(assets)],
        par=par,
        price=price,
        spread=spread,
        coupon=coupon,
        floating=floating,
        index=[a.get("index") for a in assets],
        floor=floor,
        rating=ratings,
        industry=[str(a.get("industry", "unknown")) for a in assets],
        obligor=[str(a.get("obligor") or a.get("asset_id", i)) for i, a in enumerate(assets)],
        maturity_months=mat,
        defaulted=defaulted,
        recovery_rate=rec,
        pd=pd,
    )


# ---- collateral quality tests ----------------------------------------------------------------
def warf(p: Portfolio) -> float:
    """Σ par × Moody's rating factor / Σ par over performing assets."""
    perf = p.performing
    rf = np.array([RATING_FACTOR[r] for r in p.rating])
    return float(np.dot(p.par[perf], rf[perf]) / p.par[perf].sum())


def caa_share(p: Portfolio) -> float:
    """Performing par rated Caa1 or below / performing par."""
    perf = p.performing
    caa = np.array([r in CAA_OR_BELOW for r in p.rating])
    return float(p.par[perf & caa].sum() / p.par[perf].sum())


def was(p: Portfolio) -> float | None:
    """Weighted average spread (decimal) of performing floaters, par-weighted (floors ignored)."""
    m = p.performing & p.floating
    return None if not m.any() else float(np.dot(p.par[m], p.spread[m]) / p.par[m].sum())


def wac(p: Portfolio) -> float | None:
    """Weighted average coupon (decimal) of performing fixed-rate assets, par-weighted."""
    m = p.performing & ~p.floating
    return None if not m.any() else float(np.dot(p.par[m], p.coupon[m]) / p.par[m].sum())


def wal(p: Portfolio) -> float:
    """Weighted average life in years to maturity (no prepayment), par-weighted, performing."""
    perf = p.performing
    return float(np.dot(p.par[perf], p.maturity_months[perf] / 12.0) / p.par[perf].sum())


def diversity_score(p: Portfolio) -> float:
    """Moody's diversity score: obligor par summed per obligor; each obligor counts
    min(1, its par / average obligor par) units; units summed per industry go through the
    industry diversity-score table; the industry scores add up."""
    perf = np.flatnonzero(p.performing)
    obligor_par: dict[str, float] = {}
    obligor_industry: dict[str, str] = {}
    for i in perf:
        o = p.obligor[i]
        obligor_par[o] = obligor_par.get(o, 0.0) + float(p.par[i])
        obligor_industry.setdefault(o, p.industry[i])
    avg = sum(obligor_par.values()) / len(obligor_par)
    units: dict[str, float] = {}
    for o, v in obligor_par.items():
        units[obligor_industry[o]] = units.get(obligor_industry[o], 0.0) + min(1.0, v / avg)
    return float(industry_diversity_score(np.array(list(units.values()))).sum())


QUALITY_DIRECTION = {
    "warf": "max",
    "was": "min",
    "wac": "min",
    "wal": "max",
    "diversity_score": "min",
    "caa_share": "max",
}


def quality_tests(p: Portfolio, triggers: Mapping[str, float | None]) -> dict[str, dict[str, Any]]:
    """Each quality measure with its trigger and pass/fail (maxima: value <= trigger; minima:
    value >= trigger; no trigger → passed null)."""
    values = {
        "warf": warf(p),
        "was": was(p),
        "wac": wac(p),
        "wal": wal(p),
        "diversity_score": diversity_score(p),
        "caa_share": caa_share(p),
    }
    out: dict[str, dict[str, Any]] = {}
    for name, v in values.items():
        trig = triggers.get(name)
        passed = None
        if trig is not None and v is not None:
            passed = bool(v <= trig) if QUALITY_DIRECTION[name] == "max" else bool(v >= trig)
        out[name] = {"value": v, "trigger": trig, "passed": passed}
    return out


# ---- OC haircuts -----------------------------------------------------------------------------
def ccc_excess_haircut(p: Portfolio, caa_limit: float) -> float:
    """Par of Caa-and-below assets above `caa_limit` × performing par, taken from the lowest
    priced first, counts at market value: the haircut is Σ excess par × (1 − price)."""
    perf = p.performing
    caa = np.flatnonzero(perf & np.array([r in CAA_OR_BELOW for r in p.rating]))
    excess = p.par[caa].sum() - caa_limit * p.par[perf].sum()
    if excess <= 0.0:
        return 0.0
    haircut = 0.0
    for i in caa[np.argsort(p.price[caa], kind="stable")]:
        take = min(excess, p.par[i])
        haircut += take * max(0.0, 1.0 - p.price[i])
        excess -= take
        if excess <= 0.0:
            break
    return float(haircut)


# ---- projection ------------------------------------------------------------------------------
def asset_rates(p: Portfolio, n_periods: int, index_paths: Mapping[str, np.ndarray]) -> np.ndarray:
    """(assets, periods) interest per unit of performing par per period: annual rate × ACCRUAL."""
    rate = np.repeat(p.coupon[:, None], n_periods, axis=1)
    for i in np.flatnonzero(p.floating):
        name = p.index[i]
        assert name is not None
        idx = index_path(index_paths, name, n_periods, ("assets", i, "index"))
        rate[i] = np.maximum(idx, p.floor[i]) + p.spread[i]
    return rate * ACCRUAL


@dataclass(frozen=True)
class AssetFlows:
    """Per-asset flows (assets, periods) of the performing assets under a CPR and a CDR."""

    interest: np.ndarray
    principal: np.ndarray  # prepayments, maturities and recoveries
    loss: np.ndarray
    balance: np.ndarray  # end of period


def project_assets(p: Portfolio, rates: np.ndarray, cpr: float, cdr: float) -> AssetFlows:
    """Deterministic per-asset flows (module docstring); defaulted assets give zeros here."""
    n_periods = rates.shape[1]
    smm = 1.0 - (1.0 - cpr) ** (1.0 / 12.0)
    mdr = 1.0 - (1.0 - cdr) ** (1.0 / 12.0)
    t = np.arange(1, n_periods + 1)[None, :]
    m = p.maturity_months[:, None]
    alive = t <= m
    par = np.where(p.performing, p.par, 0.0)[:, None]
    start = par * ((1.0 - mdr) * (1.0 - smm)) ** (t - 1) * alive  # balance at start of t
    default = start * mdr
    survive = start - default
    prepay = np.where(t == m, survive, survive * smm)
    rec = p.recovery_rate[:, None]
    return AssetFlows(
        interest=survive * rates,
        principal=prepay + default * rec,
        loss=default * (1.0 - rec),
        balance=start - default - prepay,
    )


def collateral_flows(
    p: Portfolio,
    flows: AssetFlows,
    *,
    caa_limit: float,
    workout_months: int,
    call_period: int | None = None,
    call_price: float = 1.0,
) -> CollateralFlows:
    """Pool totals as deal collateral, with the OC haircut per period: the CCC excess haircut
    (as a fraction of performing par at the start, applied to the performing balance) plus
    par × (1 − min(price, recovery)) of start-defaulted assets until their workout. A call
    sells everything left at `call_price` × par in `call_period` and ends the flows there."""
    n_periods = flows.interest.shape[1]
    dflt = p.defaulted
    perf_par = float(p.par[~dflt].sum())
    h_frac = ccc_excess_haircut(p, caa_limit) / perf_par if perf_par > 0 else 0.0
    interest = flows.interest.sum(axis=0)
    principal = flows.principal.sum(axis=0)
    loss = flows.loss.sum(axis=0)
    perf_bal = flows.balance.sum(axis=0)
    haircut = h_frac * perf_bal
    w = min(max(1, workout_months), n_periods)
    d_par = float(p.par[dflt].sum())
    d_rec = float(np.dot(p.par[dflt], p.recovery_rate[dflt]))
    if d_par > 0:
        carry = np.minimum(p.price[dflt], p.recovery_rate[dflt])
        haircut[: w - 1] += float(np.dot(p.par[dflt], 1.0 - carry))
        principal[w - 1] += d_rec
        loss[w - 1] += d_par - d_rec
    if call_period is not None and call_period <= n_periods:
        c = call_period
        interest, principal, loss, haircut = (
            x[:c].copy() for x in (interest, principal, loss, haircut)
        )
        left = float(perf_bal[c - 1])
        # performing assets sell at the call price (a premium over par is interest proceeds);
        # defaulted assets not yet worked out are sold at their recovery value
        principal[-1] += left * min(call_price, 1.0)
        loss[-1] += left * max(0.0, 1.0 - call_price)
        interest[-1] += left * max(0.0, call_price - 1.0)
        if c < w and d_par > 0:
            principal[-1] += d_rec
            loss[-1] += d_par - d_rec
        haircut[-1] = 0.0
    return CollateralFlows(float(p.par.sum()), interest, principal, loss, oc_haircut=haircut)
