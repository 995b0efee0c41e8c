"""Preparation of a Monte Carlo run: scheduled factors and liquidation ratios of the
rep-lines, per-month arrays shared by all paths, the shifted and zero-volatility rate models,
macro multipliers, and the projection of one block of paths by the kernel."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from app.engine._lazy import lazy_module
from app.engine.montecarlo.request import (
    PARALLEL_MIN_CELLS,
    MacroFactor,
    MonteCarloRequest,
)
from app.engine.rates.curve import DiscountCurve
from app.engine.rates.models import (
    DT,
    CalibratedModel,
    HullWhite,
    RateModel,
)
from app.engine.rates.paths import block_rng, simulate_short_rates

_nb = lazy_module("app.engine._kernels.path_projection_nb")  # Numba at the first run


@dataclass(frozen=True)
class Prepared:
    n: int
    sch: np.ndarray
    liq_ratio: np.ndarray
    af: np.ndarray
    mdr: np.ndarray
    severity: np.ndarray
    age: np.ndarray
    pv_disc: np.ndarray
    times: np.ndarray
    yield_price: float
    yield_guess: float


def scheduled_factors(note_rate: np.ndarray, remaining_term: np.ndarray, n: int) -> np.ndarray:
    """SCH(k) for k = 0..n (rows) and each line (columns), DOMAIN.md §3:
    [1 − (1+r)^−(T−k)] / [1 − (1+r)^−T], r = note_rate/12; (T−k)/T when r = 0; 0 for k >= T."""
    k = np.arange(n + 1, dtype=np.float64)[:, None]
    t = remaining_term.astype(np.float64)[None, :]
    r = (note_rate / 12.0)[None, :]
    left = np.maximum(t - k, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        level = -np.expm1(-left * np.log1p(r)) / -np.expm1(-t * np.log1p(r))
    straight = left / t
    return np.where(r == 0.0, straight, level)


def liquidation_ratio(sch: np.ndarray, lag: int, advancing: bool) -> np.ndarray:
    """ADB(i)/NEW_DEF(i−L) per month i = 1..N and line (DOMAIN.md §3): SCH(i−1)/SCH(i−1−L)
    when advancing with a lag (the defaulted balance kept amortising), else 1; 0 for i <= L
    or where SCH(i−1−L) = 0 (nothing can have defaulted there)."""
    n = sch.shape[0] - 1
    out = np.zeros((n, sch.shape[1]))
    if lag >= n:
        return out
    if not advancing or lag == 0:
        out[lag:] = 1.0
        return out
    num, den = sch[lag:n], sch[: n - lag]
    out[lag:] = np.divide(num, den, out=np.zeros_like(num), where=den > 0)
    return out


def prepare(req: MonteCarloRequest) -> Prepared:
    n = req.horizon
    pool = req.pool
    sch = scheduled_factors(pool.note_rate, pool.remaining_term, n)
    with np.errstate(divide="ignore", invalid="ignore"):
        af = np.where(sch[:-1] > 0, sch[1:] / sch[:-1], 0.0)
    cdr = np.atleast_1d(np.asarray(req.default_cdr, dtype=np.float64))
    cdr_n = cdr[np.minimum(np.arange(n), cdr.size - 1)]
    mdr_n = 1.0 - (1.0 - cdr_n) ** (1.0 / 12.0)
    month = np.arange(1, n + 1)[:, None]
    alive = month <= (pool.remaining_term[None, :] - req.recovery_lag_months)
    mdr = np.where(alive, mdr_n[:, None], 0.0)
    times = np.arange(1, n + 1, dtype=np.float64) * DT
    yield_price = float(req.price if req.price is not None else pool.total_balance)
    # solver start: the balance-weighted net coupon (the yield at par with no losses), moved
    # by the premium or discount over a ~4-year duration
    weights = pool.balance / pool.total_balance if pool.total_balance > 0 else None
    wac = float(np.average(pool.net_rate, weights=weights))
    guess = wac - (yield_price / max(pool.total_balance, 1e-300) - 1.0) / 4.0
    return Prepared(
        n=n,
        sch=np.ascontiguousarray(sch),
        liq_ratio=liquidation_ratio(sch, req.recovery_lag_months, req.advancing),
        af=np.ascontiguousarray(af),
        mdr=np.ascontiguousarray(mdr),
        severity=np.full(len(pool), float(req.severity)),
        age=pool.age.astype(np.float64),
        pv_disc=np.exp(-req.pv_spread * times),
        times=times,
        yield_price=yield_price,
        yield_guess=guess,
    )


def shifted_model(model: RateModel, curve: DiscountCurve, h: float) -> RateModel:
    """The model under a +h parallel shift: Hull-White refits to the shifted curve; Vasicek and
    CIR (not fitted to the curve) move r₀ and θ by h."""
    if isinstance(model, HullWhite):
        return model
    r0 = model.initial_rate
    if r0 is None:
        r0 = float(np.asarray(curve.zero_rate(np.array([DT])))[0])
    return replace(model, initial_rate=r0 + h, long_term_rate=model.long_term_rate + h)


def zero_vol(model: RateModel) -> RateModel:
    return replace(model, volatility=0.0)


def macro_multipliers(
    macro: MacroFactor, rng: np.random.Generator, n_paths: int, n: int, antithetic: bool
) -> np.ndarray:
    phi, sig = macro.persistence, macro.volatility
    n_draws = n_paths // 2 if antithetic else n_paths
    eta = rng.standard_normal((n_draws, n))
    if antithetic:
        shocks = np.empty((n_paths, n))
        shocks[0::2] = eta
        shocks[1::2] = -eta
    else:
        shocks = eta
    x = np.empty((n_paths, n))
    x[:, 0] = 0.0
    c = math.sqrt(1.0 - phi * phi)
    for i in range(1, n):
        x[:, i] = phi * x[:, i - 1] + c * shocks[:, i]
    var = 1.0 - phi ** (2.0 * np.arange(n))
    return np.exp(sig * x - 0.5 * sig * sig * var[None, :])


def project_block(
    req: MonteCarloRequest,
    prep: Prepared,
    cal: CalibratedModel,
    block: int,
    n_paths: int,
    *,
    keep_cf: bool = False,
    parallel: bool | None = None,
) -> dict[str, np.ndarray]:
    """Project one block of paths (its own seed streams) and reduce per path."""
    rates = simulate_short_rates(
        cal, block_rng(req.seed, block, 0), n_paths, antithetic=req.antithetic
    )
    if req.macro is not None:
        mult = macro_multipliers(
            req.macro, block_rng(req.seed, block, 1), n_paths, prep.n, req.antithetic
        )
    else:
        mult = np.empty((0, 0))
    return project_paths(req, prep, cal, rates, mult, keep_cf=keep_cf, parallel=parallel)


def project_paths(
    req: MonteCarloRequest,
    prep: Prepared,
    cal: CalibratedModel,
    rates: np.ndarray,
    mult: np.ndarray,
    *,
    keep_cf: bool = False,
    parallel: bool | None = None,
) -> dict[str, np.ndarray]:
    """Run the projection kernel on given short-rate paths (and macro multipliers).

    parallel: use Numba's parallel kernel (None: when the block is large enough to be worth
    the launch); both kernels run the same per-path code and give identical numbers.
    """
    n_paths, n = rates.shape
    pool, pm = req.pool, req.prepayment
    out = {
        "cfd": np.empty((n_paths, n)),
        "cf": np.empty((n_paths if keep_cf else 0, n)),
        "pv": np.empty(n_paths),
        "wal": np.empty(n_paths),
        "loss": np.empty(n_paths),
        "yield": np.empty(n_paths),
    }
    if parallel is None:
        parallel = rates.size * len(pool) >= PARALLEL_MIN_CELLS
    kernel = _nb.mc_project_nb if parallel else _nb.mc_project_serial_nb
    kernel(
        np.ascontiguousarray(rates),
        cal.mort_c,
        cal.mort_d,
        np.ascontiguousarray(mult),
        pool.balance,
        pool.note_rate,
        pool.net_rate,
        prep.age,
        prep.liq_ratio,
        prep.af,
        prep.mdr,
        prep.severity,
        int(req.recovery_lag_months),
        bool(req.advancing),
        pm.turnover_smm,
        pm.refi_smm_max,
        float(pm.refi_steepness),
        float(pm.refi_midpoint),
        float(pm.burnout),
        float(pm.seasoning_months),
        prep.pv_disc,
        prep.yield_price,
        prep.yield_guess,
        out["cfd"],
        out["cf"],
        out["pv"],
        out["wal"],
        out["loss"],
        out["yield"],
    )
    return out
