"""The shipped real panels through the HTTP API: the UCI card panel uploaded as it is (raw
status codes as caller-named states) and analysed by panel_id; the SBA 7(a) loans as inline
vintage outcomes. Figures are compared with independent pandas group-bys."""

from __future__ import annotations

import gzip

import numpy as np
import pandas as pd

from tests.real_data import SBA, UCI_LONG, need

BASE = "/api/v1/specialized-assets/consumer-credit"


async def test_uci_panel_upload_and_analysis(client, auth) -> None:
    raw = gzip.decompress(need(UCI_LONG).read_bytes())
    user = auth("uci-user")
    resp = await client.post(
        f"{BASE}/panels",
        headers=user,
        files={"file": ("uci.csv", raw)},
        data={
            "column_map": '{"ID": "loan_id", "month": "period", "status": "state", "bill_amt": "bill"}'
        },
    )
    assert resp.status_code == 201, resp.text
    assert resp.json()["n_rows"] == 180_000 and resp.json()["n_loans"] == 30_000
    states = [str(s) for s in range(-2, 9)]
    body = {
        "loan_type": "credit_card",
        "panel_id": resp.json()["panel_id"],
        "roll_rates": {"states": states, "method": "duration"},
        "revolving": {"receivables": 1e9, "months": 12},
    }
    out = (await client.post(f"{BASE}/analyze", json=body, headers=user)).json()
    d = pd.read_csv(UCI_LONG).sort_values(["ID", "month"])
    d["s"] = d["status"].astype(str)
    pairs = d.assign(to=d.groupby("ID")["s"].shift(-1)).dropna(subset=["to"])
    tab = pd.crosstab(pairs["s"], pairs["to"]).reindex(index=states, columns=states, fill_value=0)
    assert np.array_equal(np.array(out["roll_rates"]["counts"]), tab.to_numpy())
    assert out["roll_rates"]["method"] == "duration" and np.allclose(
        np.nansum(out["roll_rates"]["matrix"], axis=1)[:9], 1.0
    )
    assert len(out["revolving"]["excess_spread_3m_avg"]) == 12


async def test_sba_vintages_through_the_api(client, auth) -> None:
    d = pd.read_csv(need(SBA))
    d = d[d["DisbursementDate"].notna() & (d["DisbursementGross"] > 0)]
    co = d["MIS_Status"].eq("CHGOFF") & d["ChgOffDate"].notna()
    outcomes = {
        "vintage": d["ApprovalFY"].tolist(),
        "origination_date": d["DisbursementDate"].tolist(),
        "original_balance": d["DisbursementGross"].astype(float).tolist(),
        "charge_off_date": d["ChgOffDate"].where(co, None).tolist(),
        "charge_off_amount": d["ChgOffPrinGr"].where(co, 0.0).astype(float).tolist(),
        "new_business": np.where(d["NewExist"] == 2, "new", "existing").tolist(),
    }
    body = {
        "vintages": {
            "outcomes": {"columns": outcomes},
            "as_of": "2014-08",
            "segment_by": ["new_business"],
            "fit": True,
        }
    }
    resp = await client.post(f"{BASE}/analyze", json=body, headers=auth("sba-user"))
    assert resp.status_code == 200, resp.text
    v = resp.json()["vintages"]
    seg = {s["segment"]: s for s in v["loss_rates"][0]["segments"]}
    for name, g in d.assign(nb=np.where(d["NewExist"] == 2, "new", "existing"), c=co).groupby("nb"):
        assert np.isclose(
            seg[name]["loss_rate"],
            g["ChgOffPrinGr"].where(g["c"], 0).sum() / g["DisbursementGross"].sum(),
            rtol=1e-12,
        )
    by = {x["vintage"]: x for x in v["vintages"]}
    g = d["ApprovalFY"] == 2005
    t = pd.to_datetime(d["ChgOffDate"].where(co))
    o = pd.to_datetime(d["DisbursementDate"])
    mob = (t.dt.year * 12 + t.dt.month) - (o.dt.year * 12 + o.dt.month)
    expect = d.loc[g & co & (mob <= 36), "ChgOffPrinGr"].sum() / d.loc[g, "DisbursementGross"].sum()
    assert np.isclose(by[2005]["charge_off_rate"][35], expect, rtol=1e-12)
    assert v["fitted"]["form"].startswith("A * (1 - exp(")
    assert v["default_vector"]["type"] == "mdr_vector"
