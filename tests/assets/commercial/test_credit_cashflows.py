"""Refinance test at maturity, severity, PD model and the engine cash flows they drive."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy_financial as npf
import pytest

from app.assets.commercial.cashflows import (
    Drivers,
    default_rates,
    horizon_months,
    prepayment_rates,
    project,
)
from app.assets.commercial.credit import (
    PDModel,
    RefiTerms,
    SeverityTerms,
    liquidation_months,
    ltv_severity,
    maturity_test,
    severities,
)
from app.assets.commercial.loans import commercial_loans
from app.engine.pool import LoanPool
from app.engine.projection import project_with_rates
from app.engine.types import Assumptions

B, RATE = 1_000_000.0, 0.05


def _balloons(noi: list[float], **over) -> LoanPool:
    n = len(noi)
    cols: dict[str, list[Any]] = {
        "loan_id": [f"L{k}" for k in range(n)],
        "balance": [B] * n,
        "rate": [RATE] * n,
        "original_term_months": [60] * n,
        "amortization": ["balloon"] * n,
        "amortization_term_months": [360] * n,
        "property_type": ["multifamily"] * n,
        "noi": noi,
        "cap_rate": [0.06] * n,
        "pd_annual": [0.0] * n,
    }
    cols.update(over)
    return LoanPool.from_columns(cols)


def test_balloon_below_refi_dscr_defaults_at_maturity_above_pays_off() -> None:
    loans = commercial_loans(_balloons([150_000.0, 80_000.0]))
    terms = RefiTerms(rate=0.07, amortization_months=360, max_ltv=0.75, min_dscr=1.25)
    m = maturity_test(loans, terms)
    pay = -npf.pmt(RATE / 12, 360, B)
    balloon = -npf.fv(RATE / 12, 60, -pay, B)
    refi_ds = -npf.pmt(0.07 / 12, 360, balloon) * 12
    np.testing.assert_allclose(m.balloon, balloon, rtol=1e-10)
    np.testing.assert_allclose(m.refi_dscr, [150_000 / refi_ds, 80_000 / refi_ds], rtol=1e-10)
    np.testing.assert_allclose(
        m.refi_ltv, [balloon / (150_000 / 0.06), balloon / (80_000 / 0.06)], rtol=1e-10
    )
    assert (
        80_000 / refi_ds < 1.25 < 150_000 / refi_ds and balloon / (80_000 / 0.06) < 0.75
    )  # DSCR decides
    np.testing.assert_array_equal(m.defaults, [False, True])
    np.testing.assert_array_equal(m.default_month, [0, 60])

    sev_terms = SeverityTerms()
    sev, ltv_liq = severities(loans, sev_terms, m)
    lag = liquidation_months(loans, sev_terms)
    n_periods = horizon_months(m, lag)
    assert n_periods == 60 + 12  # multifamily liquidates in 12 months
    mdr = default_rates(loans, m, PDModel(), Drivers(), n_periods)
    smm = prepayment_rates(loans, Drivers(), n_periods)
    cf = project(loans, m, sev, lag, mdr, smm)
    # the failing loan defaults in month 60, before that month's payment (the engine takes
    # defaults before scheduled amortisation): its balance after 59 payments; none before
    at_default = -npf.fv(RATE / 12, 59, -pay, B)
    assert cf.columns["default"][59] == pytest.approx(at_default, rel=1e-9)
    assert cf.columns["default"][:59].sum() == 0.0
    # the passing loan pays its balloon as scheduled principal in month 60
    assert cf.loan_totals["scheduled_principal"][0] == pytest.approx(B, rel=1e-9)
    assert cf.loan_totals["default"][1] == pytest.approx(at_default, rel=1e-9)
    # the loss is severity x defaulted balance, 12 months later
    assert cf.columns["loss"][71] == pytest.approx(sev[1] * at_default, rel=1e-9)
    assert cf.columns["loss"][:71].sum() == 0.0
    value_liq = 80_000 / 0.06
    expect = 1 - 0.9 / (balloon / value_liq) + 0.02 * 12 / 12
    assert sev[1] == pytest.approx(min(max(expect, 0), 1), rel=1e-12)
    assert ltv_liq[1] == pytest.approx(balloon / value_liq, rel=1e-12)


def test_extension_retests_later() -> None:
    loans = commercial_loans(_balloons([80_000.0], extension_months=[12]))
    flat = maturity_test(loans, RefiTerms())
    assert flat.extended[0] and flat.defaults[0] and flat.default_month[0] == 72
    # 2.5% NOI growth: refi DSCR < 1.25 at month 60, > 1.25 at 72 -> extended, then refinances
    grown = maturity_test(loans, RefiTerms(), noi_growth=0.025)
    assert grown.extended[0] and not grown.defaults[0] and grown.refinances[0]
    assert grown.test_month[0] == 72 and grown.refi_dscr[0] > 1.25
    assert maturity_test(replace_ext(loans), RefiTerms(), noi_growth=0.025).defaults[0]


def replace_ext(loans):
    from dataclasses import replace

    return replace(loans, extension_months=np.zeros(1, dtype=np.int64))


def test_severity_split_equals_one_engine_run() -> None:
    pool = _balloons([90_000.0] * 3, pd_annual=[0.03, 0.05, 0.08], severity=[0.4, 0.4, 0.4])
    loans = commercial_loans(pool)
    m = maturity_test(loans, RefiTerms(min_dscr=0.0, max_ltv=10.0))
    lag = np.full(3, 6)
    n_periods = horizon_months(m, lag)
    mdr = default_rates(loans, m, PDModel(), Drivers(), n_periods)
    smm = prepayment_rates(loans, Drivers(prepayment_cpr=0.05), n_periods)
    cf = project(loans, m, np.full(3, 0.4), lag, mdr, smm)
    one = project_with_rates(
        pool, smm, mdr, Assumptions(severity=0.4, recovery_lag_months=6, advancing=False)
    )
    for k in ("default", "loss", "recovery", "interest", "total_cashflow", "ending_balance"):
        np.testing.assert_allclose(cf.columns[k], one.columns[k], rtol=1e-10, atol=1e-6)
    # constant pd_annual -> MDR = 1 - (1 - pd)^(1/12) while the loan is alive
    np.testing.assert_allclose(
        mdr[:, 0], 1 - (1 - np.array([0.03, 0.05, 0.08])) ** (1 / 12), rtol=1e-12
    )
    assert np.all(mdr[:, 60:] == 0)


def test_pd_model_is_the_stated_logistic_and_severity_clips() -> None:
    model = PDModel(intercept=-3.0, dscr=-2.0, ltv=4.0)
    pd_ = model.annual_pd(np.array([1.2, 0.8]), np.array([0.6, 1.1]))
    z = np.array([-3.0 - 2.4 + 2.4, -3.0 - 1.6 + 4.4])
    np.testing.assert_allclose(pd_, np.exp(z) / (1 + np.exp(z)), rtol=1e-12)
    sev = ltv_severity(
        np.array([0.5, 1.0, 3.0]),
        np.array([12.0, 12.0, 12.0]),
        SeverityTerms(liquidation_cost=0.1, carry_cost=0.0),
    )
    np.testing.assert_allclose(sev, [0.0, 0.1, 0.7], atol=1e-12)


def test_lockout_and_yield_maintenance_stop_prepayments() -> None:
    loans = commercial_loans(
        _balloons(
            [150_000.0] * 2, prepayment_lockout_months=[24, 0], yield_maintenance=[False, True]
        )
    )
    smm = prepayment_rates(loans, Drivers(prepayment_cpr=0.10, yield_maintenance_factor=0.0), 36)
    assert np.all(smm[0, :24] == 0) and smm[0, 24] == pytest.approx(1 - 0.9 ** (1 / 12))
    assert np.all(smm[1] == 0)
