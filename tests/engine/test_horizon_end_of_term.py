"""Defaults in a loan's last months: where they liquidate, with what loss, and how long the
projection runs (DOMAIN.md §3; docs/methodology/projection.md, "Horizon")."""

from __future__ import annotations

import numpy as np
import pytest

from app.engine.pool import LoanPool
from app.engine.projection import project_pool
from app.engine.types import Assumptions, Speed, SpeedKind

POOL = LoanPool.from_columns(
    {
        "balance": [300000.0, 150000.0],
        "rate": [0.065, 0.055],
        "original_term_months": [360, 180],
        "age_months": [0, 24],
    }
)


def _run(advancing: bool, lag: int = 6, severity: float = 0.35):
    return project_pool(
        POOL,
        Assumptions(
            prepayment=Speed(SpeedKind.PSA, speed=150),
            default=Speed(SpeedKind.CDR, rate=0.02),
            severity=severity,
            recovery_lag_months=lag,
            advancing=advancing,
        ),
    )


def test_not_advanced_defaults_liquidate_lag_months_after_maturity_at_full_severity() -> None:
    proj = _run(advancing=False)
    c = proj.columns
    assert proj.n_periods == 360 + 6  # the last month's defaults liquidate 6 months later
    assert c["default"][359] > 0 and np.all(c["default"][360:] == 0)
    # Each month's defaults come out, whole and unamortised, exactly L months later ...
    assert c["liquidated_balance"][6:] == pytest.approx(c["default"][:-6], rel=1e-12, abs=1e-12)
    # ... with loss = severity x balance at default (no cap binds when not advanced).
    assert c["loss"].sum() == pytest.approx(0.35 * c["default"].sum(), rel=1e-12)
    assert c["foreclosure_balance"][-1] == pytest.approx(0.0, abs=1e-9)
    assert c["total_cashflow"][-1] > 0  # the final row is a liquidation, not padding


def test_advanced_defaults_are_amortised_to_maturity_so_the_horizon_is_the_term() -> None:
    proj = _run(advancing=True)
    c = proj.columns
    assert proj.n_periods == 360  # no trailing rows of zeros
    assert c["foreclosure_balance"][-1] == pytest.approx(0.0, abs=1e-9)
    # Principal in = principal out: everything that defaulted is advanced or liquidated.
    paid = c["scheduled_principal"] + c["prepayment"] + c["defaulted_amortization"] + c["recovery"]
    assert paid.sum() + c["loss"].sum() == pytest.approx(POOL.total_balance, rel=1e-12)
    # In the last L months the defaulted balance is advanced down the schedule, so the loss is
    # capped by what is left to liquidate: min(severity x default, liquidated balance).
    last = slice(354, 360)
    assert np.all(c["loss"][last] <= c["liquidated_balance"][last] + 1e-12)
    assert c["loss"].sum() < 0.35 * c["default"].sum()


def test_sda_never_extends_the_horizon() -> None:
    proj = project_pool(
        POOL,
        Assumptions(
            default=Speed(SpeedKind.SDA, speed=300),
            severity=0.4,
            recovery_lag_months=6,
            advancing=False,
        ),
    )
    assert proj.n_periods == 360
    assert np.all(proj.columns["default"][354:] == 0)  # SDA: no defaults in the last L months
    assert proj.columns["foreclosure_balance"][-1] == pytest.approx(0.0, abs=1e-9)
