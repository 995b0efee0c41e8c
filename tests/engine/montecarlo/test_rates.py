"""Short-rate models: exact curve fit, martingale check of simulated discount factors, moments."""

from __future__ import annotations

import math

import numpy as np
import pytest

from app.engine._kernels.rates_nb import gaussian_short_rates_nb, gaussian_short_rates_ref
from app.engine.errors import InvalidInput
from app.engine.rates import (
    CIR,
    DT,
    FlatCurve,
    HullWhite,
    MortgageRateProxy,
    Vasicek,
    block_rng,
    calibrate,
    cir_bond_coefficients,
    mortgage_rates,
    ou_variances,
    path_discount_factors,
    shift_curve,
    simulate_short_rates,
)


def brute_force_variances(a: float, sigma: float, k_max: int) -> np.ndarray:
    """Var(Δ Σ_{i<k} x_i) from the full covariance matrix of the exact OU samples."""
    phi = math.exp(-a * DT)
    s2 = sigma**2 * (1 - phi**2) / (2 * a)
    i = np.arange(k_max)
    var_x = s2 * (1 - phi ** (2 * i)) / (1 - phi**2)
    lo = np.minimum.outer(i, i)
    cov = phi ** np.abs(np.subtract.outer(i, i)) * var_x[lo]
    out = np.zeros(k_max + 1)
    for k in range(1, k_max + 1):
        out[k] = DT**2 * cov[:k, :k].sum()
    return out


def test_ou_variances_match_covariance_matrix() -> None:
    a, sigma = 0.07, 0.013
    phi = math.exp(-a * DT)
    sd = sigma * math.sqrt((1 - phi**2) / (2 * a))
    got = ou_variances(phi, sd, 120)
    want = brute_force_variances(a, sigma, 120)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=0)


@pytest.mark.parametrize("a,sigma", [(0.03, 0.01), (0.5, 0.02), (0.0, 0.008), (0.1, 0.0)])
def test_hull_white_fits_curve_exactly(curve, a: float, sigma: float) -> None:
    model = calibrate(HullWhite(a, sigma), curve, 360)
    t = np.arange(361) * DT
    np.testing.assert_allclose(np.exp(model.model_log_df), curve.discount(t), rtol=0, atol=1e-10)


def test_hull_white_alpha_is_forward_plus_convexity(curve) -> None:
    """Independent form of the fit: α_{k−1} = f_k + (V_k − V_{k−1})/(2Δ), f_k the monthly
    continuously compounded forward of the curve."""
    a, sigma = 0.05, 0.015
    model = calibrate(HullWhite(a, sigma), curve, 120, MortgageRateProxy(tenor_years=None))
    t = np.arange(121) * DT
    fwd = (curve.zero_rate(t[1:]) * t[1:] - curve.zero_rate(t[:-1]) * t[:-1]) / DT
    v = brute_force_variances(a, sigma, 120)
    np.testing.assert_allclose(model.alpha[:120], fwd + np.diff(v) / (2 * DT), atol=1e-12)


@pytest.mark.parametrize("antithetic", [False, True])
def test_simulated_discount_factors_average_to_curve(curve, antithetic: bool) -> None:
    model = calibrate(HullWhite(0.04, 0.012), curve, 360)
    rates = simulate_short_rates(model, block_rng(2024, 0), 4000, antithetic=antithetic)
    df = path_discount_factors(rates)
    t = np.arange(1, 361) * DT
    units = df.reshape(-1, 2, 360).mean(axis=1) if antithetic else df
    mean = units.mean(axis=0)
    se = units.std(axis=0, ddof=1) / math.sqrt(units.shape[0])
    z = (mean - curve.discount(t)) / se
    assert np.all(np.abs(z[11::12]) < 3.0), z[11::12]


def test_zero_volatility_paths_discount_at_the_curve(curve) -> None:
    model = calibrate(HullWhite(0.03, 0.0), curve, 360)
    rates = simulate_short_rates(model, block_rng(1, 0), 3)
    t = np.arange(1, 361) * DT
    np.testing.assert_allclose(
        path_discount_factors(rates), np.tile(curve.discount(t), (3, 1)), atol=1e-12
    )


def test_short_rate_kernel_matches_reference() -> None:
    rng = np.random.default_rng(5)
    eps = rng.standard_normal((6, 59))
    alpha = rng.uniform(0.01, 0.05, 60)
    for anti in (False, True):
        n = 12 if anti else 6
        out = np.empty((n, 60))
        gaussian_short_rates_nb(eps, alpha, 0.99, 0.002, anti, out)
        np.testing.assert_allclose(
            out, gaussian_short_rates_ref(eps, alpha, 0.99, 0.002, anti, 60), rtol=1e-14
        )


def test_seeded_and_reproducible(curve) -> None:
    model = calibrate(HullWhite(), curve, 24)
    a = simulate_short_rates(model, block_rng(7, 3), 10)
    b = simulate_short_rates(model, block_rng(7, 3), 10)
    c = simulate_short_rates(model, block_rng(7, 4), 10)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_antithetic_pairs_mirror(curve) -> None:
    model = calibrate(HullWhite(0.03, 0.01), curve, 24)
    r = simulate_short_rates(model, block_rng(7, 0), 8, antithetic=True)
    alpha = model.alpha[:24]
    np.testing.assert_allclose(r[0::2] - alpha, -(r[1::2] - alpha), atol=1e-15)


