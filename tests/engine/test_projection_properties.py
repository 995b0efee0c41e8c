"""Property tests (hypothesis) of the projection, plus product rules: IO, balloon, bullet,
quarterly payments and floating-rate resets against hand schedules."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.engine import Assumptions, LoanPool, Speed, SpeedKind, project_pool

loans = st.fixed_dictionaries(
    {
        "balance": st.floats(1.0, 1e7),
        "rate": st.one_of(st.just(0.0), st.floats(1e-4, 0.2)),
        "term": st.sampled_from([12, 60, 180, 360]),
        "age_frac": st.floats(0.0, 0.99),
        "amortization": st.sampled_from(["level", "interest_only", "balloon", "bullet", "linear"]),
    }
)


def build(ls: list[dict]) -> LoanPool:
    term = np.array([x["term"] for x in ls])
    return LoanPool.from_columns(
        {
            "balance": [x["balance"] for x in ls],
            "rate": [x["rate"] for x in ls],
            "original_term_months": term,
            "age_months": (np.array([x["age_frac"] for x in ls]) * term).astype(int),
            "amortization": [x["amortization"] for x in ls],
            "io_months": term // 2,
            "amortization_term_months": term * 2,
        }
    )


@settings(max_examples=25, deadline=None)
@given(
    ls=st.lists(loans, min_size=1, max_size=6),
    smm=st.floats(0.0, 1.0),
    mdr=st.floats(0.0, 1.0),
    sev=st.floats(0.0, 1.0),
    lag=st.integers(0, 14),
    adv=st.booleans(),
)
def test_no_negative_no_nan_monotone(ls, smm, mdr, sev, lag, adv) -> None:
    pool = build(ls)
    a = Assumptions(
        prepayment=Speed(SpeedKind.SMM, rate=smm),
        default=Speed(SpeedKind.MDR, rate=mdr),
        severity=sev,
        recovery_lag_months=lag,
        advancing=adv,
    )
    c = project_pool(pool, a).columns
    tol = 1e-9 * pool.total_balance
    for k, v in c.items():
        assert np.isfinite(v).all(), k
        assert (v >= -tol).all(), k
    assert (np.diff(c["ending_balance"]) <= tol).all()
    assert c["ending_balance"][-1] <= tol and c["foreclosure_balance"][-1] <= tol
    paid = c["scheduled_principal"] + c["prepayment"] + c["defaulted_amortization"] + c["recovery"]
    assert paid.sum() + c["loss"].sum() == pytest.approx(pool.total_balance, rel=1e-9)


@settings(max_examples=15, deadline=None)
@given(ls=st.lists(loans, min_size=1, max_size=5))
def test_zero_speeds_give_the_amortisation_schedule(ls) -> None:
    pool = build(ls)
    c = project_pool(pool, Assumptions()).columns
    assert (c["prepayment"] == 0).all() and (c["default"] == 0).all() and (c["loss"] == 0).all()
    # the scheduled balance of each loan, by hand: sum of per-loan schedules
    want = np.zeros(len(c["period"]))
    for j in range(len(pool)):
        sched = hand_schedule(pool, j)
        want[: len(sched)] += sched
    np.testing.assert_allclose(c["ending_balance"], want, rtol=1e-9, atol=1e-9 * pool.total_balance)


def hand_schedule(pool: LoanPool, j: int) -> np.ndarray:
    """Ending scheduled balances of loan j by textbook formulas (monthly payments)."""
    b, r, term, age = (
        pool.balance[j],
        pool.rate[j] / 12,
        int(pool.original_term_months[j]),
        int(pool.age_months[j]),
    )
    kind = int(pool.amortization[j])
    io, amt = int(pool.io_months[j]), int(pool.amortization_term_months[j])
    out = []
    for m in range(age + 1, term + 1):
        if m == term:
            b = 0.0
        elif kind == 3 or (kind == 1 and m <= io):  # bullet, IO period
            pass
        elif kind == 4:  # straight line over remaining months
            b -= b / (term - m + 1)
        else:
            left = (amt if kind == 2 else term) - m + 1
            pay = b / left if r == 0 else b * r / (1 - (1 + r) ** -left)
            b = b - (pay - b * r)
        out.append(b)
    return np.array(out)


def test_smm_one_pays_everything_in_period_one() -> None:
    pool = build(
        [{"balance": 5e5, "rate": 0.07, "term": 360, "age_frac": 0.1, "amortization": "level"}] * 3
    )
    c = project_pool(pool, Assumptions(prepayment=Speed(SpeedKind.SMM, rate=1.0))).columns
    s = c["scheduled_principal"][0] + c["prepayment"][0]
    assert s == pytest.approx(pool.total_balance, rel=1e-14)
    assert c["ending_balance"][0] == 0.0 and (c["total_cashflow"][1:] == 0).all()


def test_quarterly_loan_pays_principal_every_third_month() -> None:
    pool = LoanPool.from_columns(
        {
            "balance": [100_000.0],
            "rate": [0.08],
            "original_term_months": [120],
            "payment_frequency": ["quarterly"],
        }
    )
    c = project_pool(pool, Assumptions()).columns
    sched = c["scheduled_principal"]
    assert (sched[np.arange(120) % 3 != 2] == 0).all()
    q = 0.08 / 4
    pay = 100_000 * q / (1 - (1 + q) ** -40)  # quarterly annuity over 40 payments
    assert sched[2] == pytest.approx(pay - 100_000 * q, rel=1e-12)
    assert c["interest"][0] == pytest.approx(100_000 * 0.08 / 12, rel=1e-14)  # monthly accrual


def test_floating_rate_resets_with_caps_and_reamortises() -> None:
    pool = LoanPool.from_columns(
        {
            "balance": [100_000.0],
            "rate": [0.05],
            "original_term_months": [24],
            "rate_type": ["floating"],
            "index_name": ["SOFR"],
            "margin": [0.02],
            "reset_months": [6],
            "periodic_cap": [0.01],
            "life_cap": [0.075],
        }
    )
    a = Assumptions(index_paths={"SOFR": np.array([0.09])})
    for engine in ("reference", "numba"):
        c = project_pool(pool, a, engine=engine).columns
        coupon = (c["interest"] + c["servicing_fee"]) / c["beginning_balance"] * 12
        np.testing.assert_allclose(coupon[:6], 0.05, rtol=1e-12)  # until the first reset at age 6
        np.testing.assert_allclose(coupon[6:12], 0.06, rtol=1e-12)  # +1% periodic cap
        np.testing.assert_allclose(coupon[12:18], 0.07, rtol=1e-12)  # +1% again
        np.testing.assert_allclose(coupon[18:], 0.075, rtol=1e-12)  # life cap
        b6 = c["ending_balance"][5]
        r = 0.06 / 12
        pay = b6 * r / (1 - (1 + r) ** -18)  # re-amortised over the 18 months left
        assert c["scheduled_principal"][6] == pytest.approx(pay - b6 * r, rel=1e-10)
