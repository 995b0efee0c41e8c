"""Gaussian-copula Monte Carlo against Vasicek's closed form (computed here with scipy.stats.norm),
binomial moments at rho = 0, reproducibility across chunks, and agreement with the NumPy twin."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from scipy.stats import norm

from app.engine.credit.copula import (
    CopulaPortfolio,
    chunk_paths,
    loss_summary,
    simulate_losses,
    simulate_losses_numpy,
)
from app.engine.credit.vasicek import large_pool_distribution, loss_quantile
from app.engine.errors import InvalidInput


def _vasicek_q(pd: float, rho: float, lgd: float, q: float) -> float:
    """Large-pool loss fraction at confidence q, written from the formula."""
    return lgd * norm.cdf((norm.ppf(pd) + np.sqrt(rho) * norm.ppf(q)) / np.sqrt(1 - rho))


@pytest.mark.parametrize(("rho", "sector_rho"), [(0.15, 0.0), (0.10, 0.08)])
def test_homogeneous_pool_reproduces_vasicek_quantiles(rho: float, sector_rho: float) -> None:
    n, n_paths, pd, lgd = 10_000, 20_000, 0.02, 0.4
    # one sector for all: global + sector factor = one factor with correlation rho + sector_rho
    p = CopulaPortfolio.build(np.ones(n), lgd, pd, rho, np.zeros(n, dtype=np.int64), sector_rho)
    losses, _ = simulate_losses(p, n_paths, seed=7)
    frac = losses / n
    r = rho + sector_rho
    se_el = frac.std(ddof=1) / np.sqrt(n_paths)
    assert abs(frac.mean() - pd * lgd) < 4 * se_el
    for q in (0.5, 0.95, 0.99, 0.999):
        sim = np.percentile(frac, 100 * q)
        # Monte Carlo error of an order statistic: 4 binomial standard errors in probability,
        # plus the granularity of 10,000 loans (one sd of the conditional default count at the
        # tail, sqrt(n x 0.2) defaults of 0.4 / n each)
        dq = 4 * np.sqrt(q * (1 - q) / n_paths)
        lo = _vasicek_q(pd, r, lgd, max(q - dq, 1e-9)) - lgd / n * np.sqrt(n * 0.2)
        hi = _vasicek_q(pd, r, lgd, min(q + dq, 1 - 1e-9)) + lgd / n * np.sqrt(n * 0.2)
        assert lo <= sim <= hi, (q, lo, sim, hi)
    # the engine's closed form is the same formula
    assert loss_quantile(np.ones(1), np.array([lgd]), np.array([pd]), np.array([r]), 0.99)[
        0
    ] == pytest.approx(_vasicek_q(pd, r, lgd, 0.99), rel=1e-12)


def test_rho_zero_gives_binomial_default_count_moments() -> None:
    rng = np.random.default_rng(11)
    n, n_paths = 1_500, 40_000
    pd = rng.uniform(0.001, 0.35, n)  # spans thinned and loan-by-loan blocks
    p = CopulaPortfolio.build(np.ones(n), 1.0, pd, 0.0)
    _, counts = simulate_losses(p, n_paths, seed=3)
    mean, var = pd.sum(), np.sum(pd * (1 - pd))
    mu4 = np.sum(pd * (1 - pd) * (1 - 6 * pd * (1 - pd))) + 3 * var**2  # 4th central moment
    assert abs(counts.mean() - mean) < 4 * np.sqrt(var / n_paths)
    assert abs(counts.var(ddof=1) - var) < 4 * np.sqrt((mu4 - var**2) / n_paths)


def test_same_seed_same_losses_for_any_chunking() -> None:
    rng = np.random.default_rng(5)
    n = 700
    p = CopulaPortfolio.build(
        rng.uniform(1, 10, n),
        rng.uniform(0.2, 0.6, n),
        rng.uniform(0.005, 0.1, n),
        0.2,
        rng.integers(0, 4, n),
        0.05,
    )
    whole, wc = simulate_losses(p, 3_001, seed=42)
    ranges = [chunk_paths(3_001, 4, k) for k in range(4)]
    assert [r[1] for r in ranges] == [751, 750, 750, 750]
    parts = [simulate_losses(p, cnt, seed=42, path_start=start) for start, cnt in ranges]
    np.testing.assert_array_equal(np.concatenate([x[0] for x in parts]), whole)
    np.testing.assert_array_equal(np.concatenate([x[1] for x in parts]), wc)
    again, _ = simulate_losses(p, 3_001, seed=42)
    np.testing.assert_array_equal(again, whole)
    other, _ = simulate_losses(p, 3_001, seed=43)
    assert not np.array_equal(other, whole)


def test_kernel_agrees_with_numpy_twin() -> None:
    rng = np.random.default_rng(9)
    n, n_paths = 400, 30_000
    p = CopulaPortfolio.build(
        rng.uniform(1, 5, n),
        rng.uniform(0.2, 0.6, n),
        rng.uniform(0.005, 0.2, n),
        rng.choice([0.1, 0.2], n),
        rng.integers(0, 3, n),
        0.1,
    )
    a, _ = simulate_losses(p, n_paths, seed=1)
    b, _ = simulate_losses_numpy(p, n_paths, seed=2)
    se = np.sqrt(a.var() / n_paths + b.var() / n_paths)
    assert abs(a.mean() - b.mean()) < 4 * se
    assert abs(a.mean() - float(np.sum(p.ead * p.lgd * p.pd))) < 4 * a.std() / np.sqrt(n_paths)
    for q in (0.5, 0.9, 0.99):
        # the kernel's quantile lies between the twin's at q -/+ 4 standard errors (in
        # probability) of the difference of two order statistics
        dq = 4 * np.sqrt(2 * q * (1 - q) / n_paths)
        assert (
            np.percentile(b, 100 * (q - dq))
            <= np.percentile(a, 100 * q)
            <= np.percentile(b, 100 * (q + dq))
        ), q


def test_summary_and_large_pool_keys() -> None:
    losses = np.arange(1, 1001, dtype=np.float64)
    s = loss_summary(losses, bins=10)
    assert s["expected_loss"] == pytest.approx(500.5)
    assert s["var_99"] == pytest.approx(np.percentile(losses, 99))
    assert s["es_99"] == pytest.approx(losses[losses >= s["var_99"]].mean())
    assert sum(s["histogram"]["counts"]) == 1000
    v = large_pool_distribution(
        np.ones(3),
        np.full(3, 0.5),
        np.full(3, 0.03),
        np.full(3, 0.2),
        edges=np.linspace(0, 1.5, 16),
    )
    assert set(v) >= {"expected_loss", "percentiles", "var_99", "es_99", "histogram"}
    assert v["expected_loss"] == pytest.approx(3 * 0.5 * 0.03)
    assert sum(v["histogram"]["probabilities"]) == pytest.approx(1.0, abs=1e-3)
    # ES above VaR, and ES by quadrature equals a direct average of far-tail quantiles
    u = np.linspace(0.99, 1, 200001)[1:-1]
    direct = np.mean([3 * _vasicek_q(0.03, 0.2, 0.5, x) for x in u[::50]])
    assert v["es_99"] == pytest.approx(direct, rel=2e-3) and v["es_99"] > v["var_99"]


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"pd": 1.2}, "pd"),
        ({"rho": 1.0}, "correlation"),
        ({"rho": -0.1}, "correlation"),
        ({"lgd": 1.5}, "lgd"),
        ({"sector_rho": 0.95}, "sector_correlation"),
    ],
)
def test_bad_inputs(kw: dict, field: str) -> None:
    base: dict[str, Any] = {
        "ead": np.ones(2),
        "lgd": 0.4,
        "pd": 0.02,
        "rho": 0.1,
        "sector": np.zeros(2, dtype=np.int64),
        "sector_rho": 0.0,
    }
    base.update(kw)
    with pytest.raises(InvalidInput) as err:
        CopulaPortfolio.build(**base)
    assert err.value.problems[0].column == field and err.value.problems[0].row == 0
