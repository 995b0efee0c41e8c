"""Stand-ins for the asset-class routes built in parallel (issues 13, 14, 15), answering in the
shapes their issues publish, so that the dashboard's views of them are tested before the real
routes land. Numbers are simple functions of the request (no finance is claimed here)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body

router = APIRouter(prefix="/api/v1")
STATES = ["current", "dpd30", "dpd60", "dpd90", "dpd120", "charged_off", "prepaid"]


@router.post("/specialized-assets/consumer-credit/analyze")
def consumer(body: dict[str, Any] = Body(...)) -> dict[str, Any]:  # noqa: B008
    n = len(STATES)
    matrix = [[1.0 if (i == j and i >= 5) else (0.0 if i >= 5 else (0.8 if j == 0 else 0.2 / (n - 1))) for j in range(n)] for i in range(n)]
    months = int(body.get("pipeline", {}).get("months", 12))
    start = body.get("pipeline", {}).get("start_balances", {"current": 1.0})
    return {
        "roll_rates": {
            "method": "cohort", "weight": "count", "states": STATES, "matrix": matrix,
            "counts": [[10 * (i + j) for j in range(n)] for i in range(n)],
            "row_totals": [10 * n] * n, "ci_low": matrix, "ci_high": matrix, "segments": [],
        },
        "pipeline": {
            "months": list(range(1, months + 1)),
            "balances": {s: [float(start.get(s, 0.0)) * 0.97**m for m in range(1, months + 1)] for s in STATES},
        },
        "vintages": [
            {"vintage": f"2024Q{q}", "months_on_book": list(range(1, 13)),
             "cumulative_charge_off": [0.001 * q * m for m in range(1, 13)]}
            for q in range(1, 5)
        ],
    }


@router.post("/specialized-assets/commercial-loans/analyze")
def commercial(body: dict[str, Any] = Body(...)) -> dict[str, Any]:  # noqa: B008
    loans = body["pool"]["loans"]
    return {
        "loans": [
            {"loan_id": ln["loan_id"], "dscr": ln["noi"] / (ln["balance"] * ln["rate"]),
             "ltv": ln["balance"] / ln["property_value"], "debt_yield": ln["noi"] / ln["balance"]}
            for ln in loans
        ],
        "concentration": {"hhi": 0.3, "effective_number": 3.3, "top10_share": 1.0,
                          "by_property_type": {ln["property_type"]: 1 / len(loans) for ln in loans}},
        "portfolio_loss": {
            "expected_loss": 1e5, "percentiles": {"p50": 5e4, "p95": 4e5, "p99": 9e5, "p99_9": 1.6e6},
            "var_99": 9e5, "es_99": 1.2e6, "histogram": {"counts": [50, 30, 12, 5, 2, 1], "edges": [0, 2e5, 4e5, 6e5, 8e5, 1e6, 1.2e6]},
            "vasicek": {"expected_loss": 1e5, "var_99": 8.5e5, "es_99": 1.1e6},
        },
    }


def _statements(deal: dict[str, Any], n: int) -> dict[str, Any]:
    tranches = {t["name"]: {"balance": [max(0.0, t.get("balance", 0) * (1 - p / n)) for p in range(1, n + 1)]} for t in deal["tranches"]}
    tests = {t["name"]: {"value": [t["trigger"] + 0.05 - 0.01 * (p % 8) for p in range(1, n + 1)], "passed": [True] * n} for t in deal.get("tests", [])}
    return {"tranches": tranches, "tests": tests, "checks": {"cash_in_equals_cash_out": True, "max_abs_difference": 0.0}}


@router.post("/deals/run")
def deal_run(body: dict[str, Any] = Body(...)) -> dict[str, Any]:  # noqa: B008
    return _statements(body["deal"], len(body["collateral_cashflows"]["interest"]))


@router.post("/specialized-assets/clo-cdo/analyze")
def clo(body: dict[str, Any] = Body(...)) -> dict[str, Any]:  # noqa: B008
    q = {k: {"value": v, "trigger": t, "passed": v <= t if k in ("warf", "caa_share") else v >= t}
         for k, v, t in (("warf", 2700, 3000), ("was", 0.035, 0.034), ("wac", 0.07, 0.065), ("wal", 4.5, 5.0), ("diversity_score", 42, 50), ("caa_share", 0.1, 0.075))}
    return {"quality_tests": q, "deal": _statements(body["deal"], 36) if "deal" in body else None}
