"""CLO/CDO analysis: collateral quality tests, the deal over the projected assets (with
reinvestment, OC haircuts, call), and the setup shared by tranche analysis and the copula
Monte Carlo."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from app.assets.clo.portfolio import (
    Portfolio,
    asset_rates,
    ccc_excess_haircut,
    collateral_flows,
    portfolio_from_assets,
    project_assets,
    quality_tests,
)
from app.assets.clo.ratings import RATING_FACTOR
from app.core.config import Settings
from app.core.errors import ValidationFailed
from app.engine.deals import CollateralFlows, Deal, DealError, parse_deal
from app.engine.deals.compile import DealArrays, compile_deal
from app.engine.deals.parse import check_capital_structure
from app.engine.deals.run import DealResult, run_deal
from app.models.clo import CloAnalyzeRequest, CloReinvestmentIn
from app.services.deals import deal_error, result_json


@dataclass(frozen=True)
class CloSetup:
    """Everything a CLO run needs, built once per request."""

    portfolio: Portfolio
    rates: np.ndarray  # (assets, periods) interest per unit of par per period
    n_periods: int
    deal: Deal | None
    arrays: DealArrays | None
    call_period: int | None
    warnings: list[str]
    bucket_follows_cdr: bool = False  # reinvested assets default at the run's CDR


def _reinvestment(
    r: CloReinvestmentIn, cpr: float, cdr: float, warnings: list[str]
) -> dict[str, Any]:
    """The deal's reinvestment block; an ineligible reinvestment asset buys nothing."""
    e = r.eligibility
    wal_years = max(0.0, (r.maturity_period - r.end_period) / 12.0)
    reasons = []
    if e.min_spread is not None and r.coupon is None and r.spread < e.min_spread:
        reasons.append(f"spread {r.spread:g} < {e.min_spread:g}")
    if e.max_price is not None and r.price > e.max_price:
        reasons.append(f"price {r.price:g} > {e.max_price:g}")
    if e.max_rating_factor is not None and RATING_FACTOR[r.rating] > e.max_rating_factor:
        reasons.append(
            f"rating {r.rating.value} factor {RATING_FACTOR[r.rating]:g} > {e.max_rating_factor:g}"
        )
    if e.max_wal_years is not None and wal_years > e.max_wal_years:
        reasons.append(f"WAL {wal_years:g}y > {e.max_wal_years:g}y")
    end = r.end_period
    if reasons:
        warnings.append(
            "reinvestment asset is not eligible ("
            + "; ".join(reasons)
            + "): no reinvestment; principal proceeds go down the waterfall"
        )
        end = 0
    return {
        "end_period": end,
        "price": r.price,
        "spread": r.spread,
        "coupon": r.coupon,
        "index": r.index,
        "floor": r.floor,
        "maturity_period": r.maturity_period,
        "cpr": cpr if r.cpr is None else r.cpr,
        "cdr": cdr if r.cdr is None else r.cdr,
        "recovery_rate": r.recovery_rate,
    }


