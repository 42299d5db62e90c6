"""Small HTTP servers on 127.0.0.1 that misbehave on purpose, for the hostile-server tests.

:class:`HostileServer` is a raw-socket HTTP/1.1 server: it parses each request itself and hands
it, with the connection, to a *responder* that writes whatever bytes it likes (an answer that
trickles one byte at a time, 50 MB of error text, a redirect, malformed data, a reset). It
records every request and, per connection, the bytes it managed to send and whether the client
hung up. Every server is bounded in time (``max_seconds``: a connection ends then at the
latest) and stopped by the test that starts it (a context manager).

Nothing here imports the package under test: these servers know HTTP, not the client.
"""

from __future__ import annotations

import contextlib
import http.client
import itertools
import json
import re
import select
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

__all__ = [
    "ClientGone",
    "Connection",
    "Forwarder",
    "HostileServer",
    "Request",
    "Responder",
    "Router",
    "answer",
    "endless",
    "json_answer",
    "token_item",
]

_READ_LIMIT = 1024 * 1024


class ClientGone(Exception):
    """The client closed or reset the connection while the server was sending."""


@dataclass
class Request:
    """One request as the server received it (header names lower-cased), and what became of
    its answer: the bytes the server managed to send, and whether the client hung up."""

    method: str
    path: str
    headers: Mapping[str, str]
    body: bytes
    connection: int
    sent: int = 0
    hung_up: bool = False
    answered: threading.Event = field(default_factory=threading.Event, repr=False)

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass
class Connection:
    """One accepted connection, as a responder sees it.

    ``sent`` counts the bytes the kernel accepted from the server on it; ``hung_up`` is set when
    a send failed because the client had gone (closed, shut down or reset its end).
    """

    index: int
    sock: socket.socket = field(repr=False)
    stopping: threading.Event = field(repr=False)
    deadline: float = 0.0
    sent: int = 0
    hung_up: bool = False
    finished: threading.Event = field(default_factory=threading.Event, repr=False)

    def send(self, data: bytes) -> None:
        """Send all of ``data``; :class:`ClientGone` if the client hung up meanwhile."""
        view = memoryview(data)
        while view:
            if self.stopping.is_set() or time.monotonic() > self.deadline:
                raise ClientGone("the server is stopping")
            try:
                n = self.sock.send(view)
            except OSError:
                self.hung_up = True
                raise ClientGone("the client hung up") from None
            self.sent += n
            view = view[n:]

    def trickle(self, chunks: Iterable[bytes], interval: float) -> None:
        """Send one chunk every ``interval`` seconds until ``chunks`` run out, the client hangs
        up (:class:`ClientGone`) or the server stops."""
        for chunk in chunks:
            self.send(chunk)
            if self.stopping.wait(interval):
                raise ClientGone("the server is stopping")

    def reset(self) -> None:
        """Abort the connection with a TCP reset."""
        with contextlib.suppress(OSError):
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00" * 2)
            self.sock.close()


Responder = Callable[[Request, Connection], bool]
"""Writes the answer to a request; returns whether to keep the connection for another."""


