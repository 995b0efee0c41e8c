"""Vintage curves: a hand-computed chain ladder; on the shipped SBA 7(a) sample, the vintage
curves and segment loss rates equal independent pandas group-bys (and the README's facts)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from app.assets.consumer_credit.vintages import chain_ladder, outcomes_from_columns, vintage_curves
from tests.real_data import SBA, need


def test_chain_ladder_by_hand() -> None:
    curves = np.array([[0.01, 0.03, 0.04], [0.02, 0.05, np.nan], [0.01, np.nan, np.nan]])
    ages = np.array([3, 2, 1])
    done, f, _ = chain_ladder(np.nan_to_num(curves), ages)
    f1 = (0.03 + 0.05) / (0.01 + 0.02)
    f2 = 0.04 / 0.03
    assert np.allclose(f, [f1, f2])
    assert np.allclose(done[1], [0.02, 0.05, 0.05 * f2])
    assert np.allclose(done[2], [0.01, 0.01 * f1, 0.01 * f1 * f2])


def test_curves_of_a_tiny_book_by_hand() -> None:
    cols = {
        "vintage": ["A", "A", "A", "B"],
        "original_balance": [100.0, 100.0, 200.0, 50.0],
        "charge_off_month": [2, None, None, 1],
        "charge_off_amount": [80.0, 0.0, 0.0, 50.0],
        "prepay_month": [None, 3, None, None],
    }
    res = vintage_curves(outcomes_from_columns(cols))
    a = res["vintages"][0]
    assert np.allclose(a["charge_off_rate"], [0.0, 80 / 400, 80 / 400])
    assert np.allclose(a["charge_off_rate_count"], [0.0, 1 / 3, 1 / 3])
    assert np.allclose(a["prepayment_rate"], [0.0, 0.0, 100 / 400])


@pytest.fixture(scope="module")
def sba() -> pd.DataFrame:
    d = pd.read_csv(need(SBA))
    # rows without a disbursement date or a positive amount cannot enter a vintage curve
    return d[d["DisbursementDate"].notna() & (d["DisbursementGross"] > 0)].reset_index(drop=True)


def _month(s: pd.Series) -> pd.Series:
    t = pd.to_datetime(s)
    return t.dt.year * 12 + t.dt.month - 1


def test_sba_vintages_equal_pandas_groupbys(sba) -> None:
    co = sba["MIS_Status"].eq("CHGOFF") & sba["ChgOffDate"].notna()
    cols = {
        "vintage": sba["ApprovalFY"].to_numpy(),
        "origination_date": sba["DisbursementDate"].to_numpy(),
        "original_balance": sba["DisbursementGross"].to_numpy(dtype=float),
        "charge_off_date": sba["ChgOffDate"].where(co, None).to_numpy(),
        "charge_off_amount": sba["ChgOffPrinGr"].where(co, 0.0).to_numpy(dtype=float),
        "real_estate": np.where(sba["Term"] >= 240, "term>=240", "other"),
    }
    res = vintage_curves(outcomes_from_columns(cols, as_of="2014-08"), segment_by=["real_estate"])
    by = {v["vintage"]: v for v in res["vintages"]}
    mob = (_month(sba["ChgOffDate"].where(co)) - _month(sba["DisbursementDate"])).where(co)
    for fy in (1997, 2004, 2005, 2006):
        g = sba["ApprovalFY"] == fy
        denom = sba.loc[g, "DisbursementGross"].sum()
        for m in (12, 24, 36, 60, 96):
            if m > by[fy]["observed_months"]:  # immature cell: null, completed by chain ladder
                assert fy == 2006 and np.isnan(by[fy]["charge_off_rate"][m - 1])
                assert np.isfinite(by[fy]["completed_charge_off_rate"][m - 1])
                continue
            expect = sba.loc[g & (mob <= m), "ChgOffPrinGr"].sum() / denom
            expect_n = (g & (mob <= m)).sum() / g.sum()
            assert by[fy]["charge_off_rate"][m - 1] == pytest.approx(
                expect, rel=1e-12, abs=1e-15
            ), (fy, m)
            assert by[fy]["charge_off_rate_count"][m - 1] == pytest.approx(expect_n, rel=1e-12), (
                fy,
                m,
            )
    f05 = by[2005]["charge_off_rate"]
    # README fact 5 counts days (365.25 a year) and every loan with a ChgOffDate (224 have status PIF);
    # we count calendar months and CHGOFF loans only: close, not equal
    assert np.allclose(
        [f05[m - 1] for m in (12, 24, 36, 60, 96)],
        [0.0010, 0.0154, 0.0315, 0.0836, 0.1365],
        atol=0.003,
    )
    # lifetime loss rates by segment (README fact 4: term >= 240 charge-off rate 0.0253 by count)
    seg = {s["segment"]: s for s in res["loss_rates"][0]["segments"]}
    for name, g in sba.groupby(np.where(sba["Term"] >= 240, "term>=240", "other")):
        c = g["MIS_Status"].eq("CHGOFF") & g["ChgOffDate"].notna()
        assert seg[name]["loss_rate"] == pytest.approx(
            g["ChgOffPrinGr"].where(c, 0).sum() / g["DisbursementGross"].sum(), rel=1e-12
        )
        assert seg[name]["count_rate"] == pytest.approx(c.mean(), rel=1e-12)
    assert round(seg["term>=240"]["count_rate"], 3) == 0.025
    # completion: observed cells are kept, development factors finite, loss timing sums to 1
    assert np.all(np.isfinite(res["development_factors"]))
    assert np.isclose(res["loss_timing"].sum(), 1.0)
    assert np.all((res["default_vector"]["values"] >= 0) & (res["default_vector"]["values"] <= 1))


def test_fitted_curve_states_its_form() -> None:
    rng = np.random.default_rng(3)
    n = 4000
    mob = np.ceil(rng.weibull(1.8, n) * 20)
    co = rng.random(n) < 0.1
    cols = {
        "vintage": rng.choice([2019, 2020, 2021], n),
        "original_balance": np.full(n, 1000.0),
        "charge_off_month": np.where(co, mob, np.nan),
    }
    res = vintage_curves(outcomes_from_columns(cols), fit=True)
    fit = res["fitted"]
    assert fit["form"].startswith("A * (1 - exp(")
    assert fit["parameters"]["A"] == pytest.approx(0.1, abs=0.02)
    assert fit["parameters"]["k"] == pytest.approx(1.8, abs=0.4)


def test_vintages_from_a_delinquency_panel_equal_a_pandas_groupby() -> None:
    from app.assets.consumer_credit.analysis import analyze

    from .test_roll_rates import TRUE_P, simulate

    df = simulate(TRUE_P, 3000, 12, seed=9)
    rng = np.random.default_rng(4)
    orig = rng.choice([0, 3], df["loan_id"].max() + 1)  # two vintages by origination month
    df["origination_date"] = orig[df["loan_id"]]
    df["period"] = df["period"] + df["origination_date"]
    cols = {c: df[c].to_numpy() for c in df.columns}
    out = analyze({"vintages": {}}, panel_columns=cols)["vintages"]
    # independent: first charged_off row per loan, amount = balance of the row before it
    d = df.sort_values(["loan_id", "period"])
    d["prev_bal"] = d.groupby("loan_id")["balance"].shift(1).fillna(d["balance"])
    first_co = d[d["state"] == "charged_off"].groupby("loan_id").head(1)
    first_co = first_co.assign(mob=first_co["period"] - first_co["origination_date"])
    orig_bal = d.groupby("loan_id")["balance"].first()
    vint = d.groupby("loan_id")["origination_date"].first() // 12
    for v in out["vintages"]:
        ids = vint.index[vint == v["vintage"]]
        denom = orig_bal[ids].sum()
        sub = first_co[first_co["loan_id"].isin(ids)]
        for m in (1, 4, 8):
            if m <= v["observed_months"]:
                assert v["charge_off_rate"][m - 1] == pytest.approx(
                    sub.loc[sub["mob"] <= m, "prev_bal"].sum() / denom, rel=1e-12
                )
