"""The copula of default times: with zero correlation the default count is binomial; for a
large homogeneous pool the defaulted fraction follows the Vasicek distribution (closed form
computed here with scipy.stats.norm); blocks are reproducible; the collateral path kernel
agrees with its NumPy twin."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import norm

from app.engine._kernels.collateral_nb import collateral_paths_nb, collateral_paths_reference
from app.engine.deals.copula import CopulaModel, simulate_block


def _model(n_assets, pd, rho, horizon=60, **kw):
    return CopulaModel(
        pd=np.full(n_assets, pd),
        maturity=np.full(n_assets, 1000.0),
        recovery_mean=np.full(n_assets, 0.4),
        horizon=horizon,
        correlation=rho,
        **kw,
    )


def test_zero_correlation_gives_binomial_default_counts() -> None:
    n_assets, pd, horizon, paths = 50, 0.04, 60, 40000
    m = _model(n_assets, pd, 0.0, horizon)
    tau, _ = simulate_block(m, seed=3, block=0, n=paths)
    k = (tau > 0).sum(axis=1)
    q = 1 - (1 - pd) ** (horizon / 12)  # cumulative PD to the horizon
    mean, var = n_assets * q, n_assets * q * (1 - q)
    assert k.mean() == pytest.approx(mean, abs=4 * np.sqrt(var / paths))
    # the sample variance's standard error is about var·sqrt(2/paths) for a near-normal count
    assert k.var(ddof=1) == pytest.approx(var, abs=4 * var * np.sqrt(2 / paths))
    # default months follow F(t) = 1 − (1 − pd)^(t/12): share defaulting in year one
    first_year = ((tau > 0) & (tau <= 12)).mean()
    assert first_year == pytest.approx(pd, abs=4 * np.sqrt(pd * (1 - pd) / tau.size))


def test_large_pool_matches_vasicek() -> None:
    n_assets, pd, rho, horizon, paths = 2000, 0.03, 0.2, 12, 6000
    tau, _ = simulate_block(_model(n_assets, pd, rho, horizon), seed=11, block=0, n=paths)
    frac = (tau > 0).mean(axis=1)
    for x in (0.01, 0.03, 0.06, 0.12):
        vasicek = norm.cdf((np.sqrt(1 - rho) * norm.ppf(x) - norm.ppf(pd)) / np.sqrt(rho))
        assert np.mean(frac <= x) == pytest.approx(vasicek, abs=0.03), x
    assert frac.mean() == pytest.approx(pd, rel=0.05)


def test_sector_model_raises_within_sector_dependence() -> None:
    n = 40
    sector = np.repeat(np.arange(4), 10)
    m1 = _model(n, 0.05, 0.1)
    m2 = _model(n, 0.05, 0.1, sector=sector, sector_correlation=0.5)
    v1 = (simulate_block(m1, 5, 0, 20000)[0] > 0).sum(axis=1).var()
    v2 = (simulate_block(m2, 5, 0, 20000)[0] > 0).sum(axis=1).var()
    assert v2 > 1.5 * v1


def test_blocks_are_reproducible_and_independent() -> None:
    m = _model(20, 0.05, 0.3, recovery_std=0.1)
    a = simulate_block(m, 9, 4, 100)
    b = simulate_block(m, 9, 4, 100)
    c = simulate_block(m, 9, 5, 100)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[1], c[1])
    rec = simulate_block(m, 9, 0, 20000)[1]
    assert rec.mean() == pytest.approx(0.4, abs=0.003)
    assert rec.std() == pytest.approx(0.1, abs=0.003)


def test_collateral_kernel_matches_numpy_twin() -> None:
    rng = np.random.default_rng(0)
    a, t, p = 7, 15, 30
    a_int, a_prin, a_loss = (
        rng.uniform(0, 1, (a, t)),
        rng.uniform(0, 2, (a, t)),
        rng.uniform(0, 0.1, (a, t)),
    )
    a_bal = rng.uniform(1, 5, (a, t))
    a_start = rng.uniform(1, 5, (a, t))
    tot_int, tot_prin, tot_loss, tot_bal = (x.sum(axis=0) for x in (a_int, a_prin, a_loss, a_bal))
    tau = rng.integers(0, t + 1, (p, a))
    rec = rng.uniform(0, 1, (p, a))
    outs = [np.empty((p, t)) for _ in range(4)]
    collateral_paths_nb(
        a_int, a_prin, a_loss, a_start, a_bal, tot_int, tot_prin, tot_loss, tot_bal, tau, rec, *outs
    )
    ref = collateral_paths_reference(
        a_int, a_prin, a_loss, a_start, a_bal, tot_int, tot_prin, tot_loss, tot_bal, tau, rec
    )
    for x, y in zip(outs, ref, strict=True):
        np.testing.assert_allclose(x, y, rtol=1e-12, atol=1e-12)


def test_default_month_kernel_matches_numpy_twin() -> None:
    from app.engine._kernels.copula_nb import default_months_nb
    from app.engine.deals.copula import _lam, default_months_reference

    rng = np.random.default_rng(2)
    x = rng.standard_normal((2000, 9)) * 2.0
    x[0, :] = [-40, 40, 0, -8, 8, 1e-3, -1e-3, 3, -3]
    pd = np.array([0.0, 1.0, 0.02, 0.1, 0.3, 0.5, 0.9, 0.005, 0.07])
    limit = np.array([120, 120, 60, 12, 240, 1, 30, 120, 84], dtype=np.float64)
    out = np.empty(x.shape, dtype=np.int64)
    default_months_nb(x, _lam(pd), limit, out)
    np.testing.assert_array_equal(out, default_months_reference(x, pd, limit))
    assert (out[:, 0] == 0).all() and (out[:, 1] == 1).all()
