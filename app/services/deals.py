"""Deal runs: the request's collateral (given flows or a projected pool) through the engine's
waterfall, shaped as bond statements, test, fee and account ledgers and the conservation check.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from app.core.config import Settings
from app.core.errors import ValidationFailed
from app.engine._lazy import lazy_module
from app.engine.deals import (
    CollateralFlows,
    Deal,
    DealError,
    DealResult,
    parse_collateral,
    parse_deal,
)
from app.engine.deals.compile import compile_deal
from app.engine.deals.parse import check_capital_structure
from app.engine.deals.run import run_deal
from app.engine.errors import EngineError
from app.engine.pool import LoanPool
from app.engine.projection import project_pool
from app.models.deals import CollateralCashflowsIn, DealIn, DealRunRequest
from app.models.forecasts import AssumptionsIn, PoolRef
from app.services import pools
from app.services.forecasts import principal_flow, to_assumptions

wk = lazy_module("app.engine._kernels.waterfall_nb")  # Numba is imported at the first run

Loc = tuple[str | int, ...]


def deal_error(exc: DealError, prefix: Loc = ("body",)) -> ValidationFailed:
    """422 with the deal path (`body.deal.waterfall.3.tranches.0`) and the reason."""
    return ValidationFailed.single((*prefix, *exc.path), exc.message, "deal_error")


def engine_deal(deal: DealIn, settings: Settings) -> Deal:
    if len(deal.tranches) > settings.deals_max_tranches:
        raise ValidationFailed.single(
            ("body", "deal", "tranches"), f"at most {settings.deals_max_tranches} tranches"
        )
    if len(deal.waterfall) > settings.deals_max_steps:
        raise ValidationFailed.single(
            ("body", "deal", "waterfall"), f"at most {settings.deals_max_steps} steps"
        )
    try:
        return parse_deal(deal.model_dump(mode="json", exclude_none=True))
    except DealError as exc:
        raise deal_error(exc) from exc


def given_collateral(c: CollateralCashflowsIn, prefix: Loc, settings: Settings) -> CollateralFlows:
    if len(c.interest) > settings.deals_max_periods:
        raise ValidationFailed.single(
            (*prefix, "interest"), f"at most {settings.deals_max_periods} periods"
        )
    try:
        return parse_collateral(c.model_dump(exclude_none=True), prefix=("collateral_cashflows",))
    except DealError as exc:
        raise ValidationFailed.single((*prefix, *exc.path[1:]), exc.message, "deal_error") from exc


def projected_collateral(
    pool: LoanPool, assumptions: AssumptionsIn | None, prefix: Loc, settings: Settings
) -> CollateralFlows:
    """The pool's forecast as collateral flows: net interest, all principal (scheduled,
    prepaid, advanced, recovered) and losses per period (DOMAIN.md §3)."""
    a = to_assumptions(assumptions or AssumptionsIn())
    try:
        proj = project_pool(pool, a)
    except EngineError as exc:
        raise ValidationFailed.from_engine(exc, prefix=(*prefix,)) from exc
    if proj.n_periods > settings.deals_max_periods:
        raise ValidationFailed.single((*prefix,), f"at most {settings.deals_max_periods} periods")
    cols = proj.columns
    return CollateralFlows(
        balance=float(cols["beginning_balance"][0]),
        interest=np.asarray(cols["interest"], dtype=np.float64),
        principal=np.asarray(principal_flow(cols), dtype=np.float64),
        losses=np.asarray(cols["loss"], dtype=np.float64),
    )


async def load_pool(session: Any, owner_id: str, ref: PoolRef) -> LoanPool:
    if ref.loans is not None:
        return pools.pool_from_loans([x.model_dump(exclude_none=True) for x in ref.loans])
    if ref.columns is not None:
        return pools.pool_from_columns(ref.columns)
    _, pool = await pools.load_pool(session, owner_id=owner_id, pool_id=str(ref.pool_id))
    return pool


def _floats(a: np.ndarray) -> list[float | None]:
    return [float(x) if np.isfinite(x) else None for x in np.asarray(a, dtype=np.float64)]


def result_json(res: DealResult) -> dict[str, Any]:
    """The run as JSON columns over periods 1..N (currency unless named otherwise)."""
    deal = res.deal
    led = res.ledgers
    warnings: list[str] = []
    tests: dict[str, Any] = {}
    zeros: list[str] = []
    for k, t in enumerate(deal.tests):
        value = led.tests[0, k]
        zero = np.flatnonzero(~np.isfinite(value))
        if zero.size:
            zeros.append(f"{t.name} from period {int(zero[0]) + 1}")
        tests[t.name] = {
            "value": _floats(value),
            "trigger": t.trigger,
            "passed": [bool(x) for x in led.tests[1, k]],
            "cure_paid": _floats(led.tests[2, k]),
        }
    if zeros:
        warnings.append("zero denominator (value null, test passes): " + ", ".join(zeros))
    c = led.collateral
    return {
        "deal": deal.name,
        "n_periods": res.n_periods,
        "periods": list(range(1, res.n_periods + 1)),
        "tranches": {
            t.name: {k: _floats(v) for k, v in res.tranche_columns(j).items()}
            for j, t in enumerate(deal.tranches)
        },
        "tests": tests,
        "fees": {
            f.name: {"paid": _floats(led.fees[0, i]), "unpaid": _floats(led.fees[1, i])}
            for i, f in enumerate(deal.fees)
        },
        "accounts": {
            a.name: {"balance": _floats(led.accounts[i])} for i, a in enumerate(deal.accounts)
        },
        "collateral": {
            "balance": _floats(c[wk.C_BAL]),
            "interest": _floats(c[wk.C_INT]),
            "principal": _floats(c[wk.C_PRIN]),
            "losses": _floats(c[wk.C_LOSS]),
            "reinvested": _floats(c[wk.C_REINV]),
            "reinvested_par": _floats(c[wk.C_REINV_PAR]),
            "cash_carried": _floats(c[wk.C_CARRY_OUT]),
        },
        "checks": {"cash_in_equals_cash_out": True, "max_abs_difference": res.max_abs_difference},
        "warnings": warnings,
    }


def run_one(
    deal: Deal,
    coll: CollateralFlows,
    index_paths: Mapping[str, Sequence[float]],
    prefix: Loc = ("body",),
) -> DealResult:
    try:
        check_capital_structure(deal, coll.balance)
        return run_deal(
            deal, coll, {k: np.asarray(v, dtype=np.float64) for k, v in index_paths.items()}
        )
    except DealError as exc:
        raise deal_error(exc, prefix) from exc


async def run_request(
    body: DealRunRequest, settings: Settings, *, session: Any = None, owner_id: str = ""
) -> dict[str, Any]:
    """Run the deal once, or once per scenario (a scenario's collateral or assumptions replace
    the request's; its index paths are merged over the request's)."""
    deal = engine_deal(body.deal, settings)
    pool = await load_pool(session, owner_id, body.pool) if body.pool is not None else None

    def collateral(
        cc: CollateralCashflowsIn | None, a: AssumptionsIn | None, prefix: Loc
    ) -> CollateralFlows:
        if cc is not None:
            return given_collateral(cc, (*prefix, "collateral_cashflows"), settings)
        if pool is None:
            raise ValidationFailed.single(
                prefix, "no collateral: give collateral_cashflows or pool"
            )
        return projected_collateral(pool, a, ("body", "pool"), settings)

    if not body.scenarios:
        coll = collateral(body.collateral_cashflows, body.assumptions, ("body",))
        return result_json(run_one(deal, coll, body.index_paths))
    if len(body.scenarios) > settings.deals_max_scenarios:
        raise ValidationFailed.single(
            ("body", "scenarios"), f"at most {settings.deals_max_scenarios} scenarios"
        )
    out = []
    for i, sc in enumerate(body.scenarios):
        prefix: Loc = ("body", "scenarios", i)
        coll = collateral(
            sc.collateral_cashflows or body.collateral_cashflows,
            sc.assumptions or body.assumptions,
            prefix,
        )
        paths = {**body.index_paths, **(sc.index_paths or {})}
        out.append({"name": sc.name, **result_json(run_one(deal, coll, paths))})
    return {"deal": deal.name, "scenarios": out, "warnings": []}


def warm_up() -> None:
    """Run a tiny deal and a two-path waterfall so that the deal kernels are compiled (or
    loaded from the on-disk cache) before the first request."""
    from app.engine._kernels.collateral_nb import collateral_paths_nb
    from app.engine._kernels.copula_nb import default_months_nb

    deal = parse_deal(
        {
            "tranches": [{"name": "A", "balance": 1.0}, {"name": "E", "role": "equity"}],
            "waterfall": [{"source": "interest", "pay": "residual", "to": "E"}],
        }
    )
    coll = CollateralFlows(2.0, np.ones(2), np.ones(2), np.zeros(2), np.zeros(2))
    res = run_deal(deal, coll)
    arr = compile_deal(deal, 2)
    z = np.zeros((1, 2))
    wk.paths_nb(
        z,
        z,
        z,
        2.0,
        z,
        *arr.args(),
        1,
        np.empty((1, 2)),
        np.empty((1, 2)),  # type: ignore[call-arg]
        np.empty((1, 0)),
    )
    one = np.ones((1, 2))
    collateral_paths_nb(
        one,
        one,
        one,
        one,
        one,
        one[0],
        one[0],
        one[0],
        one[0],
        np.ones((1, 1), dtype=np.int64),
        np.ones((1, 1)),
        *(np.empty((1, 2)) for _ in range(4)),
    )
    default_months_nb(np.zeros((1, 1)), np.ones(1), np.ones(1), np.empty((1, 1), dtype=np.int64))
    del res
