"""Short-rate models on a monthly grid: Hull-White 1F (fitted to a curve), Vasicek and CIR.

Time grid: t_i = i·Δ, Δ = 1/12 year, i = 0..N. The short rate r_i is held constant over month
i+1, i.e. over (t_i, t_{i+1}], so a path's discount factor to t_k is exp(−Δ·Σ_{i<k} r_i)
(continuous compounding, left-point rule). r_0 is known today; later rates are random.

Gaussian models (Hull-White, Vasicek) are written r_i = α_i + x_i with x an Ornstein-Uhlenbeck
process sampled exactly: x_0 = 0, x_{i+1} = φ·x_i + s·ε_{i+1}, φ = e^{−aΔ},
s = σ·sqrt((1 − φ²)/(2a)). Hull-White chooses α so that the model's expected discount factors
equal the curve's on every grid date (analytic fit, no root finding); Vasicek uses
α_i = θ + (r₀ − θ)·φ^i. CIR is sampled exactly from its non-central chi-square transition.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from app.engine.errors import FieldProblem, InvalidInput
from app.engine.rates.curve import DiscountCurve

DT = 1.0 / 12.0  # one month in years


def _check(problems: list[FieldProblem], ok: bool, field: str, reason: str) -> None:
    if not ok:
        problems.append(FieldProblem(None, field, reason))


def _finite(*values: float | None) -> bool:
    return all(v is None or math.isfinite(v) for v in values)


@dataclass(frozen=True)
class HullWhite:
    """Hull-White one-factor: dr = (θ(t) − a·r)dt + σ dW, θ fitted to the input curve.

    mean_reversion: a, per year (>= 0; 0 gives Ho-Lee).
    volatility: σ, absolute (normal) volatility of the short rate, decimal per sqrt(year).
    """

    mean_reversion: float = 0.03
    volatility: float = 0.01

    def validate(self) -> None:
        p: list[FieldProblem] = []
        _check(p, _finite(self.mean_reversion, self.volatility), "rate_model", "must be finite")
        _check(p, self.mean_reversion >= 0, "rate_model.mean_reversion", "must be >= 0")
        _check(p, self.volatility >= 0, "rate_model.volatility", "must be >= 0")
        if p:
            raise InvalidInput(p)


@dataclass(frozen=True)
class Vasicek:
    """Vasicek: dr = κ(θ − r)dt + σ dW. Not fitted to the curve (its own term structure).

    mean_reversion κ (per year, >= 0), long_term_rate θ (decimal), volatility σ (decimal per
    sqrt(year)), initial_rate r₀ (decimal; None = the curve's one-month zero rate).
    """

    mean_reversion: float = 0.1
    long_term_rate: float = 0.04
    volatility: float = 0.01
    initial_rate: float | None = None

    def validate(self) -> None:
        p: list[FieldProblem] = []
        _check(
            p,
            _finite(self.mean_reversion, self.long_term_rate, self.volatility, self.initial_rate),
            "rate_model",
            "must be finite",
        )
        _check(p, self.mean_reversion >= 0, "rate_model.mean_reversion", "must be >= 0")
        _check(p, self.volatility >= 0, "rate_model.volatility", "must be >= 0")
        if p:
            raise InvalidInput(p)


@dataclass(frozen=True)
class CIR:
    """Cox-Ingersoll-Ross: dr = κ(θ − r)dt + σ·sqrt(r) dW; rates stay >= 0.

    mean_reversion κ (> 0, per year), long_term_rate θ (> 0), volatility σ (>= 0, per
    sqrt(year) on sqrt(rate)), initial_rate r₀ (>= 0; None = the curve's one-month zero rate).
    Sampled exactly (non-central chi-square), so antithetic variates do not apply.
    """

    mean_reversion: float = 0.2
    long_term_rate: float = 0.04
    volatility: float = 0.05
    initial_rate: float | None = None

    def validate(self) -> None:
        p: list[FieldProblem] = []
        _check(
            p,
            _finite(self.mean_reversion, self.long_term_rate, self.volatility, self.initial_rate),
            "rate_model",
            "must be finite",
        )
        _check(p, self.mean_reversion > 0, "rate_model.mean_reversion", "must be > 0")
        _check(p, self.long_term_rate > 0, "rate_model.long_term_rate", "must be > 0")
        _check(p, self.volatility >= 0, "rate_model.volatility", "must be >= 0")
        _check(
            p,
            self.initial_rate is None or self.initial_rate >= 0,
            "rate_model.initial_rate",
            "must be >= 0",
        )
        if p:
            raise InvalidInput(p)


RateModel = HullWhite | Vasicek | CIR


@dataclass(frozen=True)
class MortgageRateProxy:
    """The refinancing (mortgage) rate seen on a path in month i.

    m_i = spread + R_i, where R_i is the short rate r_i when tenor_years is None, else the
    model's own continuously compounded zero rate for `tenor_years` at t_i given r_i (affine in
    r_i for all three models). spread: decimal per year (the primary-secondary spread plus the
    mortgage-Treasury basis, stated by the user).
    """

    spread: float = 0.0175
    tenor_years: float | None = 10.0

    def validate(self) -> None:
        p: list[FieldProblem] = []
        _check(p, _finite(self.spread, self.tenor_years), "mortgage_rate", "must be finite")
        _check(
            p,
            self.tenor_years is None or 1.0 / 12.0 <= self.tenor_years <= 50.0,
            "mortgage_rate.tenor_years",
            "must be between 1/12 and 50 years",
        )
        if p:
            raise InvalidInput(p)

    @property
    def tenor_months(self) -> int:
        return 0 if self.tenor_years is None else max(1, int(round(self.tenor_years * 12)))


@dataclass(frozen=True)
class CalibratedModel:
    """A rate model set up on the monthly grid for an n_months projection.

    kind: "gaussian" (Hull-White, Vasicek) or "cir".
    alpha: α_i for i = 0..len−1 (gaussian; covers the mortgage tenor beyond n_months).
    phi, step_sd: OU persistence e^{−aΔ} and exact one-step standard deviation (gaussian).
    model_log_df: ln E[exp(−Δ Σ_{i<k} r_i)] for k = 0..n_months (gaussian, analytic).
    cir_*: κ, θ, σ, r₀ (cir).
    mort_c, mort_d: mortgage rate m_i = mort_c[i] + mort_d·r_i, i = 0..n_months−1.
    """

    kind: str
    n_months: int
    alpha: np.ndarray
    phi: float
    step_sd: float
    model_log_df: np.ndarray
    cir_kappa: float
    cir_theta: float
    cir_sigma: float
    cir_r0: float
    mort_c: np.ndarray
    mort_d: float

    @property
    def deterministic(self) -> bool:
        """True when every path is the same (zero volatility)."""
        return (self.step_sd == 0.0) if self.kind == "gaussian" else (self.cir_sigma == 0.0)


def ou_variances(phi: float, step_sd: float, k_max: int) -> np.ndarray:
    """V_k = Var(Δ·Σ_{i<k} x_i) for k = 0..k_max, x the OU process with x_0 = 0.

    Recursions: Var(x_{i+1}) = φ²Var(x_i) + s²; C_{i+1} = Cov(S_{i+1}, x_{i+1}) = φ(C_i + Var(x_i));
    Var(S_{i+1}) = Var(S_i) + Var(x_i) + 2C_i, S_k = Σ_{i<k} x_i.
    """
    var_s = np.zeros(k_max + 1)
    vx = 0.0
    c = 0.0
    for i in range(k_max):
        var_s[i + 1] = var_s[i] + vx + 2.0 * c
        c = phi * (c + vx)
        vx = phi * phi * vx + step_sd * step_sd
    return var_s * (DT * DT)


def _ou_step(a: float, sigma: float) -> tuple[float, float]:
    phi = math.exp(-a * DT)
    var = sigma * sigma * (DT if a == 0.0 else -math.expm1(-2.0 * a * DT) / (2.0 * a))
    return phi, math.sqrt(var)


def _initial_rate(r0: float | None, curve: DiscountCurve) -> float:
    if r0 is not None:
        return float(r0)
    return float(np.asarray(curve.zero_rate(np.array([DT])), dtype=np.float64)[0])


def _curve_log_df(curve: DiscountCurve, k_max: int) -> np.ndarray:
    t = np.arange(k_max + 1, dtype=np.float64) * DT
    df = np.asarray(curve.discount(t), dtype=np.float64)
    if df.shape != t.shape or not np.all(np.isfinite(df)) or np.any(df <= 0):
        raise InvalidInput([FieldProblem(None, "curve", "discount factors must be finite and > 0")])
    out = np.log(df)
    out[0] = 0.0  # discount(0) is 1 by definition
    return out


def calibrate(
    model: RateModel,
    curve: DiscountCurve,
    n_months: int,
    mortgage: MortgageRateProxy | None = None,
) -> CalibratedModel:
    """Set `model` up on the monthly grid for `n_months` (Hull-White: fitted to `curve`).

    Hull-White fit (analytic, exact on the grid): with V_k from `ou_variances`,
    Δ·α_{k−1} = ln P(t_{k−1}) − ln P(t_k) + (V_k − V_{k−1})/2, so that
    E[exp(−Δ Σ_{i<k} r_i)] = exp(−Δ Σ_{i<k} α_i + V_k/2) = P(t_k) for every k.
    """
    model.validate()
    mortgage = mortgage or MortgageRateProxy()
    mortgage.validate()
    if n_months < 1:
        raise InvalidInput([FieldProblem(None, "n_months", "must be >= 1")])
    tenor = mortgage.tenor_months
    k_max = n_months + tenor  # α needed out to the mortgage tenor beyond the last month
    if isinstance(model, CIR):
        return _calibrate_cir(model, curve, n_months, mortgage)
    if isinstance(model, HullWhite):
        phi, sd = _ou_step(model.mean_reversion, model.volatility)
        v = ou_variances(phi, sd, k_max)
        log_p = _curve_log_df(curve, k_max)
        alpha = (log_p[:-1] - log_p[1:] + 0.5 * np.diff(v)) / DT
    else:
        phi, sd = _ou_step(model.mean_reversion, model.volatility)
        v = ou_variances(phi, sd, k_max)
        r0 = _initial_rate(model.initial_rate, curve)
        theta = model.long_term_rate
        alpha = theta + (r0 - theta) * phi ** np.arange(k_max, dtype=np.float64)
    model_log_df = (
        -DT * np.concatenate(([0.0], np.cumsum(alpha[:n_months]))) + 0.5 * v[: n_months + 1]
    )
    if tenor == 0:
        mort_c = np.full(n_months, mortgage.spread)
        mort_d = 1.0
    else:
        # ln P_i(n) = −Δ Σ_{j=i}^{i+n−1} α_j − Δ·b_n·x_i + V_n/2, b_n = Σ_{m<n} φ^m; x_i = r_i − α_i.
        b_n = float(tenor) if phi == 1.0 else (1.0 - phi**tenor) / (1.0 - phi)
        mort_d = b_n / tenor
        csum = np.concatenate(([0.0], np.cumsum(alpha)))
        i = np.arange(n_months)
        window = csum[i + tenor] - csum[i]
        mort_c = (DT * window - 0.5 * v[tenor]) / (tenor * DT) - mort_d * alpha[:n_months]
        mort_c = mort_c + mortgage.spread
    return CalibratedModel(
        kind="gaussian",
        n_months=n_months,
        alpha=alpha,
        phi=phi,
        step_sd=sd,
        model_log_df=model_log_df,
        cir_kappa=0.0,
        cir_theta=0.0,
        cir_sigma=0.0,
        cir_r0=0.0,
        mort_c=np.ascontiguousarray(mort_c, dtype=np.float64),
        mort_d=float(mort_d),
    )


def cir_bond_coefficients(
    kappa: float, theta: float, sigma: float, tau: float
) -> tuple[float, float]:
    """CIR zero-coupon price P(τ) = A·exp(−B·r); returns (ln A, B) (closed form, continuous)."""
    if sigma == 0.0:
        b = -math.expm1(-kappa * tau) / kappa
        return -theta * (tau - b), b
    g = math.sqrt(kappa * kappa + 2.0 * sigma * sigma)
    e = math.expm1(g * tau)
    den = (g + kappa) * e + 2.0 * g
    b = 2.0 * e / den
    log_a = (2.0 * kappa * theta / (sigma * sigma)) * (
        math.log(2.0 * g) + 0.5 * (kappa + g) * tau - math.log(den)
    )
    return log_a, b


def _calibrate_cir(
    model: CIR, curve: DiscountCurve, n_months: int, mortgage: MortgageRateProxy
) -> CalibratedModel:
    r0 = _initial_rate(model.initial_rate, curve)
    if r0 < 0:
        raise InvalidInput([FieldProblem(None, "rate_model.initial_rate", "must be >= 0")])
    tenor = mortgage.tenor_months
    if tenor == 0:
        mort_c = np.full(n_months, mortgage.spread)
        mort_d = 1.0
    else:
        tau = tenor * DT
        log_a, b = cir_bond_coefficients(
            model.mean_reversion, model.long_term_rate, model.volatility, tau
        )
        mort_c = np.full(n_months, -log_a / tau + mortgage.spread)
        mort_d = b / tau
    return CalibratedModel(
        kind="cir",
        n_months=n_months,
        alpha=np.zeros(0),
        phi=0.0,
        step_sd=0.0,
        model_log_df=np.zeros(0),
        cir_kappa=model.mean_reversion,
        cir_theta=model.long_term_rate,
        cir_sigma=model.volatility,
        cir_r0=r0,
        mort_c=mort_c,
        mort_d=float(mort_d),
    )
