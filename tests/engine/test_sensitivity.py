"""Sensitivity grids, stress tests, risk measures and the break-even solver, checked against
hand formulas (discounting, modified duration, WAL) and independent projections."""

from __future__ import annotations

import math

import numpy as np
import pytest

from app.engine import Assumptions, LoanPool, Speed, SpeedKind, project_pool
from app.engine.analytics.curves import ZeroCurve
from app.engine.errors import EngineError, InvalidInput, NoSolution
from app.engine.sensitivity import (
    BP,
    CreditShock,
    GridAxis,
    RateShock,
    StressShock,
    Valuation,
    apply_shock,
    break_even,
    resolve_basis,
    run_risk,
    scale_speed,
    sensitivity_grid,
    shock_index_paths,
    standard_stresses,
    stress_test,
)

Y = 0.055


def _num(v: object) -> float:
    """A measure that must have been computed (None would fail here, not in arithmetic)."""
    assert isinstance(v, int | float), v
    return float(v)


def _pool() -> LoanPool:
    return LoanPool.from_columns(
        {
            "balance": [150_000.0, 250_000.0, 90_000.0],
            "rate": [0.065, 0.06, 0.07],
            "net_rate": [0.0625, 0.0575, 0.0675],
            "original_term_months": [360, 240, 180],
            "age_months": [12, 0, 30],
        }
    )


BASE = Assumptions(
    prepayment=Speed(SpeedKind.PSA, speed=150.0),
    default=Speed(SpeedKind.CDR, rate=0.02),
    severity=0.35,
    recovery_lag_months=6,
)


def _hand_npv(cf: np.ndarray, y: float) -> float:
    """Σ CF_k (1 + y/12)^(−k), k = period (30/360 monthly)."""
    k = np.arange(1, cf.size + 1)
    return float(np.sum(cf / (1.0 + y / 12.0) ** k))


def _hand_wal(cols: dict[str, np.ndarray]) -> float:
    pr = (
        cols["scheduled_principal"]
        + cols["prepayment"]
        + cols["defaulted_amortization"]
        + cols["recovery"]
    )
    return float(np.sum(cols["period"] / 12.0 * pr) / np.sum(pr))


# ---- grid ---------------------------------------------------------------------------------
def test_grid_cell_equals_the_single_projection_with_that_cells_assumptions() -> None:
    pool = _pool()
    x = GridAxis("cpr", (0.0, 0.08, 0.2))
    y = GridAxis("cdr", (0.0, 0.03))
    res = sensitivity_grid(
        pool, BASE, x, y, ["npv", "wal", "cumulative_loss"], Valuation(discount_rate=Y)
    )
    assert res.measures["npv"].shape == (3, 2)
    for i, cpr in enumerate(x.values):
        for j, cdr in enumerate(y.values):
            a = Assumptions(
                prepayment=Speed(SpeedKind.CPR, rate=cpr),
                default=Speed(SpeedKind.CDR, rate=cdr),
                severity=0.35,
                recovery_lag_months=6,
            )
            cols = project_pool(pool, a, engine="reference").columns
            assert res.measures["npv"][i, j] == pytest.approx(
                _hand_npv(cols["total_cashflow"], Y), rel=1e-10
            )
            assert res.measures["wal"][i, j] == pytest.approx(_hand_wal(cols), rel=1e-10)
            assert res.measures["cumulative_loss"][i, j] == pytest.approx(
                float(cols["loss"].sum()), rel=1e-9, abs=1e-6
            )


