"""Load test of the Credit Cashflow Engine: a realistic mix of what users do.

Run headless against a running service (scripts/load_test.sh starts and stops one for you):

    .venv/bin/locust -f locustfile.py --headless -u 20 -r 5 -t 60s --host http://127.0.0.1:8000

Mix (task weights): small forecasts (3 loans, 2 scenarios), large forecasts (LOCUST_LARGE_LOANS
loans as columns), forecast list and read-back, scenario CRUD (create, read, update, list,
delete) and runs of a saved scenario, scenario grid and stress, cash-flow analytics, direct
Monte Carlo, and a Monte Carlo job submitted to /api/v1/jobs whose completion is awaited on the
WebSocket /ws/updates (reported as request type WS). No asset-class analysis route exists on
this version of the API, so none is exercised.

Auth: with LOCUST_JWT_SECRET (or SUPABASE_JWT_SECRET) set, every virtual user gets its own HS256
token for that secret (sub `load-<n>`), as Supabase would issue; without it no header is sent
(the embedded default serves one local user on loopback).

Thresholds (the run exits 1 when one is broken): any failed request (LOCUST_MAX_FAIL_RATIO,
default 0), p95 of the HTTP requests above LOCUST_P95_MS (default 2000 ms), or a job wait above
LOCUST_JOB_WAIT_S (default 120 s).
"""

from __future__ import annotations

import json
import os
import random
import time
import uuid
from itertools import count
from typing import Any

from locust import HttpUser, between, events, task

SECRET = os.environ.get("LOCUST_JWT_SECRET") or os.environ.get("SUPABASE_JWT_SECRET") or ""
LARGE_LOANS = int(os.environ.get("LOCUST_LARGE_LOANS", "2000"))
P95_MS = float(os.environ.get("LOCUST_P95_MS", "2000"))
MAX_FAIL_RATIO = float(os.environ.get("LOCUST_MAX_FAIL_RATIO", "0"))
JOB_WAIT_S = float(os.environ.get("LOCUST_JOB_WAIT_S", "120"))
_user_numbers = count(1)

ASSUMPTIONS = {
    "prepayment": {"type": "psa", "speed": 150},
    "default": {"type": "cdr", "rate": 0.02},
    "severity": 0.35,
    "recovery_lag_months": 6,
}
SMALL_LOANS = [
    {"loan_id": "A1", "balance": 300000, "rate": 0.065, "original_term_months": 360},
    {
        "loan_id": "A2",
        "balance": 150000,
        "rate": 0.055,
        "original_term_months": 180,
        "age_months": 24,
        "servicing_fee": 0.0025,
    },
    {
        "loan_id": "A3",
        "balance": 80000,
        "rate": 0.07,
        "original_term_months": 120,
        "amortization": "interest_only",
        "io_months": 24,
    },
]
CURVE = {"times": [0.25, 1, 2, 5, 10, 30], "rates": [0.045, 0.044, 0.043, 0.043, 0.044, 0.046]}


def mint_token(sub: str) -> str:
    import jwt

    now = int(time.time())
    return jwt.encode(
        {
            "sub": sub,
            "aud": "authenticated",
            "role": "authenticated",
            "iat": now,
            "exp": now + 6 * 3600,
        },
        SECRET,
        algorithm="HS256",
    )


