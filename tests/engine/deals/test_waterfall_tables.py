"""Hand-computed waterfalls: two notes and an equity over 12 periods, the numbers worked out
below by hand (A 80 at 6% 30/360 = 0.4 a month, B 10 at 12% = 0.1 a month, collateral 100 paying
1.0 of interest a month). Each table is checked on both the Numba kernel and the reference."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from app.engine.deals import parse_collateral, parse_deal, run_deal
from app.engine.deals.run import DealResult

ENGINES = ["numba", "reference"]
T = 12


def _deal(steps, tests=(), accounts=(), b_extra=None, a_extra=None, **extra):
    return {
        "name": "hand",
        "tranches": [
            {
                "name": "A",
                "balance": 80.0,
                "coupon": {"type": "fixed", "rate": 0.06},
                **(a_extra or {}),
            },
            {
                "name": "B",
                "balance": 10.0,
                "coupon": {"type": "fixed", "rate": 0.12},
                **(b_extra or {}),
            },
            {"name": "E", "role": "equity"},
        ],
        "tests": list(tests),
        "accounts": list(accounts),
        "waterfall": steps,
        **extra,
    }


INTEREST_STEPS = [
    {"source": "interest", "pay": "interest", "tranches": ["A"]},
    {"source": "interest", "pay": "interest", "tranches": ["B"]},
]
OC = {"name": "oc_AB", "type": "oc", "tranches": ["A", "B"], "trigger": 1.10}


def _run(deal, interest=None, principal=None, losses=None, engine="numba") -> DealResult:
    coll = parse_collateral(
        {
            "balance": 100.0,
            "interest": interest or [1.0] * T,
            "principal": principal or [0.0] * T,
            "losses": losses or [0.0] * T,
        }
    )
    return run_deal(parse_deal(deal), coll, engine=engine)


def _col(res: DealResult, tranche: str, name: str) -> np.ndarray:
    return res.tranche_columns(res.deal.tranche_index(tranche))[name]


@pytest.mark.parametrize("engine", ENGINES)
def test_oc_breach_full_mode(engine) -> None:
    """A loss of 2 in period 3 takes OC to 98/90 = 1.0889 < 1.10: all interest left after the
    notes' coupons (0.5) pays A down. Period 4: 98/89.5 = 1.09497 still fails; the 1.0 −
    0.3975 − 0.1 = 0.5025 left pays A to 78.9975. Period 5: 98/88.9975 = 1.10115 passes and
    the equity receives 1 − 0.1 − 0.3949875 = 0.5050125 from then on."""
    steps = [
        *INTEREST_STEPS,
        {
            "source": "interest",
            "pay": "cure",
            "test": "oc_AB",
            "mode": "full",
            "tranches": ["A", "B"],
        },
        {"source": "interest", "pay": "residual", "to": "E"},
    ]
    losses = [0.0] * T
    losses[2] = 2.0
    res = _run(_deal(steps, tests=[OC]), losses=losses, engine=engine)
    a_bal = [80, 80, 79.5, 78.9975] + [78.9975] * 8
    np.testing.assert_allclose(_col(res, "A", "balance"), a_bal, rtol=1e-14)
    np.testing.assert_allclose(
        _col(res, "A", "principal_paid"), [0, 0, 0.5, 0.5025] + [0] * 8, atol=1e-14
    )
    np.testing.assert_allclose(
        _col(res, "E", "cash"), [0.5, 0.5, 0, 0] + [0.5050125] * 8, atol=1e-14
    )
    value = res.ledgers.tests[0, 0]
    np.testing.assert_allclose(
        value[:5], [100 / 90, 100 / 90, 98 / 90, 98 / 89.5, 98 / 88.9975], rtol=1e-14
    )
    assert res.ledgers.tests[1, 0].tolist() == [1, 1, 0, 0] + [1] * 8
    np.testing.assert_allclose(res.ledgers.tests[2, 0], [0, 0, 0.5, 0.5025] + [0] * 8, atol=1e-14)
    np.testing.assert_allclose(
        _col(res, "A", "interest_paid"), [0.4, 0.4, 0.4, 0.3975] + [0.3949875] * 8, rtol=1e-14
    )


@pytest.mark.parametrize("engine", ENGINES)
def test_oc_breach_cure_mode_pays_only_the_cure_amount(engine) -> None:
    """Cure mode: the amount is D − N/trigger. Period 3 needs 90 − 98/1.1 = 0.90909 but has 0.5;
    period 4 needs 89.5 − 89.0909 = 0.40909 of the 0.5025 available, and the equity gets the
    0.09341 left; from period 5 the test passes exactly at 98/89.0909 = 1.10."""
    steps = [
        *INTEREST_STEPS,
        {
            "source": "interest",
            "pay": "cure",
            "test": "oc_AB",
            "mode": "cure",
            "tranches": ["A", "B"],
        },
        {"source": "interest", "pay": "residual", "to": "E"},
    ]
    losses = [0.0] * T
    losses[2] = 2.0
    res = _run(_deal(steps, tests=[OC]), losses=losses, engine=engine)
    cure4 = 89.5 - 98 / 1.1
    a_after = 79.5 - cure4
    np.testing.assert_allclose(res.ledgers.tests[2, 0], [0, 0, 0.5, cure4] + [0] * 8, atol=1e-12)
    np.testing.assert_allclose(_col(res, "A", "balance")[3:], a_after, rtol=1e-13)
    e5 = 1 - 0.1 - a_after * 0.005
    np.testing.assert_allclose(
        _col(res, "E", "cash"), [0.5, 0.5, 0, 0.5025 - cure4] + [e5] * 8, atol=1e-12
    )
    assert res.ledgers.tests[1, 0].tolist() == [1, 1, 0, 0] + [1] * 8


@pytest.mark.parametrize("engine", ENGINES)
def test_shortfall_carried_and_paid_later(engine) -> None:
    """Period 2 collects 0.3: A gets 0.3 of its 0.4 (0.1 short), B nothing (0.1 short). Period
    3: A is due 0.4 + 0.1 = 0.5 and B 0.1 + 0.1 = 0.2, both paid; the equity gets 0.3."""
    steps = [*INTEREST_STEPS, {"source": "interest", "pay": "residual", "to": "E"}]
    interest = [1.0] * T
    interest[1] = 0.3
    res = _run(_deal(steps), interest=interest, engine=engine)
    np.testing.assert_allclose(_col(res, "A", "interest_due")[:4], [0.4, 0.4, 0.5, 0.4], rtol=1e-14)
    np.testing.assert_allclose(
        _col(res, "A", "interest_paid")[:4], [0.4, 0.3, 0.5, 0.4], rtol=1e-14
    )
    np.testing.assert_allclose(_col(res, "A", "interest_shortfall")[:4], [0, 0.1, 0, 0], atol=1e-14)
    np.testing.assert_allclose(_col(res, "B", "interest_shortfall")[:4], [0, 0.1, 0, 0], atol=1e-14)
    np.testing.assert_allclose(_col(res, "B", "interest_paid")[:4], [0.1, 0, 0.2, 0.1], atol=1e-14)
    np.testing.assert_allclose(_col(res, "E", "cash")[:4], [0.5, 0, 0.3, 0.5], atol=1e-14)


@pytest.mark.parametrize("engine", ENGINES)
def test_compound_shortfall_earns_coupon(engine) -> None:
    """With compound_shortfall, A's carried 0.1 earns 0.5% for a month: due 0.4 + 0.1 + 0.0005."""
    steps = [*INTEREST_STEPS, {"source": "interest", "pay": "residual", "to": "E"}]
    interest = [1.0] * T
    interest[1] = 0.3
    res = _run(_deal(steps, a_extra={"compound_shortfall": True}), interest=interest, engine=engine)
    assert _col(res, "A", "interest_due")[2] == pytest.approx(0.5005, rel=1e-14)


