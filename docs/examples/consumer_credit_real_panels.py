"""Consumer-credit analysis of the two shipped real panels (docs/methodology/consumer_credit.md).

Run from the repository root, with shared/ beside the clone (or SHARED_DATA_DIR set):
    PYTHONPATH=. .venv/bin/python docs/examples/consumer_credit_real_panels.py
It calls the asset layer directly (the same function POST .../consumer-credit/analyze runs) and
prints the UCI card roll-rate matrix, a 12-month pipeline with its engine cash flows, and the
SBA 7(a) vintage curves with their chain-ladder completion.
"""

from __future__ import annotations

import csv
import gzip
import os
from pathlib import Path

import numpy as np

from app.assets.consumer_credit.analysis import analyze

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(os.environ.get("SHARED_DATA_DIR") or ROOT.parent / "shared" / "data")


def read_csv_gz(path: Path) -> dict[str, list[str]]:
    with gzip.open(path, "rt", newline="") as fh:
        rows = list(csv.DictReader(fh))
    return {k: [r[k] for r in rows] for k in rows[0]}


def uci() -> None:
    d = read_csv_gz(DATA / "uci_credit_card_default" / "uci_credit_card_panel_long.csv.gz")
    names = ["current", "m1", "m2", "m3plus"]  # caller-named states: clip(status, 0, 3)
    state = [names[min(max(int(s), 0), 3)] for s in d["status"]]
    cols = {"loan_id": d["ID"], "period": d["month"], "state": state,
            "balance": [max(float(b), 0.0) for b in d["bill_amt"]]}
    out = analyze(
        {
            "loan_type": "credit_card",
            "roll_rates": {"states": names, "method": "cohort", "weight": "count"},
            "pipeline": {"months": 12, "amortize": False},
            "discount_rate": 0.10,
        },
        panel_columns=cols,
    )
    rr = out["roll_rates"]
    print("UCI cards, cohort matrix (rows = from-state), Wilson 95% intervals:")
    for i, s in enumerate(names):
        cells = "  ".join(f"{p:.4f} [{lo:.4f}, {hi:.4f}]" for p, lo, hi in zip(rr["matrix"][i], rr["ci_low"][i], rr["ci_high"][i], strict=True))
        print(f"  {s:>7}: n={int(rr['row_totals'][i]):>7}  {cells}")
    bal = out["pipeline"]["balances"]
    print("12-month pipeline from the Sep-2005 balances (NT$ m):",
          {s: round(float(v[-1]) / 1e6, 1) for s, v in bal.items()})
    print("warnings:", out["warnings"])


def sba() -> None:
    d = read_csv_gz(DATA / "sba_7a_sample" / "sba_7a_sample.csv.gz")
    keep = [i for i, (dd, g) in enumerate(zip(d["DisbursementDate"], d["DisbursementGross"], strict=True))
            if dd and float(g) > 0]  # rows without a disbursement date or amount cannot enter a vintage
    co = [d["MIS_Status"][i] == "CHGOFF" and bool(d["ChgOffDate"][i]) for i in keep]
    cols = {
        "vintage": [int(d["ApprovalFY"][i]) for i in keep],
        "origination_date": [d["DisbursementDate"][i] for i in keep],
        "original_balance": [float(d["DisbursementGross"][i]) for i in keep],
        "charge_off_date": [d["ChgOffDate"][i] if c else None for i, c in zip(keep, co, strict=True)],
        "charge_off_amount": [float(d["ChgOffPrinGr"][i]) if c else 0.0 for i, c in zip(keep, co, strict=True)],
        "real_estate": ["term>=240" if int(d["Term"][i]) >= 240 else "other" for i in keep],
    }
    out = analyze({"vintages": {"outcomes": {"columns": cols}, "as_of": "2014-08", "fit": True,
                                "segment_by": ["real_estate"]}})
    v = out["vintages"]
    print("SBA 7(a): cumulative gross charge-off rate (of disbursed $) by months on book")
    print("  vintage  loans  observed   12m     24m     36m     60m     96m   (completed 96m)")
    for x in v["vintages"]:
        if x["loans"] < 1000:
            continue
        c = x["charge_off_rate"]
        cells = "  ".join("   -  " if np.isnan(c[m - 1]) else f"{c[m - 1]:.4f}" for m in (12, 24, 36, 60, 96))
        print(f"  {x['vintage']}  {x['loans']:>6}  {x['observed_months']:>5}   {cells}   ({x['completed_charge_off_rate'][95]:.4f})")
    print("  development factors, MOB 12..16:", np.round(v["development_factors"][11:16], 4).tolist())
    print("  fitted:", v["fitted"]["form"], {k: round(val, 4) for k, val in v["fitted"]["parameters"].items()})
    print("  lifetime loss rates:", [(s["segment"], round(s["loss_rate"], 4), round(s["count_rate"], 4))
                                      for s in v["loss_rates"][0]["segments"]])


if __name__ == "__main__":
    uci()
    sba()
