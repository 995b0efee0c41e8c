"""Rate-driven prepayment model: hand values of each component and the constant-CPR limit."""

from __future__ import annotations

import math

import numpy as np
import pytest

from app.engine.errors import InvalidInput
from app.engine.prepayment_model import RefiPrepaymentModel, cpr_to_smm


def test_zero_sensitivity_is_constant_cpr() -> None:
    model = RefiPrepaymentModel(turnover_cpr=0.08, refi_cpr_max=0.0, seasoning_months=0)
    rng = np.random.default_rng(0)
    m = rng.uniform(0.0, 0.12, (5, 48))
    smm = model.smm(np.array([0.03, 0.065, 0.09]), np.array([0, 12, 100]), m)
    assert smm.shape == (5, 48, 3)
    assert np.all(smm == 1 - 0.92 ** (1 / 12))


def test_cpr_to_smm_hand_value() -> None:
    assert cpr_to_smm(0.06) == pytest.approx(1 - 0.94 ** (1 / 12), rel=1e-15)


def test_s_curve_hand_values() -> None:
    model = RefiPrepaymentModel(refi_midpoint=0.01, refi_steepness=300.0)
    assert model.s_curve(np.array(0.01)) == pytest.approx(0.5)
    assert model.s_curve(np.array(0.02)) == pytest.approx(1 / (1 + math.exp(-3.0)))
    assert model.s_curve(np.array(-0.02)) == pytest.approx(1 / (1 + math.exp(9.0)))
    x = np.linspace(-0.05, 0.05, 101)
    assert np.all(np.diff(model.s_curve(x)) > 0)


def test_components_by_hand() -> None:
    """One loan, one path, three months: turnover + refi·S·burnout with the seasoning ramp."""
    model = RefiPrepaymentModel(
        turnover_cpr=0.06,
        refi_cpr_max=0.5,
        refi_midpoint=0.005,
        refi_steepness=200.0,
        seasoning_months=10,
        burnout=20.0,
    )
    note, age = 0.07, 4
    m = np.array([[0.05, 0.06, 0.08]])
    got = model.smm(np.array([note]), np.array([age]), m)[0, :, 0]
    turn = 1 - 0.94 ** (1 / 12)
    refi = 1 - 0.5 ** (1 / 12)
    exposure = 0.0
    for i in range(3):
        inc = note - m[0, i]
        s = 1 / (1 + math.exp(-200 * (inc - 0.005)))
        burn = 1 / (1 + 20 * exposure)
        ramp = min(1.0, (age + i + 1) / 10)
        assert got[i] == pytest.approx(ramp * (turn + refi * s * burn), rel=1e-14)
        exposure += max(inc, 0.0) / 12


def test_smm_capped_at_one_minus_mdr() -> None:
    model = RefiPrepaymentModel(turnover_cpr=1.0, refi_cpr_max=1.0, seasoning_months=0)
    smm = model.smm(np.array([0.1]), np.array([0]), np.zeros((1, 2)), mdr=np.array([[0.2], [0.0]]))
    assert smm[0, 0, 0] == pytest.approx(0.8)
    assert smm[0, 1, 0] == pytest.approx(1.0)


def test_invalid_parameters_are_named() -> None:
    with pytest.raises(InvalidInput) as err:
        RefiPrepaymentModel(turnover_cpr=1.5, burnout=-1).validate()
    assert {p.column for p in err.value.problems} == {
        "prepayment_model.turnover_cpr",
        "prepayment_model.burnout",
    }