@pytest.mark.parametrize("engine", ENGINES)
def test_deferrable_class_capitalises(engine) -> None:
    """B deferrable: its unpaid 0.1 of period 2 is added to its balance (10.1), which then
    accrues 1% a month: 0.101 due in period 3; no shortfall is carried."""
    steps = [*INTEREST_STEPS, {"source": "interest", "pay": "residual", "to": "E"}]
    interest = [1.0] * T
    interest[1] = 0.4
    res = _run(_deal(steps, b_extra={"deferrable": True}), interest=interest, engine=engine)
    np.testing.assert_allclose(_col(res, "B", "balance")[:3], [10, 10.1, 10.1], rtol=1e-14)
    np.testing.assert_allclose(_col(res, "B", "interest_capitalised")[:3], [0, 0.1, 0], atol=1e-14)
    np.testing.assert_allclose(_col(res, "B", "interest_shortfall"), 0.0, atol=1e-15)
    assert _col(res, "B", "interest_due")[2] == pytest.approx(0.101, rel=1e-14)
    assert _col(res, "E", "cash")[2] == pytest.approx(1 - 0.4 - 0.101, rel=1e-14)


@pytest.mark.parametrize("engine", ENGINES)
def test_reserve_draw_and_refill(engine) -> None:
    """Reserve of 1.0 (target 1.0). Period 2 collects 0.3: the reserve covers A's 0.1 gap (to
    0.9), B goes short 0.1. Period 3: A 0.4, B 0.2, the deposit refills 0.1, equity 0.3."""
    steps = [
        {"source": "interest", "pay": "withdraw", "account": "reserve", "tranches": ["A"]},
        *INTEREST_STEPS,
        {"source": "interest", "pay": "deposit", "account": "reserve"},
        {"source": "interest", "pay": "residual", "to": "E"},
    ]
    interest = [1.0] * T
    interest[1] = 0.3
    res = _run(
        _deal(steps, accounts=[{"name": "reserve", "initial": 1.0, "target": {"amount": 1.0}}]),
        interest=interest,
        engine=engine,
    )
    np.testing.assert_allclose(res.ledgers.accounts[0][:4], [1.0, 0.9, 1.0, 1.0], rtol=1e-14)
    np.testing.assert_allclose(_col(res, "A", "interest_paid")[:3], [0.4, 0.4, 0.4], rtol=1e-14)
    np.testing.assert_allclose(_col(res, "B", "interest_paid")[:3], [0.1, 0.0, 0.2], atol=1e-14)
    np.testing.assert_allclose(_col(res, "E", "cash")[:4], [0.5, 0, 0.3, 0.5], atol=1e-14)