def large_pool(n: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    return {
        "columns": {
            "loan_id": [f"L{i}" for i in range(n)],
            "balance": [round(rng.uniform(50_000, 750_000), 2) for _ in range(n)],
            "rate": [round(rng.uniform(0.03, 0.09), 5) for _ in range(n)],
            "original_term_months": [rng.choice((120, 180, 240, 360)) for _ in range(n)],
            "age_months": [rng.randrange(0, 60) for _ in range(n)],
        }
    }


def mc_body(n_paths: int, seed: int) -> dict[str, Any]:
    return {
        "pool": {
            "balance": [600_000.0, 400_000.0],
            "note_rate": [0.065, 0.05],
            "net_rate": [0.06, 0.045],
            "remaining_term": [120, 96],
            "age": [12, 40],
        },
        "curve": CURVE,
        "rate_model": {"type": "hull_white", "mean_reversion": 0.05, "volatility": 0.012},
        "default": {"cdr": 0.02, "severity": 0.4, "recovery_lag_months": 3},
        "n_paths": n_paths,
        "block_size": 50,
        "seed": seed,
        "price": 1_005_000.0,
    }


class EngineUser(HttpUser):
    """One analyst: forecasts, scenarios, analytics, Monte Carlo and jobs, with think time."""

    wait_time = between(0.5, 2.0)

    def on_start(self) -> None:
        self.n = next(_user_numbers)
        self.token = mint_token(f"load-{self.n}") if SECRET else None
        self.headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        self.forecast_ids: list[str] = []
        self.scenario_id: str | None = None
        self.large = large_pool(LARGE_LOANS, seed=self.n)

    # --- helpers -------------------------------------------------------------------------
    def post(self, path: str, body: dict[str, Any], name: str, expect: int = 200) -> Any:
        with self.client.post(
            path, json=body, headers=self.headers, name=name, catch_response=True
        ) as resp:
            if resp.status_code != expect:
                resp.failure(f"{resp.status_code}: {resp.text[:200]}")
                return None
            return resp.json()

    def get(self, path: str, name: str) -> Any:
        with self.client.get(path, headers=self.headers, name=name, catch_response=True) as resp:
            if resp.status_code != 200:
                resp.failure(f"{resp.status_code}: {resp.text[:200]}")
                return None
            return resp.json() if "json" in resp.headers.get("content-type", "") else resp.text

    # --- forecasts -------------------------------------------------------------------------
    @task(10)
    def small_forecast(self) -> None:
        body = {
            "name": "small",
            "pool": {"loans": SMALL_LOANS},
            "assumptions": ASSUMPTIONS,
            "scenarios": [
                {"name": "base", "assumptions": {}},
                {
                    "name": "stress",
                    "assumptions": {"default": {"type": "sda", "speed": 1000}, "severity": 0.5},
                },
            ],
            "valuation": {"discount_rate": 0.06},
        }
        # a fresh speed per request: most requests compute, some hit the result cache
        body["assumptions"] = {
            **ASSUMPTIONS,
            "prepayment": {"type": "psa", "speed": random.randrange(50, 400, 25)},
        }
        out = self.post("/api/v1/cashflow/forecast", body, "forecast small", expect=201)
        if out:
            self.forecast_ids = (self.forecast_ids + [out["forecast_id"]])[-5:]

    @task(2)
    def large_forecast(self) -> None:
        body = {
            "name": "large",
            "pool": self.large,
            "valuation": {"discount_rate": 0.06},
            "assumptions": {**ASSUMPTIONS, "severity": random.choice((0.3, 0.35, 0.4, 0.45))},
        }
        self.post(
            "/api/v1/cashflow/forecast", body, f"forecast large ({LARGE_LOANS} loans)", expect=201
        )

    @task(3)
    def read_forecasts(self) -> None:
        self.get("/api/v1/forecasts/?limit=10", "forecasts list")
        if self.forecast_ids:
            self.get(f"/api/v1/forecasts/{random.choice(self.forecast_ids)}", "forecast get")

    # --- scenarios -------------------------------------------------------------------------
    @task(3)
    def scenario_crud(self) -> None:
        created = self.post(
            "/api/v1/scenarios/",
            {
                "name": f"house view {uuid.uuid4().hex[:6]}",
                "tags": ["load"],
                "template": "mortgage_adverse",
                "assumptions": {"default": {"type": "sda", "speed": 250}},
            },
            "scenario create",
            expect=201,
        )
        if not created:
            return
        sid = created["scenario_id"]
        self.get(f"/api/v1/scenarios/{sid}", "scenario get")
        with self.client.put(
            f"/api/v1/scenarios/{sid}",
            json={"name": "house view v2", "version": 1, "assumptions": {"severity": 0.5}},
            headers=self.headers,
            name="scenario update",
            catch_response=True,
        ) as resp:
            if resp.status_code != 200:
                resp.failure(f"{resp.status_code}: {resp.text[:200]}")
        self.get("/api/v1/scenarios/?limit=20", "scenario list")
        if self.scenario_id is None:
            self.scenario_id = sid  # kept for runs
            return
        with self.client.delete(
            f"/api/v1/scenarios/{sid}",
            headers=self.headers,
            name="scenario delete",
            catch_response=True,
        ) as resp:
            if resp.status_code not in (200, 204):
                resp.failure(f"{resp.status_code}: {resp.text[:200]}")

    @task(2)
    def scenario_run(self) -> None:
        if self.scenario_id is None:
            return
        self.post(
            f"/api/v1/scenarios/{self.scenario_id}/run",
            {"pool": {"loans": SMALL_LOANS}},
            "scenario run",
            expect=201,
        )

    @task(2)
    def scenario_grid(self) -> None:
        self.post(
            "/api/v1/scenarios/grid",
            {
                "pool": {"loans": SMALL_LOANS},
                "assumptions": ASSUMPTIONS,
                "x": {"variable": "cpr", "values": [0.0, 0.05, 0.1, 0.2]},
                "y": {
                    "variable": "cdr",
                    "values": [0.0, 0.01, 0.02, random.choice((0.04, 0.05, 0.06))],
                },
                "measures": ["npv", "wal", "cumulative_loss", "yield"],
                "valuation": {"discount_rate": 0.06, "price_percent": 100},
            },
            "scenario grid",
        )

    @task(1)
    def scenario_stress(self) -> None:
        self.post(
            "/api/v1/scenarios/stress",
            {
                "pool": {"loans": SMALL_LOANS},
                "assumptions": ASSUMPTIONS,
                "valuation": {"discount_rate": random.choice((0.05, 0.06, 0.07))},
            },
            "scenario stress",
        )

    # --- analytics and Monte Carlo -----------------------------------------------------------
    @task(4)
    def analytics(self) -> None:
        flows = [{"amount": 3.0, "period": k} for k in range(1, 10)]
        flows.append({"amount": 103.0, "period": 10, "principal": 100.0})
        self.post(
            "/api/v1/analytics/cashflows",
            {
                "cashflows": flows,
                "frequency": 2,
                "compounding": "compounded",
                "price": round(random.uniform(95, 105), 2),
                "discount_rate": 0.06,
            },
            "analytics cashflows",
        )

    @task(2)
    def monte_carlo_direct(self) -> None:
        self.post(
            "/api/v1/cashflow/monte-carlo",
            mc_body(200, random.randrange(1000)),
            "monte carlo direct",
        )

    @task(1)
    def job_with_websocket_wait(self) -> None:
        """Submit a Monte Carlo job, then wait for its final state on WS /ws/updates."""
        accepted = self.post(
            "/api/v1/jobs/",
            {
                "kind": "monte_carlo",
                "name": "load",
                "payload": mc_body(400, random.randrange(10**6)),
            },
            "job submit",
            expect=202,
        )
        if not accepted:
            return
        job_id = accepted["job_id"]
        start = time.perf_counter()
        error: Exception | None = None
        state = None
        try:
            state = self._wait_on_socket(job_id)
            if state != "succeeded":
                error = RuntimeError(f"job ended {state}")
        except Exception as exc:  # noqa: BLE001 - reported as a failed WS request
            error = exc
        elapsed = (time.perf_counter() - start) * 1000
        events.request.fire(
            request_type="WS",
            name="job wait (ws /ws/updates)",
            response_time=elapsed,
            response_length=0,
            exception=error,
            context={},
        )
        if state == "succeeded":
            self.get(f"/api/v1/jobs/{job_id}/result", "job result")

    def _wait_on_socket(self, job_id: str) -> str:
        from websockets.sync.client import connect

        url = self.host.replace("http://", "ws://").replace("https://", "wss://") + "/ws/updates"
        if self.token:
            url += f"?token={self.token}"
        deadline = time.monotonic() + JOB_WAIT_S
        with connect(url, open_timeout=10) as ws:
            ready = json.loads(ws.recv(timeout=10))
            if ready.get("type") != "ready":
                raise RuntimeError(f"socket not ready: {ready}")
            ws.send(json.dumps({"type": "subscribe", "job_id": job_id}))
            while time.monotonic() < deadline:
                msg = json.loads(ws.recv(timeout=max(deadline - time.monotonic(), 0.1)))
                if msg.get("type") == "ping":
                    ws.send(json.dumps({"type": "pong"}))
                elif msg.get("type") == "error":
                    raise RuntimeError(f"socket error: {msg}")
                elif msg.get("job_id") == job_id and msg.get("state") in (
                    "succeeded",
                    "failed",
                    "cancelled",
                ):
                    return str(msg["state"])
        raise TimeoutError(f"job {job_id} not finished after {JOB_WAIT_S} s")


@events.quitting.add_listener
def _thresholds(environment: Any, **_: Any) -> None:
    """Fail the run (exit code 1) on any failure, a slow p95 or a slow job."""
    stats = environment.stats
    total = stats.total
    problems = []
    if total.num_requests == 0:
        problems.append("no request was made")
    elif total.fail_ratio > MAX_FAIL_RATIO:
        problems.append(f"fail ratio {total.fail_ratio:.4f} > {MAX_FAIL_RATIO}")
    http = [e for (name, method), e in stats.entries.items() if method != "WS"]
    if http:
        from locust.stats import StatsEntry

        agg = StatsEntry(stats, "HTTP", "", use_response_times_cache=False)
        for e in http:
            agg.extend(e)
        p95 = agg.get_response_time_percentile(0.95)
        if p95 > P95_MS:
            problems.append(f"HTTP p95 {p95:.0f} ms > {P95_MS:.0f} ms")
    ws = [e for (name, method), e in stats.entries.items() if method == "WS"]
    for e in ws:
        if e.num_requests and e.max_response_time > JOB_WAIT_S * 1000:
            problems.append(f"job wait max {e.max_response_time:.0f} ms > {JOB_WAIT_S} s")
    for p in problems:
        print(f"THRESHOLD BROKEN: {p}")
    if problems:
        environment.process_exit_code = 1
