"""Speed curves against DOMAIN.md §2, computed by hand."""

from __future__ import annotations

import numpy as np
import pytest

from app.engine import Assumptions, InvalidInput, LoanPool, Speed, SpeedKind, project_pool
from app.engine.speeds import (
    abs_smm,
    annual_to_monthly,
    multiplier_by_group,
    psa_cpr,
    rate_matrix,
    sda_cdr,
)


@pytest.mark.parametrize(
    "m,speed,cpr",
    [
        (1, 100, 0.002),
        (15, 100, 0.03),
        (30, 100, 0.06),
        (31, 100, 0.06),
        (200, 100, 0.06),
        (10, 150, 0.03),
        (30, 50, 0.03),
        (30, 2000, 1.0),
    ],
)
def test_psa(m: int, speed: float, cpr: float) -> None:
    assert float(psa_cpr(m, speed)) == pytest.approx(cpr, abs=1e-15)


@pytest.mark.parametrize(
    "m,speed,cdr",
    [
        (1, 100, 0.0002),
        (30, 100, 0.006),
        (31, 100, 0.006),
        (60, 100, 0.006),
        (61, 100, 0.005905),
        (90, 100, 0.00315),
        (120, 100, 0.0003),
        (121, 100, 0.0003),
        (300, 100, 0.0003),
        (45, 200, 0.012),
    ],
)
def test_sda(m: int, speed: float, cdr: float) -> None:
    assert float(sda_cdr(m, speed)) == pytest.approx(cdr, abs=1e-15)


def test_conversions_and_abs() -> None:
    assert float(annual_to_monthly(0.06)) == pytest.approx(1 - 0.94 ** (1 / 12), rel=1e-15)
    assert float(abs_smm(1, 0.015)) == pytest.approx(0.015)
    assert float(abs_smm(10, 0.015)) == pytest.approx(0.015 / (1 - 0.015 * 9))
    assert float(abs_smm(80, 0.015)) == 1.0  # 1 - 0.015 * 79 < 0.015: every loan gone


def test_vectors_hold_last_value_and_sda_tail_is_zero() -> None:
    ages = np.array([0, 10])
    rem = np.array([24, 14])
    m = rate_matrix(Speed(SpeedKind.SMM_VECTOR, values=np.array([0.01, 0.02])), ages, rem, 5)
    np.testing.assert_array_equal(m, [[0.01, 0.02, 0.02, 0.02, 0.02]] * 2)
    d = rate_matrix(Speed(SpeedKind.SDA, speed=100.0), ages, rem, 24, recovery_lag=6)
    assert (d[0, 18:] == 0).all() and (d[0, :18] > 0).all()  # last 6 of 24 months
    assert (d[1, 8:] == 0).all() and (d[1, :8] > 0).all()  # last 6 of 14 remaining
    # on loan age: month 1 of the 10-month-old loan is age month 11
    assert d[1, 0] == pytest.approx(1 - (1 - 0.0002 * 11) ** (1 / 12))


def test_per_loan_rates_and_group_multiplier() -> None:
    mult = multiplier_by_group(np.array(["CA", "NY", "TX"]), {"CA": 2.0, "TX": 1000.0})
    np.testing.assert_array_equal(mult, [2.0, 1.0, 1000.0])
    s = Speed(
        SpeedKind.SMM, rate=0.01, loan_rates=np.array([0.01, 0.02, 0.03]), loan_multiplier=mult
    )
    m = rate_matrix(s, np.zeros(3, dtype=int), np.full(3, 12), 3)
    np.testing.assert_allclose(m[:, 0], [0.02, 0.02, 1.0])  # multiplied, capped at 1


def test_bad_speed_is_rejected() -> None:
    pool = LoanPool.from_columns({"balance": [1.0], "rate": [0.05], "original_term_months": [12]})
    with pytest.raises(InvalidInput):
        project_pool(pool, Assumptions(prepayment=Speed(SpeedKind.CDR, rate=0.1)))
    with pytest.raises(InvalidInput):
        project_pool(pool, Assumptions(default=Speed(SpeedKind.MDR, rate=1.5)))
    with pytest.raises(InvalidInput):
        project_pool(pool, Assumptions(severity=2.0))
    with pytest.raises(InvalidInput):
        project_pool(
            pool, Assumptions(prepayment=Speed(SpeedKind.CPR, loan_rates=np.array([0.1, 0.2])))
        )
