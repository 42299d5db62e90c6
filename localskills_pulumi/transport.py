"""HTTP plumbing under the client: a deadline on every attempt and a cap on every answer.

``requests``' timeout bounds each socket read, not the request: a server that trickles one byte
a second keeps a call alive forever, and one that sends 50 MB of error text has it read whole.
:class:`DeadlineAdapter` shuts down the connection of any attempt that has not finished within
its deadline, and :func:`read_body` reads at most a given number of bytes. Nothing here knows
the localskills API.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.util.retry import Retry

__all__ = ["Attempt", "BodyTooLarge", "DeadlineAdapter", "read_body"]

_CHUNK_BYTES = 64 * 1024


class BodyTooLarge(Exception):
    """The answer's body is longer than the limit (raised by :func:`read_body`)."""

    def __init__(self, limit: int, declared: int | None) -> None:
        super().__init__(f"body over {limit} bytes")
        self.limit = limit
        self.declared = declared


@dataclass
class Attempt:
    """One request, with its retries: ``expired`` tells whether an attempt ran out of time."""

    expired: bool = False
    timer: threading.Timer | None = field(default=None, repr=False)


class DeadlineAdapter(HTTPAdapter):
    """``HTTPAdapter`` whose every attempt (connect, send, answer, body) must end within
    ``deadline`` seconds; past it the connection is shut down, which ends the blocked read at
    once. Use :meth:`attempt` around a request and the reading of its body.

    :param deadline: Seconds each attempt may take in all.
    :param max_retries: As for ``HTTPAdapter``.
    :param pool_maxsize: Connections kept open.
    """

    def __init__(self, *, deadline: float, max_retries: Retry, pool_maxsize: int) -> None:
        self.deadline = deadline
        self._local = threading.local()
        super().__init__(max_retries=max_retries, pool_connections=1, pool_maxsize=pool_maxsize)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        """Make the pool manager build pools that arm a deadline for each connection taken."""
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": self._pool_class(HTTPConnectionPool),
            "https": self._pool_class(HTTPSConnectionPool),
        }

    @contextlib.contextmanager
    def attempt(self) -> Iterator[Attempt]:
        """Scope one request (all its retries) and the reading of its answer; the deadline
        timer is disarmed on exit."""
        current = Attempt()
        self._local.current = current
        try:
            yield current
        finally:
            self._local.current = None
            if current.timer is not None:
                current.timer.cancel()

    def _pool_class(self, base: type[HTTPConnectionPool]) -> type[HTTPConnectionPool]:
        adapter = self

        class DeadlinePool(base):  # type: ignore[valid-type,misc]
            def _get_conn(self, timeout: float | None = None) -> Any:
                conn = super()._get_conn(timeout)
                adapter._arm(conn)
                return conn

        DeadlinePool.__name__ = f"Deadline{base.__name__}"
        return DeadlinePool

    def _arm(self, conn: Any) -> None:
        current: Attempt | None = getattr(self._local, "current", None)
        if current is None:
            return
        if current.timer is not None:
            current.timer.cancel()
        timer = threading.Timer(self.deadline, _expire, (current, conn))
        timer.daemon = True
        current.timer = timer
        timer.start()


def _expire(current: Attempt, conn: Any) -> None:
    current.expired = True
    sock = getattr(conn, "sock", None)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def read_body(response: requests.Response, limit: int, *, truncate: bool = False) -> bytes:
    """At most ``limit`` bytes of ``response``'s (decoded) body.

    :param truncate: Return the first ``limit`` bytes of a longer body instead of raising.
    :raises BodyTooLarge: the body is longer than ``limit`` (``Content-Length`` says so, or
            the bytes do) and ``truncate`` is false; the rest is never read.
    """
    declared = _content_length(response)
    if declared is not None and declared > limit and not truncate:
        raise BodyTooLarge(limit, declared)
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_content(_CHUNK_BYTES):
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            if truncate:
                return b"".join(chunks)[:limit]
            raise BodyTooLarge(limit, declared)
    return b"".join(chunks)


def _content_length(response: requests.Response) -> int | None:
    try:
        value = int(response.headers.get("Content-Length", ""))
    except ValueError:
        return None
    return value if value >= 0 else None
