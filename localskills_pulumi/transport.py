"""HTTP plumbing under the client: a deadline on every attempt and a cap on every answer.

Why it must exist: ``requests``' timeout bounds each socket read, not the request, so a server
that trickles a byte a second holds a call forever; here a watchdog shuts down the socket of
an attempt past its deadline (a duplicate descriptor reaches it in every state, TLS handshake
and ``Connection: close`` included), and bodies are read to a stated size. No API knowledge.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import logging
import os
import socket
import threading
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.response import HTTPResponse
from urllib3.util.retry import Retry

from .errors import LocalskillsError
from .identifiers import redact

__all__ = [
    "DRAIN_LIMIT",
    "Attempt",
    "BodyTooLarge",
    "DeadlineAdapter",
    "NoRedirectSession",
    "read_body",
]

_CHUNK_BYTES = 64 * 1024
DRAIN_LIMIT = 64 * 1024
"""Bytes read at most of an answer urllib3 discards (before a retry); past that, the connection
is closed instead of drained."""


class BodyTooLarge(LocalskillsError):
    """The answer's body is longer than the limit (raised by :func:`read_body`)."""

    def __init__(self, limit: int, declared: int | None) -> None:
        super().__init__(f"body over {limit} bytes")
        self.limit = limit
        self.declared = declared


@dataclass
class Attempt:
    """One request, with its retries.

    :param retries: The retry state to send it with (None: the adapter's policy). Passing the
           state a previous try ended with makes the two share one budget.
    ``expired`` tells whether the latest attempt ran out of time.
    """

    retries: Retry | None = None
    expired: bool = False
    generation: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


class _BoundedDrainResponse(HTTPResponse):
    """An urllib3 response whose ``drain_conn`` (urllib3 discards the body of an answer it
    retries) reads at most :data:`DRAIN_LIMIT` bytes, and closes the connection past that."""

    def drain_conn(self) -> None:
        left = DRAIN_LIMIT
        try:
            while left > 0:
                chunk = self.read(min(_CHUNK_BYTES, left), decode_content=False)
                if not chunk:
                    return
                left -= len(chunk)
            # More than DRAIN_LIMIT: drop the connection rather than read the rest.
            self.close()
            self.release_conn()
        except Exception:  # what urllib3's own drain_conn swallows, and more
            with contextlib.suppress(Exception):
                self.close()
                self.release_conn()


class _DeadlineConnectionMixin:
    """Keeps a duplicate of its socket's descriptor for the deadline to shut down (``http.client``
    drops ``sock`` on ``Connection: close``, TLS takes the descriptor over); drains boundedly."""

    deadline_socket: socket.socket | None = None
    deadline_owner: tuple[Attempt, int] | None = None
    deadline_answer_pending = False

    def _new_conn(self) -> socket.socket:
        sock: socket.socket = super()._new_conn()  # type: ignore[misc]
        self.release_deadline_socket()
        self.deadline_socket = sock.dup()
        return sock

    def release_deadline_socket(self) -> None:
        """Close the duplicate (the connection is closed and its answer done with)."""
        dup, self.deadline_socket = self.deadline_socket, None
        if dup is not None:
            dup.close()

    def close(self) -> None:
        super().close()  # type: ignore[misc]
        if not self.deadline_answer_pending:
            self.release_deadline_socket()

    def getresponse(self) -> HTTPResponse:
        # On `Connection: close`, http.client closes the connection here but the response
        # goes on reading the socket: the duplicate stays until the connection comes back.
        self.deadline_answer_pending = True
        try:
            response: HTTPResponse = super().getresponse()  # type: ignore[misc]
        finally:
            self.deadline_answer_pending = False
        response.__class__ = _BoundedDrainResponse
        return response


class _DeadlineHTTPConnection(_DeadlineConnectionMixin, HTTPConnection):  # type: ignore[misc]
    pass


class _DeadlineHTTPSConnection(_DeadlineConnectionMixin, HTTPSConnection):  # type: ignore[misc]
    pass


