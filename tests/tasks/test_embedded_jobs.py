"""Embedded mode end to end: no broker and no Redis, the service's own process pool runs the
jobs, progress goes through the in-process hub, over a real WebSocket to a real uvicorn."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.conftest import make_settings, sign_token, unique_user
from tests.tasks.conftest import mc_payload, reference_result, ws_collect


def embedded_settings(tmp_path: Path):
    return make_settings(
        tmp_path,
        jobs_embedded_workers=2,
        jobs_progress_interval_seconds=0.2,
        rate_limit_enabled=False,
    )


def test_embedded_mc_job_progress_result_cancel_and_isolation(tmp_path: Path, live_server) -> None:
    server = live_server(embedded_settings(tmp_path))
    alice, bob = unique_user("alice"), unique_user("bob")
    payload = mc_payload(64_000, n_chunks=8)  # long enough that progress is seen mid-run

    with server.client(alice) as c:
        resp = c.post(
            "/api/v1/jobs/",
            json={"kind": "monte_carlo", "name": "mc", "payload": payload},
            headers={"X-Request-ID": "embedded-req-0001"},
        )
        assert resp.status_code == 202, resp.text
        job_id = resp.json()["job_id"]
        assert resp.headers["location"] == f"/api/v1/jobs/{job_id}"

    # progress and completion over a real WebSocket (token as the first message)
    messages = ws_collect(
        server.ws_url,
        token=sign_token(alice),
        job_id=job_id,
        until={"succeeded", "failed"},
        in_query=False,
        timeout=90,
    )
    final = messages[-1]
    assert final["state"] == "succeeded", messages
    assert final["progress"] == {"done": 64_000, "total": 64_000}
    running = [m for m in messages if m.get("state") == "running"]
    assert any(0 < m["progress"]["done"] < 64_000 for m in running), messages
    for m in messages:
        if "job_id" in m:
            assert set(m) == {"job_id", "state", "progress", "message", "ts"}

    with server.client(alice) as c:
        job = c.get(f"/api/v1/jobs/{job_id}").json()
        assert job["state"] == "succeeded"
        assert job["request_id"] == "embedded-req-0001"
        assert job["result_url"] == f"/api/v1/jobs/{job_id}/result"
        assert job["started_at"] and job["finished_at"] and job["duration_ms"] > 0
        result = c.get(job["result_url"]).json()
    # 4 chunks on a 2-process pool == one chunk on this process, bit for bit
    assert result == reference_result(payload)

    # a subscriber arriving after the end gets the final state at once
    late = ws_collect(server.ws_url, token=sign_token(alice), job_id=job_id, until={"succeeded"})
    assert late[-1]["state"] == "succeeded" and late[-1]["progress"]["done"] == 64_000

    # bob sees none of it: REST 404, not listed, WS refused
    with server.client(bob) as c:
        assert c.get(f"/api/v1/jobs/{job_id}").status_code == 404
        assert c.get(f"/api/v1/jobs/{job_id}/result").status_code == 404
        assert c.delete(f"/api/v1/jobs/{job_id}").status_code == 404
        assert c.get("/api/v1/jobs/").json()["total"] == 0
    refused = ws_collect(server.ws_url, token=sign_token(bob), job_id=job_id, until=set())
    assert refused == [{"type": "error", "error": "not_found", "job_id": job_id}]

    # cancel a running job: it stops and stays cancelled
    with server.client(alice) as c:
        big = c.post(
            "/api/v1/jobs/",
            json={"kind": "monte_carlo", "payload": mc_payload(400_000, n_chunks=2)},
        )
        big_id = big.json()["job_id"]
        server.wait_job(alice, big_id, {"running"})

        def started() -> bool:
            return c.get(f"/api/v1/jobs/{big_id}").json()["progress"]["done"] > 0

        deadline = time.monotonic() + 60
        while not started() and time.monotonic() < deadline:
            time.sleep(0.1)
        watcher = ThreadPoolExecutor(1).submit(
            ws_collect,
            server.ws_url,
            token=sign_token(alice),
            job_id=big_id,
            until={"cancelled", "succeeded", "failed"},
        )
        time.sleep(0.5)  # subscribed
        resp = c.delete(f"/api/v1/jobs/{big_id}")
        assert resp.status_code == 200, resp.text
        assert watcher.result(30)[-1]["state"] == "cancelled"  # the final message
        assert resp.json()["state"] == "cancelled"
        assert c.delete(f"/api/v1/jobs/{big_id}").status_code == 409
        time.sleep(1.0)
        after = c.get(f"/api/v1/jobs/{big_id}").json()
        assert after["state"] == "cancelled"
        assert after["progress"]["done"] < 400_000
        assert c.get(f"/api/v1/jobs/{big_id}/result").status_code == 409
        listed = c.get("/api/v1/jobs/").json()
        assert {j["job_id"] for j in listed["items"]} == {job_id, big_id}


def test_embedded_job_survives_a_restart_of_the_service(tmp_path: Path, live_server) -> None:
    """The service stops (its pool processes killed) in the middle of a job; the next start on
    the same database finishes it, with the same numbers, without recomputing stored chunks."""
    settings = embedded_settings(tmp_path).model_copy(update={"jobs_embedded_workers": 1})
    user = unique_user()
    payload = mc_payload(12_000, n_chunks=3)
    first = live_server(settings)
    with first.client(user) as c:
        job_id = c.post("/api/v1/jobs/", json={"kind": "monte_carlo", "payload": payload}).json()[
            "job_id"
        ]
        deadline = time.monotonic() + 60
        while c.get(f"/api/v1/jobs/{job_id}").json()["progress"]["done"] == 0:
            assert time.monotonic() < deadline
            time.sleep(0.05)
    first.stop()
    second = live_server(settings)
    with second.client(user) as c:
        assert c.get(f"/api/v1/jobs/{job_id}").json()["state"] in ("running", "succeeded")
    job = second.wait_job(user, job_id, {"succeeded", "failed"}, timeout=90)
    assert job["state"] == "succeeded", job
    with second.client(user) as c:
        assert c.get(f"/api/v1/jobs/{job_id}/result").json() == reference_result(payload)
