"""The in-process tier of the cache: a thread-safe LRU of encoded blobs with expiry."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict


class MemoryLRU:
    """Thread-safe LRU of encoded blobs, bounded by entry count and total bytes, with expiry."""

    def __init__(self, max_items: int, max_bytes: int) -> None:
        self.max_items = max_items
        self.max_bytes = max_bytes
        self._data: OrderedDict[str, tuple[bytes, float]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        now = time.monotonic()
        with self._lock:
            item = self._data.get(key)
            if item is None:
                return None
            blob, expires = item
            if expires <= now:
                self._drop(key)
                return None
            self._data.move_to_end(key)
            return blob

    def set(self, key: str, blob: bytes, ttl: float) -> None:
        if self.max_items <= 0 or len(blob) > self.max_bytes:
            return
        expires = time.monotonic() + ttl
        with self._lock:
            if key in self._data:
                self._drop(key)
            self._data[key] = (blob, expires)
            self._bytes += len(blob)
            while len(self._data) > self.max_items or self._bytes > self.max_bytes:
                self._drop(next(iter(self._data)))

    def delete(self, key: str) -> None:
        with self._lock:
            if key in self._data:
                self._drop(key)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self._bytes = 0

    def _drop(self, key: str) -> None:
        blob, _ = self._data.pop(key)
        self._bytes -= len(blob)

    @property
    def size(self) -> tuple[int, int]:
        """(entries, bytes) currently held."""
        with self._lock:
            return len(self._data), self._bytes
