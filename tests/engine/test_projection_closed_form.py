"""Projection against closed forms and a published textbook example (never the engine's output)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from app.engine import Assumptions, LoanPool, Speed, SpeedKind, project_pool
from app.engine.projection import Engine

ENGINES: list[Engine] = ["reference", "numba"]


def one_loan(**kw: object) -> LoanPool:
    cols: dict[str, Any] = {"balance": [300_000.0], "rate": [0.065], "original_term_months": [360]}
    cols.update({k: [v] for k, v in kw.items()})
    return LoanPool.from_columns(cols)


def annuity(balance: float, annual_rate: float, months: int) -> float:
    r = annual_rate / 12.0
    return balance * r / (1.0 - (1.0 + r) ** -months)


@pytest.mark.parametrize("engine", ENGINES)
def test_level_payment_30y_6_5pct(engine: Engine) -> None:
    proj = project_pool(one_loan(), Assumptions(), engine=engine)
    cf = proj.columns["total_cashflow"]
    assert proj.n_periods == 360
    assert round(float(cf[0]), 2) == 1896.20
    # every month pays the same annuity (hand formula), and the loan is repaid
    np.testing.assert_allclose(cf, annuity(300_000.0, 0.065, 360), rtol=1e-10)
    assert proj.columns["interest"][0] == pytest.approx(300_000 * 0.065 / 12, rel=1e-14)
    assert proj.columns["ending_balance"][-1] == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("engine", ENGINES)
def test_zero_rate_loan_repays_balance_over_term(engine: Engine) -> None:
    proj = project_pool(
        one_loan(rate=0.0, balance=120_000.0, original_term_months=120),
        Assumptions(),
        engine=engine,
    )
    np.testing.assert_allclose(proj.columns["scheduled_principal"], 1_000.0, rtol=1e-12)
    np.testing.assert_allclose(proj.columns["interest"], 0.0, atol=0)


@pytest.mark.parametrize("engine", ENGINES)
def test_textbook_pass_through_month_1(engine: Engine) -> None:
    """Fabozzi's $400M pass-through, WAC 8.125%, net 7.5%, 357 months left (age 3), 100% PSA."""
    pool = LoanPool.from_columns(
        {
            "balance": [400_000_000.0],
            "rate": [0.08125],
            "net_rate": [0.075],
            "original_term_months": [360],
            "age_months": [3],
        }
    )
    proj = project_pool(
        pool, Assumptions(prepayment=Speed(SpeedKind.PSA, speed=100.0)), engine=engine
    )
    c = proj.columns
    assert proj.n_periods == 357
    gross_interest = c["interest"][0] + c["servicing_fee"][0]
    assert round(float(gross_interest + c["scheduled_principal"][0])) == 2_975_868
    assert round(float(c["scheduled_principal"][0])) == 267_535
    assert round(float(c["prepayment"][0])) == 267_470
    assert round(float(c["interest"][0])) == 2_500_000
    assert round(float(c["servicing_fee"][0])) == 208_333


def mixed_pool() -> LoanPool:
    return LoanPool.from_columns(
        {
            "balance": [100_000.0, 250_000.0, 80_000.0, 60_000.0, 40_000.0, 90_000.0],
            "rate": [0.05, 0.07, 0.06, 0.045, 0.08, 0.055],
            "net_rate": [0.045, 0.065, 0.055, 0.04, 0.075, 0.05],
            "original_term_months": [360, 240, 120, 60, 36, 180],
            "age_months": [12, 0, 30, 5, 0, 17],
            "amortization": ["level", "interest_only", "balloon", "bullet", "linear", "level"],
            "io_months": [0, 24, 0, 0, 0, 0],
            "amortization_term_months": [360, 240, 360, 60, 36, 180],
            "payment_frequency": [1, 1, 1, 1, 1, 3],
        }
    )