def test_vasicek_moments() -> None:
    k, theta, sigma, r0 = 0.3, 0.05, 0.015, 0.02
    model = calibrate(Vasicek(k, theta, sigma, r0), FlatCurve(0.03), 120)
    r = simulate_short_rates(model, block_rng(11, 0), 20000)
    for m in (12, 60, 119):
        t = m * DT
        mean = theta + (r0 - theta) * math.exp(-k * t)
        var = sigma**2 * (1 - math.exp(-2 * k * t)) / (2 * k)
        x = r[:, m]
        assert abs(x.mean() - mean) < 3 * math.sqrt(var / x.size)
        assert abs(x.var(ddof=1) / var - 1) < 3 * math.sqrt(2 / x.size)


def test_cir_moments_and_positivity() -> None:
    k, theta, sigma, r0 = 0.4, 0.04, 0.08, 0.02
    model = calibrate(CIR(k, theta, sigma, r0), FlatCurve(0.03), 60)
    r = simulate_short_rates(model, block_rng(3, 0), 20000)
    assert r.min() >= 0
    for m in (12, 59):
        t = m * DT
        e = math.exp(-k * t)
        mean = theta + (r0 - theta) * e
        var = r0 * sigma**2 / k * (e - e * e) + theta * sigma**2 / (2 * k) * (1 - e) ** 2
        x = r[:, m]
        assert abs(x.mean() - mean) < 3 * math.sqrt(var / x.size)


def test_cir_bond_price_matches_quantlib() -> None:
    ql = pytest.importorskip("QuantLib")
    k, theta, sigma, r0 = 0.4, 0.04, 0.08, 0.02
    model = ql.CoxIngersollRoss(r0, theta, k, sigma)
    for tau in (1.0, 5.0, 10.0):
        log_a, b = cir_bond_coefficients(k, theta, sigma, tau)
        assert math.exp(log_a - b * r0) == pytest.approx(
            model.discountBond(0.0, tau, r0), rel=1e-12
        )


def test_mortgage_proxy_zero_vol_is_forward_term_rate(curve) -> None:
    """With σ = 0 the tenor rate seen at t_i is the curve's forward zero rate over the tenor."""
    model = calibrate(
        HullWhite(0.05, 0.0), curve, 120, MortgageRateProxy(spread=0.01, tenor_years=10)
    )
    m = mortgage_rates(model, simulate_short_rates(model, block_rng(0, 0), 1))[0]
    t0 = np.arange(120) * DT
    t1 = t0 + 10
    fwd = (curve.zero_rate(t1) * t1 - curve.zero_rate(t0) * t0) / 10
    np.testing.assert_allclose(m, fwd + 0.01, atol=1e-12)


def test_mortgage_proxy_slope_is_discrete_hull_white_b() -> None:
    a = 0.1
    model = calibrate(HullWhite(a, 0.01), FlatCurve(0.03), 12, MortgageRateProxy(tenor_years=10))
    phi = math.exp(-a * DT)
    assert model.mort_d == pytest.approx(sum(phi**j for j in range(120)) / 120, rel=1e-13)
    # and close to the continuous-time B(τ)/τ
    assert model.mort_d == pytest.approx((1 - math.exp(-a * 10)) / (a * 10), rel=0.01)


def test_shifted_curve_moves_hull_white_rates_by_the_shift(curve) -> None:
    base = calibrate(HullWhite(0.03, 0.01), curve, 60)
    up = calibrate(HullWhite(0.03, 0.01), shift_curve(curve, 0.01), 60)
    np.testing.assert_allclose(up.alpha[:60] - base.alpha[:60], 0.01, atol=1e-12)


def test_bad_parameters_are_named() -> None:
    with pytest.raises(InvalidInput) as err:
        calibrate(HullWhite(-0.1, -0.01), FlatCurve(0.03), 12)
    fields = {p.column for p in err.value.problems}
    assert {"rate_model.mean_reversion", "rate_model.volatility"} <= fields
    with pytest.raises(InvalidInput):
        calibrate(CIR(0.0, 0.04, 0.1), FlatCurve(0.03), 12)
    with pytest.raises(InvalidInput):
        simulate_short_rates(
            calibrate(CIR(), FlatCurve(0.03), 12), block_rng(0, 0), 4, antithetic=True
        )


@pytest.mark.parametrize("interpolation", ["linear_zero", "log_linear_discount", "flat_forward"])
def test_hull_white_fits_analytics_zero_curve(interpolation: str) -> None:
    from app.engine.analytics.curves import ZeroCurve

    zc = ZeroCurve(
        [0.25, 1, 2, 5, 10, 30], [0.051, 0.048, 0.045, 0.043, 0.044, 0.046], interpolation
    )
    model = calibrate(HullWhite(0.03, 0.01), zc, 360)
    t = np.arange(361) * DT
    np.testing.assert_allclose(np.exp(model.model_log_df), zc.discount(t), rtol=0, atol=1e-10)
