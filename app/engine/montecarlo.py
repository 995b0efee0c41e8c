"""Monte Carlo projection of a loan pool over short-rate paths: distributions, OAS, option cost.

A run of P paths is split into fixed blocks of `block_size` paths; block b draws its random
numbers only from SeedSequence(seed, spawn_key=(b, stream)), and a chunk is a contiguous range
of blocks. Each block keeps its per-path results and its own path-ordered sums, and the merge
concatenates blocks in block order, so a run gives bit-identical numbers for any number of
chunks or workers (DOMAIN.md §8).

Conventions: months i = 1..N end at t_i = i/12 years (cash flows at period end, DOMAIN.md §1);
path discounting is continuous on the short rate held over each month; the OAS is a constant,
continuously compounded spread s added to every short rate, so PV_p(s) = Σ_i CF_pi·D_pi·e^{−s·t_i}
and the mean PV over paths is Σ_i e^{−s·t_i}·(mean_p CF_pi·D_pi): each solver iteration is one
N-term reduction, cash flows are never re-projected. The Z-spread is the constant continuously
compounded spread over the curve's zero rates that prices the zero-volatility cash flows
(DOMAIN.md §5); option cost = Z-spread − OAS.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

import numpy as np
from scipy.optimize import brentq

from app.engine._kernels.montecarlo_nb import mc_project_nb, mc_project_serial_nb
from app.engine.analytics.conventions import Compounding
from app.engine.analytics.measures import z_spread as analytics_z_spread
from app.engine.errors import ConvergenceError, FieldProblem, InvalidInput, UnreachablePrice
from app.engine.prepayment_model import RefiPrepaymentModel
from app.engine.rates.curve import DiscountCurve, shift_curve
from app.engine.rates.models import (
    CIR,
    DT,
    CalibratedModel,
    HullWhite,
    MortgageRateProxy,
    RateModel,
    calibrate,
)
from app.engine.rates.paths import block_rng, simulate_short_rates

Progress = Callable[[int, int], None]
PARALLEL_MIN_CELLS = 2_000_000  # paths × months × lines of a block worth a parallel launch


# ---------------------------------------------------------------------------------------------
# Inputs


@dataclass(frozen=True)
class RepLines:
    """Level-pay, fixed-rate, monthly-paying rep-lines (or loans) as flat arrays (n lines).

    balance: current balance (currency); note_rate: gross annual coupon (decimal, drives
    amortisation and the refinancing incentive); net_rate: annual rate paid to investors
    (decimal, after servicing); remaining_term: months left (the current balance amortises over
    it, DOMAIN.md §3); age: loan age in months (seasoning ramp).
    """

    balance: np.ndarray
    note_rate: np.ndarray
    net_rate: np.ndarray
    remaining_term: np.ndarray
    age: np.ndarray

    @classmethod
    def from_columns(
        cls,
        *,
        balance: Sequence[float] | np.ndarray,
        note_rate: Sequence[float] | np.ndarray,
        net_rate: Sequence[float] | np.ndarray | None = None,
        remaining_term: Sequence[int] | np.ndarray,
        age: Sequence[int] | np.ndarray | None = None,
    ) -> RepLines:
        """Build and validate; net_rate defaults to note_rate, age to 0."""
        bal = np.asarray(balance, dtype=np.float64).ravel()
        n = bal.size
        note = np.asarray(note_rate, dtype=np.float64).ravel()
        net = note.copy() if net_rate is None else np.asarray(net_rate, dtype=np.float64).ravel()
        term = np.asarray(remaining_term, dtype=np.float64).ravel()
        ages = np.zeros(n) if age is None else np.asarray(age, dtype=np.float64).ravel()
        problems: list[FieldProblem] = []
        for name, arr in (
            ("note_rate", note),
            ("net_rate", net),
            ("remaining_term", term),
            ("age", ages),
        ):
            if arr.size != n:
                problems.append(FieldProblem(None, name, f"has {arr.size} values, balance has {n}"))
        if n == 0:
            problems.append(FieldProblem(None, "balance", "the pool has no lines"))
        if problems:
            raise InvalidInput(problems)
        checks = (
            ("balance", np.isfinite(bal) & (bal >= 0), "must be finite and >= 0"),
            (
                "note_rate",
                np.isfinite(note) & (note > -1) & (note < 1),
                "must be a decimal in (-1, 1)",
            ),
            ("net_rate", np.isfinite(net) & (net > -1) & (net < 1), "must be a decimal in (-1, 1)"),
            (
                "remaining_term",
                np.isfinite(term) & (term >= 1) & (term <= 600) & (term == np.round(term)),
                "must be a whole number of months in 1..600",
            ),
            (
                "age",
                np.isfinite(ages) & (ages >= 0) & (ages == np.round(ages)),
                "must be a whole number >= 0",
            ),
        )
        for name, ok, reason in checks:
            for row in np.flatnonzero(~ok):
                problems.append(FieldProblem(int(row), name, reason))
        if problems:
            raise InvalidInput(problems)
        return cls(bal, note, net, term.astype(np.int64), ages.astype(np.int64))

    @classmethod
    def from_loan_pool(cls, pool: object) -> RepLines:
        """From an engine-core LoanPool: fixed-rate, level-pay, monthly loans only.

        remaining term = the pool's remaining_term_months; rate (gross) and net_rate as given.
        """
        amort = np.asarray(pool.amortization)  # type: ignore[attr-defined]
        rtype = np.asarray(pool.rate_type)  # type: ignore[attr-defined]
        freq = np.asarray(pool.payment_frequency)  # type: ignore[attr-defined]
        problems = [
            FieldProblem(int(i), "amortization", "Monte Carlo projects level-pay loans only")
            for i in np.flatnonzero(amort != 0)
        ]
        problems += [
            FieldProblem(int(i), "rate_type", "Monte Carlo projects fixed-rate loans only")
            for i in np.flatnonzero(rtype != 0)
        ]
        problems += [
            FieldProblem(int(i), "payment_frequency", "Monte Carlo projects monthly loans only")
            for i in np.flatnonzero(freq != 1)
        ]
        if problems:
            raise InvalidInput(problems)
        term = np.asarray(pool.remaining_term_months)  # type: ignore[attr-defined]
        return cls.from_columns(
            balance=pool.balance,  # type: ignore[attr-defined]
            note_rate=pool.rate,  # type: ignore[attr-defined]
            net_rate=pool.net_rate,  # type: ignore[attr-defined]
            remaining_term=term,
            age=pool.age_months,  # type: ignore[attr-defined]
        )

    def __len__(self) -> int:
        return int(self.balance.size)

    @property
    def total_balance(self) -> float:
        return float(self.balance.sum())


@dataclass(frozen=True)
class MacroFactor:
    """Default multiplier from a macro factor, independent of rates, one per path and month.

    X_0 = 0, X_i = φ·X_{i−1} + sqrt(1 − φ²)·η_i (η standard normal), so Var X_i = 1 − φ^{2i};
    multiplier_i = exp(σ·X_i − σ²·Var(X_i)/2), which has mean exactly 1 in every month.
    volatility σ: of the log multiplier at stationarity; persistence φ: monthly, in [0, 1).
    """

    volatility: float = 0.5
    persistence: float = 0.95

    def validate(self) -> None:
        p: list[FieldProblem] = []
        if not (math.isfinite(self.volatility) and self.volatility >= 0):
            p.append(FieldProblem(None, "macro.volatility", "must be finite and >= 0"))
        if not (math.isfinite(self.persistence) and 0 <= self.persistence < 1):
            p.append(FieldProblem(None, "macro.persistence", "must be in [0, 1)"))
        if p:
            raise InvalidInput(p)


@dataclass(frozen=True)
class MonteCarloRequest:
    """One Monte Carlo run (all rates decimal per year, money in the pool's currency).

    default_cdr: annual CDR, a constant or a per-month vector (a short vector holds its last
        value); MDR = 1 − (1 − CDR)^(1/12), zero in the last recovery_lag_months of each term.
    severity: loss fraction of the defaulted balance; advancing: servicer advances P&I on
        defaulted loans until liquidation (DOMAIN.md §3).
    n_months: horizon (None = the longest remaining term).
    block_size: paths per seed block (the unit of reproducibility; even with antithetic).
    price: dirty price in currency (enables OAS, option cost, effective duration/convexity).
    pv_spread: continuously compounded spread over the path short rates for the reported PV
        distribution (the OAS solve does not use it).
    duration_bump: h of the ±h parallel curve shift for effective duration and convexity at
        constant OAS (None: skip; needs `price`).
    """

    pool: RepLines
    curve: DiscountCurve
    rate_model: RateModel = field(default_factory=HullWhite)
    mortgage_rate: MortgageRateProxy = field(default_factory=MortgageRateProxy)
    prepayment: RefiPrepaymentModel = field(default_factory=RefiPrepaymentModel)
    default_cdr: float | np.ndarray = 0.0
    severity: float = 0.0
    recovery_lag_months: int = 0
    advancing: bool = True
    macro: MacroFactor | None = None
    n_paths: int = 1000
    n_months: int | None = None
    seed: int = 0
    antithetic: bool = False
    block_size: int = 500
    percentiles: tuple[float, ...] = (5.0, 50.0, 95.0)
    histogram_bins: int = 20
    price: float | None = None
    pv_spread: float = 0.0
    duration_bump: float | None = 0.0025

    @property
    def horizon(self) -> int:
        return int(self.n_months or int(self.pool.remaining_term.max()))

    @property
    def n_blocks(self) -> int:
        return -(-self.n_paths // self.block_size)

    def validate(self) -> None:
        """Raise InvalidInput listing every problem with the run settings."""
        p: list[FieldProblem] = []
        self.rate_model.validate()
        self.mortgage_rate.validate()
        self.prepayment.validate()
        if self.macro is not None:
            self.macro.validate()
        cdr = np.atleast_1d(np.asarray(self.default_cdr, dtype=np.float64))
        if cdr.size == 0 or not np.all(np.isfinite(cdr)) or np.any((cdr < 0) | (cdr > 1)):
            p.append(FieldProblem(None, "default_cdr", "must be decimals in [0, 1]"))
        if not (math.isfinite(self.severity) and 0 <= self.severity <= 1):
            p.append(FieldProblem(None, "severity", "must be in [0, 1]"))
        if not 0 <= self.recovery_lag_months <= 120:
            p.append(FieldProblem(None, "recovery_lag_months", "must be in 0..120"))
        min_paths = 4 if self.antithetic else 2
        if not min_paths <= self.n_paths <= 10_000_000:
            p.append(FieldProblem(None, "n_paths", f"must be in {min_paths}..10000000"))
        if self.n_months is not None and not 1 <= self.n_months <= 600:
            p.append(FieldProblem(None, "n_months", "must be in 1..600"))
        if not 0 <= self.seed < 2**63:
            p.append(FieldProblem(None, "seed", "must be in 0..2^63-1"))
        if self.block_size < 2 or (self.antithetic and self.block_size % 2):
            p.append(FieldProblem(None, "block_size", "must be >= 2 (and even with antithetic)"))
        if self.antithetic and self.n_paths % 2:
            p.append(FieldProblem(None, "n_paths", "must be even with antithetic variates"))
        if self.antithetic and isinstance(self.rate_model, CIR):
            p.append(
                FieldProblem(
                    None, "antithetic", "not available for CIR (exact chi-square sampling)"
                )
            )
        if not self.percentiles or any(
            not (math.isfinite(q) and 0 <= q <= 100) for q in self.percentiles
        ):
            p.append(FieldProblem(None, "percentiles", "must be numbers in [0, 100]"))
        if not 1 <= self.histogram_bins <= 1000:
            p.append(FieldProblem(None, "histogram_bins", "must be in 1..1000"))
        if self.price is not None and not (math.isfinite(self.price) and self.price > 0):
            p.append(FieldProblem(None, "price", "must be finite and > 0"))
        if not (math.isfinite(self.pv_spread) and abs(self.pv_spread) < 1):
            p.append(FieldProblem(None, "pv_spread", "must be a decimal in (-1, 1)"))
        if self.duration_bump is not None and not (
            math.isfinite(self.duration_bump) and 0 < self.duration_bump <= 0.05
        ):
            p.append(FieldProblem(None, "duration_bump", "must be in (0, 0.05]"))
        if p:
            raise InvalidInput(p)


# ---------------------------------------------------------------------------------------------
# Outputs


@dataclass(frozen=True)
class Distribution:
    """Statistics of one per-path figure over all paths.

    standard_error: of the mean; with antithetic variates it is computed from the pair means.
    std: sample standard deviation (ddof = 1) of the path values. percentiles: NumPy's default
    (linear) method. histogram: counts over `histogram_edges` (NumPy's bin rule).
    """

    mean: float
    standard_error: float
    std: float
    percentiles: dict[float, float]
    histogram_counts: np.ndarray
    histogram_edges: np.ndarray


@dataclass(frozen=True)
class ChunkResult:
    """What one chunk (blocks block_start..block_stop−1) hands to the merge.

    pv, wal, loss, yld: per-path values in path order. cfd_*: per block, the path-ordered sum
    over the block's paths of CF·D per month (base curve and the ±h shifted curves).
    """

    chunk_index: int
    n_chunks: int
    block_start: int
    block_stop: int
    pv: np.ndarray
    wal: np.ndarray
    loss: np.ndarray
    yld: np.ndarray
    cfd_base: np.ndarray
    cfd_up: np.ndarray | None
    cfd_down: np.ndarray | None


@dataclass(frozen=True)
class MonteCarloResult:
    """Merged run. pv at `pv_spread`, wal in years, loss in currency (cumulative), yield the
    monthly-compounded annual yield of each path's cash flows at `price` (or par when no
    price). mean_discounted_cashflow: mean over paths of CF·D per month (spread 0)."""

    n_paths: int
    n_months: int
    pv: Distribution
    wal: Distribution
    loss: Distribution
    yield_: Distribution | None
    mean_discounted_cashflow: np.ndarray
    oas: float | None
    z_spread: float | None
    option_cost: float | None
    effective_duration: float | None
    effective_convexity: float | None
    path_values: dict[str, np.ndarray]


# ---------------------------------------------------------------------------------------------
# Preparation


@dataclass(frozen=True)
class _Prepared:
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


def _liquidation_ratio(sch: np.ndarray, lag: int, advancing: bool) -> np.ndarray:
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


def _prepare(req: MonteCarloRequest) -> _Prepared:
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
    return _Prepared(
        n=n,
        sch=np.ascontiguousarray(sch),
        liq_ratio=_liquidation_ratio(sch, req.recovery_lag_months, req.advancing),
        af=np.ascontiguousarray(af),
        mdr=np.ascontiguousarray(mdr),
        severity=np.full(len(pool), float(req.severity)),
        age=pool.age.astype(np.float64),
        pv_disc=np.exp(-req.pv_spread * times),
        times=times,
        yield_price=yield_price,
        yield_guess=guess,
    )


def _shifted_model(model: RateModel, curve: DiscountCurve, h: float) -> RateModel:
    """The model under a +h parallel shift: Hull-White refits to the shifted curve; Vasicek and
    CIR (not fitted to the curve) move r₀ and θ by h."""
    if isinstance(model, HullWhite):
        return model
    r0 = model.initial_rate
    if r0 is None:
        r0 = float(np.asarray(curve.zero_rate(np.array([DT])))[0])
    return replace(model, initial_rate=r0 + h, long_term_rate=model.long_term_rate + h)


def _zero_vol(model: RateModel) -> RateModel:
    return replace(model, volatility=0.0)


def _macro_multipliers(
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


def _project_block(
    req: MonteCarloRequest,
    prep: _Prepared,
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
        mult = _macro_multipliers(
            req.macro, block_rng(req.seed, block, 1), n_paths, prep.n, req.antithetic
        )
    else:
        mult = np.empty((0, 0))
    return project_paths(req, prep, cal, rates, mult, keep_cf=keep_cf, parallel=parallel)


def project_paths(
    req: MonteCarloRequest,
    prep: _Prepared,
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
    kernel = mc_project_nb if parallel else mc_project_serial_nb
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


# ---------------------------------------------------------------------------------------------
# Chunks


def chunk_blocks(n_blocks: int, chunk_index: int, n_chunks: int) -> range:
    """Blocks of chunk `chunk_index` of `n_chunks`: contiguous, sizes differing by at most 1."""
    if not 1 <= n_chunks <= n_blocks:
        raise InvalidInput(
            [FieldProblem(None, "n_chunks", f"must be in 1..{n_blocks} (the number of blocks)")]
        )
    if not 0 <= chunk_index < n_chunks:
        raise InvalidInput([FieldProblem(None, "chunk_index", f"must be in 0..{n_chunks - 1}")])
    base, extra = divmod(n_blocks, n_chunks)
    start = chunk_index * base + min(chunk_index, extra)
    return range(start, start + base + (1 if chunk_index < extra else 0))


def run_chunk(
    req: MonteCarloRequest,
    chunk_index: int,
    n_chunks: int,
    progress: Progress | None = None,
    *,
    threads: int | None = None,
) -> ChunkResult:
    """Run one chunk of a request: a pure function of (request, chunk index, chunk count).

    progress(done, total) is called after each block, in block order, with the chunk's paths
    done and total. threads: worker threads over blocks (default: the CPU count).
    """
    req.validate()
    blocks = chunk_blocks(req.n_blocks, chunk_index, n_chunks)
    prep = _prepare(req)
    cal = calibrate(req.rate_model, req.curve, prep.n, req.mortgage_rate)
    shifted: list[CalibratedModel] = []
    h = req.duration_bump
    if req.price is not None and h is not None:
        for dz in (h, -h):
            model = _shifted_model(req.rate_model, req.curve, dz)
            shifted.append(calibrate(model, shift_curve(req.curve, dz), prep.n, req.mortgage_rate))
    sizes = [min(req.block_size, req.n_paths - b * req.block_size) for b in blocks]
    total = int(sum(sizes))
    pieces: dict[str, list[np.ndarray]] = {k: [] for k in ("pv", "wal", "loss", "yield")}
    cfd_base = np.empty((len(blocks), prep.n))
    cfd_up = np.empty((len(blocks), prep.n)) if shifted else None
    cfd_down = np.empty((len(blocks), prep.n)) if shifted else None

    def work(
        b: int, size: int, parallel: bool | None = None
    ) -> tuple[dict[str, np.ndarray], list[np.ndarray]]:
        out = _project_block(req, prep, cal, b, size, parallel=parallel)
        out["cfd_sum"] = out.pop("cfd").sum(axis=0)
        extra = [
            _project_block(req, prep, m, b, size, parallel=parallel)["cfd"].sum(axis=0)
            for m in shifted
        ]
        return out, extra

    # Blocks run on worker threads, each block's kernels on its thread only (the kernels and
    # NumPy's generators release the GIL, so the threads share no state and need no Numba
    # threading layer); results are taken in block order, so threading never changes a
    # number. A lone block (or threads=1) runs here, with the parallel kernel when large.
    n_workers = max(1, min(threads or os.cpu_count() or 1, len(blocks)))

    def serial_work(b: int, size: int) -> tuple[dict[str, np.ndarray], list[np.ndarray]]:
        return work(b, size, parallel=False)

    def results() -> Iterator[tuple[dict[str, np.ndarray], list[np.ndarray]]]:
        if n_workers > 1:
            with ThreadPoolExecutor(max_workers=n_workers) as pool:
                yield from pool.map(serial_work, blocks, sizes)
        else:
            for b, size in zip(blocks, sizes, strict=True):
                yield work(b, size)

    done = 0
    for j, (size, (out, extra)) in enumerate(zip(sizes, results(), strict=True)):
        for k in pieces:
            pieces[k].append(out[k])
        cfd_base[j] = out["cfd_sum"]
        if shifted:
            cfd_up[j] = extra[0]  # type: ignore[index]
            cfd_down[j] = extra[1]  # type: ignore[index]
        done += size
        if progress is not None:
            progress(done, total)
    return ChunkResult(
        chunk_index=chunk_index,
        n_chunks=n_chunks,
        block_start=blocks.start,
        block_stop=blocks.stop,
        pv=np.concatenate(pieces["pv"]),
        wal=np.concatenate(pieces["wal"]),
        loss=np.concatenate(pieces["loss"]),
        yld=np.concatenate(pieces["yield"]),
        cfd_base=cfd_base,
        cfd_up=cfd_up,
        cfd_down=cfd_down,
    )


def _distribution(x: np.ndarray, req: MonteCarloRequest) -> Distribution:
    n = x.size
    std = float(np.std(x, ddof=1))
    if req.antithetic:
        pairs = x.reshape(-1, 2).mean(axis=1)
        se = float(np.std(pairs, ddof=1) / math.sqrt(pairs.size))
    else:
        se = std / math.sqrt(n)
    q = np.percentile(x, np.asarray(req.percentiles, dtype=np.float64))
    counts, edges = np.histogram(x, bins=req.histogram_bins)
    return Distribution(
        mean=float(np.mean(x)),
        standard_error=se,
        std=std,
        percentiles={float(k): float(v) for k, v in zip(req.percentiles, q, strict=True)},
        histogram_counts=counts,
        histogram_edges=edges,
    )


def solve_spread(
    discounted: np.ndarray, times: np.ndarray, target: float, *, field: str = "price"
) -> float:
    """Constant continuously compounded spread s with Σ_i discounted_i·e^{−s·t_i} = target.

    Brent's method on a bracket grown from [−0.05, 0.05]; the sum is decreasing in s when the
    discounted amounts are non-negative. Raises UnreachablePrice when no s in [−1, 5] works.
    """
    d = np.ascontiguousarray(discounted, dtype=np.float64)
    t = np.ascontiguousarray(times, dtype=np.float64)

    def f(s: float) -> float:
        return float(d @ np.exp(-s * t)) - target

    lo, hi = -0.05, 0.05
    flo, fhi = f(lo), f(hi)
    while flo * fhi > 0:
        if flo < 0 and fhi < 0 and lo > -1.0:
            lo, hi, fhi = max(lo * 2, -1.0), lo, flo
            flo = f(lo)
        elif flo > 0 and fhi > 0 and hi < 5.0:
            lo, hi, flo = hi, min(hi * 2, 5.0), fhi
            fhi = f(hi)
        else:
            raise UnreachablePrice(f"no spread in [-1, 5] reprices to {target!r}", field=field)
    if flo == 0.0:
        return lo
    if fhi == 0.0:
        return hi
    s, info = brentq(f, lo, hi, xtol=1e-15, rtol=8.9e-16, maxiter=200, full_output=True)
    if not info.converged:
        raise ConvergenceError("spread solver did not converge", field=field)
    return float(s)


def solve_oas(mean_discounted_cashflow: np.ndarray, times: np.ndarray, price: float) -> float:
    """OAS: s with mean_p PV_p(s) = price, from the mean over paths of CF·D per month."""
    return solve_spread(mean_discounted_cashflow, times, price)


def deterministic_cashflows(req: MonteCarloRequest) -> np.ndarray:
    """Total cash flow per month on the zero-volatility path (for Hull-White: the forward
    curve) with no macro shock: the static projection behind the Z-spread."""
    prep = _prepare(req)
    cal = calibrate(_zero_vol(req.rate_model), req.curve, prep.n, req.mortgage_rate)
    rates = simulate_short_rates(cal, block_rng(req.seed, 0, 0), 1)
    return project_paths(req, prep, cal, rates, np.empty((0, 0)), keep_cf=True)["cf"][0]


def z_spread(cashflows: np.ndarray, times: np.ndarray, curve: DiscountCurve, price: float) -> float:
    """Z-spread: constant continuously compounded spread added to the curve's zero rates that
    prices `cashflows` (at `times`, years) to `price` (DOMAIN.md §5); the analytics solver."""
    return float(
        analytics_z_spread(
            np.asarray(cashflows, dtype=np.float64),
            np.asarray(times, dtype=np.float64),
            curve,  # type: ignore[arg-type]  # only discount(t) is used
            float(price),
            Compounding.CONTINUOUS,
        )
    )


def merge_chunks(req: MonteCarloRequest, chunks: Sequence[ChunkResult]) -> MonteCarloResult:
    """Merge chunk results in block order into the run's result (bit-identical for any chunking)."""
    req.validate()
    ordered = sorted(chunks, key=lambda c: c.block_start)
    expected = 0
    for c in ordered:
        if c.block_start != expected:
            raise InvalidInput(
                [FieldProblem(None, "chunks", f"blocks from {expected} are missing or repeated")]
            )
        expected = c.block_stop
    if expected != req.n_blocks:
        raise InvalidInput(
            [FieldProblem(None, "chunks", f"cover {expected} of {req.n_blocks} blocks")]
        )
    prep = _prepare(req)
    pv = np.concatenate([c.pv for c in ordered])
    wal = np.concatenate([c.wal for c in ordered])
    loss = np.concatenate([c.loss for c in ordered])
    yld = np.concatenate([c.yld for c in ordered])
    mean_cfd = np.concatenate([c.cfd_base for c in ordered]).sum(axis=0) / req.n_paths
    oas = zs = cost = dur = conv = None
    if req.price is not None:
        oas = solve_oas(mean_cfd, prep.times, req.price)
        zs = z_spread(deterministic_cashflows(req), prep.times, req.curve, req.price)
        cost = zs - oas
        if req.duration_bump is not None and ordered[0].cfd_up is not None:
            h = req.duration_bump
            growth = np.exp(-oas * prep.times)
            up = np.concatenate([c.cfd_up for c in ordered]).sum(axis=0) / req.n_paths  # type: ignore[misc]
            down = np.concatenate([c.cfd_down for c in ordered]).sum(axis=0) / req.n_paths  # type: ignore[misc]
            p0 = float(mean_cfd @ growth)
            p_up, p_down = float(up @ growth), float(down @ growth)
            dur = (p_down - p_up) / (2.0 * p0 * h)
            conv = (p_up + p_down - 2.0 * p0) / (p0 * h * h)
    return MonteCarloResult(
        n_paths=req.n_paths,
        n_months=prep.n,
        pv=_distribution(pv, req),
        wal=_distribution(wal, req),
        loss=_distribution(loss, req),
        yield_=None if not np.all(np.isfinite(yld)) else _distribution(yld, req),
        mean_discounted_cashflow=mean_cfd,
        oas=oas,
        z_spread=zs,
        option_cost=cost,
        effective_duration=dur,
        effective_convexity=conv,
        path_values={"pv": pv, "wal": wal, "loss": loss, "yield": yld},
    )


def run_monte_carlo(
    req: MonteCarloRequest,
    *,
    n_chunks: int = 1,
    progress: Progress | None = None,
    threads: int | None = None,
) -> MonteCarloResult:
    """Run every chunk here, in order, and merge; progress(done, total) counts paths."""
    req.validate()
    n_chunks = min(n_chunks, req.n_blocks)
    results = []
    done_before = 0
    for k in range(n_chunks):

        def chunk_progress(done: int, _total: int, base: int = done_before) -> None:
            if progress is not None:
                progress(base + done, req.n_paths)

        res = run_chunk(req, k, n_chunks, chunk_progress, threads=threads)
        done_before += res.pv.size
        results.append(res)
    return merge_chunks(req, results)
