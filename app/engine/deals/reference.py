"""The readable waterfall: the same rules as the Numba kernel, written over the Deal's own
dataclasses and enums, one step at a time. It is the twin the kernel is tested against and the
place to read the rules (docs/methodology/deals.md).

Coupon rates and accruals per period come from `compile.DealArrays` (tr_rate, tr_acc) and the
reinvestment bucket's rates from the same place; the waterfall logic here is separate.
"""

# ruff: noqa: B023  -- the per-period closures read that period's state on purpose
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from app.engine._kernels import waterfall_nb as wk
from app.engine.deals.compile import DealArrays
from app.engine.deals.schema import (
    CollateralFlows,
    CureAction,
    CureMode,
    Deal,
    PrincipalMode,
    Source,
    Step,
    StepKind,
    TestKind,
    TrancheRole,
)

TINY = 1e-9


@dataclass
class _Period:
    """Cash and dues inside one period."""

    cash: dict[Source, float]
    due_left: list[float]
    current_due: list[float]
    fee_left: list[float]
    interest_collected: float
    fees_from_interest: float = 0.0
    evaluated: set[int] = field(default_factory=set)
    reinvested_cash: float = 0.0
    reinvested_par: float = 0.0


def run_reference(
    deal: Deal, arr: DealArrays, coll: CollateralFlows, haircut: np.ndarray, led: Any
) -> None:
    """Fill `led` (a run.Ledgers) exactly as `waterfall_nb` does."""
    tranches = deal.tranches
    n = len(tranches)
    balance = [float(x) for x in arr.tr_bal0]
    shortfall = [0.0] * n
    fee_unpaid = [0.0] * len(deal.fees)
    accounts = [a.initial for a in deal.accounts]
    given = float(coll.balance)
    bucket = 0.0
    carried = {Source.INTEREST: 0.0, Source.PRINCIPAL: 0.0}
    debt = [t.role is TrancheRole.DEBT for t in tranches]

    for t in range(coll.n_periods):
        period_no = t + 1
        start_collateral = given + bucket
        given -= coll.principal[t] + coll.losses[t]
        # the reinvested bucket: interest on its start balance, defaults, then prepayments
        b_int = bucket * arr.rb_rate[t] * arr.rb_acc
        b_def = bucket * arr.rb_mdr
        survivors = bucket - b_def
        b_prepay = survivors if period_no >= arr.rb_mat else survivors * arr.rb_smm
        bucket = survivors - b_prepay
        b_prin = b_def * arr.rb_rec + b_prepay
        collected_i = coll.interest[t] + b_int
        collected_p = coll.principal[t] + b_prin
        led.collateral[wk.C_INT, t] = collected_i
        led.collateral[wk.C_PRIN, t] = collected_p
        led.collateral[wk.C_LOSS, t] = coll.losses[t] + b_def * (1.0 - arr.rb_rec)
        led.collateral[wk.C_CARRY_IN, t] = carried[Source.INTEREST] + carried[Source.PRINCIPAL]

        current = []
        for j in range(n):
            per_unit = arr.tr_rate[j, t] * arr.tr_acc[j, t]
            base = balance[j] + (shortfall[j] if tranches[j].compound_shortfall else 0.0)
            current.append(base * per_unit)
        state = _Period(
            cash={
                Source.INTEREST: collected_i + carried[Source.INTEREST],
                Source.PRINCIPAL: collected_p + carried[Source.PRINCIPAL],
            },
            due_left=[current[j] + shortfall[j] for j in range(n)],
            current_due=current,
            fee_left=[
                f.rate * start_collateral / 12.0 + f.amount + fee_unpaid[i]
                for i, f in enumerate(deal.fees)
            ],
            interest_collected=collected_i,
        )
        for j in range(n):
            led.tranches[wk.T_DUE, j, t] = state.due_left[j]

        def ratio(k: int) -> tuple[float, float, float]:
            test = deal.tests[k]
            seniors = range(max(test.tranches) + 1)
            if test.kind is TestKind.OC:
                num = given + bucket + state.cash[Source.PRINCIPAL] - haircut[t]
                den = sum(balance[j] for j in seniors if debt[j])
            else:
                num = state.interest_collected - state.fees_from_interest
                den = sum(state.current_due[j] for j in seniors if debt[j])
            return (math.inf if den <= TINY else num / den), num, den

        def pay_principal(j: int, amount: float) -> None:
            balance[j] -= amount
            led.tranches[wk.T_PPAID, j, t] += amount

        for step in deal.waterfall:
            src = step.source
            cash = state.cash[src]
            if step.kind is StepKind.FEES:
                for i in step.fees:
                    x = min(state.cash[src], state.fee_left[i])
                    state.fee_left[i] -= x
                    state.cash[src] -= x
                    led.fees[0, i, t] += x
                    if src is Source.INTEREST:
                        state.fees_from_interest += x
            elif step.kind is StepKind.INTEREST:
                owed = sum(state.due_left[j] for j in step.tranches)
                if owed > TINY:
                    paid = min(cash, owed)
                    for j in step.tranches:
                        x = state.due_left[j] * paid / owed
                        state.due_left[j] -= x
                        led.tranches[wk.T_IPAID, j, t] += x
                    state.cash[src] -= paid
            elif step.kind is StepKind.PRINCIPAL:
                _principal(step, state, balance, given + bucket, pay_principal)
            elif step.kind is StepKind.CURE:
                bucket += _cure(step, deal, state, balance, arr, t, ratio, pay_principal, led)
            elif step.kind is StepKind.DEPOSIT:
                a = deal.accounts[step.account]
                if a.target_percent == 0.0 and a.target_amount == 0.0:
                    x = cash
                else:
                    target = a.target_percent * start_collateral + a.target_amount
                    x = min(cash, max(0.0, target - accounts[step.account]))
                accounts[step.account] += x
                state.cash[src] -= x
            elif step.kind is StepKind.WITHDRAW:
                have = accounts[step.account]
                if step.tranches:
                    gap = sum(state.due_left[j] for j in step.tranches) - cash
                    x = min(have, max(0.0, gap))
                else:
                    x = have
                accounts[step.account] -= x
                state.cash[src] += x
            elif step.kind is StepKind.REINVEST:
                if period_no <= arr.rb_end:
                    state.reinvested_cash += cash
                    state.reinvested_par += cash / arr.rb_price
                    bucket += cash / arr.rb_price
                    state.cash[src] = 0.0
            elif step.kind is StepKind.RESIDUAL:
                led.tranches[wk.T_RESID, step.to, t] += cash
                state.cash[src] = 0.0

        for k, test in enumerate(deal.tests):
            if k not in state.evaluated:
                value = ratio(k)[0]
                led.tests[0, k, t] = value
                led.tests[1, k, t] = float(value >= test.trigger * (1.0 - wk.PASS_RTOL))
        for j, tr in enumerate(tranches):
            unpaid = state.due_left[j]
            if tr.deferrable:
                led.tranches[wk.T_PIK, j, t] = unpaid
                balance[j] += unpaid
                shortfall[j] = 0.0
            else:
                shortfall[j] = unpaid
            led.tranches[wk.T_SHORT, j, t] = shortfall[j]
        for i in range(len(deal.fees)):
            fee_unpaid[i] = state.fee_left[i]
            led.fees[1, i, t] = fee_unpaid[i]
        carried = dict(state.cash)
        collateral_now = given + bucket
        if arr.writedown:
            excess = sum(balance) - collateral_now - carried[Source.PRINCIPAL]
            for j in reversed(range(n)):
                if excess <= TINY:
                    break
                x = min(excess, balance[j])
                balance[j] -= x
                excess -= x
                led.tranches[wk.T_WD, j, t] = x
        led.tranches[wk.T_BAL, :, t] = balance
        if accounts:
            led.accounts[:, t] = accounts
        led.collateral[wk.C_BAL, t] = collateral_now
        led.collateral[wk.C_REINV, t] = state.reinvested_cash
        led.collateral[wk.C_REINV_PAR, t] = state.reinvested_par
        led.collateral[wk.C_CARRY_OUT, t] = carried[Source.INTEREST] + carried[Source.PRINCIPAL]


