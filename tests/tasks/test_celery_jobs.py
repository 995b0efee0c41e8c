"""Jobs on real Celery workers (subprocesses, --pool=solo) against the local Redis (database 11,
a queue and channel prefix per test), RabbitMQ, and a private redis-server that the test stops
and starts again; the job records live in a PostgreSQL schema made for the test.

Checked: progress and completion over a real WebSocket to a real uvicorn; 4 chunks on two
workers equal one chunk on one process bit for bit; cancellation; user isolation over REST and
WS; SIGKILL of a worker mid-chunk; a broker outage while jobs are queued; a raising run.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from pathlib import Path

import pytest

from app.main import create_app
from tests.conftest import running_client, sign_token, unique_user
from tests.tasks.conftest import (
    celery_settings,
    headers,
    mc_payload,
    port_open,
    reference_result,
    wait_until,
    ws_collect,
)

pytestmark = [pytest.mark.celery, pytest.mark.redis, pytest.mark.postgres]


def _json_or_none(line: str) -> dict | None:
    try:
        value = json.loads(line)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def submit(client, user: str, payload: dict, request_id: str | None = None) -> str:
    extra = {"X-Request-ID": request_id} if request_id else {}
    resp = client.post(
        "/api/v1/jobs/", json={"kind": "monte_carlo", "payload": payload}, headers=extra
    )
    assert resp.status_code == 202, resp.text
    return resp.json()["job_id"]


def test_two_workers_progress_over_websocket_cancel_isolation_failure(
    tmp_path: Path, pg_url: str, pg_schema: str, jobs_redis_url: str, live_server, workers
) -> None:
    # no recovery sweeps here (nothing fails): every chunk must be computed exactly once
    settings = celery_settings(
        tmp_path,
        jobs_redis_url,
        redis_url=jobs_redis_url,
        database_url=pg_url,
        database_schema=pg_schema,
        jobs_requeue_after_seconds=60.0,
    )
    server = live_server(settings)
    w1, w2 = workers(settings, "w1", wait=False), workers(settings, "w2", wait=False)
    w1.wait_ready(), w2.wait_ready()
    alice, bob = unique_user("alice"), unique_user("bob")
    payload = mc_payload(16_000, n_chunks=4)

    with server.client(alice) as c:
        job_id = submit(c, alice, payload, request_id="celery-req-000001")
    messages = ws_collect(
        server.ws_url,
        token=sign_token(alice),
        job_id=job_id,
        until={"succeeded", "failed"},
        timeout=90,
    )
    assert messages[-1]["state"] == "succeeded", messages
    assert messages[-1]["progress"] == {"done": 16_000, "total": 16_000}
    assert any(
        m.get("state") == "running" and 0 < m["progress"]["done"] < 16_000 for m in messages
    ), messages

    with server.client(alice) as c:
        job = c.get(f"/api/v1/jobs/{job_id}").json()
        result = c.get(f"/api/v1/jobs/{job_id}/result").json()
    assert job["request_id"] == "celery-req-000001" and job["state"] == "succeeded"
    assert result == reference_result(payload)  # 4 chunks, 2 workers == 1 chunk, 1 process

    logs = [w.text() for w in (w1, w2)]
    chunk_lines = [
        [
            rec
            for rec in map(_json_or_none, text.splitlines())
            if rec and rec.get("job_id") == job_id and rec.get("msg") == "chunk finished"
        ]
        for text in logs
    ]
    assert sum(len(lines) for lines in chunk_lines) == 4
    assert all(lines for lines in chunk_lines), "both workers ran chunks"
    assert all(rec["request_id"] == "celery-req-000001" for lines in chunk_lines for rec in lines)
    assert sum(text.count('"job succeeded"') for text in logs) == 1

    # bob: REST 404 and WS refusal
    with server.client(bob) as c:
        assert c.get(f"/api/v1/jobs/{job_id}").status_code == 404
        assert c.get("/api/v1/jobs/").json()["total"] == 0
    refused = ws_collect(server.ws_url, token=sign_token(bob), job_id=job_id, until=set())
    assert refused == [{"type": "error", "error": "not_found", "job_id": job_id}]

    # a run that raises on a worker is failed with its error, and the final message says so
    with server.client(alice) as c:
        bad_id = submit(c, alice, mc_payload(2000, n_chunks=2, price=1e-6))
    bad_msgs = ws_collect(
        server.ws_url, token=sign_token(alice), job_id=bad_id, until={"failed", "succeeded"}
    )
    assert bad_msgs[-1]["state"] == "failed" and "reprices" in bad_msgs[-1]["message"]
    with server.client(alice) as c:
        bad = c.get(f"/api/v1/jobs/{bad_id}").json()
    assert bad["error"]["type"] == "UnreachablePrice" and bad["finished_at"]

    # cancel a running job: the workers stop computing it and it stays cancelled
    with server.client(alice) as c:
        big_id = submit(c, alice, mc_payload(400_000, n_chunks=2))
        wait_until(
            lambda: c.get(f"/api/v1/jobs/{big_id}").json()["progress"]["done"] > 0,
            60,
            "the big job to make progress",
        )
        resp = c.delete(f"/api/v1/jobs/{big_id}")
        assert resp.status_code == 200 and resp.json()["state"] == "cancelled"
        time.sleep(1.5)
        after = c.get(f"/api/v1/jobs/{big_id}").json()
        assert after["state"] == "cancelled" and after["progress"]["done"] < 400_000
        # the workers are free again: a small job still runs to completion
        small_id = submit(c, alice, mc_payload(2000, n_chunks=2))
    assert server.wait_job(alice, small_id, {"succeeded", "failed"}, 60)["state"] == "succeeded"

    metrics = server.client(alice).get("/metrics").text
    assert 'jobs_total{state="queued"}' in metrics
    assert 'jobs_total{state="cancelled"}' in metrics


def test_sigkill_mid_chunk_then_another_worker_completes_once(
    tmp_path: Path, pg_url: str, pg_schema: str, jobs_redis_url: str, workers
) -> None:
    settings = celery_settings(
        tmp_path,
        jobs_redis_url,
        redis_url=jobs_redis_url,
        database_url=pg_url,
        database_schema=pg_schema,
    )
    # Chunks large enough (80,000 paths, about a second each on a quiet machine) that the kill
    # lands mid-chunk; two of them prove redelivery and a single merge as well as three did,
    # for two thirds of the work (the job, the rescue and the reference run).
    payload = mc_payload(160_000, n_chunks=2)
    user = unique_user()

    async def scenario() -> tuple[dict, list[tuple[int, int, bool]]]:
        app = create_app(settings)
        async with running_client(app) as c:
            resp = await c.post(
                "/api/v1/jobs/",
                json={"kind": "monte_carlo", "payload": payload},
                headers=headers(user),
            )
            job_id = resp.json()["job_id"]
            first = await asyncio.to_thread(workers, settings, "victim")

            async def progress() -> int:
                return (await c.get(f"/api/v1/jobs/{job_id}", headers=headers(user))).json()[
                    "progress"
                ]["done"]

            deadline = time.monotonic() + 60
            while await progress() == 0:
                assert time.monotonic() < deadline, "no progress"
                await asyncio.sleep(0.05)
            first.kill()  # SIGKILL in the middle of a chunk: nothing acknowledged
            job = (await c.get(f"/api/v1/jobs/{job_id}", headers=headers(user))).json()
            assert job["state"] == "running" and job["progress"]["done"] < payload["n_paths"]
            await asyncio.to_thread(workers, settings, "rescuer")
            deadline = time.monotonic() + 90
            while job["state"] not in ("succeeded", "failed"):
                assert time.monotonic() < deadline, job
                await asyncio.sleep(0.1)
                job = (await c.get(f"/api/v1/jobs/{job_id}", headers=headers(user))).json()
            job["result"] = (
                await c.get(f"/api/v1/jobs/{job_id}/result", headers=headers(user))
            ).json()
            from sqlalchemy import select

            from app.models.tables import Job, JobChunk

            async with app.state.database.session() as s:
                chunks = [
                    (r.chunk_index, r.attempts, r.finished)
                    for r in (
                        await s.execute(select(JobChunk).where(JobChunk.job_id == job_id))
                    ).scalars()
                ]
                n_jobs = len((await s.execute(select(Job.id))).all())
            assert n_jobs == 1
            return job, chunks

    job, chunks = asyncio.run(scenario())
    assert job["state"] == "succeeded", job
    assert job["result"] == reference_result(payload)  # correct numbers
    assert all(finished for _, _, finished in chunks) and len(chunks) == 2
    assert max(a for _, a, _ in chunks) >= 2, chunks  # the killed chunk ran again
    # completed once: one merge, and no chunk was started again after it was stored
    records = sorted(
        (
            rec
            for w in ("victim", "rescuer")
            for rec in map(_json_or_none, (tmp_path / f"{w}.log").read_text().splitlines())
            if rec and rec.get("job_id") == job["job_id"]
        ),
        key=lambda r: r["ts"],
    )
    assert [r["msg"] for r in records].count("job succeeded") == 1
    stored: set[int] = set()
    for rec in records:
        if rec["msg"] == "chunk finished":
            stored.add(rec["chunk"])
        elif rec["msg"] == "chunk started":
            assert rec["chunk"] not in stored, rec


def test_broker_outage_while_queued_loses_nothing(tmp_path: Path, private_redis, workers) -> None:
    """The broker (a private redis-server, no persistence) dies with a job in its queue, and a
    second job is submitted while it is down; after it restarts empty, both jobs complete."""
    settings = celery_settings(tmp_path, private_redis.url, jobs_requeue_after_seconds=1.0)
    user = unique_user()
    payload = mc_payload(2000, n_chunks=2)

    async def scenario() -> list[dict]:
        app = create_app(settings)
        async with running_client(app) as c:
            post = {"kind": "monte_carlo", "payload": payload}
            first = (await c.post("/api/v1/jobs/", json=post, headers=headers(user))).json()
            await asyncio.to_thread(private_redis.stop)  # the queued message is gone
            second = (await c.post("/api/v1/jobs/", json=post, headers=headers(user))).json()
            ids = [first["job_id"], second["job_id"]]
            for job_id in ids:
                job = (await c.get(f"/api/v1/jobs/{job_id}", headers=headers(user))).json()
                assert job["state"] == "queued"
            await asyncio.to_thread(private_redis.start)
            await asyncio.to_thread(workers, settings, "after-outage")
            deadline = time.monotonic() + 90
            out = []
            for job_id in ids:
                while True:
                    job = (await c.get(f"/api/v1/jobs/{job_id}", headers=headers(user))).json()
                    if job["state"] in ("succeeded", "failed"):
                        break
                    assert time.monotonic() < deadline, job
                    await asyncio.sleep(0.1)
                job["result"] = (
                    await c.get(f"/api/v1/jobs/{job_id}/result", headers=headers(user))
                ).json()
                out.append(job)
            return out

    jobs = asyncio.run(scenario())
    expected = reference_result(payload)
    for job in jobs:
        assert job["state"] == "succeeded", job
        assert job["result"] == expected


def test_rabbitmq_broker(tmp_path: Path, live_server, workers) -> None:
    """RabbitMQ carries the tasks; with no Redis at all, the socket follows the job records."""
    if not port_open(5672):
        pytest.skip("RabbitMQ does not answer on 127.0.0.1:5672")
    settings = celery_settings(tmp_path, "amqp://guest:guest@127.0.0.1:5672//")
    assert settings.redis_url is None
    user = unique_user()
    payload = mc_payload(8000, n_chunks=2)
    server = live_server(settings)
    worker = workers(settings, "rabbit")
    try:
        with server.client(user) as c:
            job_id = submit(c, user, payload)
        messages = ws_collect(
            server.ws_url,
            token=sign_token(user),
            job_id=job_id,
            until={"succeeded", "failed"},
            timeout=90,
        )
        with server.client(user) as c:
            result = c.get(f"/api/v1/jobs/{job_id}/result").json()
    finally:
        worker.stop()
        with contextlib.suppress(Exception):
            from kombu import Connection

            with Connection(settings.celery_broker_url) as conn:
                conn.default_channel.queue_delete(settings.celery_queue)
    assert messages[-1]["state"] == "succeeded", messages
    assert messages[-1]["progress"] == {"done": 8000, "total": 8000}
    assert result == reference_result(payload)