def test_rate_shift_grid_reuses_projections_and_discounts_at_the_shifted_yield() -> None:
    pool = _pool()
    res = sensitivity_grid(
        pool,
        BASE,
        GridAxis("rate_shift_bp", (-100.0, 0.0, 100.0)),
        GridAxis("prepayment_multiplier", (0.5, 1.0)),
        ["npv"],
        Valuation(discount_rate=Y),
    )
    # fixed-rate pool: one projection for the base basis, one per multiplier
    assert res.projections == 2
    cols = project_pool(
        pool,
        Assumptions(**{**BASE.__dict__, "prepayment": Speed(SpeedKind.PSA, speed=75.0)}),
        engine="reference",
    ).columns
    assert res.measures["npv"][0, 0] == pytest.approx(
        _hand_npv(cols["total_cashflow"], Y - 0.01), rel=1e-10
    )
    assert res.measures["npv"][2, 0] == pytest.approx(
        _hand_npv(cols["total_cashflow"], Y + 0.01), rel=1e-10
    )


def test_grid_yield_at_a_price_and_invalid_axes() -> None:
    pool = _pool()
    price = pool.total_balance
    res = sensitivity_grid(
        pool,
        BASE,
        GridAxis("sda", (0.0, 200.0)),
        GridAxis("severity", (0.2, 0.6)),
        ["yield", "price_percent"],
        Valuation(price=price),
    )
    # more defaults and more severity: a lower yield at the same price
    assert res.measures["yield"][1, 1] < res.measures["yield"][0, 0]
    assert np.all(np.isfinite(res.measures["yield"]))
    with pytest.raises(InvalidInput) as e:
        sensitivity_grid(pool, BASE, GridAxis("cpr", (-0.1,)), None, ["wal"])
    assert e.value.field == "x.values"
    with pytest.raises(InvalidInput):
        sensitivity_grid(pool, BASE, GridAxis("cpr", (0.1,)), GridAxis("cpr", (0.2,)), ["wal"])
    with pytest.raises(InvalidInput):
        sensitivity_grid(pool, BASE, GridAxis("speed_of_light", (0.1,)), None, ["wal"])
    with pytest.raises(EngineError):
        sensitivity_grid(pool, BASE, GridAxis("cpr", (0.1,)), None, ["npv"])  # no valuation


# ---- stress / duration --------------------------------------------------------------------
def _fixed_flow_pool() -> LoanPool:
    # no prepayment, no default: the cash flow is the level annuity, independent of rates
    return LoanPool.from_columns(
        {"balance": [1_000_000.0], "rate": [0.06], "original_term_months": [120]}
    )


def test_stress_100bp_effective_duration_agrees_with_analytic_modified_duration() -> None:
    pool = _fixed_flow_pool()
    a = Assumptions()
    shocks = [
        StressShock("-100", RateShock(parallel=-100 * BP)),
        StressShock("+100", RateShock(parallel=100 * BP)),
    ]
    base, (dn, up) = stress_test(pool, a, shocks, ["npv"], Valuation(discount_rate=Y))
    cf = project_pool(pool, a, engine="reference").columns["total_cashflow"]
    k = np.arange(1, cf.size + 1)
    t = k / 12.0
    pv = cf / (1.0 + Y / 12.0) ** k
    p0 = pv.sum()
    mod_dur = float(np.sum(t * pv) / p0 / (1.0 + Y / 12.0))  # Macaulay / (1 + y/f)
    npv_dn, npv_up, npv_0 = (_num(o.measures["npv"]) for o in (dn, up, base))
    eff = (npv_dn - npv_up) / (2.0 * npv_0 * 0.01)
    # the stress numbers are the exact repricings ...
    assert dn.measures["npv"] == pytest.approx(_hand_npv(cf, Y - 0.01), rel=1e-12)
    assert up.measures["npv"] == pytest.approx(_hand_npv(cf, Y + 0.01), rel=1e-12)
    # ... and the central difference agrees with the derivative up to its O(h^2) error:
    # (P(y-h) - P(y+h)) / (2 P h) = D + h^2 P'''/(6P) + ..., here below 0.2%
    third = float(np.sum(t * (t + 1 / 12) * (t + 2 / 12) * pv) / p0 / (1 + Y / 12) ** 3)
    assert eff == pytest.approx(mod_dur + 0.01**2 * third / 6.0, rel=2e-5)
    assert eff == pytest.approx(mod_dur, rel=2e-3)
    # the run's own effective duration (±1 bp) matches to 1e-6
    risk = run_risk(pool, a, project_pool(pool, a).columns, Valuation(discount_rate=Y), bump=BP)
    assert risk["effective_duration"] == pytest.approx(mod_dur, rel=1e-6)
    assert risk["modified_duration"] == pytest.approx(mod_dur, rel=1e-10)
    assert risk["dv01"] == pytest.approx(mod_dur * p0 * 1e-4, rel=1e-6)
    assert risk["wal_change"] == {"-200bp": 0.0, "-100bp": 0.0, "+100bp": 0.0, "+200bp": 0.0}


