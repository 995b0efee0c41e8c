"""Service overhead of POST /api/v1/cashflow/forecast over the engine call it wraps.

Runs the same pool (N loans inline, one scenario, PSA/CDR with loss) through
(a) `project_pool` directly (the engine, after a warm-up JIT compile), and
(b) the whole request in-process (ASGI transport: JSON parsing and validation, LoanPool
    building, engine, analytics, Parquet encoding, database write on SQLite, JSON response),
with the result cache off, and reads the projections back (GET .../projections, JSON and CSV).
Prints medians of several runs and the ratio (b) / (a).

Usage: PYTHONPATH=. .venv/bin/python bench/bench_api_forecast.py [n_loans] [repeats]
"""

from __future__ import annotations

import asyncio
import cProfile
import os
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.engine.pool import LoanPool  # noqa: E402
from app.engine.projection import project_pool  # noqa: E402
from app.main import create_app  # noqa: E402
from app.models.forecasts import ForecastRequest  # noqa: E402
from app.services.forecasts import scenario_inputs, to_assumptions  # noqa: E402
from tests.conftest import make_settings, sign_token  # noqa: E402


def make_body(n: int) -> dict:
    rng = np.random.default_rng(1)
    loans = {
        "loan_id": [f"L{i}" for i in range(n)],
        "balance": rng.uniform(50_000, 500_000, n).round(2).tolist(),
        "rate": rng.uniform(0.03, 0.08, n).round(5).tolist(),
        "original_term_months": rng.choice([180, 240, 360], n).tolist(),
        "age_months": rng.integers(0, 60, n).tolist(),
    }
    return {
        "name": "bench",
        "pool": {"columns": loans},
        "assumptions": {
            "prepayment": {"type": "psa", "speed": 150},
            "default": {"type": "cdr", "rate": 0.02},
            "severity": 0.35,
            "recovery_lag_months": 6,
        },
        "valuation": {"discount_rate": 0.05},
    }


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1e3


async def main(n: int, repeats: int) -> None:
    body = make_body(n)
    req = ForecastRequest.model_validate(body)
    pool = LoanPool.from_columns(req.pool.columns or {})
    assumptions = to_assumptions(scenario_inputs(req)[0][1])
    project_pool(pool, assumptions)  # JIT warm-up
    engine = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        project_pool(pool, assumptions)
        engine.append(time.perf_counter() - t0)

    tmp = Path(tempfile.mkdtemp())
    settings = make_settings(
        tmp, cache_enabled=False, rate_limit_enabled=False, jobs_forecast_async_loans=10**9
    )
    app = create_app(settings)
    headers = {"Authorization": f"Bearer {sign_token('bench')}"}
    post, get_json, get_csv, priced = [], [], [], []
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://127.0.0.1", timeout=600
        ) as c:
            r = await c.post("/api/v1/cashflow/forecast", json=body, headers=headers)  # warm-up
            assert r.status_code == 201, r.text
            for _ in range(repeats):
                t0 = time.perf_counter()
                r = await c.post("/api/v1/cashflow/forecast", json=body, headers=headers)
                post.append(time.perf_counter() - t0)
                assert r.status_code == 201
                fid = r.json()["forecast_id"]
                t0 = time.perf_counter()
                await c.get(f"/api/v1/forecasts/{fid}/projections", headers=headers)
                get_json.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                await c.get(
                    f"/api/v1/forecasts/{fid}/projections",
                    headers={**headers, "Accept": "text/csv"},
                )
                get_csv.append(time.perf_counter() - t0)
            pricing = {**body, "store": False}
            for _ in range(repeats):
                t0 = time.perf_counter()
                r2 = await c.post("/api/v1/cashflow/forecast", json=pricing, headers=headers)
                priced.append(time.perf_counter() - t0)
                assert r2.status_code == 200, r2.text
            if os.environ.get("BENCH_PROFILE"):  # where the time goes (cProfile, cumulative)
                prof = cProfile.Profile()
                for b in (body, pricing):
                    prof.enable()
                    for _ in range(repeats):
                        await c.post("/api/v1/cashflow/forecast", json=b, headers=headers)
                    prof.disable()
                    pstats.Stats(prof).sort_stats("cumulative").print_stats(35)
                    prof = cProfile.Profile()
    e, p = median_ms(engine), median_ms(post)
    print(f"loans={n} periods={r.json()['scenarios'][0]['n_periods']} repeats={repeats}")
    print(f"engine project_pool          median {e:9.2f} ms")
    print(f"POST /cashflow/forecast      median {p:9.2f} ms   ratio to engine {p / e:6.2f}")
    q = median_ms(priced)
    print(f'POST ... "store": false      median {q:9.2f} ms   ratio to engine {q / e:6.2f}')
    print(f"GET projections (JSON)       median {median_ms(get_json):9.2f} ms")
    print(f"GET projections (CSV)        median {median_ms(get_csv):9.2f} ms")


if __name__ == "__main__":
    n_loans = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    reps = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    asyncio.run(main(n_loans, reps))
