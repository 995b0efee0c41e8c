"""Compile the engine's Numba kernels into NUMBA_CACHE_DIR by running one small request of each
kind through the app in-process (forecast aggregate and loan-level, Monte Carlo under each rate
model, cash-flow analytics, scenario grid and stress), on a throwaway SQLite database.

The Docker build runs it (`RUN python scripts/warm_numba_cache.py`) so that a new container
loads compiled code from disk instead of waiting for the JIT. Exits non-zero when a request fails
or when no cache file was written. Usage: `python scripts/warm_numba_cache.py`.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

LOANS = [
    {"loan_id": "W1", "balance": 300000, "rate": 0.065, "original_term_months": 360},
    {
        "loan_id": "W2",
        "balance": 150000,
        "rate": 0.055,
        "original_term_months": 180,
        "age_months": 24,
    },
    {
        "loan_id": "W3",
        "balance": 80000,
        "rate": 0.07,
        "original_term_months": 120,
        "amortization": "interest_only",
        "io_months": 24,
    },
]
ASSUMPTIONS = {
    "prepayment": {"type": "psa", "speed": 150},
    "default": {"type": "cdr", "rate": 0.02},
    "severity": 0.35,
    "recovery_lag_months": 6,
}
CURVE = {"times": [0.25, 1, 2, 5, 10, 30], "rates": [0.045, 0.044, 0.043, 0.043, 0.044, 0.046]}
MC_POOL = {
    "balance": [600_000.0, 400_000.0],
    "note_rate": [0.065, 0.05],
    "net_rate": [0.06, 0.045],
    "remaining_term": [120, 96],
    "age": [12, 40],
}


def _requests() -> list[tuple[str, dict]]:
    forecast = {
        "name": "warm-up",
        "pool": {"loans": LOANS},
        "assumptions": ASSUMPTIONS,
        "valuation": {"discount_rate": 0.06},
    }
    out: list[tuple[str, dict]] = [
        ("/api/v1/cashflow/forecast", forecast),
        ("/api/v1/cashflow/forecast", {**forecast, "options": {"loan_level": True}}),
    ]
    for model in (
        {"type": "hull_white", "mean_reversion": 0.05, "volatility": 0.012},
        {"type": "vasicek", "long_term_rate": 0.05},
        {"type": "cir"},
    ):
        out.append(
            (
                "/api/v1/cashflow/monte-carlo",
                {
                    "pool": MC_POOL,
                    "curve": CURVE,
                    "rate_model": model,
                    "default": {"cdr": 0.02, "severity": 0.4, "recovery_lag_months": 3},
                    "n_paths": 100,
                    "block_size": 50,
                    "seed": 1,
                    "price": 1_005_000.0,
                },
            )
        )
    flows = [{"amount": 3.0, "period": k} for k in range(1, 10)]
    flows.append({"amount": 103.0, "period": 10, "principal": 100.0})
    out.append(
        (
            "/api/v1/analytics/cashflows",
            {"cashflows": flows, "frequency": 2, "compounding": "compounded", "price": 99.0},
        )
    )
    out.append(
        (
            "/api/v1/scenarios/grid",
            {
                "pool": {"loans": LOANS},
                "assumptions": ASSUMPTIONS,
                "x": {"variable": "cpr", "values": [0.0, 0.1]},
                "y": {"variable": "cdr", "values": [0.0, 0.02]},
                "measures": ["npv", "wal", "cumulative_loss"],
                "valuation": {"discount_rate": 0.06},
            },
        )
    )
    out.append(
        (
            "/api/v1/scenarios/stress",
            {
                "pool": {"loans": LOANS},
                "assumptions": ASSUMPTIONS,
                "valuation": {"discount_rate": 0.06},
            },
        )
    )
    return out


async def _run(data_dir: str) -> list[str]:
    import httpx

    from app.core.config import Settings
    from app.main import create_app

    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        env="development",
        host="127.0.0.1",
        data_dir=data_dir,
        database_url=None,
        supabase_url=None,
        supabase_jwt_secret=None,
        redis_url=None,
        upstash_redis_host=None,
        celery_broker_url=None,
        sentry_dsn=None,
        engine_warmup=False,
        rate_limit_enabled=False,
        metrics_enabled=False,
    )
    app = create_app(settings)
    failures = []
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            for path, body in _requests():
                start = time.perf_counter()
                resp = await client.post(path, json=body)
                print(f"{path}: {resp.status_code} in {time.perf_counter() - start:.1f} s")
                if resp.status_code >= 300:
                    failures.append(f"{path}: {resp.status_code} {resp.text[:300]}")
    return failures


def main() -> int:
    cache_dir = os.environ.get("NUMBA_CACHE_DIR")
    with tempfile.TemporaryDirectory() as data_dir:
        failures = asyncio.run(_run(data_dir))
    for failure in failures:
        print("FAILED", failure, file=sys.stderr)
    if cache_dir:
        n = sum(1 for _ in Path(cache_dir).rglob("*.nbi"))
        print(f"{n} kernel index files in {cache_dir}")
        if n == 0:
            print("no Numba cache file was written", file=sys.stderr)
            return 1
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
