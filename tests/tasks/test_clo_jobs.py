"""The CLO copula Monte Carlo as a job (embedded pool): the analyze route answers 202 with
`async`, progress arrives over the WebSocket, and the merged result of 3 chunks equals the
direct run bit for bit."""

from __future__ import annotations

from pathlib import Path

from app.assets.clo.example import example_request
from app.core.config import get_settings
from app.models.clo import CloAnalyzeRequest
from app.services import clo, clo_simulation
from tests.conftest import make_settings, sign_token, unique_user
from tests.tasks.conftest import ws_collect


def test_clo_monte_carlo_job(tmp_path: Path, live_server) -> None:
    server = live_server(
        make_settings(
            tmp_path,
            jobs_embedded_workers=2,
            jobs_progress_interval_seconds=0.2,
            rate_limit_enabled=False,
            jobs_mc_chunks=3,
        )
    )
    user = unique_user("clo")
    body = example_request(
        n_assets=20,
        n_periods=48,
        simulation={"n_paths": 300, "seed": 2, "correlation": 0.2, "block_size": 50},
    )
    with server.client(user) as c:
        resp = c.post("/api/v1/specialized-assets/clo-cdo/analyze", json={**body, "async": True})
        assert resp.status_code == 202, resp.text
        job_id = resp.json()["job_id"]
    messages = ws_collect(
        server.ws_url,
        token=sign_token(user),
        job_id=job_id,
        until={"succeeded", "failed"},
        in_query=False,
        timeout=120,
    )
    assert messages[-1]["state"] == "succeeded", messages
    assert messages[-1]["progress"]["total"] == 300
    with server.client(user) as c:
        job = c.get(f"/api/v1/jobs/{job_id}").json()
        assert job["kind"] == "clo_monte_carlo"
        result = c.get(job["result_url"]).json()
    settings = get_settings()
    req = CloAnalyzeRequest.model_validate(body)
    direct = clo_simulation.simulate(clo.build_setup(req, settings), req, settings)
    assert result == direct
