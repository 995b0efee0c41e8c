"""Pipeline: equals explicit matrix powers; the amortising pipeline equals a hand loop over the
SIFMA schedule; the MDR/SMM vectors equal the flows over the live balance, and the engine's
cash flows carry them (period-1 default = MDR_1 x balance)."""

from __future__ import annotations

import numpy as np
import pytest

from app.assets.consumer_credit.pipeline import (
    cashflows,
    check_matrix,
    project,
    schedule_factors,
    start_vector,
)
from app.assets.consumer_credit.states import StateSpace
from app.engine.errors import InvalidInput
from app.engine.pool import LoanPool
from app.engine.types import Assumptions

from .test_roll_rates import TRUE_P

SPACE = StateSpace.build()
V0 = start_vector(SPACE, {"current": 900_000.0, "dpd30": 60_000.0, "dpd60": 40_000.0})


@pytest.mark.parametrize("engine", ["numba", "reference"])
def test_pipeline_equals_explicit_matrix_powers(engine) -> None:
    res = project(SPACE, TRUE_P, V0, 36, amortize=False, engine=engine)
    for k in (1, 2, 7, 36):
        assert np.allclose(
            res.balances[k - 1], V0 @ np.linalg.matrix_power(TRUE_P, k), rtol=1e-12, atol=1e-9
        )
    # total balance is conserved without amortisation
    assert np.allclose(res.balances.sum(axis=1), V0.sum())


def test_amortising_pipeline_equals_a_hand_loop() -> None:
    rate, term = 0.12, 48
    res = project(SPACE, TRUE_P, V0, 60, amortize=True, rate=rate, term_months=term)
    r = rate / 12
    v = V0.copy()
    for k in range(1, 61):
        sch = lambda m: (1 - (1 + r) ** -(term - m)) / (1 - (1 + r) ** -term) if m < term else 0.0  # noqa: E731
        af = sch(k) / sch(k - 1) if sch(k - 1) > 0 else 0.0
        live_start = v[:5].sum()
        u = v @ TRUE_P
        co = v[:5] @ TRUE_P[:5, 5]
        sched = u[0] * (1 - af)
        u[0] *= af
        assert np.allclose(res.balances[k - 1], u, rtol=1e-12, atol=1e-8), k
        assert np.isclose(res.charge_off[k - 1], co) and np.isclose(
            res.scheduled_principal[k - 1], sched
        )
        assert np.isclose(res.mdr[k - 1], co / live_start if live_start else 0.0)
        v = u
    assert res.balances[-1, 0] == 0.0  # the performing balance is paid off at the term


def test_schedule_factors_zero_rate_is_straight_line() -> None:
    af = schedule_factors(0.0, 4, 5)
    assert np.allclose(af, [3 / 4, 2 / 3, 1 / 2, 0.0, 0.0])


def test_engine_cash_flows_carry_the_pipeline_rates() -> None:
    res = project(SPACE, TRUE_P, V0, 48, rate=0.12, term_months=48)
    pool = LoanPool.from_columns(
        {"balance": [V0.sum()], "rate": [0.12], "original_term_months": [48]}
    )
    proj = cashflows(pool, res, Assumptions(severity=0.8, recovery_lag_months=0))
    c = proj.columns
    assert proj.n_periods == 48
    assert np.isclose(c["default"][0], res.mdr[0] * V0.sum())
    assert np.allclose(
        c["default"] / np.where(c["beginning_balance"] > 0, c["beginning_balance"], 1), res.mdr
    )
    assert np.isclose(c["loss"].sum(), 0.8 * c["default"].sum())


def test_bad_matrices_are_refused_with_row_and_reason() -> None:
    p = TRUE_P.copy()
    p[1, 0] += 1e-6
    with pytest.raises(InvalidInput) as err:
        check_matrix(SPACE, p)
    assert err.value.problems[0].row == 1 and "sums to" in err.value.problems[0].reason
    q = TRUE_P.copy()
    q[5] = [0.5, 0, 0, 0, 0, 0.5, 0]
    with pytest.raises(InvalidInput) as err:
        check_matrix(SPACE, q)
    assert err.value.problems[0].row == 5 and "absorbing" in err.value.problems[0].reason
    with pytest.raises(InvalidInput):
        start_vector(SPACE, {"current": -1.0})
    with pytest.raises(InvalidInput):
        start_vector(SPACE, {"late": 1.0})


def test_schema_literals_mirror_the_enums() -> None:
    from typing import get_args

    from app.assets.consumer_credit.loan_types import LoanType
    from app.assets.consumer_credit.macro import Link, MacroVariable
    from app.assets.consumer_credit.roll_rates import Method, Weight
    from app.engine.markov import Interval
    from app.models import consumer_credit as m

    for lit, enum in (
        (m.MethodIn, Method),
        (m.WeightIn, Weight),
        (m.IntervalIn, Interval),
        (m.LinkIn, Link),
        (m.MacroVariableIn, MacroVariable),
        (m.LoanTypeIn, LoanType),
    ):
        assert get_args(lit) == tuple(e.value for e in enum)