class HostileServer:
    """A threaded raw-socket HTTP server on 127.0.0.1 (port 0) that lets ``responder`` answer.

    :param responder: Called for each request with the connection; writes the answer.
    :param max_seconds: The longest any connection lives, whatever the responder does.
    :param tls: A server-side TLS context: serve HTTPS.
    :param send_buffer: ``SO_SNDBUF`` of accepted sockets: what the kernel takes beyond what the
           client read, so ``Request.sent`` stays close to the bytes the client read.
    """

    def __init__(
        self,
        responder: Responder,
        *,
        max_seconds: float = 120.0,
        send_buffer: int = 256 * 1024,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.responder = responder
        self.tls = tls
        self.max_seconds = max_seconds
        self.send_buffer = send_buffer
        self.requests: list[Request] = []
        self.connections: list[Connection] = []
        self._stopping = threading.Event()
        self._listener: socket.socket | None = None
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self.base_url = ""

    def start(self) -> HostileServer:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        listener.settimeout(0.1)
        self._listener = listener
        scheme = "https" if self.tls else "http"
        self.base_url = f"{scheme}://127.0.0.1:{listener.getsockname()[1]}"
        self._spawn(self._accept_loop, "accept")
        return self

    def stop(self) -> None:
        """Stop accepting, end every connection, wait (bounded) for the threads."""
        self._stopping.set()
        with self._lock:
            connections = list(self.connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.sock.shutdown(socket.SHUT_RDWR)
        for thread in list(self._threads):
            thread.join(timeout=10)
        if self._listener is not None:
            self._listener.close()
            self._listener = None

    def __enter__(self) -> HostileServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- what the tests read -------------------------------------------------------------------

    def requests_to(self, method: str) -> list[Request]:
        return [r for r in self.requests if r.method == method]

    def forget_requests(self) -> None:
        """Empty the request log: a server shared by several tests starts each one afresh."""
        with self._lock:
            self.requests.clear()

    def wait_until_finished(
        self, timeout: float = 10.0, indexes: Iterable[int] | None = None
    ) -> bool:
        """Wait until every connection so far (or those of ``indexes``) has ended: the client
        hung up, the responder closed it, or the server stopped."""
        end = time.monotonic() + timeout
        with self._lock:
            connections = list(self.connections)
        if indexes is not None:
            wanted = set(indexes)
            connections = [conn for conn in connections if conn.index in wanted]
        return all(conn.finished.wait(max(0.0, end - time.monotonic())) for conn in connections)

    # -- serving ---------------------------------------------------------------------------------

    def _spawn(self, target: Callable[..., None], name: str, *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True, name=f"hostile-{name}")
        self._threads.append(thread)
        thread.start()

    def _accept_loop(self) -> None:
        assert self._listener is not None
        while not self._stopping.is_set():
            try:
                sock, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, self.send_buffer)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                conn = Connection(
                    len(self.connections),
                    sock,
                    self._stopping,
                    deadline=time.monotonic() + self.max_seconds,
                )
                self.connections.append(conn)
            self._spawn(self._serve, f"conn-{conn.index}", conn)

    def _serve(self, conn: Connection) -> None:
        buffer = b""
        try:
            if self.tls is not None:
                conn.sock.settimeout(10)
                try:
                    conn.sock = self.tls.wrap_socket(conn.sock, server_side=True)
                except (OSError, ssl.SSLError):
                    return
            while not self._stopping.is_set():
                request, buffer = self._read_request(conn, buffer)
                if request is None:
                    return
                with self._lock:
                    self.requests.append(request)
                start = conn.sent
                try:
                    keep = self.responder(request, conn)
                finally:
                    request.sent = conn.sent - start
                    request.hung_up = conn.hung_up
                    request.answered.set()
                if not keep:
                    return
        except ClientGone:
            return
        finally:
            with contextlib.suppress(OSError):
                conn.sock.close()
            conn.finished.set()

    def _read_request(self, conn: Connection, buffer: bytes) -> tuple[Request | None, bytes]:
        while b"\r\n\r\n" not in buffer:
            chunk = self._recv(conn)
            if not chunk:
                return None, b""
            buffer += chunk
            if len(buffer) > _READ_LIMIT:
                return None, b""
        head, _, rest = buffer.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, path, _ = [*lines[0].split(" ", 2), "", ""][:3]
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0") or 0)
        while len(rest) < length:
            chunk = self._recv(conn)
            if not chunk:
                return None, b""
            rest += chunk
        body, rest = rest[:length], rest[length:]
        return Request(method, path, headers, body, conn.index), rest

    def _recv(self, conn: Connection) -> bytes:
        while not self._stopping.is_set() and time.monotonic() < conn.deadline:
            try:
                if isinstance(conn.sock, ssl.SSLSocket) and conn.sock.pending():
                    return conn.sock.recv(65536)  # decrypted already: select would not see it
                ready, _, _ = select.select([conn.sock], [], [], 0.1)
                if ready:
                    return conn.sock.recv(65536)
            except (OSError, ValueError):
                return b""
        return b""


# -- answers ---------------------------------------------------------------------------------


_REASONS = {
    200: "OK",
    201: "Created",
    301: "Moved Permanently",
    302: "Found",
    303: "See Other",
    307: "Temporary Redirect",
    308: "Permanent Redirect",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def answer(
    status: int,
    body: bytes = b"",
    headers: Iterable[tuple[str, str]] = (),
    *,
    content_type: str = "application/json",
) -> bytes:
    """A whole HTTP/1.1 answer with a ``Content-Length``."""
    lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}"]
    lines.append(f"Content-Type: {content_type}")
    lines.append(f"Content-Length: {len(body)}")
    lines.extend(f"{name}: {value}" for name, value in headers)
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def json_answer(status: int, payload: Any, headers: Iterable[tuple[str, str]] = ()) -> bytes:
    """An answer whose body is ``payload`` as JSON."""
    return answer(status, json.dumps(payload).encode(), headers)


def token_item(token_id: str = "tok1", name: str = "Okta", **fields: Any) -> dict[str, Any]:
    """A well-formed item of a listing (override or drop fields with keyword arguments;
    ``None`` drops a field, use ``json_null`` for an explicit null)."""
    item: dict[str, Any] = {
        "id": token_id,
        "name": name,
        "createdAt": "2026-01-01T00:00:00Z",
        "lastUsedAt": None,
        "expiresAt": "2027-01-01T00:00:00Z",
    }
    for key, value in fields.items():
        if value is None:
            item.pop(key, None)
        else:
            item[key] = None if value == "json_null" else value
    return item


class Router:
    """A responder that answers by method and path pattern; 404 for anything else.

    Each route maps to a responder; ``Router.fixed(bytes)`` makes one that sends fixed bytes.
    """

    def __init__(self, routes: Mapping[tuple[str, str], Responder]) -> None:
        self.routes = [
            (method, re.compile(pattern), fn) for (method, pattern), fn in routes.items()
        ]

    def __call__(self, request: Request, conn: Connection) -> bool:
        for method, pattern, fn in self.routes:
            if method in (request.method, "*") and pattern.fullmatch(request.path):
                return fn(request, conn)
        conn.send(json_answer(404, {"success": False, "error": "Not found"}))
        return True

    @staticmethod
    def fixed(data: bytes, *, keep_alive: bool = True) -> Responder:
        def respond(request: Request, conn: Connection) -> bool:
            conn.send(data)
            return keep_alive

        return respond

    @staticmethod
    def sequence(*responders: Responder) -> Responder:
        """The n-th request gets the n-th responder; the last one answers the rest."""
        counter = itertools.count()

        def respond(request: Request, conn: Connection) -> bool:
            n = next(counter)
            return responders[min(n, len(responders) - 1)](request, conn)

        return respond


class Forwarder:
    """A responder that relays each request to ``upstream`` (the emulator) and its answer back,
    holding a successful POST's answer for ``post_delay`` seconds after the upstream committed
    it: the window in which a token exists that its creator has not heard of yet. A connection
    the upstream resets is reset in turn."""

    _HOP_BY_HOP = frozenset({"connection", "content-length", "transfer-encoding", "keep-alive"})

    def __init__(self, upstream: str, post_delay: float = 0.0) -> None:
        parts = urlsplit(upstream)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.post_delay = post_delay

    def __call__(self, request: Request, conn: Connection) -> bool:
        headers = {k: v for k, v in request.headers.items() if k not in self._HOP_BY_HOP}
        headers.pop("host", None)
        upstream = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            upstream.request(request.method, request.path, request.body or None, headers)
            response = upstream.getresponse()
            body = response.read()
        except (OSError, http.client.HTTPException):
            conn.reset()
            return False
        finally:
            upstream.close()
        if request.method == "POST" and 200 <= response.status < 300 and self.post_delay:
            conn.stopping.wait(self.post_delay)
        lines = [f"HTTP/1.1 {response.status} {response.reason}"]
        lines += [
            f"{k}: {v}" for k, v in response.getheaders() if k.lower() not in self._HOP_BY_HOP
        ]
        lines.append(f"Content-Length: {len(body)}")
        conn.send(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        return True


def endless(chunk: bytes) -> Iterator[bytes]:
    """``chunk`` forever (a trickle that only the client or the server's bound can end)."""
    while True:
        yield chunk


TRICKLE_INTERVAL = 0.25
"""Seconds between two bytes of a trickle."""
OK_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
"""The start of a 200 answer's head, before the trickle."""


def trickle_in_headers(request: Request, conn: Connection) -> bool:
    """A header line that never ends."""
    conn.send(OK_HEAD)
    conn.trickle(endless(b"X"), TRICKLE_INTERVAL)
    return False


def trickle_in_body(request: Request, conn: Connection) -> bool:
    """A body of 1000 declared bytes, sent one at a time."""
    conn.send(OK_HEAD + b"Content-Length: 1000\r\n\r\n")
    conn.trickle(endless(b" "), TRICKLE_INTERVAL)
    return False


def trickle_close_delimited(request: Request, conn: Connection) -> bool:
    """No Content-Length: the body ends when the server closes, which it never does."""
    conn.send(OK_HEAD + b"Connection: close\r\n\r\n" + b'{"success": true, "data": []')
    conn.trickle(endless(b" "), TRICKLE_INTERVAL)
    return False


TRICKLES: dict[str, Responder] = {
    "headers": trickle_in_headers,
    "body": trickle_in_body,
    "close-delimited body": trickle_close_delimited,
}
"""Each way of trickling an answer, by the name tests use for it."""
