"""Stress grid against a brute-force loop over cells; concentration against hand figures."""

from __future__ import annotations

import numpy as np
import pytest

from app.assets.commercial.concentration import concentration
from app.assets.commercial.loans import commercial_loans
from app.assets.commercial.stress import stress_grid
from app.engine.errors import InvalidInput
from app.engine.pool import LoanPool


def test_grid_matches_brute_force_per_cell() -> None:
    rng = np.random.default_rng(3)
    n = 500
    bal = rng.uniform(1e6, 2e7, n)
    noi = rng.uniform(0.06, 0.14, n) * bal
    ds = rng.uniform(0.06, 0.09, n) * bal
    cap = rng.uniform(0.045, 0.09, n)
    value = noi / cap * rng.uniform(0.9, 1.1, n)
    dscr, ltv = noi / ds, bal / value
    vf = value * cap / noi
    hs, ss = np.array([0.0, 0.1, 0.25, 0.4]), np.array([-0.005, 0.0, 0.01, 0.02])
    g = stress_grid(bal, dscr, ltv, cap, hs, ss)
    for a, h in enumerate(hs):
        for b, s in enumerate(ss):
            d_cell = noi * (1 - h) / ds  # DSCR written from NOI, not from today's dscr
            l_cell = bal / (noi * (1 - h) / (cap + s) * vf)
            np.testing.assert_allclose(
                g.dscr_percentiles[a, b], np.percentile(d_cell, [5, 25, 50, 75, 95]), rtol=1e-12
            )
            np.testing.assert_allclose(
                g.ltv_percentiles[a, b], np.percentile(l_cell, [5, 25, 50, 75, 95]), rtol=1e-12
            )
            assert g.dscr_mean[a, b] == pytest.approx(np.average(d_cell, weights=bal), rel=1e-12)
            assert g.ltv_mean[a, b] == pytest.approx(np.average(l_cell, weights=bal), rel=1e-12)
            assert g.balance_dscr_below[1.0][a, b] == pytest.approx(
                bal[d_cell < 1.0].sum(), rel=1e-12, abs=1e-6
            )
            assert g.balance_dscr_below[1.25][a, b] == pytest.approx(
                bal[d_cell < 1.25].sum(), rel=1e-12, abs=1e-6
            )
            assert g.balance_ltv_above[0.8][a, b] == pytest.approx(
                bal[l_cell > 0.8].sum(), rel=1e-9, abs=1e-3
            )
            assert g.balance_ltv_above[1.0][a, b] == pytest.approx(
                bal[l_cell > 1.0].sum(), rel=1e-9, abs=1e-3
            )
    assert g.balance_dscr_below[1.25][-1].max() > 0 and g.balance_ltv_above[1.0][-1, -1] > 0


def test_grid_refuses_bad_axes() -> None:
    one = np.ones(3)
    with pytest.raises(InvalidInput) as err:
        stress_grid(one, one, one, np.full(3, 0.05), [1.0], [0.0])
    assert err.value.problems[0].column == "stress.noi_haircuts"
    with pytest.raises(InvalidInput) as err:
        stress_grid(one, one, one, np.full(3, 0.05), [0.1], [-0.06])
    assert err.value.problems[0].column == "stress.cap_rate_shifts"


def test_concentration_hand_figures() -> None:
    pool = LoanPool.from_columns(
        {
            "loan_id": ["a", "b", "c"],
            "balance": [50.0, 30.0, 20.0],
            "rate": [0.05] * 3,
            "original_term_months": [120] * 3,
            "property_type": ["office", "office", "hotel"],
            "state": ["NY", "CA", "NY"],
            "sponsor": ["S1", "S1", "S2"],
            "noi": [10.0] * 3,
        }
    )
    c = concentration(commercial_loans(pool))
    assert c["hhi"] == pytest.approx(0.25 + 0.09 + 0.04)
    assert c["effective_number"] == pytest.approx(1 / 0.38)
    assert c["top10_share"] == pytest.approx(1.0)
    assert c["by_property_type"] == [
        {"key": "office", "balance": 80.0, "share": 0.8, "n_loans": 2},
        {"key": "hotel", "balance": 20.0, "share": 0.2, "n_loans": 1},
    ]
    assert c["hhi_state"] == pytest.approx(0.7**2 + 0.3**2)
    assert c["by_msa"] == [{"key": "unknown", "balance": 100.0, "share": 1.0, "n_loans": 3}]
    assert [r["loan_id"] for r in c["top10_loans"]] == ["a", "b", "c"]
