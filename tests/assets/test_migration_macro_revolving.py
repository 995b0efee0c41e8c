"""Score migration (counts vs pandas, powers, stationary, expected loss), the macro link (zero
coefficients reproduce the base exactly, a hand-computed logit row, estimation recovers a known
coefficient within its standard errors) and the master-trust projection against a hand loop."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit, logit

from app.assets.consumer_credit import macro
from app.assets.consumer_credit.panel import Panel
from app.assets.consumer_credit.pipeline import project, start_vector
from app.assets.consumer_credit.revolving import project_trust
from app.assets.consumer_credit.score_migration import migration, pairs_from_panel
from app.assets.consumer_credit.states import StateSpace
from app.engine.errors import InvalidInput

from .test_roll_rates import TRUE_P

BANDS = ["A", "B", "C", "D"]
M_TRUE = np.array(
    [
        [0.85, 0.10, 0.04, 0.01],
        [0.10, 0.75, 0.10, 0.05],
        [0.03, 0.12, 0.70, 0.15],
        [0.01, 0.04, 0.15, 0.80],
    ]
)
SPACE = StateSpace.build()


def test_score_migration_from_a_panel() -> None:
    rng = np.random.default_rng(11)
    n, t = 5000, 4
    b = rng.integers(0, 4, n)
    rows = [b]
    for _ in range(t - 1):
        b = (rng.random(n)[:, None] > np.cumsum(M_TRUE, axis=1)[b]).sum(axis=1).clip(0, 3)
        rows.append(b)
    band = np.array(BANDS)[np.stack(rows, 1).ravel()]
    df = pd.DataFrame(
        {"loan_id": np.repeat(np.arange(n), t), "period": np.tile(np.arange(t), n), "band": band}
    )
    frm, to, w = pairs_from_panel({c: df[c].to_numpy() for c in df}, BANDS, 2, "band")
    res = migration(
        frm,
        to,
        w,
        BANDS,
        powers=[2, 3],
        pd={"A": 0.01, "B": 0.03, "C": 0.08, "D": 0.2},
        severity=0.6,
    )
    lagged = df.assign(to=df.groupby("loan_id")["band"].shift(-2)).dropna()
    tab = pd.crosstab(lagged["band"], lagged["to"]).reindex(
        index=BANDS, columns=BANDS, fill_value=0
    )
    assert np.array_equal(res["counts"], tab.to_numpy().astype(float))
    m = res["matrix"]
    assert np.allclose(m, M_TRUE @ M_TRUE, atol=0.03)  # two-month horizon of a one-month chain
    assert np.allclose(res["powers"]["3"], np.linalg.matrix_power(m, 3))
    pi = res["stationary"]
    assert np.allclose(pi @ m, pi) and np.isclose(pi.sum(), 1.0)
    el = res["expected_loss"]
    exposure = tab.to_numpy().sum(axis=1)
    assert np.allclose(el["by_band"], exposure * np.array([0.01, 0.03, 0.08, 0.2]) * 0.6)
    assert np.allclose(el["pd_after_k"]["2"], np.linalg.matrix_power(m, 2) @ el["pd"])


def test_zero_macro_coefficients_reproduce_the_base_exactly() -> None:
    delta = macro.shift_path({"unemployment": 0.0, "hpi": 0.0}, {}, {}, 24)
    stressed = macro.stressed_matrices(TRUE_P, SPACE, delta, macro.Link.LOGIT)
    v0 = start_vector(SPACE, {"current": 1e6})
    base = project(SPACE, TRUE_P, v0, 24, rate=0.1, term_months=36)
    again = project(SPACE, stressed, v0, 24, rate=0.1, term_months=36)
    assert np.array_equal(base.balances, again.balances) and np.array_equal(base.mdr, again.mdr)


@pytest.mark.parametrize("link", list(macro.Link))
def test_a_shift_moves_the_worse_mass_by_the_link(link) -> None:
    delta = macro.shift_path(
        {"unemployment": 10.0}, {"unemployment": [0.05, 0.07]}, {"unemployment": 0.05}, 3
    )
    assert np.allclose(delta, [0.0, 0.2, 0.2])
    out = macro.stressed_matrices(TRUE_P, SPACE, delta, link)
    assert np.array_equal(out[0], TRUE_P)
    row = TRUE_P[0]
    w = row[1:6].sum()  # dpd30 .. charged_off (prepaid is not worse)
    f, finv = (
        (expit, logit)
        if link == macro.Link.LOGIT
        else (__import__("scipy.stats").stats.norm.cdf, __import__("scipy.stats").stats.norm.ppf)
    )
    w2 = f(finv(w) + 0.2)
    assert np.isclose(out[1][0, 1:6].sum(), w2)
    assert np.allclose(out[1][0, 1:6], row[1:6] * w2 / w)
    assert np.isclose(out[1][0, 0], row[0] * (1 - w2) / (1 - w))
    assert np.allclose(out.sum(axis=2), 1.0)


def test_estimation_recovers_a_known_coefficient() -> None:
    rng = np.random.default_rng(5)
    n, t = 6000, 12
    u = 0.05 + 0.02 * np.sin(np.arange(t))  # unemployment path, decimal
    beta = 8.0
    s = np.zeros(n, dtype=np.int64)
    st = [s.copy()]
    for k in range(t - 1):
        p_worse = expit(-3.0 + beta * u[k])
        move = rng.random(n) < p_worse
        s = np.where(
            s == 0, np.where(move, 1, 0), np.where(move, 5, 0)
        )  # current<->dpd30, or charge-off
        s = np.where(st[-1] == 5, 5, s)
        st.append(s.copy())
    arr = np.stack(st, 1)
    cols = {
        "loan_id": np.repeat(np.arange(n), t),
        "period": np.tile(np.arange(t), n),
        "state": np.array(SPACE.names, dtype=object)[arr.ravel()],
        "unemployment": np.tile(u, n),
    }
    fit = macro.estimate(Panel.from_columns(cols, SPACE), ["unemployment"])
    est, se = (
        fit["coefficients"]["unemployment"],
        fit["coefficient_standard_errors"]["unemployment"],
    )
    assert abs(est - beta) < 3 * se and se < 3.0


def test_master_trust_against_a_hand_loop() -> None:
    rates = {
        "payment_rate": 0.2,
        "purchase_rate": [0.18, 0.19],
        "portfolio_yield": 0.18,
        "charge_off_rate": 0.05,
        "coupon": 0.05,
        "servicing_fee": 0.02,
    }
    out = project_trust(1e9, 6, rates)
    r = 1e9
    for t in range(6):
        pr = 0.18 if t == 0 else 0.19
        assert np.isclose(out["beginning_receivables"][t], r)
        assert np.isclose(out["charge_offs"][t], 0.05 / 12 * r)
        r = r - 0.2 * r - 0.05 / 12 * r + pr * r
        assert np.isclose(out["ending_receivables"][t], r)
    assert np.allclose(out["excess_spread"], 0.18 - 0.05 - 0.07)
    assert np.isnan(out["excess_spread_3m_avg"][:2]).all() and np.allclose(
        out["excess_spread_3m_avg"][2:], 0.06
    )
    with pytest.raises(InvalidInput):
        project_trust(1e9, 6, {**rates, "payment_rate": -0.1})


def test_macro_estimated_from_the_panel_feeds_the_scenarios() -> None:
    from app.assets.consumer_credit.analysis import analyze

    rng = np.random.default_rng(8)
    n, t = 3000, 10
    u = np.linspace(0.04, 0.09, t)
    s = np.zeros(n, dtype=np.int64)
    st = [s.copy()]
    for k in range(t - 1):
        move = rng.random(n) < expit(-3.0 + 10.0 * u[k])
        s = np.where(st[-1] == 5, 5, np.where(s == 0, np.where(move, 1, 0), np.where(move, 5, 0)))
        st.append(s.copy())
    cols = {
        "loan_id": np.repeat(np.arange(n), t),
        "period": np.tile(np.arange(t), n),
        "state": np.array(SPACE.names, dtype=object)[np.stack(st, 1).ravel()],
        "balance": np.full(n * t, 1000.0),
        "unemployment": np.tile(u, n),
    }
    # only the observed states: a live state with no transitions would give a null row
    states = ["current", "dpd30", "charged_off", "prepaid"]
    out = analyze(
        {
            "roll_rates": {"states": states},
            "pipeline": {"months": 12, "rate": 0.1, "term_months": 24},
            "macro": {
                "estimate": True,
                "variables": ["unemployment"],
                "paths": {"adverse": {"paths": {"unemployment": [0.04, 0.08]}}},
            },
        },
        panel_columns=cols,
    )
    m = out["macro"]
    assert set(m["standard_errors"]) == {"unemployment"} and m["estimation"]["n_observations"] > 0
    assert abs(m["coefficients"]["unemployment"] - 10.0) < 3 * m["standard_errors"]["unemployment"]
    runs = {r["name"]: r for r in m["scenarios"]}
    assert (
        runs["adverse"]["cumulative_charge_off"][-1]
        > runs["unstressed"]["cumulative_charge_off"][-1]
    )
    assert np.array_equal(runs["unstressed"]["pipeline"]["mdr"], out["pipeline"]["mdr"])
