"""The CLO deal over its assets, checked by hand: OC numerators carry the Caa excess at market
value and defaulted assets at min(market, recovery) until their workout; asset interest accrues
ACT/360 on 365/12 days; a call sells what is left."""

from __future__ import annotations

import pytest

from app.core.config import get_settings
from app.engine._kernels import waterfall_nb as wk
from app.models.clo import CloAnalyzeRequest
from app.services import clo

ACC = 365 / 12 / 360


def _request(**extra):
    assets = [
        {
            "asset_id": "p1",
            "par": 80,
            "price": 1.0,
            "coupon": 0.06,
            "rating": "B2",
            "maturity_months": 12,
        },
        {
            "asset_id": "c1",
            "par": 15,
            "price": 0.6,
            "coupon": 0.06,
            "rating": "Caa2",
            "maturity_months": 12,
        },
        {
            "asset_id": "d1",
            "par": 10,
            "price": 0.3,
            "coupon": 0.06,
            "rating": "Caa3",
            "maturity_months": 12,
            "defaulted": True,
            "recovery_rate": 0.4,
        },
    ]
    deal = {
        "tranches": [
            {"name": "A", "balance": 70, "coupon": {"type": "fixed", "rate": 0.03}},
            {"name": "E", "role": "equity"},
        ],
        "tests": [{"name": "oc", "type": "oc", "tranches": ["A"], "trigger": 1.2}],
        "waterfall": [
            {"source": "interest", "pay": "interest", "tranches": ["A"]},
            {"source": "interest", "pay": "cure", "test": "oc", "mode": "full", "tranches": ["A"]},
            {"source": "interest", "pay": "residual", "to": "E"},
            {"source": "principal", "pay": "principal", "tranches": ["A"]},
            {"source": "principal", "pay": "residual", "to": "E"},
        ],
    }
    return CloAnalyzeRequest.model_validate(
        {
            "assets": assets,
            "deal": deal,
            "assumptions": {"workout_months": 3, "caa_limit": 0.075},
            **extra,
        }
    )


def test_oc_numerator_haircuts_by_hand() -> None:
    req = _request()
    setup = clo.build_setup(req, get_settings())
    res = clo.run_at(setup, req, 0.0)
    led = res.ledgers
    # performing par 95; Caa 15 > 7.5% x 95 = 7.125: excess 7.875 at price 0.6 → 3.15 of haircut
    # (a fraction 3.15/95 of the performing balance, constant while nothing amortises);
    # defaulted 10 at min(0.3, 0.4) → 7 of haircut until its workout in month 3.
    collateral_par = 105.0
    assert led.collateral[wk.C_BAL, 0] == pytest.approx(collateral_par)
    oc1 = (105 - 3.15 - 7.0) / 70
    assert led.tests[0, 0, 0] == pytest.approx(oc1, rel=1e-12)
    # interest: 95 x 6% x 365/12/360; A due 70 x 3%/12 (30/360)
    assert led.collateral[wk.C_INT, 0] == pytest.approx(95 * 0.06 * ACC, rel=1e-12)
    assert led.tranches[wk.T_DUE, 0, 0] == pytest.approx(70 * 0.03 / 12, rel=1e-12)
    # month 3: the defaulted asset recovers 4 (principal) and 6 is lost; the haircut falls away
    assert led.collateral[wk.C_PRIN, 2] == pytest.approx(4.0)
    assert led.collateral[wk.C_LOSS, 2] == pytest.approx(6.0)
    assert oc1 == pytest.approx(94.85 / 70) and led.tests[1, 0, 0] == 1.0  # 1.355 >= 1.2
    # month 3: the cure step stands before the principal steps, so the recovered 4 is still
    # principal cash in the numerator, and the defaulted haircut is gone: (95 + 4 − 3.15) / 70
    assert led.tests[0, 0, 2] == pytest.approx((95 + 4 - 3.15) / 70, rel=1e-12)


def test_failing_oc_diverts_all_interest() -> None:
    req = _request()
    req.deal.tests[0].trigger = 1.45  # 1.355 < 1.45: full mode diverts every period until cured
    setup = clo.build_setup(req, get_settings())
    led = clo.run_at(setup, req, 0.0).ledgers
    interest = 95 * 0.06 * ACC
    a_due = 70 * 0.03 / 12
    assert led.tranches[wk.T_PPAID, 0, 0] == pytest.approx(interest - a_due, rel=1e-12)
    assert led.tranches[wk.T_RESID, 1, 0] == pytest.approx(0.0, abs=1e-12)


def test_call_sells_remaining_assets() -> None:
    req = _request(call={"non_call_period": 3, "call_period": 6, "price": 0.98})
    setup = clo.build_setup(req, get_settings())
    led = clo.run_at(setup, req, 0.0).ledgers
    assert led.collateral.shape[1] == 6
    # performing par 95 sold at 0.98 in month 6 (the defaulted one was worked out in month 3)
    assert led.collateral[wk.C_PRIN, 5] == pytest.approx(95 * 0.98)
    assert led.collateral[wk.C_LOSS, 5] == pytest.approx(95 * 0.02)
    assert led.tranches[wk.T_BAL, 0, 5] == pytest.approx(0.0, abs=1e-9)
