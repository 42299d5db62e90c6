"""The request log and connection count behind ``/_emulator/requests`` (in memory, no HTTP)."""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

MAX_LOG_ENTRIES = 100_000


class RequestLog:
    """API and SCIM requests served, plus the TCP connections that carried them.

    A connection counts once, when it carries its first API or SCIM request, and only if
    it was accepted after the last clear: connections used only for ``/_emulator/``
    calls are not counted, so introspecting does not disturb the count.
    """

    def __init__(self) -> None:
        self._entries: deque[dict[str, Any]] = deque(maxlen=MAX_LOG_ENTRIES)
        self._connections = 0
        self._epoch = 0
        self._lock = threading.Lock()

    @property
    def epoch(self) -> int:
        """Bumped by every clear; a connection remembers the epoch it was accepted in."""
        with self._lock:
            return self._epoch

    def count_connection(self, accepted_epoch: int) -> None:
        """Count a connection carrying its first API request."""
        with self._lock:
            if accepted_epoch == self._epoch:
                self._connections += 1

    def record(self, method: str, path: str, status: int, duration_ms: float) -> None:
        """Log one served request (status 0: the connection is reset)."""
        entry = {
            "method": method,
            "path": path,
            "status": status,
            "duration_ms": round(duration_ms, 3),
        }
        with self._lock:
            self._entries.append(entry)

    def snapshot(self) -> dict[str, Any]:
        """The body of ``GET /_emulator/requests``."""
        with self._lock:
            return {"requests": list(self._entries), "connections": self._connections}

    def clear(self) -> None:
        """Forget the log and the connection count."""
        with self._lock:
            self._entries.clear()
            self._connections = 0
            self._epoch += 1