def test_curve_twist_and_z_spread_held() -> None:
    pool = _fixed_flow_pool()
    a = Assumptions()
    curve = ZeroCurve([0.5, 2.0, 5.0, 10.0], [0.03, 0.035, 0.04, 0.045])
    cf = project_pool(pool, a).columns["total_cashflow"]
    t = np.arange(1, cf.size + 1) / 12.0
    price = 0.98 * float(np.dot(cf, curve.discount(t)))
    v = Valuation(curve=curve, price=price)
    basis = resolve_basis(v, cf, t)
    assert basis.value(cf, t) == pytest.approx(price, rel=1e-12)
    steep = RateShock(short=-50 * BP, long=50 * BP)
    dz = np.where(t <= 2, -0.005, np.where(t >= 10, 0.005, -0.005 + 0.01 * (t - 2) / 8))
    by_hand = float(np.dot(cf, curve.discount(t) * np.exp(-(dz + basis.spread) * t)))
    assert basis.value(cf, t, steep) == pytest.approx(by_hand, rel=1e-12)
    base, outs = stress_test(pool, a, standard_stresses(), ["npv", "wal"], v)
    by_name = {o.name: o for o in outs}
    assert base.measures["npv"] == pytest.approx(price, rel=1e-10)
    assert by_name["steepener"].measures["npv"] == pytest.approx(by_hand, rel=1e-10)
    assert _num(by_name["+100bp"].deltas["npv"]) < 0 < _num(by_name["-100bp"].deltas["npv"])
    assert by_name["+100bp"].deltas["wal"] == 0.0


def test_credit_shocks_scale_speeds_and_move_severity() -> None:
    pool = _pool()
    shocked = apply_shock(
        BASE,
        credit=CreditShock(default_multiplier=2.0, prepayment_multiplier=0.5, severity_addon=0.1),
    )
    assert shocked.default.rate == pytest.approx(0.04)
    assert shocked.prepayment.speed == pytest.approx(75.0)
    assert shocked.severity == pytest.approx(0.45)
    base, (o,) = stress_test(
        pool,
        BASE,
        [StressShock("x", credit=CreditShock(default_multiplier=2.0))],
        ["cumulative_loss"],
    )
    ref = project_pool(
        pool, apply_shock(BASE, credit=CreditShock(default_multiplier=2.0)), engine="reference"
    )
    assert o.measures["cumulative_loss"] == pytest.approx(
        float(ref.columns["loss"].sum()), rel=1e-9
    )
    assert _num(o.deltas["cumulative_loss"]) > 0
    with pytest.raises(InvalidInput) as e:
        apply_shock(BASE, credit=CreditShock(severity_addon=0.8))
    assert e.value.field == "severity_addon"
    with pytest.raises(InvalidInput) as e:
        scale_speed(Speed(SpeedKind.CDR, rate=0.6), 2.0, name="default_multiplier")
    assert e.value.field == "default_multiplier"
    with pytest.raises(InvalidInput):
        CreditShock(default_multiplier=-1.0)
    vec = scale_speed(Speed(SpeedKind.CPR_VECTOR, values=np.array([0.1, 0.2])), 1.5, name="p")
    assert vec.values is not None and vec.values.tolist() == pytest.approx([0.15, 0.3])


