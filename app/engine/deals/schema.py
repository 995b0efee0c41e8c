"""The deal vocabulary: step types, sources, modes and the frozen dataclasses of a deal.

Every word a user sends in a deal (a step's `pay`, its `source`, a principal `mode`, a test
`type`, a coupon `type`, a day count) is one of these enums; the API's pydantic schemas derive
their Literals from them and the waterfall compares enum members, never strings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum, StrEnum

import numpy as np


class Source(StrEnum):
    """The cash a step draws from: the period's interest or principal collections."""

    INTEREST = "interest"
    PRINCIPAL = "principal"


class StepKind(StrEnum):
    """What a waterfall step pays (`pay`)."""

    FEES = "fees"
    INTEREST = "interest"
    PRINCIPAL = "principal"
    CURE = "cure"
    DEPOSIT = "deposit"
    WITHDRAW = "withdraw"
    REINVEST = "reinvest"
    RESIDUAL = "residual"


class PrincipalMode(StrEnum):
    """How a principal step splits its cash among its tranches."""

    SEQUENTIAL = "sequential"
    PRO_RATA = "pro_rata"
    TO_TARGET = "to_target"


class CureMode(StrEnum):
    """A failing test's cure: all remaining cash of the source, or just enough to pass."""

    FULL = "full"
    CURE = "cure"


class CureAction(StrEnum):
    """Where cure cash goes: pay down the listed tranches, or buy collateral (interest
    diversion during the reinvestment period)."""

    PAYDOWN = "paydown"
    REINVEST = "reinvest"


class TestKind(StrEnum):
    """Coverage tests: over-collateralisation (par) and interest coverage."""

    __test__ = False  # not a pytest class
    OC = "oc"
    IC = "ic"


class CouponType(StrEnum):
    FIXED = "fixed"
    FLOATING = "floating"


class DayCountBasis(StrEnum):
    """Tranche coupon day counts on monthly periods: 30/360 accrues 1/12 a period; ACT/360 and
    ACT/365 accrue actual days (from `Deal.closing_date`) or 365/12 days a period with no date."""

    THIRTY_360 = "30/360"
    ACT_360 = "ACT/360"
    ACT_365 = "ACT/365"


class TrancheRole(StrEnum):
    DEBT = "debt"
    EQUITY = "equity"


class FeeBasis(StrEnum):
    """A fee is `rate` × collateral balance at the start of the period × 1/12, or a fixed
    `amount` each period."""

    COLLATERAL_BALANCE = "collateral_balance"
    FIXED = "fixed"


class LossAllocation(StrEnum):
    """`writedown`: at period end, debt above the collateral balance is written down, most
    junior first. `none`: no writedown (a CLO); unpaid principal is the loss at the end."""

    WRITEDOWN = "writedown"
    NONE = "none"


class KindCode(IntEnum):
    """Integer codes of the step kinds for the Numba kernel (same order as StepKind)."""

    FEES = 0
    INTEREST = 1
    PRINCIPAL = 2
    CURE = 3
    DEPOSIT = 4
    WITHDRAW = 5
    REINVEST = 6
    RESIDUAL = 7


STEP_CODES: dict[StepKind, int] = {k: KindCode[k.name].value for k in StepKind}
SOURCE_CODES: dict[Source, int] = {Source.INTEREST: 0, Source.PRINCIPAL: 1}
MODE_CODES: dict[PrincipalMode, int] = {
    PrincipalMode.SEQUENTIAL: 0,
    PrincipalMode.PRO_RATA: 1,
    PrincipalMode.TO_TARGET: 2,
}


@dataclass(frozen=True)
class Coupon:
    """Fixed `rate`, or floating `index` + `margin` with an optional `floor` on the all-in rate
    (annual decimals)."""

    type: CouponType = CouponType.FIXED
    rate: float = 0.0
    index: str | None = None
    margin: float = 0.0
    floor: float | None = None


@dataclass(frozen=True)
class Tranche:
    """A note (debt) or the equity. Listed most senior first; the order is the seniority."""

    name: str
    balance: float = 0.0
    coupon: Coupon = field(default_factory=Coupon)
    day_count: DayCountBasis = DayCountBasis.THIRTY_360
    deferrable: bool = False
    compound_shortfall: bool = False
    role: TrancheRole = TrancheRole.DEBT


@dataclass(frozen=True)
class Fee:
    name: str
    basis: FeeBasis = FeeBasis.FIXED
    rate: float = 0.0
    amount: float = 0.0


@dataclass(frozen=True)
class Account:
    """A reserve: `target` is `target_percent` × collateral balance (start of period) plus
    `target_amount`; a deposit fills it up to the target."""

    name: str
    initial: float = 0.0
    target_percent: float = 0.0
    target_amount: float = 0.0


@dataclass(frozen=True)
class CoverageTest:
    """`tranches` are the listed classes; the ratio's denominator covers them and every class
    senior to them. Passes when ratio >= trigger (or when the denominator is zero)."""

    name: str
    kind: TestKind
    tranches: tuple[int, ...]
    trigger: float


@dataclass(frozen=True)
class Step:
    kind: StepKind
    source: Source
    tranches: tuple[int, ...] = ()
    fees: tuple[int, ...] = ()
    mode: PrincipalMode = PrincipalMode.SEQUENTIAL
    cure_mode: CureMode = CureMode.FULL
    action: CureAction = CureAction.PAYDOWN
    test: int = -1
    account: int = -1
    to: int = -1
    target_percent: float = 0.0
    target_amount: float = 0.0
    share: float = 1.0


@dataclass(frozen=True)
class Reinvestment:
    """The assets that reinvestment buys: par = cash / `price` (price per unit of par),
    paying `coupon` (fixed) or `index` + `spread` a year (ACT/360 on 365/12 days a period);
    they prepay at `cpr`, default at `cdr` with `recovery_rate` paid at once, and repay all
    that is left at `maturity_period`. Reinvest steps buy only in periods <= `end_period`."""

    end_period: int = 0
    price: float = 1.0
    spread: float = 0.0
    coupon: float | None = None
    index: str | None = None
    floor: float | None = None
    cpr: float = 0.0
    cdr: float = 0.0
    recovery_rate: float = 0.0
    maturity_period: int = 0


@dataclass(frozen=True)
class Deal:
    name: str
    tranches: tuple[Tranche, ...]
    fees: tuple[Fee, ...] = ()
    accounts: tuple[Account, ...] = ()
    tests: tuple[CoverageTest, ...] = ()
    waterfall: tuple[Step, ...] = ()
    reinvestment: Reinvestment | None = None
    loss_allocation: LossAllocation = LossAllocation.WRITEDOWN
    closing_date: str | None = None

    def tranche_index(self, name: str) -> int:
        for i, t in enumerate(self.tranches):
            if t.name == name:
                return i
        raise KeyError(name)

    @property
    def debt(self) -> tuple[int, ...]:
        return tuple(i for i, t in enumerate(self.tranches) if t.role is TrancheRole.DEBT)


@dataclass(frozen=True)
class CollateralFlows:
    """Collateral cash over periods 1..N: `balance` at the start (currency); `interest`,
    `principal` collections and realised `losses` per period. The balance at the end of period
    t is balance − Σ_{s≤t} (principal_s + losses_s). `oc_haircut` (optional, per period) is
    subtracted from the balance in OC numerators (CCC excess, defaulted assets)."""

    balance: float
    interest: np.ndarray
    principal: np.ndarray
    losses: np.ndarray
    oc_haircut: np.ndarray | None = None

    @property
    def n_periods(self) -> int:
        return int(self.interest.size)