@pytest.mark.parametrize("engine", ENGINES)
def test_principal_modes_and_writedown(engine) -> None:
    """Principal of 9 a month: sequential pays A first; pro rata splits 80:10; to_target stops at
    the target (85% of the collateral balance after collections). A loss of 30 in period 1 with
    writedowns takes debt down to the collateral (70), B first."""
    seq: list[dict[str, Any]] = [
        {"source": "principal", "pay": "principal", "tranches": ["A", "B"], "mode": "sequential"},
        {"source": "principal", "pay": "residual", "to": "E"},
        *INTEREST_STEPS,
        {"source": "interest", "pay": "residual", "to": "E"},
    ]
    principal = [9.0] + [0.0] * (T - 1)
    r = _run(_deal(seq), principal=principal, engine=engine)
    assert _col(r, "A", "principal_paid")[0] == 9.0 and _col(r, "B", "principal_paid")[0] == 0.0
    pro = [dict(seq[0], mode="pro_rata"), *seq[1:]]
    r = _run(_deal(pro), principal=principal, engine=engine)
    assert _col(r, "A", "principal_paid")[0] == pytest.approx(8.0)
    assert _col(r, "B", "principal_paid")[0] == pytest.approx(1.0)
    tgt = [
        {
            "source": "principal",
            "pay": "principal",
            "tranches": ["A"],
            "mode": "to_target",
            "target": {"percent_of_collateral": 0.85},
        },
        *seq[1:],
    ]
    r = _run(_deal(tgt), principal=principal, engine=engine)
    assert _col(r, "A", "principal_paid")[0] == pytest.approx(80 - 0.85 * 91)
    assert _col(r, "E", "cash")[0] == pytest.approx(9 - (80 - 0.85 * 91) + 0.5)
    losses = [30.0] + [0.0] * (T - 1)
    r = _run(_deal(seq), losses=losses, engine=engine)
    assert _col(r, "B", "writedown")[0] == pytest.approx(10.0)
    assert _col(r, "A", "writedown")[0] == pytest.approx(10.0)
    assert _col(r, "A", "balance")[0] == pytest.approx(70.0)