def test_index_paths_move_with_the_rate_shock() -> None:
    paths = {"SOFR": np.array([0.04, 0.05])}
    out = shock_index_paths(paths, RateShock(parallel=0.01), 4)
    assert out["SOFR"].tolist() == pytest.approx([0.05, 0.06, 0.06, 0.06])
    twist = shock_index_paths(
        paths, RateShock(short=-0.01, long=0.01, short_tenor=0.0, long_tenor=1.0), 12
    )
    assert twist["SOFR"][11] == pytest.approx(0.05 + 0.01)
    assert twist["SOFR"][5] == pytest.approx(0.05 + (-0.01 + 0.02 * 0.5))


def test_floating_pool_reprojects_under_rate_shocks() -> None:
    pool = LoanPool.from_columns(
        {
            "balance": [100_000.0],
            "rate": [0.05],
            "original_term_months": [60],
            "rate_type": ["floating"],
            "index_name": ["SOFR"],
            "margin": [0.02],
            "reset_months": [1],
        }
    )
    a = Assumptions(index_paths={"SOFR": np.array([0.03])})
    base, (up,) = stress_test(
        pool,
        a,
        [StressShock("+100", RateShock(parallel=0.01))],
        ["npv"],
        Valuation(discount_rate=0.05),
    )
    shocked = Assumptions(index_paths={"SOFR": np.full(60, 0.04)})
    cf = project_pool(pool, shocked, engine="reference").columns["total_cashflow"]
    assert up.measures["npv"] == pytest.approx(_hand_npv(cf, 0.06), rel=1e-10)
    # a floater's value moves far less than a fixed loan's
    risk = run_risk(pool, a, project_pool(pool, a).columns, Valuation(discount_rate=0.05))
    assert 0 < _num(risk["effective_duration"]) < 0.2 < _num(risk["spread_duration"])


# ---- break-even ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("variable", "measure", "target"),
    [
        ("cdr", "cumulative_loss_fraction", 0.04),
        ("sda", "cumulative_loss", 20_000.0),
        ("default_multiplier", "cumulative_loss_fraction", 0.06),
    ],
)
def test_break_even_fed_back_reproduces_the_threshold(
    variable: str, measure: str, target: float
) -> None:
    pool = _pool()
    be = break_even(pool, BASE, variable=variable, measure=measure, target=target)
    assert be.iterations > 0 and be.evaluations > be.iterations
    assert be.bracket[0] <= be.value <= be.bracket[1]
    if variable == "cdr":
        a = Assumptions(**{**BASE.__dict__, "default": Speed(SpeedKind.CDR, rate=be.value)})
    elif variable == "sda":
        a = Assumptions(**{**BASE.__dict__, "default": Speed(SpeedKind.SDA, speed=be.value)})
    else:
        a = Assumptions(**{**BASE.__dict__, "default": Speed(SpeedKind.CDR, rate=0.02 * be.value)})
    cols = project_pool(pool, a, engine="reference").columns
    got = float(cols["loss"].sum())
    if measure == "cumulative_loss_fraction":
        got /= pool.total_balance
    assert got == pytest.approx(target, rel=1e-6)


def test_break_even_yield_falls_to_zero() -> None:
    pool = _pool()
    price = 0.95 * pool.total_balance
    be = break_even(
        pool, BASE, variable="cdr", measure="yield", target=0.0, valuation=Valuation(price=price)
    )
    a = Assumptions(**{**BASE.__dict__, "default": Speed(SpeedKind.CDR, rate=be.value)})
    cf = project_pool(pool, a, engine="reference").columns["total_cashflow"]
    # a zero yield means the undiscounted flows add up to the price
    assert float(cf.sum()) == pytest.approx(price, rel=1e-6)
    assert abs(be.achieved) < 1e-9


