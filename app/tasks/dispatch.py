"""The service's side of jobs: where job ids are sent after their transaction commits (a Celery
broker, or the embedded pool), the progress hub the WebSocket reads, and the recovery sweep
that enqueues again the jobs whose message was lost or whose worker died.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any, Protocol

import anyio

from app.core.config import Settings
from app.core.db import Database
from app.tasks.progress import LocalHub, RedisHub

log = logging.getLogger("app.jobs")


class Dispatcher(Protocol):
    async def start(self) -> None: ...
    async def enqueue(self, job_id: str) -> bool: ...
    async def close(self) -> None: ...


def pubsub_url(settings: Settings) -> str | None:
    """Redis for progress: REDIS_URL, else the broker itself when it is Redis."""
    url = settings.effective_redis_url
    broker = settings.celery_broker_url or ""
    if not url and broker.startswith(("redis://", "rediss://")):
        url = broker
    return url


class CeleryDispatcher:
    """Sends `cfe.jobs.start(job_id)` to the broker (by name: the API needs no task code)."""

    def __init__(self, settings: Settings) -> None:
        from app.tasks.celery_app import make_celery

        self.settings = settings
        self.celery = make_celery(settings)

    async def start(self) -> None:
        return None

    def _send(self, job_id: str) -> None:
        self.celery.send_task(
            "cfe.jobs.start",
            args=[job_id],
            queue=self.settings.celery_queue,
            retry=True,
            retry_policy={
                "max_retries": 2,
                "interval_start": 0.2,
                "interval_step": 0.5,
                "interval_max": 1.0,
            },
        )

    async def enqueue(self, job_id: str, takeover: bool = False) -> bool:
        """Send the job's start task (`takeover` is for the embedded pool; brokers redeliver)."""
        try:
            with anyio.fail_after(10):
                await anyio.to_thread.run_sync(self._send, job_id)
            return True
        except Exception as exc:  # noqa: BLE001 - the job stays queued; the sweep resends it
            log.warning("could not enqueue job (will retry): %s", exc, extra={"job_id": job_id})
            return False

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await anyio.to_thread.run_sync(self.celery.close)


class JobsRuntime:
    """Dispatcher + progress hub + recovery sweep of one API instance."""

    def __init__(self, settings: Settings, database: Database) -> None:
        self.settings = settings
        self.database = database
        url = pubsub_url(settings)
        self.hub: Any = RedisHub(url, settings.jobs_channel_prefix) if url else LocalHub()
        self.dispatcher: Any
        if settings.celery_broker_url:
            self.dispatcher = CeleryDispatcher(settings)
        else:
            from app.tasks.embedded import EmbeddedDispatcher

            self.dispatcher = EmbeddedDispatcher(settings, self.hub, url, database)
        self._sweeper: asyncio.Task[None] | None = None

    @property
    def embedded(self) -> bool:
        return not self.settings.celery_broker_url

    @property
    def polls_progress(self) -> bool:
        """Workers elsewhere and no Redis to hear them (RabbitMQ without REDIS_URL): sockets
        read progress from the job records instead, at the same pace."""
        return not self.embedded and isinstance(self.hub, LocalHub)

    async def start(self) -> None:
        await self.dispatcher.start()
        self._sweeper = asyncio.get_running_loop().create_task(self._sweep_forever())

    async def enqueue(self, job_id: str, takeover: bool = False) -> bool:
        """Send a committed job to its workers and record when (enqueued_at)."""
        from app.tasks.runner import mark_enqueued

        ok = await self.dispatcher.enqueue(job_id, takeover)
        if ok:
            with contextlib.suppress(Exception):
                await mark_enqueued(self.database, [job_id])
        return ok

    async def sweep(self, older_than: float | None = None, takeover: bool = False) -> int:
        """Enqueue again the active jobs untouched for `older_than` seconds; returns how many."""
        from app.tasks.progress import NullPublisher
        from app.tasks.runner import JobContext, stale_jobs

        ctx = JobContext(self.settings, self.database, NullPublisher())
        n = 0
        for job_id in await stale_jobs(ctx, older_than):
            n += int(await self.enqueue(job_id, takeover))
        return n

    async def _sweep_forever(self) -> None:
        # Embedded: jobs left active by a previous run of this service are ours to finish.
        first: float | None = 0.0 if self.embedded else None
        while True:
            try:
                n = await self.sweep(first, takeover=first is not None)
                if n:
                    log.info("re-enqueued %d stale jobs", n)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - try again next interval
                log.warning("stale-job sweep failed: %s", exc)
            first = None
            await asyncio.sleep(self.settings.jobs_sweep_interval_seconds)

    async def close(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(BaseException):
                await self._sweeper
        await self.dispatcher.close()
        await self.hub.close()
