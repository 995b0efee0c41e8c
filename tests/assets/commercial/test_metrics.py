"""DSCR, LTV and debt yield against hand computations (numpy-financial annuities, written apart)."""

from __future__ import annotations

import numpy as np
import numpy_financial as npf
import pytest

from app.assets.commercial.loans import commercial_loans
from app.assets.commercial.metrics import loan_metrics, monthly_paths
from app.engine.errors import InvalidInput
from app.engine.pool import LoanPool

B, R, NOI, VALUE = 1_000_000.0, 0.06, 200_000.0, 2_500_000.0


def _pool(**over):
    cols = {
        "loan_id": ["amort", "io", "balloon", "bullet"],
        "balance": [B] * 4,
        "rate": [R] * 4,
        "original_term_months": [120] * 4,
        "amortization": ["level", "interest_only", "balloon", "bullet"],
        "io_months": [0, 24, 0, 0],
        "amortization_term_months": [120, 120, 360, 120],
        "property_type": ["office", "retail", "multifamily", "industrial"],
        "noi": [NOI] * 4,
        "property_value": [VALUE] * 4,
    }
    cols.update(over)
    return LoanPool.from_columns(cols)


def test_hand_computed_dscr_ltv_debt_yield() -> None:
    m = loan_metrics(commercial_loans(_pool()))
    # level: 1,000,000 at 0.5% a month over 120 months pays 11,102.05 a month
    level = -npf.pmt(R / 12, 120, B) * 12
    assert level == pytest.approx(133_224.6, abs=0.1)
    # interest-only in its IO period: 60,000 a year; after IO it amortises over 96 months
    io_after = -npf.pmt(R / 12, 96, B) * 12
    # balloon on a 360-month schedule: 5,995.51 a month; balance left after 120 payments
    balloon_ds = -npf.pmt(R / 12, 360, B) * 12
    balloon_left = npf.fv(R / 12, 120, -balloon_ds / 12, B) * -1
    assert balloon_left == pytest.approx(836_857.0, abs=5.0)
    np.testing.assert_allclose(
        m.annual_debt_service, [level, 60_000.0, balloon_ds, 60_000.0], rtol=1e-12
    )
    np.testing.assert_array_equal(m.interest_only, [False, True, False, True])
    np.testing.assert_allclose(
        m.dscr, [NOI / level, NOI / 60_000.0, NOI / balloon_ds, NOI / 60_000.0], rtol=1e-12
    )
    np.testing.assert_allclose(
        m.dscr_amortizing[:3], [NOI / level, NOI / io_after, NOI / balloon_ds], rtol=1e-12
    )
    np.testing.assert_allclose(m.ltv, 0.4, rtol=1e-15)
    np.testing.assert_allclose(m.debt_yield, 0.2, rtol=1e-15)
    np.testing.assert_allclose(m.balloon, [0.0, 0.0, balloon_left, B], atol=1e-6)
    assert m.dscr[0] == pytest.approx(1.5012, abs=1e-4)


def test_metrics_through_time_follow_schedule_and_noi_growth() -> None:
    loans = commercial_loans(_pool())
    p = monthly_paths(loans, np.array([0, 12, 36, 120]), noi_growth=0.03)
    pay = -npf.pmt(R / 12, 120, B)
    bal12 = -npf.fv(R / 12, 12, -pay, B)
    noi12 = NOI * 1.03
    cap = NOI / VALUE  # implied by value when no cap_rate is given
    assert p.balance[0, 1] == pytest.approx(bal12, rel=1e-12)
    assert p.ltv[0, 1] == pytest.approx(bal12 / (noi12 / cap), rel=1e-12)
    assert p.debt_yield[0, 1] == pytest.approx(noi12 / bal12, rel=1e-12)
    assert p.dscr[0, 1] == pytest.approx(noi12 / (pay * 12), rel=1e-12)
    # IO loan: interest only for 24 months, then the 96-month level payment
    io_pay = -npf.pmt(R / 12, 96, B) * 12
    assert p.dscr[1, 1] == pytest.approx(noi12 / 60_000.0, rel=1e-12)
    assert p.dscr[1, 2] == pytest.approx(NOI * 1.03**3 / io_pay, rel=1e-12)
    bal36_io = -npf.fv(R / 12, 12, -io_pay / 12, B)
    assert p.balance[1, 2] == pytest.approx(bal36_io, rel=1e-12)
    # at maturity every loan is gone: NaN metrics, zero balance
    assert np.all(np.isnan(p.dscr[:, 3])) and np.all(p.balance[:, 3] == 0)


def test_cap_rate_and_value_defaults() -> None:
    pool = _pool(property_value=[None, None, 3_000_000.0, None], cap_rate=[0.08, None, 0.05, None])
    loans = commercial_loans(pool)
    np.testing.assert_allclose(
        loans.property_value[:2], [NOI / 0.08, NOI / 0.075]
    )  # retail default 7.5%
    assert loans.value_factor[2] == pytest.approx(3_000_000.0 * 0.05 / NOI)
    assert loans.property_value[2] == 3_000_000.0


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("noi", [0.0, NOI, NOI, NOI], "noi must be > 0"),
        ("noi", [-5.0, NOI, NOI, NOI], "noi must be > 0"),
        ("property_value", [0.0, VALUE, VALUE, VALUE], "property_value must be > 0"),
        (
            "property_type",
            ["castle", "office", "office", "office"],
            "unknown property type 'castle'",
        ),
        ("pd_annual", [1.5, 0.0, 0.0, 0.0], "pd_annual must be a probability in [0, 1]"),
        ("correlation", [1.0, 0.1, 0.1, 0.1], "correlation must satisfy 0 <= correlation < 1"),
        ("cap_rate", [0.0, 0.05, 0.05, 0.05], "cap_rate must satisfy 0 < cap_rate < 1"),
    ],
)
def test_bad_fields_name_loan_field_reason(field: str, value: list, reason: str) -> None:
    with pytest.raises(InvalidInput) as err:
        commercial_loans(_pool(**{field: value}))
    p = err.value.problems[0]
    assert (p.row, p.column) == (0, field)
    assert "loan amort" in p.reason and reason in p.reason