def test_break_even_errors() -> None:
    pool = _pool()
    with pytest.raises(NoSolution) as e:
        break_even(pool, BASE, variable="cdr", measure="cumulative_loss_fraction", target=0.5)
    assert e.value.field == "target"  # severity 35% caps losses at 35%
    with pytest.raises(InvalidInput):
        break_even(pool, BASE, variable="cpr", measure="cumulative_loss", target=1.0)
    with pytest.raises(EngineError):
        break_even(pool, BASE, variable="cdr", measure="yield", target=0.0)
    with pytest.raises(InvalidInput):
        break_even(pool, BASE, variable="cdr", measure="cumulative_loss", target=math.inf)


# ---- scheduled-balance batch --------------------------------------------------------------
def _mixed_pool() -> LoanPool:
    return LoanPool.from_columns(
        {
            "balance": [300000.0, 150000.0, 80000.0, 120000.0, 90000.0, 50000.0, 70000.0],
            "rate": [0.065, 0.055, 0.07, 0.06, 0.08, 0.05, 0.0],
            "net_rate": [0.06, 0.0525, 0.07, 0.06, 0.075, 0.05, 0.0],
            "original_term_months": [360, 180, 120, 84, 120, 60, 48],
            "age_months": [0, 24, 6, 12, 3, 0, 10],
            "amortization": [
                "level",
                "level",
                "interest_only",
                "balloon",
                "linear",
                "bullet",
                "level",
            ],
            "io_months": [0, 0, 24, 0, 0, 0, 0],
            "amortization_term_months": [360, 180, 120, 360, 120, 60, 48],
            "payment_frequency": [1, 1, 1, 1, 3, 1, 1],
        }
    )


@pytest.mark.parametrize(
    "a",
    [
        Assumptions(Speed(SpeedKind.CPR, rate=0.1), Speed(SpeedKind.CDR, rate=0.03), 0.4, 6),
        Assumptions(Speed(SpeedKind.CPR, rate=0.1), Speed(SpeedKind.CDR, rate=0.03), 0.4, 6, False),
        Assumptions(Speed(SpeedKind.PSA, speed=150), Speed(SpeedKind.SDA, speed=200), 0.35, 12),
        Assumptions(
            Speed(SpeedKind.PSA, speed=150), Speed(SpeedKind.SDA, speed=200), 0.35, 12, False
        ),
        Assumptions(Speed(SpeedKind.ABS, rate=0.015), Speed(SpeedKind.CDR, rate=0.05), 0.9, 0),
        Assumptions(
            Speed(SpeedKind.CPR_VECTOR, values=np.array([0.0, 0.05, 0.2])),
            Speed(SpeedKind.MDR_VECTOR, values=np.array([0.001, 0.01])),
            1.0,
            3,
            n_periods=400,
        ),
        Assumptions(
            Speed(SpeedKind.CPR, rate=0.9), Speed(SpeedKind.CDR, rate=0.9), 0.5, 2, n_periods=100
        ),
    ],
)
def test_batch_projection_equals_the_reference_projection(a: Assumptions) -> None:
    from app.engine.scheduled_batch import ScenarioBatch

    pool = _mixed_pool()
    batch = ScenarioBatch(pool)
    assert batch.supports(a)
    fast = batch.project(a)
    ref = project_pool(pool, a, engine="reference").columns
    for k, v in ref.items():
        np.testing.assert_allclose(fast[k], v, rtol=1e-10, atol=1e-7, err_msg=k)


def test_batch_refuses_what_it_cannot_do_exactly() -> None:
    from app.engine.scheduled_batch import ScenarioBatch

    per_loan = Assumptions(default=Speed(SpeedKind.CDR, rate=0.02, loan_multiplier=np.ones(7)))
    assert not ScenarioBatch(_mixed_pool()).supports(per_loan)
    floater = LoanPool.from_columns(
        {
            "balance": [1.0],
            "rate": [0.05],
            "original_term_months": [12],
            "rate_type": ["floating"],
            "index_name": ["SOFR"],
            "margin": [0.01],
        }
    )
    assert not ScenarioBatch(floater).supports(Assumptions())
    with pytest.raises(InvalidInput):
        ScenarioBatch(_mixed_pool()).project(Assumptions(severity=1.5))