SCENARIOS = [
    Assumptions(
        prepayment=Speed(SpeedKind.PSA, speed=150.0),
        default=Speed(SpeedKind.SDA, speed=200.0),
        severity=0.35,
        recovery_lag_months=12,
        advancing=True,
    ),
    Assumptions(
        prepayment=Speed(SpeedKind.CPR, rate=0.08),
        default=Speed(SpeedKind.CDR, rate=0.03),
        severity=0.5,
        recovery_lag_months=6,
        advancing=False,
    ),
    Assumptions(
        prepayment=Speed(SpeedKind.SMM, rate=0.01),
        default=Speed(SpeedKind.MDR, rate=0.004),
        severity=0.4,
        recovery_lag_months=0,
    ),
]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("a", SCENARIOS)
def test_balances_reconcile_and_principal_plus_loss_is_starting_balance(
    engine: Engine, a: Assumptions
) -> None:
    pool = mixed_pool()
    c = project_pool(pool, a, engine=engine).columns
    recon = c["beginning_balance"] - c["scheduled_principal"] - c["prepayment"] - c["default"]
    np.testing.assert_allclose(recon, c["ending_balance"], rtol=1e-12, atol=1e-6)
    np.testing.assert_allclose(c["beginning_balance"][1:], c["ending_balance"][:-1], rtol=1e-12)
    fcl = np.concatenate([[0.0], c["foreclosure_balance"][:-1]])
    fcl_recon = fcl + c["default"] - c["liquidated_balance"] - c["defaulted_amortization"]
    np.testing.assert_allclose(fcl_recon, c["foreclosure_balance"], rtol=1e-12, atol=1e-6)
    principal = (
        c["scheduled_principal"].sum()
        + c["prepayment"].sum()
        + c["defaulted_amortization"].sum()
        + c["recovery"].sum()
    )
    assert principal + c["loss"].sum() == pytest.approx(pool.total_balance, rel=1e-12)
    assert c["ending_balance"][-1] == pytest.approx(0.0, abs=1e-6)
    assert c["foreclosure_balance"][-1] == pytest.approx(0.0, abs=1e-6)
    assert c["default"].sum() > 0 and c["loss"].sum() > 0
    np.testing.assert_allclose(
        c["total_cashflow"],
        c["interest"]
        + c["scheduled_principal"]
        + c["defaulted_amortization"]
        + c["prepayment"]
        + c["recovery"],
        rtol=1e-14,
    )
    np.testing.assert_allclose(
        c["interest"], c["expected_interest"] - c["lost_interest"], rtol=1e-12, atol=1e-9
    )


@pytest.mark.parametrize("engine", ENGINES)
def test_rep_line_equals_identical_loans(engine: Engine) -> None:
    a = SCENARIOS[0]
    base = {"rate": 0.07, "net_rate": 0.065, "original_term_months": 360, "age_months": 7}
    rep = LoanPool.from_columns({"balance": [500_000.0], **{k: [v] for k, v in base.items()}})
    many = LoanPool.from_columns(
        {"balance": [100_000.0] * 5, **{k: [v] * 5 for k, v in base.items()}}
    )
    c1 = project_pool(rep, a, engine=engine).columns
    c5 = project_pool(many, a, engine=engine).columns
    for k in c1:
        np.testing.assert_allclose(c1[k], c5[k], rtol=1e-12, atol=1e-7)


@pytest.mark.parametrize("engine", ENGINES)
def test_textbook_sifma_formulas_month_by_month(engine: Engine) -> None:
    """First months of one loan with CDR/CPR, lag 2, advancing, written out by hand."""
    b, r, n, T, L, sev = 1_000_000.0, 0.06, 0.055, 120, 2, 0.4
    smm = 1 - (1 - 0.12) ** (1 / 12)
    mdr = 1 - (1 - 0.06) ** (1 / 12)
    pool = LoanPool.from_columns(
        {"balance": [b], "rate": [r], "net_rate": [n], "original_term_months": [T]}
    )
    a = Assumptions(
        prepayment=Speed(SpeedKind.CPR, rate=0.12),
        default=Speed(SpeedKind.CDR, rate=0.06),
        severity=sev,
        recovery_lag_months=L,
        advancing=True,
    )
    c = project_pool(pool, a, engine=engine).columns
    g = r / 12

    def sch(k: int) -> float:
        return (1 - (1 + g) ** -(T - k)) / (1 - (1 + g) ** -T)

    perf, fcl, nd = b, 0.0, []
    for i in range(1, 6):
        af = sch(i) / sch(i - 1)
        new_def = mdr * perf
        nd.append(new_def)
        prepay = smm * perf * af
        sched = (perf - new_def) * (1 - af)
        adb = nd[i - 1 - L] * sch(i - 1) / sch(i - 1 - L) if i > L else 0.0
        am_def = (new_def + fcl - adb) * (1 - af)
        loss = min(sev * nd[i - 1 - L], adb) if i > L else 0.0
        exp_int = (perf + fcl) * n / 12
        lost = (new_def + fcl) * n / 12
        want = {
            "default": new_def,
            "prepayment": prepay,
            "scheduled_principal": sched,
            "liquidated_balance": adb,
            "defaulted_amortization": am_def,
            "loss": loss,
            "recovery": adb - loss,
            "expected_interest": exp_int,
            "lost_interest": lost,
            "servicing_fee": perf * (r - n) / 12,
        }
        for k, v in want.items():
            assert c[k][i - 1] == pytest.approx(v, rel=1e-10, abs=1e-8), (k, i)
        fcl = fcl + new_def - adb - am_def
        perf = perf - new_def - prepay - sched
        assert c["ending_balance"][i - 1] == pytest.approx(perf, rel=1e-12)
        assert c["foreclosure_balance"][i - 1] == pytest.approx(fcl, rel=1e-10)
