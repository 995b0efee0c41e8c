"""Transport of job progress messages: how workers publish them and API instances receive them.

Messages are JSON `{"job_id", "state", "progress": {"done", "total"}, "message", "ts"}` on one
pub/sub channel per owner (`<prefix>:owner:<owner_id>`), so an API instance holding a user's
sockets subscribes once per socket to that user's channel, whichever worker ran the job.
With Redis configured the channel is Redis pub/sub (`RedisHub`); without it (embedded mode) an
in-process hub (`LocalHub`) fed by the embedded pool's message queue. Publishing never fails a
job: progress is best effort, and every state change is also in the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any, Protocol

log = logging.getLogger(__name__)


def owner_channel(prefix: str, owner_id: str) -> str:
    return f"{prefix}:owner:{owner_id}"


class Publisher(Protocol):
    async def publish(self, owner_id: str, update: dict[str, Any]) -> None: ...


class RedisHub:
    """Redis pub/sub: workers publish, each socket subscribes to its owner's channel."""

    def __init__(self, url: str, prefix: str) -> None:
        import redis.asyncio as aioredis

        self.url = url
        self.prefix = prefix
        self._redis = aioredis.Redis.from_url(
            url, socket_connect_timeout=2.0, health_check_interval=30
        )

    async def publish(self, owner_id: str, update: dict[str, Any]) -> None:
        try:
            await self._redis.publish(owner_channel(self.prefix, owner_id), json.dumps(update))
        except Exception as exc:  # noqa: BLE001 - progress is best effort
            log.warning("progress publish failed: %s", exc, extra={"job_id": update["job_id"]})

    @contextlib.asynccontextmanager
    async def subscribe(self, owner_id: str) -> AsyncIterator[AsyncIterator[dict[str, Any]]]:
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(owner_channel(self.prefix, owner_id))

        async def stream() -> AsyncIterator[dict[str, Any]]:
            async for raw in pubsub.listen():
                if raw.get("type") == "message":
                    with contextlib.suppress(ValueError, TypeError):
                        yield json.loads(raw["data"])

        try:
            yield stream()
        finally:
            with contextlib.suppress(Exception):
                await pubsub.unsubscribe()
                await pubsub.aclose()

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self._redis.aclose()


class LocalHub:
    """In-process pub/sub for embedded mode; `publish_threadsafe` may be called from any thread."""

    def __init__(self) -> None:
        self._queues: dict[str, set[asyncio.Queue[dict[str, Any]]]] = defaultdict(set)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    async def publish(self, owner_id: str, update: dict[str, Any]) -> None:
        self._deliver(owner_id, update)

    def publish_threadsafe(self, owner_id: str, update: dict[str, Any]) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._deliver, owner_id, update)

    def _deliver(self, owner_id: str, update: dict[str, Any]) -> None:
        with self._lock:
            queues = list(self._queues.get(owner_id, ()))
        for q in queues:
            with contextlib.suppress(asyncio.QueueFull):
                q.put_nowait(update)

    @contextlib.asynccontextmanager
    async def subscribe(self, owner_id: str) -> AsyncIterator[AsyncIterator[dict[str, Any]]]:
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        q: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=1000)
        with self._lock:
            self._queues[owner_id].add(q)

        async def stream() -> AsyncIterator[dict[str, Any]]:
            while True:
                yield await q.get()

        try:
            yield stream()
        finally:
            with self._lock:
                self._queues[owner_id].discard(q)
                if not self._queues[owner_id]:
                    del self._queues[owner_id]

    async def close(self) -> None:
        return None


class QueuePublisher:
    """Publishes into a multiprocessing queue (embedded pool child -> the service's LocalHub)."""

    def __init__(self, queue: Any) -> None:
        self.queue = queue

    async def publish(self, owner_id: str, update: dict[str, Any]) -> None:
        try:
            self.queue.put_nowait((owner_id, update))
        except Exception as exc:  # noqa: BLE001 - progress is best effort
            log.warning("progress publish failed: %s", exc)


class NullPublisher:
    async def publish(self, owner_id: str, update: dict[str, Any]) -> None:
        return None