def _principal(
    step: Step, state: _Period, balance: list[float], collateral_now: float, pay
) -> None:
    src = step.source
    if step.mode is PrincipalMode.PRO_RATA:
        owed = sum(balance[j] for j in step.tranches)
        if owed > TINY:
            paid = min(state.cash[src], owed)
            for j in step.tranches:
                pay(j, balance[j] * paid / owed)
            state.cash[src] -= paid
        return
    budget = state.cash[src]
    if step.mode is PrincipalMode.TO_TARGET:
        target = step.target_percent * collateral_now + step.target_amount
        budget = min(budget, max(0.0, sum(balance[j] for j in step.tranches) - target))
    for j in step.tranches:
        x = min(budget, balance[j])
        pay(j, x)
        budget -= x
        state.cash[src] -= x


def _cure(
    step: Step,
    deal: Deal,
    state: _Period,
    balance: list[float],
    arr: DealArrays,
    t: int,
    ratio,
    pay,
    led,
) -> float:
    """Evaluate the step's test; if it fails, divert cash. Returns the par bought (reinvest)."""
    k = step.test
    test = deal.tests[k]
    value, num, den = ratio(k)
    if k not in state.evaluated:
        state.evaluated.add(k)
        led.tests[0, k, t] = value
        led.tests[1, k, t] = float(value >= test.trigger * (1.0 - wk.PASS_RTOL))
    if value >= test.trigger * (1.0 - wk.PASS_RTOL):
        return 0.0
    src = step.source
    available = state.cash[src] * step.share
    trig = test.trigger
    buying = step.action is CureAction.REINVEST
    if buying and t + 1 > arr.rb_end:
        return 0.0
    used = 0.0
    bought = 0.0
    if buying:
        need = math.inf
        if step.cure_mode is CureMode.CURE and test.kind is TestKind.OC:
            # each unit of cash adds 1/price of par, and removes itself if it was principal cash
            gain = 1.0 / arr.rb_price - (1.0 if src is Source.PRINCIPAL else 0.0)
            need = (trig * den - num) / gain if gain > TINY else math.inf
        used = min(available, need)
        state.reinvested_cash += used
        bought = used / arr.rb_price
        state.reinvested_par += bought
    elif step.cure_mode is CureMode.CURE and test.kind is TestKind.IC:
        # pay down until the pro-forma interest due on the tested classes is covered
        excess_due = den - num / trig
        left = available
        for j in step.tranches:
            if excess_due <= TINY or left <= TINY:
                break
            per_unit = arr.tr_rate[j, t] * arr.tr_acc[j, t]
            x = balance[j] if per_unit <= 0.0 else min(balance[j], excess_due / per_unit)
            x = min(x, left)
            pay(j, x)
            left -= x
            excess_due -= x * per_unit
            used += x
    else:
        need = math.inf
        if step.cure_mode is CureMode.CURE:
            if src is Source.PRINCIPAL:  # paying from principal cash lowers both sides
                need = (trig * den - num) / (trig - 1.0) if trig > 1.0 + TINY else math.inf
            else:
                need = den - num / trig if trig > TINY else 0.0
        left = min(available, need)
        for j in step.tranches:
            x = min(left, balance[j])
            pay(j, x)
            left -= x
            used += x
    state.cash[src] -= used
    led.tests[2, k, t] += used
    return bought
