"""Macro link: a stated logit or probit shift of the monthly roll and default rates by
unemployment, house-price and interest-rate paths, its estimation from a panel with macro
columns (small IRLS / Fisher scoring, standard errors from the inverse information), and the
month-by-month stressed matrices that feed the pipeline.

Model, per month t and live from-state i: w_i = Σ_{j worse than i} P[i, j] (the roll-forward
and charge-off probability; "worse" = a later state in the severity order, prepaid excluded);
    F^{-1}(w_i,t) = F^{-1}(w_i) + Δ_t,   Δ_t = Σ_v β_v (x_v,t - x_v,ref)
with F the logistic (logit) or standard normal (probit) CDF. The worse entries are scaled by
w_i,t / w_i and the others by (1 - w_i,t) / (1 - w_i), so every row still sums to 1. A row with
w_i in {0, 1} cannot be shifted and stays as it is. Where Δ_t = 0 the base matrix is used as is,
so zero coefficients reproduce the unstressed forecast exactly.
Estimation: y = 1 when a loan-month in a live state moves to a worse state, regressed on an
intercept, one dummy per live state after the first, and the macro columns (levels, per row).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import Enum
from typing import Any

import numpy as np

from app.assets.consumer_credit.panel import Panel
from app.assets.consumer_credit.states import StateRole, StateSpace
from app.engine._lazy import lazy_module
from app.engine.errors import FieldProblem, InvalidInput

special = lazy_module("scipy.special")  # SciPy imported at the first use
stats = lazy_module("scipy.stats")


class Link(str, Enum):  # noqa: UP042
    LOGIT = "logit"
    PROBIT = "probit"


class MacroVariable(str, Enum):  # noqa: UP042
    UNEMPLOYMENT = "unemployment"  # rate, decimal
    HPI = "hpi"  # house-price index change, decimal
    RATE = "rate"  # interest rate, decimal


def _cdf(link: Link, x: np.ndarray) -> np.ndarray:
    return special.expit(x) if link == Link.LOGIT else special.ndtr(x)


def _inv(link: Link, p: np.ndarray) -> np.ndarray:
    return special.logit(p) if link == Link.LOGIT else special.ndtri(p)


def worse_mask(space: StateSpace) -> np.ndarray:
    """(S, S) True where j is worse than i: a later state, not prepaid, from a live state."""
    s = space.n
    later = np.arange(s)[None, :] > np.arange(s)[:, None]
    not_pp = space.roles[None, :] != StateRole.PREPAID
    return later & not_pp & space.live[:, None]


def shift_path(
    coefficients: Mapping[str, float],
    paths: Mapping[str, Sequence[float]],
    reference: Mapping[str, float],
    months: int,
) -> np.ndarray:
    """Δ_t, t = 1..months (a path shorter than the horizon holds its last value)."""
    delta = np.zeros(months)
    for name, beta in coefficients.items():
        if beta == 0.0:
            continue
        if name not in paths:
            raise InvalidInput(
                [FieldProblem(None, f"paths.{name}", "a non-zero coefficient needs this path")]
            )
        x = np.asarray(paths[name], dtype=np.float64)
        if x.size == 0 or not np.all(np.isfinite(x)):
            raise InvalidInput(
                [FieldProblem(None, f"paths.{name}", "must be a non-empty list of finite numbers")]
            )
        full = np.concatenate([x, np.full(max(0, months - x.size), x[-1])])[:months]
        delta += float(beta) * (full - float(reference.get(name, x[0])))
    return delta


def stressed_matrices(
    p: np.ndarray, space: StateSpace, delta: np.ndarray, link: Link
) -> np.ndarray:
    """(T, S, S) month-by-month matrices of the model (module docstring)."""
    t_n, s = delta.shape[0], space.n
    worse = worse_mask(space)
    w = np.where(worse, p, 0.0).sum(axis=1)  # (S,)
    movable = space.live & (w > 0) & (w < 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        base = np.where(movable, _inv(link, np.where(movable, w, 0.5)), 0.0)
    wt = _cdf(link, base[None, :] + delta[:, None])  # (T, S)
    wt = np.where(movable[None, :] & (delta[:, None] != 0.0), wt, w[None, :])
    up = np.divide(wt, w, out=np.ones_like(wt), where=w > 0)
    down = np.divide(1.0 - wt, 1.0 - w, out=np.ones_like(wt), where=w < 1)
    scale = np.where(worse[None, :, :], up[:, :, None], down[:, :, None])
    out = np.broadcast_to(p, (t_n, s, s)) * scale
    same = delta == 0.0
    out[same] = p
    return out


def estimate(
    panel: Panel, variables: Sequence[str], link: Link = Link.LOGIT, *, max_iter: int = 50
) -> dict[str, Any]:
    """Fit the link's coefficients on a panel whose rows carry the macro columns (module
    docstring); returns coefficients, standard errors (sqrt diag of the inverse Fisher
    information), z statistics, the log-likelihood and the number of loan-months."""
    space = panel.space
    same = panel.loan[1:] == panel.loan[:-1]
    monthly = same & (np.diff(panel.period) == 1)
    i, j = panel.state[:-1], panel.state[1:]
    ok = monthly & (i >= 0) & (j >= 0)
    ok &= space.live[np.maximum(i, 0)]
    worse = worse_mask(space)
    y = worse[i[ok], j[ok]].astype(np.float64)
    live_codes = np.flatnonzero(space.live)
    cols = [np.ones(y.size)]
    names = ["intercept"]
    seen = np.unique(i[ok])
    for c in live_codes[1:]:
        if c not in seen:  # a state never observed has no dummy (it would make X singular)
            continue
        cols.append((i[ok] == c).astype(np.float64))
        names.append(f"state:{space.names[c]}")
    for v in variables:
        x = np.asarray(panel.attribute(v).to_numpy(zero_copy_only=False), dtype=np.float64)[:-1][ok]
        if not np.all(np.isfinite(x)):
            raise InvalidInput(
                [FieldProblem(None, v, "macro column must be finite numbers on every row")]
            )
        cols.append(x)
        names.append(v)
    x_mat = np.column_stack(cols)
    if y.size <= x_mat.shape[1] or y.min() == y.max():
        raise InvalidInput(
            [
                FieldProblem(
                    None, "macro.estimate", "too few loan-months or no variation in the outcome"
                )
            ]
        )
    beta = np.zeros(x_mat.shape[1])
    beta[0] = float(_inv(link, np.clip(np.array([y.mean()]), 1e-6, 1 - 1e-6))[0])
    info = np.eye(x_mat.shape[1])
    for _ in range(max_iter):
        eta = x_mat @ beta
        mu = np.clip(_cdf(link, eta), 1e-12, 1 - 1e-12)
        dmu = mu * (1 - mu) if link == Link.LOGIT else stats.norm.pdf(eta)
        wgt = dmu * dmu / (mu * (1 - mu))
        z = eta + (y - mu) / np.maximum(dmu, 1e-300)
        info = x_mat.T @ (x_mat * wgt[:, None])
        new = np.linalg.solve(info, x_mat.T @ (wgt * z))
        if np.max(np.abs(new - beta)) < 1e-10:
            beta = new
            break
        beta = new
    mu = np.clip(_cdf(link, x_mat @ beta), 1e-12, 1 - 1e-12)
    dmu = mu * (1 - mu) if link == Link.LOGIT else stats.norm.pdf(x_mat @ beta)
    info = x_mat.T @ (x_mat * (dmu * dmu / (mu * (1 - mu)))[:, None])
    se = np.sqrt(np.diag(np.linalg.inv(info)))
    ll = float(np.sum(y * np.log(mu) + (1 - y) * np.log(1 - mu)))
    return {
        "link": link.value,
        "method": "maximum likelihood by Fisher scoring (IRLS); standard errors from the inverse information",
        "terms": names,
        "estimates": beta,
        "standard_errors": se,
        "z": beta / se,
        "coefficients": {v: float(beta[names.index(v)]) for v in variables},
        "coefficient_standard_errors": {v: float(se[names.index(v)]) for v in variables},
        "log_likelihood": ll,
        "n_observations": int(y.size),
    }
