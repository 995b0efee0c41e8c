"""Monte Carlo projection: kernel vs NumPy reference, SIFMA hand loop, chunk merge, statistics,
OAS, Z-spread, option cost and effective duration."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from scipy.optimize import brentq

from app.engine._kernels.path_projection_nb import (
    mc_project_ref,
)
from app.engine.errors import InvalidInput
from app.engine.montecarlo import (
    MacroFactor,
    MonteCarloRequest,
    RepLines,
    deterministic_cashflows,
    merge_chunks,
    prepare,
    project_paths,
    run_chunk,
    run_monte_carlo,
    solve_oas,
)
from app.engine.prepayment_model import RefiPrepaymentModel
from app.engine.rates import (
    CIR,
    DT,
    HullWhite,
    MortgageRateProxy,
    Vasicek,
    block_rng,
    calibrate,
    mortgage_rates,
    simulate_short_rates,
)

from .conftest import sifma_hand

FIXED = RefiPrepaymentModel(turnover_cpr=0.07, refi_cpr_max=0.0)


def small_pool() -> RepLines:
    return RepLines.from_columns(
        balance=[400_000.0, 250_000.0, 350_000.0],
        note_rate=[0.065, 0.045, 0.055],
        net_rate=[0.06, 0.04, 0.05],
        remaining_term=[120, 96, 72],
        age=[6, 30, 0],
    )


def request(curve, **kw) -> MonteCarloRequest:
    base = dict(
        pool=small_pool(),
        curve=curve,
        rate_model=HullWhite(0.05, 0.012),
        n_paths=256,
        block_size=16,
        seed=42,
        duration_bump=None,
    )
    base.update(kw)
    return MonteCarloRequest(**base)


@pytest.mark.parametrize("lag,advancing", [(0, True), (4, True), (4, False)])
def test_kernel_matches_numpy_reference(curve, lag: int, advancing: bool) -> None:
    req = request(
        curve,
        default_cdr=np.array([0.02, 0.04, 0.06]),
        severity=0.35,
        recovery_lag_months=lag,
        advancing=advancing,
        macro=MacroFactor(0.6, 0.9),
        pv_spread=0.004,
    )
    prep = prepare(req)
    cal = calibrate(req.rate_model, curve, prep.n, req.mortgage_rate)
    rates = simulate_short_rates(cal, block_rng(1, 0), 12)
    mult = np.exp(np.random.default_rng(2).normal(0, 0.4, (12, prep.n)))
    got = project_paths(req, prep, cal, rates, mult, keep_cf=True)
    pm, pool = req.prepayment, req.pool
    want = mc_project_ref(
        rates, cal.mort_c, cal.mort_d, mult, pool.balance, pool.note_rate, pool.net_rate,
        prep.age, prep.sch, prep.af, prep.mdr, prep.severity, lag, advancing, pm.turnover_smm,
        pm.refi_smm_max, pm.refi_steepness, pm.refi_midpoint, pm.burnout,
        float(pm.seasoning_months), prep.pv_disc, prep.yield_price,
    )  # fmt: skip
    for key in ("cf", "cfd", "pv", "wal", "loss"):
        np.testing.assert_allclose(got[key], want[key], rtol=1e-11, atol=1e-7, err_msg=key)
    np.testing.assert_allclose(got["yield"], want["yield"], rtol=0, atol=1e-10)


@pytest.mark.parametrize("lag,advancing", [(0, True), (3, True), (5, False)])
def test_one_path_matches_hand_sifma_loop(curve, lag: int, advancing: bool) -> None:
    """Each line projected by a scalar loop written from DOMAIN.md §3, with the prepayment
    model's own SMM on that path, sums to the kernel's path cash flow."""
    pm = RefiPrepaymentModel()
    req = request(
        curve,
        prepayment=pm,
        default_cdr=0.03,
        severity=0.4,
        recovery_lag_months=lag,
        advancing=advancing,
    )
    prep = prepare(req)
    cal = calibrate(req.rate_model, curve, prep.n, req.mortgage_rate)
    rates = simulate_short_rates(cal, block_rng(9, 0), 2)
    got = project_paths(req, prep, cal, rates, np.empty((0, 0)), keep_cf=True)
    m = mortgage_rates(cal, rates)
    pool = req.pool
    mdr_full = np.full((prep.n, len(pool)), 1 - 0.97 ** (1 / 12))
    smm = pm.smm(pool.note_rate, pool.age, m, mdr=mdr_full)
    for p in range(2):
        total = np.zeros(prep.n)
        loss = 0.0
        principal = np.zeros(prep.n)
        for j in range(len(pool)):
            out = sifma_hand(
                pool.balance[j], pool.note_rate[j], pool.net_rate[j], int(pool.remaining_term[j]),
                smm[p, :, j], mdr_full[:, j], 0.4, lag, advancing,
            )  # fmt: skip
            total += out["cf"]
            loss += out["loss"].sum()
            principal += out["principal"]
        np.testing.assert_allclose(got["cf"][p], total, rtol=1e-12, atol=1e-8)
        assert got["loss"][p] == pytest.approx(loss, rel=1e-12)
        t = np.arange(1, prep.n + 1) / 12
        assert got["wal"][p] == pytest.approx((t @ principal) / principal.sum(), rel=1e-12)
        df = np.exp(-DT * np.cumsum(rates[p]))
        assert got["pv"][p] == pytest.approx(total @ df, rel=1e-12)


def test_path_yield_reprices(curve) -> None:
    req = request(curve, price=1_020_000.0, default_cdr=0.02, severity=0.5)
    prep = prepare(req)
    cal = calibrate(req.rate_model, curve, prep.n, req.mortgage_rate)
    rates = simulate_short_rates(cal, block_rng(4, 0), 5)
    got = project_paths(req, prep, cal, rates, np.empty((0, 0)), keep_cf=True)
    k = np.arange(1, prep.n + 1)
    for p in range(5):
        y = got["yield"][p]
        assert got["cf"][p] @ (1 + y / 12) ** -k == pytest.approx(1_020_000.0, rel=1e-12)


@pytest.mark.parametrize("antithetic", [False, True])
def test_merging_1_4_16_chunks_is_bit_identical(curve, antithetic: bool) -> None:
    req = request(
        curve,
        n_paths=192,
        block_size=12,
        n_months=60,
        antithetic=antithetic,
        price=1_000_000.0,
        duration_bump=0.0025,
        default_cdr=0.02,
        severity=0.3,
        recovery_lag_months=3,
        macro=MacroFactor(),
    )
    results = [run_monte_carlo(req, n_chunks=k) for k in (1, 4, 16)]
    results.append(run_monte_carlo(req, n_chunks=4, threads=1))
    results.append(run_monte_carlo(req, n_chunks=1, threads=3))
    # chunks may also arrive in any order from different workers
    chunks = [run_chunk(req, k, 16) for k in range(16)]
    results.append(merge_chunks(req, chunks[::-1]))
    ref = results[0]
    for res in results[1:]:
        for key in ref.path_values:
            assert np.array_equal(ref.path_values[key], res.path_values[key])
        assert np.array_equal(ref.mean_discounted_cashflow, res.mean_discounted_cashflow)
        for name in ("pv", "wal", "loss", "yield_"):
            a, b = getattr(ref, name), getattr(res, name)
            assert (a.mean, a.standard_error, a.std, a.percentiles) == (
                b.mean,
                b.standard_error,
                b.std,
                b.percentiles,
            )
            assert np.array_equal(a.histogram_counts, b.histogram_counts)
        assert (ref.oas, ref.z_spread, ref.effective_duration, ref.effective_convexity) == (
            res.oas,
            res.z_spread,
            res.effective_duration,
            res.effective_convexity,
        )


def test_statistics_match_numpy(curve) -> None:
    req = request(
        curve,
        percentiles=(1.0, 5.0, 50.0, 95.0, 99.5),
        histogram_bins=12,
        default_cdr=0.02,
        severity=0.4,
    )
    res = run_monte_carlo(req)
    for name, key in (("pv", "pv"), ("wal", "wal"), ("loss", "loss"), ("yield_", "yield")):
        dist, x = getattr(res, name), res.path_values[key]
        assert x.size == 256
        assert dist.mean == pytest.approx(float(np.mean(x)), rel=1e-15)
        assert dist.std == pytest.approx(float(np.std(x, ddof=1)), rel=1e-15)
        assert dist.standard_error == pytest.approx(float(np.std(x, ddof=1)) / 16, rel=1e-15)
        want = np.percentile(x, [1.0, 5.0, 50.0, 95.0, 99.5])
        assert list(dist.percentiles.values()) == list(want)
        counts, edges = np.histogram(x, bins=12)
        assert np.array_equal(dist.histogram_counts, counts) and np.array_equal(
            dist.histogram_edges, edges
        )
        assert dist.histogram_counts.sum() == 256


def test_antithetic_standard_error_uses_pair_means(curve) -> None:
    res = run_monte_carlo(request(curve, antithetic=True))
    pairs = res.path_values["pv"].reshape(-1, 2).mean(axis=1)
    assert res.pv.standard_error == pytest.approx(np.std(pairs, ddof=1) / math.sqrt(128), rel=1e-14)


def test_progress_reports_paths(curve) -> None:
    calls: list[tuple[int, int]] = []
    run_monte_carlo(
        request(curve, n_paths=100, block_size=16),
        n_chunks=3,
        progress=lambda d, t: calls.append((d, t)),
    )
    assert calls[-1] == (100, 100)
    assert all(t == 100 for _, t in calls)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)
    assert len(calls) == 7  # one per block


def hand_zspread(cf: np.ndarray, curve, price: float) -> float:
    t = np.arange(1, cf.size + 1) / 12
    df = curve.discount(t)
    return brentq(lambda z: float(cf @ (df * np.exp(-z * t))) - price, -0.5, 0.5, xtol=1e-15)


def test_fixed_cashflow_zero_vol_oas_equals_z_spread(curve) -> None:
    req = request(
        curve, rate_model=HullWhite(0.05, 0.0), prepayment=FIXED, price=985_000.0, n_paths=32
    )
    res = run_monte_carlo(req)
    cf = deterministic_cashflows(req)
    z = hand_zspread(cf, curve, 985_000.0)
    assert res.oas is not None and res.z_spread is not None and res.option_cost is not None
    assert res.z_spread == pytest.approx(z, abs=1e-12)
    assert abs(res.oas - res.z_spread) < 1e-8
    assert abs(res.option_cost) < 1e-8


def test_deterministic_cashflows_match_hand_loop(curve) -> None:
    """Zero volatility: the static projection is the SIFMA loop under the forward-curve SMMs."""
    pm = RefiPrepaymentModel()
    req = request(curve, rate_model=HullWhite(0.05, 0.0), prepayment=pm)
    cf = deterministic_cashflows(req)
    cal = calibrate(HullWhite(0.05, 0.0), curve, 120, MortgageRateProxy())
    m = cal.mort_c + cal.mort_d * cal.alpha[:120]
    pool = req.pool
    smm = pm.smm(pool.note_rate, pool.age, m[None, :])[0]
    total = sum(
        sifma_hand(pool.balance[j], pool.note_rate[j], pool.net_rate[j], int(pool.remaining_term[j]),
                   smm[:, j], np.zeros(120), 0.0, 0, True)["cf"]
        for j in range(3)
    )  # fmt: skip
    np.testing.assert_allclose(cf, total, rtol=1e-12)


def test_rate_insensitive_oas_equals_z_spread_within_mc_error(curve) -> None:
    price = 1_010_000.0
    req = request(curve, prepayment=FIXED, price=price, n_paths=512, block_size=64, antithetic=True)
    res = run_monte_carlo(req)
    assert res.oas is not None and res.z_spread is not None
    # standard error of the mean PV at the OAS, and dPV/ds = −Σ t·CF·D·e^{−s t}
    req_at_oas = replace(req, pv_spread=res.oas)
    at_oas = run_monte_carlo(req_at_oas)
    assert at_oas.pv.mean == pytest.approx(price, rel=1e-9)
    t = np.arange(1, 121) / 12
    dpv = float(np.sum(t * res.mean_discounted_cashflow * np.exp(-res.oas * t)))
    se_spread = at_oas.pv.standard_error / dpv
    assert abs(res.oas - res.z_spread) < 3 * se_spread
    assert se_spread < 1e-4  # the check is not vacuous


def test_oas_reprices_mean_pv_and_is_below_z_for_callable_pool(curve) -> None:
    pm = RefiPrepaymentModel(refi_cpr_max=0.6)
    req = request(curve, prepayment=pm, price=1_030_000.0, rate_model=HullWhite(0.03, 0.015))
    res = run_monte_carlo(req)
    assert res.oas is not None and res.option_cost is not None
    mean_pv = float(res.mean_discounted_cashflow @ np.exp(-res.oas * np.arange(1, 121) / 12))
    assert mean_pv == pytest.approx(1_030_000.0, rel=1e-12)
    assert res.option_cost > 0  # a prepayment option held by borrowers costs the investor


def test_solve_oas_on_cached_cashflows() -> None:
    t = np.arange(1, 361) / 12
    cfd = np.full(360, 1000.0) * np.exp(-0.04 * t)
    s = solve_oas(cfd, t, float(cfd @ np.exp(-0.0123 * t)))
    assert s == pytest.approx(0.0123, abs=1e-13)


def test_effective_duration_of_fixed_cashflows_zero_vol(curve) -> None:
    h = 0.001
    req = request(
        curve,
        rate_model=HullWhite(0.05, 0.0),
        prepayment=FIXED,
        price=990_000.0,
        duration_bump=h,
        n_paths=32,
    )
    res = run_monte_carlo(req)
    cf = deterministic_cashflows(req)
    t = np.arange(1, 121) / 12
    z = hand_zspread(cf, curve, 990_000.0)

    def price(dz: float) -> float:
        return float(cf @ (curve.discount(t) * np.exp(-(z + dz) * t)))

    p0 = price(0.0)
    assert res.effective_duration == pytest.approx((price(-h) - price(h)) / (2 * p0 * h), rel=1e-9)
    assert res.effective_convexity == pytest.approx(
        (price(h) + price(-h) - 2 * p0) / (p0 * h * h), rel=1e-6
    )


def test_refinancing_shortens_duration(curve) -> None:
    base = request(
        curve, price=1_020_000.0, duration_bump=0.0025, rate_model=HullWhite(0.03, 0.012)
    )
    fixed = run_monte_carlo(replace(base, prepayment=FIXED))
    refi = run_monte_carlo(replace(base, prepayment=RefiPrepaymentModel(refi_cpr_max=0.6)))
    assert refi.effective_duration is not None and fixed.effective_duration is not None
    assert refi.effective_duration < fixed.effective_duration


@pytest.mark.parametrize("model", [Vasicek(0.2, 0.04, 0.01), CIR(0.3, 0.04, 0.05)])
def test_other_rate_models_run(curve, model) -> None:
    res = run_monte_carlo(request(curve, rate_model=model, price=1_000_000.0, duration_bump=0.0025))
    assert res.oas is not None and res.effective_duration is not None
    assert math.isfinite(res.oas) and math.isfinite(res.effective_duration)
    assert res.effective_duration > 0


def test_invalid_requests_name_the_field(curve) -> None:
    cases = {
        "percentiles": dict(percentiles=(5.0, 101.0)),
        "n_paths": dict(n_paths=1),
        "block_size": dict(antithetic=True, block_size=15),
        "antithetic": dict(antithetic=True, rate_model=CIR()),
        "price": dict(price=-1.0),
        "default_cdr": dict(default_cdr=np.array([0.1, float("nan")])),
        "severity": dict(severity=1.5),
    }
    for field, kw in cases.items():
        with pytest.raises(InvalidInput) as err:
            run_monte_carlo(request(curve, **kw))  # type: ignore[arg-type]
        assert field in {p.column for p in err.value.problems}, field
    with pytest.raises(InvalidInput):
        run_chunk(request(curve), 0, 100)
    with pytest.raises(InvalidInput) as err:
        RepLines.from_columns(balance=[1.0, -1.0], note_rate=[0.05, 0.05], remaining_term=[12, 0])
    assert {(p.row, p.column) for p in err.value.problems} == {
        (1, "balance"),
        (1, "remaining_term"),
    }


def test_incomplete_chunk_set_is_refused(curve) -> None:
    req = request(curve)
    chunks = [run_chunk(req, k, 4) for k in (0, 1, 3)]
    with pytest.raises(InvalidInput):
        merge_chunks(req, chunks)


def _engine_pool():
    from app.engine.pool import LoanPool

    return LoanPool.from_columns(
        {
            "loan_id": ["a", "b", "c"],
            "balance": [400_000.0, 250_000.0, 350_000.0],
            "rate": [0.065, 0.045, 0.055],
            "net_rate": [0.06, 0.04, 0.05],
            "original_term_months": [126, 126, 72],
            "age_months": [6, 30, 0],
        }
    )


def test_rep_lines_from_loan_pool() -> None:
    lines = RepLines.from_loan_pool(_engine_pool())
    assert list(lines.remaining_term) == [120, 96, 72]
    np.testing.assert_array_equal(lines.net_rate, [0.06, 0.04, 0.05])


@pytest.mark.parametrize("lag,advancing", [(0, True), (4, True), (4, False)])
def test_zero_vol_limit_reproduces_deterministic_forecast(curve, lag: int, advancing: bool) -> None:
    """σ = 0: every path's cash flows equal the engine core's projection under the same
    per-(loan, month) SMM (the prepayment model on the forward-curve mortgage rate) and MDR."""
    from app.engine.projection import project_with_rates
    from app.engine.types import Assumptions

    pool = _engine_pool()
    pm = RefiPrepaymentModel()
    req = request(
        curve,
        pool=RepLines.from_loan_pool(pool),
        rate_model=HullWhite(0.05, 0.0),
        prepayment=pm,
        default_cdr=0.03,
        severity=0.4,
        recovery_lag_months=lag,
        advancing=advancing,
        n_paths=4,
    )
    prep = prepare(req)
    cal = calibrate(req.rate_model, curve, prep.n, req.mortgage_rate)
    rates = simulate_short_rates(cal, block_rng(req.seed, 0), 4)
    got = project_paths(req, prep, cal, rates, np.empty((0, 0)), keep_cf=True)
    smm = pm.smm(req.pool.note_rate, req.pool.age, mortgage_rates(cal, rates[:1]), mdr=prep.mdr)[0]
    a = Assumptions(severity=0.4, recovery_lag_months=lag, advancing=advancing)
    for engine in ("reference", "numba"):
        proj = project_with_rates(pool, smm.T, prep.mdr.T, a, engine=engine)
        for p in range(4):
            np.testing.assert_allclose(
                got["cf"][p], proj.columns["total_cashflow"], rtol=1e-12, atol=1e-9
            )
        assert got["loss"][0] == pytest.approx(proj.columns["loss"].sum(), rel=1e-12)


def test_zero_vol_single_line_equals_project_pool_cpr_vector(curve) -> None:
    """One rep-line, σ = 0, rate-driven prepayment: project_pool with the equivalent CPR vector
    (CPR = 1 − (1 − SMM)^12 per month) gives the same cash flows."""
    from app.engine.pool import LoanPool
    from app.engine.projection import project_pool
    from app.engine.types import Assumptions, Speed, SpeedKind

    pool = LoanPool.from_columns(
        {
            "balance": [1_000_000.0],
            "rate": [0.06],
            "net_rate": [0.055],
            "original_term_months": [360],
            "age_months": [12],
        }
    )
    pm = RefiPrepaymentModel(refi_cpr_max=0.5)
    req = request(
        curve,
        pool=RepLines.from_loan_pool(pool),
        rate_model=HullWhite(0.03, 0.0),
        prepayment=pm,
        n_paths=2,
    )
    cf = deterministic_cashflows(req)
    prep = prepare(req)
    cal = calibrate(req.rate_model, curve, prep.n, req.mortgage_rate)
    m = cal.mort_c + cal.mort_d * cal.alpha[: prep.n]
    smm = pm.smm(req.pool.note_rate, req.pool.age, m[None, :])[0, :, 0]
    cpr = 1 - (1 - smm) ** 12
    proj = project_pool(pool, Assumptions(prepayment=Speed(SpeedKind.CPR_VECTOR, values=cpr)))
    np.testing.assert_allclose(cf, proj.columns["total_cashflow"], rtol=1e-10, atol=1e-8)


def test_runs_on_analytics_zero_curve() -> None:
    from app.engine.analytics.curves import ZeroCurve

    zc = ZeroCurve([0.25, 1, 2, 5, 10, 30], [0.051, 0.048, 0.045, 0.043, 0.044, 0.046])
    req = request(
        zc, rate_model=HullWhite(0.05, 0.0), prepayment=FIXED, price=1_000_000.0, n_paths=32
    )
    res = run_monte_carlo(req)
    assert res.oas is not None
    assert abs(res.oas - hand_zspread(deterministic_cashflows(req), zc, 1_000_000.0)) < 1e-8


def test_parallel_and_serial_kernels_are_identical(curve) -> None:
    req = request(curve, default_cdr=0.03, severity=0.4, recovery_lag_months=2, macro=MacroFactor())
    prep = prepare(req)
    cal = calibrate(req.rate_model, curve, prep.n, req.mortgage_rate)
    rates = simulate_short_rates(cal, block_rng(3, 0), 40)
    mult = np.exp(np.random.default_rng(1).normal(0, 0.3, (40, prep.n)))
    outs = [
        project_paths(req, prep, cal, rates, mult, keep_cf=True, parallel=parallel)
        for parallel in (True, False)  # mc_project_nb (prange) and mc_project_serial_nb
    ]
    for key in outs[0]:
        assert np.array_equal(outs[0][key], outs[1][key]), key


def test_macro_multiplier_has_mean_one_and_stated_log_variance() -> None:
    from app.engine.montecarlo import macro_multipliers

    sigma, phi = 0.5, 0.9
    mult = macro_multipliers(MacroFactor(sigma, phi), block_rng(5, 0, 1), 20000, 24, False)
    assert np.all(mult[:, 0] == 1.0)
    for i in (1, 6, 23):
        x = mult[:, i]
        assert abs(x.mean() - 1.0) < 3 * x.std(ddof=1) / math.sqrt(x.size)
        var_log = sigma**2 * (1 - phi ** (2 * i))
        assert np.log(x).var(ddof=1) == pytest.approx(var_log, rel=4 * math.sqrt(2 / x.size))