class DeadlineAdapter(HTTPAdapter):
    """``HTTPAdapter`` whose every attempt (connect, send, answer, body) must end within
    ``deadline`` seconds; past it the connection's socket is shut down, which ends the blocked
    read at once. Use :meth:`attempt` around a request and the reading of its body.

    :param deadline: Seconds each attempt may take in all.
    :param max_retries: As for ``HTTPAdapter``; an :meth:`attempt` may pass its own state.
    :param pool_maxsize: Connections kept open.
    """

    def __init__(self, *, deadline: float, max_retries: Retry, pool_maxsize: int) -> None:
        self.deadline = deadline
        self._local = threading.local()
        super().__init__(max_retries=max_retries, pool_connections=1, pool_maxsize=pool_maxsize)

    @property
    def max_retries(self) -> Retry:
        """The retry state of the current :meth:`attempt` if it has one, else the policy."""
        current: Attempt | None = getattr(self._local, "current", None)
        if current is not None and current.retries is not None:
            return current.retries
        return self._max_retries

    @max_retries.setter
    def max_retries(self, value: Retry) -> None:
        self._max_retries = value

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        """Make the pool manager build pools that arm a deadline for each connection taken."""
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": self._pool_class(HTTPConnectionPool, _DeadlineHTTPConnection),
            "https": self._pool_class(HTTPSConnectionPool, _DeadlineHTTPSConnection),
        }

    @contextlib.contextmanager
    def attempt(self, retries: Retry | None = None) -> Iterator[Attempt]:
        """Scope one request (all its retries) and the reading of its answer; the deadline
        is disarmed on exit."""
        current = Attempt(retries=retries)
        self._local.current = current
        try:
            yield current
        finally:
            self._local.current = None
            with current.lock:
                current.generation += 1

    def _pool_class(
        self, base: type[HTTPConnectionPool], connection: type[HTTPConnection]
    ) -> type[HTTPConnectionPool]:
        adapter = self

        class DeadlinePool(base):  # type: ignore[valid-type,misc]
            ConnectionCls = connection

            def _get_conn(self, timeout: float | None = None) -> Any:
                conn = super()._get_conn(timeout)
                adapter._arm(conn)
                return conn

            def _put_conn(self, conn: Any) -> None:
                if conn is not None:
                    adapter._disarm(conn)
                super()._put_conn(conn)

        DeadlinePool.__name__ = f"Deadline{base.__name__}"
        return DeadlinePool

    def _arm(self, conn: _DeadlineConnectionMixin) -> None:
        current: Attempt | None = getattr(self._local, "current", None)
        if current is None:
            return
        with current.lock:
            current.generation += 1
            current.expired = False
            owner = (current, current.generation)
            conn.deadline_owner = owner
        _WATCHDOG.arm(self.deadline, owner, conn)

    @staticmethod
    def _disarm(conn: _DeadlineConnectionMixin) -> None:
        owner, conn.deadline_owner = conn.deadline_owner, None
        if owner is not None:
            current, generation = owner
            with current.lock:
                if current.generation == generation:
                    current.generation += 1
        if getattr(conn, "sock", None) is None:
            conn.release_deadline_socket()  # closed, its answer read: the duplicate goes too


class _Watchdog:
    """One daemon thread that runs :func:`_expire` for each armed deadline once it passes (a
    disarmed one stays queued, its generation stale, for at most one deadline)."""

    def __init__(self) -> None:
        self._ready = threading.Condition()
        self._due: list[tuple[float, int, tuple[Attempt, int], _DeadlineConnectionMixin]] = []
        self._order = itertools.count()
        self._thread: threading.Thread | None = None

    def arm(
        self, seconds: float, owner: tuple[Attempt, int], conn: _DeadlineConnectionMixin
    ) -> None:
        entry = (time.monotonic() + seconds, next(self._order), owner, conn)
        with self._ready:
            heapq.heappush(self._due, entry)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="localskills-deadlines", daemon=True
                )
                self._thread.start()
            if self._due[0] is entry:  # sooner than what the thread waits for
                self._ready.notify()

    def _run(self) -> None:
        while True:
            with self._ready:
                while True:
                    if self._due:
                        wait = self._due[0][0] - time.monotonic()
                        if wait <= 0:
                            _, _, owner, conn = heapq.heappop(self._due)
                            break
                        self._ready.wait(wait)
                    else:
                        self._ready.wait()
            with contextlib.suppress(Exception):  # the watchdog must outlive any one deadline
                _expire(owner, conn)

    def _after_fork(self) -> None:
        """A forked child has none of the parent's threads: start afresh."""
        self._ready = threading.Condition()
        self._due = []
        self._thread = None


_WATCHDOG = _Watchdog()
os.register_at_fork(after_in_child=_WATCHDOG._after_fork)


def _expire(owner: tuple[Attempt, int], conn: _DeadlineConnectionMixin) -> None:
    current, generation = owner
    with current.lock:
        if current.generation != generation:
            return  # the connection went back to the pool, or on to another attempt
        current.expired = True
        sock = conn.deadline_socket
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class NoRedirectSession(requests.Session):
    """A ``requests.Session`` that never follows a redirect, nor prepares one (with
    ``allow_redirects=False`` a plain one still reads the redirect's whole body)."""

    def get_redirect_target(self, resp: requests.Response) -> None:
        return None


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
    # Never ask for more than one byte past the limit: that byte tells a longer body apart.
    for chunk in response.iter_content(min(_CHUNK_BYTES, limit + 1)):
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


# urllib3 logs server-supplied text (header lines it cannot parse, the errors behind a retry).
_URLLIB3_LOGGERS = ("urllib3", "urllib3.connection", "urllib3.connectionpool", "urllib3.response")


class _LogRedaction(logging.Filter):
    """Redacts every client's API token, and anything shaped like a secret, from urllib3's log
    records: urllib3 logs server text, which may echo the request's ``Authorization``."""

    def __init__(self) -> None:
        super().__init__()
        self._secrets: set[str] = set()
        self._installed = False
        self._lock = threading.Lock()

    def protect(self, secret: str) -> None:
        with self._lock:
            self._secrets.add(secret)
            if not self._installed:
                for name in _URLLIB3_LOGGERS:
                    logging.getLogger(name).addFilter(self)
                self._installed = True

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            text = record.getMessage()
            if record.exc_info and record.exc_info[0] is not None:
                text += "\n" + "".join(traceback.format_exception(*record.exc_info))
        except Exception:
            return False  # a record that cannot even be formatted is dropped, not shown raw
        with self._lock:
            secrets = tuple(self._secrets)
        record.msg, record.args = redact(text, *secrets), None
        record.exc_info, record.exc_text = None, None
        return True


_LOG_REDACTION = _LogRedaction()


def protect_in_logs(secret: str) -> None:
    """Redact ``secret`` (and anything shaped like a localskills secret) from urllib3's log
    records, from now on."""
    _LOG_REDACTION.protect(secret)
