"""HTTP/1.1 framing: one thread per connection, keep-alive, each answer in a single send.

This module knows sockets and bytes, not the APIs. For each request it reads the body (by
``Content-Length`` or chunked), builds a :class:`~.wire.Request`, asks the :class:`Service`
for the outcome, records the request in the request log and counts its connection *before*
the answer leaves (a client that reads ``/_emulator/requests`` right after its answer finds
its request there), then writes the answer or resets the connection.

Every answer is written in one ``send`` (status line, headers and body together), so that
keep-alive clients are not slowed down by Nagle's algorithm meeting delayed ACKs.
"""

from __future__ import annotations

import contextlib
import datetime
import email.utils
import logging
import re
import socket
import struct
import sys
import time
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote

from .messages import Request, Response
from .requestlog import RequestLog

log = logging.getLogger("localskills_pulumi.emulator")

MAX_BODY_BYTES = 1 << 20
IDLE_TIMEOUT_SECONDS = 120
MAX_TRAILER_LINES = 100
_DIGITS = re.compile(r"\s*([0-9]+)\s*")
_CHUNK_SIZE = re.compile(rb"[0-9A-Fa-f]+")
_NO_BODY_STATUSES = (204, 304)


@dataclass(frozen=True)
class Outcome:
    """What to do with a request: answer it (or reset the connection), and log it or not."""

    response: Response | None
    """The answer; None aborts the connection with a TCP reset, answering nothing."""
    logged: bool
    """Whether the request goes into the request log and its connection is counted."""


class Service(Protocol):
    """What the transport serves: see :class:`~.server.App`."""

    requests_log: RequestLog

    def serve(self, request: Request) -> Outcome:
        """The outcome of a request."""
        ...

    def protocol_error(self, status: int, message: str, path: str) -> Response:
        """An answer to a request that cannot be read, in the envelope of ``path``'s API."""
        ...

    def now(self) -> datetime.datetime:
        """The service's clock, for the ``Date`` header (clients judge expiry by it)."""
        ...


class EmulatorServer(ThreadingHTTPServer):
    """A threaded HTTP/1.1 server for a :class:`Service`."""

    daemon_threads = True
    request_queue_size = 128
    allow_reuse_address = True

    def __init__(
        self, address: tuple[str, int], app: Service, *, log_requests: bool = True
    ) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, EmulatorHandler)
        self.app = app
        self.log_requests = log_requests
        host, port = str(self.server_address[0]), int(self.server_address[1])
        shown = f"[{host}]" if ":" in host else host
        self.base_url = f"http://{shown}:{port}"
        """``http://host:port``: the bound address (port 0 resolved), given to every request."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that resets or stalls is not an emulator error; anything else is logged."""
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            log.debug("connection from %s dropped", client_address[0])
        else:
            log.error("unexpected error on a connection from %s", client_address[0], exc_info=True)