@pytest.mark.parametrize("engine", ENGINES)
def test_ic_cure_mode_pays_down_to_coverage(engine) -> None:
    """IC = (interest after fees) / current interest due on A+B. A fee of 0.55 leaves 0.45 for
    0.5 due: 0.9 < 1.0. The cure (from principal cash, 12 collected) pays A down by x with
    pro-forma due 0.5 − 0.005x = 0.45 → x = 10; the equity gets the other 2 of principal."""
    steps = [
        {"source": "interest", "pay": "fees", "fees": ["f"]},
        *INTEREST_STEPS,
        {"source": "principal", "pay": "cure", "test": "ic", "mode": "cure", "tranches": ["A"]},
        {"source": "principal", "pay": "residual", "to": "E"},
        {"source": "interest", "pay": "residual", "to": "E"},
    ]
    deal = _deal(
        steps,
        tests=[{"name": "ic", "type": "ic", "tranches": ["B"], "trigger": 1.0}],
        fees=[{"name": "f", "amount": 0.55}],
    )
    principal = [12.0] + [0.0] * (T - 1)
    r = _run(deal, principal=principal, engine=engine)
    assert r.ledgers.tests[0, 0, 0] == pytest.approx(0.45 / 0.5)
    assert r.ledgers.tests[2, 0, 0] == pytest.approx(10.0)
    assert _col(r, "E", "cash")[0] == pytest.approx(2.0)


@pytest.mark.parametrize("engine", ENGINES)
def test_interest_diversion_buys_collateral(engine) -> None:
    """An OC cure with action reinvest buys par = cash / price during the reinvestment period:
    0.5 left at a price of 0.5 buys 1.0 of par, and the collateral balance rises by it."""
    steps = [
        *INTEREST_STEPS,
        {
            "source": "interest",
            "pay": "cure",
            "test": "oc_AB",
            "mode": "full",
            "action": "reinvest",
        },
        {"source": "interest", "pay": "residual", "to": "E"},
    ]
    deal = _deal(
        steps,
        tests=[dict(OC, trigger=1.2)],
        reinvestment={"end_period": 1, "price": 0.5, "spread": 0.0, "maturity_period": 12},
    )
    r = _run(deal, engine=engine)
    assert r.ledgers.collateral[0, 0] == pytest.approx(101.0)
    assert r.ledgers.tests[2, 0, 0] == pytest.approx(0.5)
    assert _col(r, "E", "cash")[1] == pytest.approx(
        0.5
    )  # period 2 is after the reinvestment period
    assert r.ledgers.collateral[0, -1] == pytest.approx(100.0)  # the bucket matures in period 12


@pytest.mark.parametrize("engine", ENGINES)
def test_act_360_accrues_actual_days(engine) -> None:
    """ACT/360 from a closing date of 2026-01-15: periods of 31, 28, 31 days; A is due
    80 × 6% × days/360; with no date an ACT/360 period is 365/12 days."""
    steps = [*INTEREST_STEPS, {"source": "interest", "pay": "residual", "to": "E"}]
    deal = _deal(steps, a_extra={"day_count": "ACT/360"}, closing_date="2026-01-15")
    res = _run(deal, engine=engine)
    np.testing.assert_allclose(
        _col(res, "A", "interest_due")[:3], [80 * 0.06 * d / 360 for d in (31, 28, 31)], rtol=1e-14
    )
    res = _run(_deal(steps, a_extra={"day_count": "ACT/360"}), engine=engine)
    assert _col(res, "A", "interest_due")[0] == pytest.approx(80 * 0.06 * 365 / 12 / 360, rel=1e-14)
