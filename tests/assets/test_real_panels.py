"""The UCI card panel end to end through the estimator: bucketed states named by the caller,
counts and segment counts equal independent pandas crosstabs, and the README's facts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from app.assets.consumer_credit.analysis import analyze
from tests.real_data import UCI_LONG, need

STATES = ["current", "m1", "m2", "m3plus"]


@pytest.fixture(scope="module")
def uci() -> pd.DataFrame:
    d = pd.read_csv(need(UCI_LONG))
    d["bucket"] = np.array(STATES)[d["status"].clip(0, 3).to_numpy()]
    d["limit_band"] = np.where(d["limit_bal"] >= 200_000, "high", "low")
    return d


def test_uci_roll_rates_equal_pandas_and_the_readme(uci) -> None:
    cols = {
        "loan_id": uci["ID"].to_numpy(),
        "period": uci["month"].to_numpy(),
        "state": uci["bucket"].to_numpy(),
        "balance": uci["bill_amt"].clip(lower=0).to_numpy(),
        "limit_band": uci["limit_band"].to_numpy(),
    }
    out = analyze(
        {"roll_rates": {"states": STATES, "segment_by": ["limit_band"]}}, panel_columns=cols
    )
    rr = out["roll_rates"]
    d = uci.sort_values(["ID", "month"])
    pairs = d.assign(to=d.groupby("ID")["bucket"].shift(-1)).dropna(subset=["to"])
    tab = pd.crosstab(pairs["bucket"], pairs["to"]).reindex(
        index=STATES, columns=STATES, fill_value=0
    )
    assert np.array_equal(rr["counts"], tab.to_numpy().astype(float))
    for seg in rr["segments"]:
        sub = pairs[pairs["limit_band"] == seg["segment"]["limit_band"]]
        t = pd.crosstab(sub["bucket"], sub["to"]).reindex(
            index=STATES, columns=STATES, fill_value=0
        )
        assert np.array_equal(seg["counts"], t.to_numpy().astype(float))
    p = rr["matrix"]
    # README fact 3 (states clip(status, 0, 3))
    assert np.allclose(p[0], [0.9388, 0.0141, 0.0471, 0.0000], atol=5e-5)
    assert np.allclose(p[2], [0.2534, 0.1028, 0.5805, 0.0633], atol=5e-5)
    assert np.allclose(p[3], [0.1066, 0.0810, 0.2818, 0.5306], atol=5e-5)
    assert rr["counts"][0].tolist() == [123_723, 1_860, 6_209, 0]
    assert rr["missing"] == {"gap_pairs": 0, "missing_months": 0, "missing_state_pairs": 0}
    # 95% intervals contain the point estimates; the README figures sit inside them
    assert np.all(rr["ci_low"] <= p + 1e-15) and np.all(p <= rr["ci_high"] + 1e-15)
