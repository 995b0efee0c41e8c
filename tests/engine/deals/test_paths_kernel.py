"""The parallel path kernel gives, path by path, what the readable waterfall gives for the same
collateral: tranche losses (principal not repaid + final shortfall), the equity's cash and the
lowest test values."""

from __future__ import annotations

import numpy as np

from app.engine._kernels import waterfall_nb as wk
from app.engine.deals import CollateralFlows, parse_deal, run_deal
from app.engine.deals.compile import compile_deal

DEAL = {
    "tranches": [
        {"name": "A", "balance": 70, "coupon": {"type": "fixed", "rate": 0.05}},
        {"name": "B", "balance": 15, "coupon": {"type": "fixed", "rate": 0.09}, "deferrable": True},
        {"name": "C", "balance": 8, "coupon": {"type": "fixed", "rate": 0.12}},
        {"name": "E", "role": "equity"},
    ],
    "fees": [{"name": "f", "rate": 0.002, "basis": "collateral_balance"}],
    "tests": [
        {"name": "oc", "type": "oc", "tranches": ["B"], "trigger": 1.12},
        {"name": "ic", "type": "ic", "tranches": ["C"], "trigger": 1.05},
    ],
    "waterfall": [
        {"source": "interest", "pay": "fees", "fees": ["f"]},
        {"source": "interest", "pay": "interest", "tranches": ["A"]},
        {"source": "interest", "pay": "interest", "tranches": ["B"]},
        {"source": "interest", "pay": "cure", "test": "oc", "mode": "cure", "tranches": ["A", "B"]},
        {"source": "interest", "pay": "interest", "tranches": ["C"]},
        {
            "source": "interest",
            "pay": "cure",
            "test": "ic",
            "mode": "full",
            "tranches": ["A", "B", "C"],
        },
        {"source": "interest", "pay": "residual", "to": "E"},
        {"source": "principal", "pay": "principal", "tranches": ["A", "B", "C"]},
        {"source": "principal", "pay": "residual", "to": "E"},
    ],
    "loss_allocation": "none",
}


def test_paths_kernel_matches_reference_path_by_path() -> None:
    rng = np.random.default_rng(1)
    p, t = 25, 30
    deal = parse_deal(DEAL)
    arr = compile_deal(deal, t)
    p_int = rng.uniform(0.3, 0.9, (p, t))
    p_loss = rng.uniform(0.0, 1.5, (p, t)) * (rng.uniform(size=(p, t)) < 0.3)
    p_prin = rng.uniform(0.5, 3.0, (p, t))
    haircut = rng.uniform(0.0, 2.0, (p, t))
    loss = np.empty((p, 4))
    cash = np.empty((p, t))
    cushion = np.empty((p, 2))
    # the 36 DealArrays fields fill tr_bal0..writedown; mypy cannot place positionals after a
    # variable-length *args against the Dispatcher's ParamSpec signature
    wk.paths_nb(p_int, p_prin, p_loss, 100.0, haircut, *arr.args(), 3, loss, cash, cushion)  # type: ignore[call-arg]
    for k in range(p):
        res = run_deal(
            deal,
            CollateralFlows(100.0, p_int[k], p_prin[k], p_loss[k], haircut[k]),
            engine="reference",
        )
        tr = res.ledgers.tranches
        expect = np.maximum(0.0, arr.tr_bal0 - tr[wk.T_PPAID].sum(axis=1)) + tr[wk.T_SHORT, :, -1]
        np.testing.assert_allclose(loss[k], expect, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(cash[k], tr[wk.T_RESID, 3], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(cushion[k], res.ledgers.tests[0].min(axis=1), rtol=1e-12)
    assert loss[:, 2].max() > 0  # some paths do hit the junior note