class EmulatorHandler(BaseHTTPRequestHandler):
    """One connection: reads requests, hands them to the service, writes the answers."""

    protocol_version = "HTTP/1.1"
    server_version = "localskills-emulator/0.1"
    timeout = IDLE_TIMEOUT_SECONDS
    disable_nagle_algorithm = True
    server: EmulatorServer

    def setup(self) -> None:
        """Remember the request-log epoch the connection was accepted in."""
        super().setup()
        self._accepted_epoch = self.server.app.requests_log.epoch
        self._counted = False

    def handle_one_request(self) -> None:
        """http.server's reading, without a previous request's path surviving a bad line."""
        self.path = ""
        super().handle_one_request()

    # Every known verb goes through the same dispatcher, so routes can answer 405.
    def do_GET(self) -> None:
        """Dispatch."""
        self._dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        """Route http.server's own messages (bad request lines, timeouts) to the logger."""
        log.debug("%s %s", self.client_address[0], format % args)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Protocol-level errors (bad request line, oversized headers) in the API's envelope."""
        try:
            phrase = HTTPStatus(code).phrase
        except ValueError:
            phrase = "Error"
        path = self.path.partition("?")[0]
        self._write(self.server.app.protocol_error(code, message or phrase, path), close=True)

    # -- one request -------------------------------------------------------------------------

    def _dispatch(self) -> None:
        started = time.perf_counter()
        raw_path, _, query_text = self.path.partition("?")
        body = self._read_body()
        if body is None:  # the connection failed mid-body: nothing to answer
            self.close_connection = True
            return
        if isinstance(body, tuple):
            status, message = body
            self._write(self.server.app.protocol_error(status, message, raw_path), close=True)
            return
        request = Request(
            method=self.command,
            path=raw_path,
            segments=tuple(unquote(part) for part in raw_path.split("/")[1:]),
            query=parse_qs(query_text, keep_blank_values=True),
            headers={key.lower(): value for key, value in self.headers.items()},
            body=body,
            base_url=self.server.base_url,
        )
        outcome = self.server.app.serve(request)
        if outcome.logged:
            self._log(request, outcome, started)
        if outcome.response is None:
            self._reset()
        else:
            self._write(outcome.response)

    def _log(self, request: Request, outcome: Outcome, started: float) -> None:
        """Count the connection and record the request: before the answer leaves."""
        requests_log = self.server.app.requests_log
        if not self._counted:
            self._counted = True
            requests_log.count_connection(self._accepted_epoch)
        status = outcome.response.status if outcome.response is not None else 0
        duration_ms = (time.perf_counter() - started) * 1000
        requests_log.record(request.method, request.path, status, duration_ms)
        if self.server.log_requests:
            log.info(
                "%s %s %s %d %.1fms",
                self.client_address[0],
                request.method,
                request.path,
                status,
                duration_ms,
            )

    # -- reading -----------------------------------------------------------------------------

    def _read_body(self) -> bytes | tuple[int, str] | None:
        """The body; or (status, message) for one that cannot be used; None if the socket failed."""
        try:
            if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                return self._read_chunked()
            length_text = self.headers.get("Content-Length")
            if length_text is None:
                return b""
            digits = _DIGITS.fullmatch(length_text)
            if digits is None:
                return 400, "Invalid Content-Length"
            if len(digits.group(1)) > 9 or int(digits.group(1)) > MAX_BODY_BYTES:
                return 413, "Request body too large"
            length = int(digits.group(1))
            return self._read_exactly(length)
        except OSError:  # reset, or no byte for IDLE_TIMEOUT_SECONDS
            return None

    def _read_exactly(self, size: int) -> bytes | tuple[int, str]:
        data = self.rfile.read(size)
        if len(data) < size:  # the client closed its side early: never act on half a body
            return 400, "Request body is shorter than announced; nothing was done"
        return data

    def _read_chunked(self) -> bytes | tuple[int, str]:
        chunks: list[bytes] = []
        size_total = 0
        while True:
            line = self.rfile.readline(1024).split(b";")[0].strip()
            if not _CHUNK_SIZE.fullmatch(line):
                return 400, "Malformed chunked body"
            if len(line) > 8:
                return 413, "Request body too large"
            size = int(line, 16)
            if size == 0:
                return self._skip_trailers() or b"".join(chunks)
            size_total += size
            if size_total > MAX_BODY_BYTES:
                return 413, "Request body too large"
            chunk = self._read_exactly(size)
            if isinstance(chunk, tuple):
                return chunk
            chunks.append(chunk)
            if self.rfile.readline(1024).strip():
                return 400, "Malformed chunked body"

    def _skip_trailers(self) -> tuple[int, str] | None:
        for _ in range(MAX_TRAILER_LINES + 1):
            if self.rfile.readline(1024) in (b"\r\n", b"\n", b""):
                return None
        return 431, "Too many trailer lines in the chunked body"

    # -- writing -----------------------------------------------------------------------------

    def _write(self, response: Response, *, close: bool = False) -> None:
        """Send the whole answer in one write; a client that has gone away closes the connection."""
        try:
            reason = HTTPStatus(response.status).phrase
        except ValueError:
            reason = "Fault"
        head = [
            f"HTTP/1.1 {response.status} {reason}",
            f"Server: {self.server_version}",
            f"Date: {email.utils.format_datetime(self.server.app.now(), usegmt=True)}",
            f"Content-Type: {response.content_type}",
        ]
        body = response.body
        if response.status in _NO_BODY_STATUSES:  # RFC 9110: never a body, nor its length
            body = b""
        else:
            head.append(f"Content-Length: {len(body)}")
        head.extend(f"{name}: {value}" for name, value in response.headers)
        if close or self.close_connection:
            head.append("Connection: close")
            self.close_connection = True
        data = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1")
        if self.command != "HEAD":
            data += body
        try:
            self.wfile.write(data)
        except OSError:
            self.close_connection = True  # the client went away; the status is still logged

    def _reset(self) -> None:
        """Abort the connection with a TCP RST, without answering."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            linger = struct.pack("ii", 1, 0)
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
        # The buffered reader holds a reference to the socket; close it first so that
        # closing the socket really closes the file descriptor (and sends the RST) now.
        self.rfile.close()
        self.connection.close()
