"""The job progress message (the WebSocket wire format) and its per-job throttle.

A message is `{"job_id", "state", "progress": {"done", "total"}, "message", "ts"}`; workers
publish it (app/tasks/progress.py carries it over Redis pub/sub or an in-process hub) and the
WebSocket forwards at most one per `JOBS_PROGRESS_INTERVAL_SECONDS` per job, final states always.
"""

from __future__ import annotations

import time
from typing import Any

FINAL_STATES = frozenset({"succeeded", "failed", "cancelled"})


def make_update(
    job_id: str, state: str, done: int, total: int, message: str | None = None
) -> dict[str, Any]:
    """One progress message (the WebSocket wire format); `ts` is Unix time in seconds."""
    return {
        "job_id": job_id,
        "state": state,
        "progress": {"done": int(done), "total": int(total)},
        "message": message,
        "ts": time.time(),
    }


class Throttle:
    """At most one message per `interval` seconds per key; final states always pass."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._last: dict[str, float] = {}

    def allow(self, key: str, state: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        if state in FINAL_STATES:
            self._last.pop(key, None)
            return True
        last = self._last.get(key)
        if last is not None and now - last < self.interval:
            return False
        self._last[key] = now
        return True
