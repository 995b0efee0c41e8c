"""WS /ws/updates: live progress of the caller's jobs.

Protocol (JSON text frames):
  authenticate: `?token=<Supabase JWT>` in the URL, or first message `{"type": "auth", "token"}`
    -> `{"type": "ready", "user_id"}`; a bad token -> `{"type": "error", "error":
    "unauthorized"}` and close code 4401.
  `{"type": "subscribe", "job_id"}` -> the job's current state at once (its final state when it
    has finished), then every update; another user's (or an unknown) job -> `{"type": "error",
    "error": "not_found", "job_id"}` and nothing else. `{"type": "unsubscribe", "job_id"}`.
  keep-alive: `{"type": "ping"}` -> `{"type": "pong"}`; the server also pings every
    WS_PING_INTERVAL_SECONDS.
  updates: `{"job_id", "state", "progress": {"done", "total"}, "message", "ts"}`, at most one per
    JOBS_PROGRESS_INTERVAL_SECONDS per job, final states always.
The socket listens to its owner's pub/sub channel only, so it cannot see other users' jobs.
With Celery workers but no Redis (RabbitMQ without REDIS_URL) it reads the job records instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from app.core.auth import Principal, TokenVerifier, connection_is_loopback, local_principal
from app.core.config import Settings
from app.core.errors import AppError
from app.services.jobs import job_update
from app.services.jobs.progress import Throttle
from app.services.repositories.jobs import JobRepository

log = logging.getLogger("app.ws")
router = APIRouter(tags=["jobs"])

UNAUTHORIZED_CLOSE = 4401


async def _authenticate(ws: WebSocket, settings: Settings) -> Principal | None:
    verifier: TokenVerifier = ws.app.state.token_verifier
    token = ws.query_params.get("token")
    if token is None:
        if not settings.auth_configured:
            return local_principal() if connection_is_loopback(ws.scope) else None
        try:
            first = await asyncio.wait_for(ws.receive_text(), settings.ws_auth_timeout_seconds)
            msg = json.loads(first)
        except (TimeoutError, ValueError):
            return None
        if not isinstance(msg, dict) or msg.get("type") != "auth":
            return None
        token = msg.get("token")
        if not isinstance(token, str):
            return None
    if not settings.auth_configured:
        return local_principal() if connection_is_loopback(ws.scope) else None
    try:
        return await verifier.verify(token)
    except AppError:
        return None


@router.websocket("/ws/updates")
async def updates(ws: WebSocket) -> None:
    """Authenticate, then forward the updates of the jobs this socket subscribes to."""
    await ws.accept()
    settings: Settings = ws.app.state.settings
    principal = await _authenticate(ws, settings)
    if principal is None:
        with contextlib.suppress(Exception):
            await ws.send_json({"type": "error", "error": "unauthorized"})
            await ws.close(code=UNAUTHORIZED_CLOSE)
        return
    session = _Session(ws, principal.user_id, settings)
    try:
        await session.run()
    except WebSocketDisconnect:
        pass
    except Exception as exc:  # noqa: BLE001 - a socket error must not crash the app
        log.warning("websocket closed on error: %s", exc)
        with contextlib.suppress(Exception):
            await ws.close(code=1011)


class _Session:
    def __init__(self, ws: WebSocket, user_id: str, settings: Settings) -> None:
        self.ws = ws
        self.user_id = user_id
        self.settings = settings
        self.subscribed: set[str] = set()
        self.throttle = Throttle(settings.jobs_progress_interval_seconds)
        self.lock = asyncio.Lock()

    async def send(self, message: dict[str, Any]) -> None:
        async with self.lock:
            await self.ws.send_json(message)

    async def run(self) -> None:
        runtime = self.ws.app.state.jobs
        await self.send({"type": "ready", "user_id": self.user_id})
        async with runtime.hub.subscribe(self.user_id) as stream:
            source = self._poll() if runtime.polls_progress else self._forward(stream)
            tasks = [
                asyncio.create_task(self._read()),
                asyncio.create_task(source),
                asyncio.create_task(self._ping()),
            ]
            try:
                done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
                for t in done:
                    t.result()
            finally:
                for t in tasks:
                    t.cancel()
                for t in tasks:
                    with contextlib.suppress(BaseException):
                        await t

    async def _read(self) -> None:
        while True:
            try:
                msg = json.loads(await self.ws.receive_text())
            except ValueError:
                await self.send({"type": "error", "error": "bad_message"})
                continue
            kind = msg.get("type") if isinstance(msg, dict) else None
            if kind == "ping":
                await self.send({"type": "pong"})
            elif kind == "pong" or kind == "auth":
                continue
            elif kind == "subscribe" and isinstance(msg.get("job_id"), str):
                await self._subscribe(msg["job_id"])
            elif kind == "unsubscribe" and isinstance(msg.get("job_id"), str):
                self.subscribed.discard(msg["job_id"])
            else:
                await self.send({"type": "error", "error": "bad_message"})

    async def _subscribe(self, job_id: str) -> None:
        """Only the caller's own job; its current (or final) state is sent at once."""
        async with self.ws.app.state.database.session() as session:
            job = await JobRepository(session).get_owned(self.user_id, job_id)
        if job is None:
            await self.send({"type": "error", "error": "not_found", "job_id": job_id})
            return
        self.subscribed.add(job_id)
        await self.send(job_update(job))

    async def _forward(self, stream: Any) -> None:
        async for update in stream:
            job_id = update.get("job_id")
            if job_id in self.subscribed and self.throttle.allow(job_id, update.get("state", "")):
                await self.send(update)

    async def _poll(self) -> None:
        """Progress from the job records (no pub/sub available): send what changed."""
        last: dict[str, tuple[Any, ...]] = {}
        while True:
            await asyncio.sleep(self.settings.jobs_progress_interval_seconds)
            for job_id in list(self.subscribed):
                async with self.ws.app.state.database.session() as session:
                    job = await JobRepository(session).get_owned(self.user_id, job_id)
                if job is None:
                    continue
                key = (job.state, job.progress_done, job.progress_total)
                if last.get(job_id) != key:
                    last[job_id] = key
                    await self.send(job_update(job))

    async def _ping(self) -> None:
        while True:
            await asyncio.sleep(self.settings.ws_ping_interval_seconds)
            await self.send({"type": "ping"})
