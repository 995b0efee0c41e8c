"""Request and response schemas of POST /api/v1/deals/run (the deal contract of issue 13).

Vocabulary fields (`pay`, `source`, `mode`, `type`, `day_count`, `role`, `basis`) are the
engine's enums (app.engine.deals.schema), so the accepted words are exactly the engine's.
References between parts of the deal (a step naming a tranche) are checked by the engine's
parser, which names the path (`deal.waterfall[3].tranches[0]`).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.engine.deals.schema import (
    CouponType,
    CureAction,
    CureMode,
    DayCountBasis,
    FeeBasis,
    LossAllocation,
    PrincipalMode,
    Source,
    StepKind,
    TestKind,
    TrancheRole,
)
from app.models.forecasts import AssumptionsIn, PoolRef

Num = Annotated[float, Field(allow_inf_nan=False)]
NonNeg = Annotated[float, Field(allow_inf_nan=False, ge=0.0)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CouponIn(_Strict):
    type: CouponType = Field(CouponType.FIXED, description="fixed or floating.")
    rate: Num | None = Field(None, description="Fixed coupon, annual decimal.")
    index: str | None = Field(None, description="Index of a floater; its path in index_paths.")
    margin: Num | None = Field(None, description="Floater margin over the index, decimal.")
    floor: Num | None = Field(None, description="Floor on the all-in floating rate, decimal.")


class TrancheIn(_Strict):
    name: str = Field(min_length=1, max_length=64)
    balance: NonNeg | None = Field(None, description="Original balance (currency); debt only.")
    coupon: CouponIn | None = None
    day_count: DayCountBasis = Field(DayCountBasis.THIRTY_360, description="Coupon day count.")
    deferrable: bool = Field(False, description="Unpaid interest is capitalised (PIK).")
    compound_shortfall: bool = Field(False, description="Carried shortfall earns the coupon.")
    role: TrancheRole = Field(TrancheRole.DEBT, description="debt or equity (residual).")


class FeeIn(_Strict):
    name: str = Field(min_length=1, max_length=64)
    rate: NonNeg | None = Field(None, description="Annual rate on the basis (decimal).")
    basis: FeeBasis | None = Field(None, description="collateral_balance (start of period).")
    amount: NonNeg | None = Field(None, description="Fixed amount each period (currency).")


class TargetIn(_Strict):
    percent_of_collateral: NonNeg | None = Field(None, description="Fraction of collateral.")
    amount: NonNeg | None = Field(None, description="Fixed amount (currency).")


class AccountIn(_Strict):
    name: str = Field(min_length=1, max_length=64)
    initial: NonNeg = 0.0
    target: TargetIn | None = None


class TestIn(_Strict):
    __test__ = False
    name: str = Field(min_length=1, max_length=64)
    type: TestKind
    tranches: list[str] = Field(min_length=1)
    trigger: Num | None = Field(None, description="Passes when ratio >= trigger.")


class StepIn(_Strict):
    source: Source
    pay: StepKind
    tranches: list[str] | None = None
    fees: list[str] | None = None
    mode: PrincipalMode | CureMode | None = Field(
        None, description="principal: sequential, pro_rata, to_target; cure: full or cure."
    )
    target: TargetIn | None = Field(None, description="to_target: the target balance.")
    test: str | None = Field(None, description="cure: the test it evaluates.")
    action: CureAction | None = Field(None, description="cure: paydown (default) or reinvest.")
    share: Num | None = Field(None, description="cure: fraction of the source's cash usable.")
    account: str | None = Field(None, description="deposit/withdraw: the account.")
    to: str | None = Field(None, description="residual: the equity tranche.")


class ReinvestmentIn(_Strict):
    end_period: int = Field(ge=0, description="Last period in which reinvestment buys.")
    price: Num = Field(1.0, gt=0.0, description="Price per unit of par of what it buys.")
    spread: Num = Field(0.0, description="Spread over `index` (or the coupon with no index).")
    coupon: Num | None = Field(None, description="Fixed coupon of what it buys.")
    index: str | None = None
    floor: Num | None = None
    cpr: NonNeg = 0.0
    cdr: NonNeg = 0.0
    recovery_rate: NonNeg = 0.0
    maturity_period: int = Field(ge=1, description="Period in which reinvested assets repay.")


class DealIn(_Strict):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "CLO 2026-1",
                    "tranches": [
                        {
                            "name": "A",
                            "balance": 80000000,
                            "coupon": {"type": "fixed", "rate": 0.05},
                            "day_count": "30/360",
                        },
                        {
                            "name": "B",
                            "balance": 12000000,
                            "coupon": {"type": "floating", "index": "SOFR", "margin": 0.03},
                            "deferrable": True,
                        },
                        {"name": "E", "role": "equity"},
                    ],
                    "fees": [
                        {"name": "trustee", "rate": 0.0002, "basis": "collateral_balance"},
                        {"name": "admin", "amount": 5000},
                    ],
                    "accounts": [
                        {"name": "reserve", "initial": 0, "target": {"percent_of_collateral": 0.01}}
                    ],
                    "tests": [
                        {"name": "oc_AB", "type": "oc", "tranches": ["A", "B"], "trigger": 1.08},
                        {"name": "ic_AB", "type": "ic", "tranches": ["A", "B"], "trigger": 1.10},
                    ],
                    "waterfall": [
                        {
                            "source": "principal",
                            "pay": "principal",
                            "tranches": ["A", "B"],
                            "mode": "sequential",
                        },
                        {"source": "principal", "pay": "residual", "to": "E"},
                        {"source": "interest", "pay": "fees", "fees": ["trustee", "admin"]},
                        {"source": "interest", "pay": "interest", "tranches": ["A"]},
                        {"source": "interest", "pay": "interest", "tranches": ["B"]},
                        {
                            "source": "interest",
                            "pay": "cure",
                            "test": "oc_AB",
                            "mode": "cure",
                            "tranches": ["A", "B"],
                        },
                        {"source": "interest", "pay": "residual", "to": "E"},
                    ],
                }
            ]
        },
    )

    name: str = Field("deal", max_length=200)
    tranches: list[TrancheIn] = Field(min_length=1, description="Most senior first.")
    fees: list[FeeIn] = []
    accounts: list[AccountIn] = []
    tests: list[TestIn] = []
    waterfall: list[StepIn] = Field(min_length=1, description="Steps in order, each period.")
    reinvestment: ReinvestmentIn | None = None
    loss_allocation: LossAllocation = LossAllocation.WRITEDOWN
    closing_date: str | None = Field(None, description="ISO date; ACT day counts use it.")


class CollateralCashflowsIn(_Strict):
    balance: NonNeg = Field(description="Collateral balance at the start (currency).")
    interest: list[Num] = Field(min_length=1, description="Interest collections per period.")
    principal: list[Num] = Field(min_length=1, description="Principal collections per period.")
    losses: list[Num] | None = Field(None, description="Realised losses per period.")


class DealScenarioIn(_Strict):
    name: str = Field(min_length=1, max_length=100)
    collateral_cashflows: CollateralCashflowsIn | None = None
    assumptions: AssumptionsIn | None = None
    index_paths: dict[str, list[Num]] | None = None


class DealRunRequest(_Strict):
    """POST /api/v1/deals/run body: a deal and its collateral (given flows, or a pool projected
    under assumptions); optional scenarios that replace the collateral or assumptions."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "deal": {
                        "name": "two notes",
                        "tranches": [
                            {"name": "A", "balance": 80, "coupon": {"type": "fixed", "rate": 0.06}},
                            {"name": "E", "role": "equity"},
                        ],
                        "waterfall": [
                            {"source": "interest", "pay": "interest", "tranches": ["A"]},
                            {"source": "principal", "pay": "principal", "tranches": ["A"]},
                            {"source": "interest", "pay": "residual", "to": "E"},
                            {"source": "principal", "pay": "residual", "to": "E"},
                        ],
                    },
                    "collateral_cashflows": {
                        "balance": 100,
                        "interest": [0.6, 0.6, 0.6],
                        "principal": [1, 1, 98],
                        "losses": [0, 0, 0],
                    },
                }
            ]
        },
    )

    deal: DealIn
    collateral_cashflows: CollateralCashflowsIn | None = None
    pool: PoolRef | None = None
    assumptions: AssumptionsIn | None = None
    index_paths: dict[str, list[Num]] = Field(
        default_factory=dict, description="Annual decimal index rates per period, by name."
    )
    scenarios: list[DealScenarioIn] | None = None

    @model_validator(mode="after")
    def _one_collateral(self) -> DealRunRequest:
        if (self.collateral_cashflows is None) == (self.pool is None):
            raise ValueError("give exactly one of collateral_cashflows or pool")
        return self


class DealRunResponse(BaseModel):
    """One run: columns over periods 1..N. With scenarios, `scenarios` holds one such run each."""

    model_config = ConfigDict(extra="allow")

    deal: str
    n_periods: int | None = None
    periods: list[int] | None = None
    tranches: dict[str, dict[str, list[float | None]]] | None = None
    tests: dict[str, dict[str, Any]] | None = None
    fees: dict[str, dict[str, list[float | None]]] | None = None
    accounts: dict[str, dict[str, list[float | None]]] | None = None
    collateral: dict[str, list[float | None]] | None = None
    checks: dict[str, Any] | None = None
    scenarios: list[dict[str, Any]] | None = None
    warnings: list[str] = []
