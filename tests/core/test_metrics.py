"""GET /metrics: counters moved by the requests just made, labelled by route template (never
the raw path) and status; cache, engine, rate-limit and job metrics; and multiprocess mode,
where samples written by separate worker processes are summed in one scrape."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from app.core import metrics
from tests.conftest import running_client, sign_token
from tests.core._platform import probe_app

ROOT = Path(__file__).resolve().parents[2]


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def value(snap: dict, name: str, **labels: str) -> float:
    return snap.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_metrics_move_with_requests(tmp_path: Path) -> None:
    app = probe_app(tmp_path, rate_limit_run="1/minute")
    token = {"Authorization": f"Bearer {sign_token('metrics-user')}"}
    async with running_client(app) as client:
        before = samples((await client.get("/metrics")).text)
        for item_id in (1, 2, 3):
            assert (await client.get(f"/api/v1/_items/{item_id}")).status_code == 200
        assert (await client.get("/api/v1/_items/not-an-int")).status_code == 422
        assert (await client.get("/no/such/route")).status_code == 404
        assert (await client.post("/api/v1/_probe", headers=token)).status_code == 200
        assert (await client.post("/api/v1/_probe", headers=token)).status_code == 429
        cache = app.state.cache
        cache.get_or_compute("metrics-test", {"x": 1}, lambda: 1)
        cache.get_or_compute("metrics-test", {"x": 1}, lambda: 1)
        metrics.observe_engine_run(1000, 360, 0.5, kind="metrics-test")
        metrics.record_job_state("succeeded")
        resp = await client.get("/metrics")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/plain")
    after = samples(resp.text)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    item = {"method": "GET", "route": "/api/v1/_items/{item_id}"}
    assert moved("http_requests_total", status="200", **item) == 3
    assert moved("http_requests_total", status="422", **item) == 1
    assert moved("http_request_duration_seconds_count", status="200", **item) == 3
    assert moved("http_requests_total", method="GET", route="<unmatched>", status="404") == 1
    assert moved("http_requests_total", method="POST", route="/api/v1/_probe", status="429") == 1
    assert not any("/api/v1/_items/1" in dict(k[1]).get("route", "") for k in after)
    assert moved("rate_limit_rejections_total", limit_class="run") == 1
    assert moved("cache_requests_total", namespace="metrics-test", result="miss") == 1
    assert moved("cache_requests_total", namespace="metrics-test", result="hit_memory") == 1
    assert moved("engine_loan_periods_total", kind="metrics-test") == 360_000
    assert moved("engine_run_seconds_count", kind="metrics-test") == 1
    # 1000 loans x 360 periods in 0.5 s = 720 000 loan-periods/s: in the 1e6 bucket, not 5e5
    assert moved("engine_loan_periods_per_second_bucket", kind="metrics-test", le="1e+06") == 1
    assert moved("engine_loan_periods_per_second_bucket", kind="metrics-test", le="500000.0") == 0
    assert moved("jobs_total", state="succeeded") == 1


WORKER = """
import sys
from app.core import metrics
for _ in range(int(sys.argv[1])):
    metrics.observe_http_request("GET", "/w", 200, 0.01)
metrics.record_job_state("queued")
"""
SCRAPE = "from app.core.metrics import render_metrics; import sys; sys.stdout.write(render_metrics().decode())"


def test_multiprocess_mode_sums_workers(tmp_path: Path) -> None:
    mp_dir = tmp_path / "prom"
    mp_dir.mkdir()
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(mp_dir), "PYTHONPATH": str(ROOT)}
    for n in (3, 4):  # two "workers", separate processes
        subprocess.run(
            [sys.executable, "-c", WORKER, str(n)], env=env, cwd=ROOT, check=True, timeout=120
        )
    out = subprocess.run(
        [sys.executable, "-c", SCRAPE],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    snap = samples(out)
    assert value(snap, "http_requests_total", method="GET", route="/w", status="200") == 7
    assert value(snap, "jobs_total", state="queued") == 2
    assert any(f.endswith(".db") for f in os.listdir(mp_dir))