def build_setup(req: CloAnalyzeRequest, settings: Settings, *, need_deal: bool = False) -> CloSetup:
    if len(req.assets) > settings.clo_max_assets:
        raise ValidationFailed.single(
            ("body", "assets"), f"at most {settings.clo_max_assets} assets"
        )
    a = req.assumptions
    warnings: list[str] = []
    try:
        p = portfolio_from_assets(
            [x.model_dump(exclude_none=True) for x in req.assets],
            a.analysis_date,
            {k.value: v for k, v in (a.pd_table or {}).items()},
        )
    except DealError as exc:
        raise deal_error(exc) from exc
    if not p.performing.any():
        raise ValidationFailed.single(("body", "assets"), "every asset is defaulted")
    n = a.n_periods or int(p.maturity_months.max())
    if n > settings.deals_max_periods:
        raise ValidationFailed.single(
            ("body", "assumptions", "n_periods"), f"at most {settings.deals_max_periods} periods"
        )
    paths = {k: np.asarray(v, dtype=np.float64) for k, v in a.index_paths.items()}
    try:
        rates = asset_rates(p, n, paths)
    except DealError as exc:
        raise deal_error(exc) from exc
    call_period = None
    if req.call is not None and req.call.call_period is not None:
        if req.call.call_period <= req.call.non_call_period:
            raise ValidationFailed.single(
                ("body", "call", "call_period"),
                "the deal cannot be called inside its non-call period",
            )
        call_period = req.call.call_period
        if call_period < n:
            n = call_period
            rates = rates[:, :n]
    if call_period is None and n < int(p.maturity_months.max()):
        call_period = n
        warnings.append(
            f"the horizon ({n} periods) ends before the last asset matures: what is "
            f"left is sold in period {n} at the call price (par without a call)"
        )
    deal = arrays = None
    if req.deal is None:
        if need_deal:
            raise ValidationFailed.single(("body", "deal"), "tranche analysis needs the deal")
    else:
        d = req.deal.model_dump(mode="json", exclude_none=True)
        if "loss_allocation" not in req.deal.model_fields_set:
            d["loss_allocation"] = "none"  # a CLO does not write notes down; unpaid par is the loss
        if req.reinvestment is not None:
            d["reinvestment"] = _reinvestment(req.reinvestment, a.cpr, a.cdr, warnings)
            if not any(s["pay"] == "reinvest" for s in d["waterfall"]):
                first = next(
                    (i for i, s in enumerate(d["waterfall"]) if s["source"] == "principal"), 0
                )
                d["waterfall"].insert(first, {"source": "principal", "pay": "reinvest"})
                warnings.append(
                    f"a principal reinvest step was inserted at deal.waterfall[{first}]"
                )
        try:
            deal = parse_deal(d)
            check_capital_structure(deal, float(p.par.sum()))
            arrays = compile_deal(deal, n, paths)
        except DealError as exc:
            if req.reinvestment is not None and exc.path[:2] == ("deal", "reinvestment"):
                raise deal_error(
                    DealError(exc.path[1:], exc.message)
                ) from exc  # the request's own block
            raise deal_error(exc) from exc
    follows = req.reinvestment is not None and req.reinvestment.cdr is None
    return CloSetup(p, rates, n, deal, arrays, call_period, warnings, follows)


def collateral(setup: CloSetup, req: CloAnalyzeRequest, cpr: float, cdr: float) -> CollateralFlows:
    flows = project_assets(setup.portfolio, setup.rates, cpr, cdr)
    call_price = req.call.price if req.call is not None else 1.0
    return collateral_flows(
        setup.portfolio,
        flows,
        caa_limit=req.assumptions.caa_limit,
        workout_months=req.assumptions.workout_months,
        call_period=setup.call_period,
        call_price=call_price,
    )


def run_at(setup: CloSetup, req: CloAnalyzeRequest, cdr: float) -> DealResult:
    """The deal at a constant CDR of the assets (and of reinvested assets unless the
    reinvestment states its own cdr)."""
    assert setup.deal is not None and setup.arrays is not None
    coll = collateral(setup, req, req.assumptions.cpr, cdr)
    arrays = setup.arrays
    if setup.bucket_follows_cdr and cdr != req.assumptions.cdr:
        arrays = replace(arrays, rb_mdr=1.0 - (1.0 - cdr) ** (1.0 / 12.0))
    return run_deal(setup.deal, coll, arrays=arrays)


def collateral_summary(setup: CloSetup, req: CloAnalyzeRequest) -> dict[str, Any]:
    p = setup.portfolio
    return {
        "n_assets": p.n,
        "par": float(p.par.sum()),
        "performing_par": float(p.par[p.performing].sum()),
        "defaulted_par": float(p.par[p.defaulted].sum()),
        "market_value": float(np.dot(p.par, p.price)),
        "ccc_excess_haircut": ccc_excess_haircut(p, req.assumptions.caa_limit),
        "n_periods": setup.n_periods,
    }


def analyze(req: CloAnalyzeRequest, settings: Settings) -> dict[str, Any]:
    """Quality tests of the collateral, and the deal's statements when a deal is given."""
    setup = build_setup(req, settings)
    out: dict[str, Any] = {
        "quality_tests": quality_tests(
            setup.portfolio, req.assumptions.quality_triggers.model_dump()
        ),
        "collateral": collateral_summary(setup, req),
        "deal": None,
        "warnings": list(setup.warnings),
    }
    if setup.deal is not None:
        run = run_at(setup, req, req.assumptions.cdr)
        out["deal"] = result_json(run)
        out["warnings"] += out["deal"].pop("warnings")
    return out
