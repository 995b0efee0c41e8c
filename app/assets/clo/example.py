"""A reproducible example CLO (assets, a 10-tranche deal, reinvestment) used by the tests, the
benchmarks and the methodology notes. Seeded: the same arguments give the same request."""

from __future__ import annotations

from typing import Any

import numpy as np

RATINGS = ["Ba3", "B1", "B1", "B2", "B2", "B2", "B3", "B3", "Caa1", "Caa2"]
INDUSTRIES = [f"industry_{k:02d}" for k in range(30)]

TRANCHES = [  # name, share of par, spread over SOFR, deferrable
    ("A1", 0.50, 0.0130, False),
    ("A2", 0.08, 0.0170, False),
    ("B", 0.06, 0.0200, False),
    ("C1", 0.03, 0.0250, True),
    ("C2", 0.03, 0.0270, True),
    ("D1", 0.03, 0.0380, True),
    ("D2", 0.02, 0.0420, True),
    ("E1", 0.03, 0.0650, True),
    ("E2", 0.02, 0.0700, True),
    ("F", 0.01, 0.0850, True),
]


def example_assets(
    n_assets: int = 200, par_total: float = 400e6, seed: int = 7
) -> list[dict[str, Any]]:
    rng = np.random.default_rng(seed)
    par = rng.uniform(0.5, 1.5, n_assets)
    par = par / par.sum() * par_total
    return [
        {
            "asset_id": f"L{i:04d}",
            "par": float(par[i]),
            "price": float(rng.uniform(0.9, 1.0)),
            "spread": float(rng.uniform(0.03, 0.045)),
            "index": "SOFR",
            "floor": 0.005,
            "rating": RATINGS[int(rng.integers(len(RATINGS)))],
            "industry": INDUSTRIES[int(rng.integers(len(INDUSTRIES)))],
            "obligor": f"O{i // 2:04d}",
            "maturity_months": int(rng.integers(60, 121)),
            "recovery_rate": 0.45,
        }
        for i in range(n_assets)
    ]


def example_deal(par_total: float = 400e6) -> dict[str, Any]:
    tranches: list[dict[str, Any]] = [
        {
            "name": n,
            "balance": share * par_total,
            "coupon": {"type": "floating", "index": "SOFR", "margin": m},
            "day_count": "ACT/360",
            "deferrable": d,
        }
        for n, share, m, d in TRANCHES
    ]
    tranches.append({"name": "EQ", "role": "equity"})
    names = [t[0] for t in TRANCHES]
    tests = [
        {"name": f"oc_{n}", "type": "oc", "tranches": [n], "trigger": trig}
        for n, trig in (("A2", 1.25), ("B", 1.18), ("C2", 1.12), ("D2", 1.07), ("E2", 1.04))
    ]
    tests += [
        {"name": f"ic_{n}", "type": "ic", "tranches": [n], "trigger": 1.10}
        for n in ("A2", "B", "C2")
    ]
    # interest diversion test: below 1.05 on the F class, half the interest left buys collateral
    tests.append({"name": "interest_diversion", "type": "oc", "tranches": ["F"], "trigger": 1.05})
    steps: list[dict[str, Any]] = [
        {"source": "interest", "pay": "fees", "fees": ["trustee", "senior_mgmt"]},
        {"source": "interest", "pay": "interest", "tranches": ["A1"]},
        {"source": "interest", "pay": "interest", "tranches": ["A2"]},
        {
            "source": "interest",
            "pay": "cure",
            "test": "oc_A2",
            "mode": "cure",
            "tranches": ["A1", "A2"],
        },
        {
            "source": "interest",
            "pay": "cure",
            "test": "ic_A2",
            "mode": "cure",
            "tranches": ["A1", "A2"],
        },
        {"source": "interest", "pay": "interest", "tranches": ["B"]},
        {
            "source": "interest",
            "pay": "cure",
            "test": "oc_B",
            "mode": "cure",
            "tranches": names[:3],
        },
        {
            "source": "interest",
            "pay": "cure",
            "test": "ic_B",
            "mode": "cure",
            "tranches": names[:3],
        },
        {"source": "interest", "pay": "interest", "tranches": ["C1", "C2"]},
        {
            "source": "interest",
            "pay": "cure",
            "test": "oc_C2",
            "mode": "cure",
            "tranches": names[:5],
        },
        {
            "source": "interest",
            "pay": "cure",
            "test": "ic_C2",
            "mode": "cure",
            "tranches": names[:5],
        },
        {"source": "interest", "pay": "interest", "tranches": ["D1", "D2"]},
        {
            "source": "interest",
            "pay": "cure",
            "test": "oc_D2",
            "mode": "cure",
            "tranches": names[:7],
        },
        {"source": "interest", "pay": "interest", "tranches": ["E1", "E2"]},
        {
            "source": "interest",
            "pay": "cure",
            "test": "oc_E2",
            "mode": "cure",
            "tranches": names[:9],
        },
        {"source": "interest", "pay": "interest", "tranches": ["F"]},
        {
            "source": "interest",
            "pay": "cure",
            "test": "interest_diversion",
            "mode": "cure",
            "action": "reinvest",
            "share": 0.5,
        },
        {"source": "interest", "pay": "residual", "to": "EQ"},
        {"source": "principal", "pay": "reinvest"},
        {"source": "principal", "pay": "interest", "tranches": ["A1", "A2", "B"]},
        {"source": "principal", "pay": "principal", "tranches": names, "mode": "sequential"},
        {"source": "principal", "pay": "residual", "to": "EQ"},
    ]
    return {
        "name": "Example CLO",
        "tranches": tranches,
        "fees": [
            {"name": "trustee", "rate": 0.0002, "basis": "collateral_balance"},
            {"name": "senior_mgmt", "rate": 0.0015, "basis": "collateral_balance"},
        ],
        "tests": tests,
        "waterfall": steps,
    }


def example_request(n_assets: int = 200, n_periods: int = 120, **extra: Any) -> dict[str, Any]:
    """The body of POST .../clo-cdo/analyze for the example CLO (SOFR flat 4%)."""
    return {
        "assets": example_assets(n_assets),
        "deal": example_deal(),
        "assumptions": {
            "cpr": 0.15,
            "cdr": 0.02,
            "n_periods": n_periods,
            "index_paths": {"SOFR": [0.04]},
            "quality_triggers": {
                "warf": 3000,
                "was": 0.035,
                "wal": 6.0,
                "diversity_score": 40,
                "caa_share": 0.075,
            },
        },
        "reinvestment": {
            "end_period": 48,
            "price": 0.995,
            "spread": 0.037,
            "index": "SOFR",
            "floor": 0.005,
            "rating": "B2",
            "maturity_period": 114,
            "eligibility": {"min_spread": 0.03, "max_price": 1.0, "max_rating_factor": 3490},
        },
        **extra,
    }
