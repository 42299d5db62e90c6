"""Raw HTTP for emulator tests: bytes on a socket, for requests no HTTP library would send."""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass
from typing import Any

TIMEOUT = 10


@dataclass(frozen=True)
class RawAnswer:
    """One answer read off a socket."""

    status: int
    head: str
    body: bytes

    def header(self, name: str) -> str | None:
        """A header's value (first of that name), or None."""
        for line in self.head.split("\r\n")[1:]:
            key, _, value = line.partition(":")
            if key.strip().lower() == name.lower():
                return value.strip()
        return None

    def json(self) -> Any:
        """The body as JSON."""
        return json.loads(self.body)


def exchange(base_url: str, payload: bytes, *, half_close: bool = True) -> RawAnswer:
    """Send ``payload`` on a new connection, optionally close our side, read one answer.

    With ``half_close`` the server sees EOF after ``payload``: it answers what it read, then
    closes, so reading until EOF ends. What the server sent before a reset is kept.
    """
    host, port = base_url.removeprefix("http://").rsplit(":", 1)
    data = b""
    with socket.create_connection((host.strip("[]"), int(port)), timeout=TIMEOUT) as sock:
        sock.sendall(payload)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        try:
            while chunk := sock.recv(65536):
                data += chunk
        except ConnectionResetError:
            pass  # the server closed with our bytes unread; its answer came first
    head, _, body = data.partition(b"\r\n\r\n")
    text = head.decode("latin-1")
    status = int(text.split(" ", 2)[1]) if text.startswith("HTTP/1.1 ") else 0
    length = next(
        (
            int(line.split(":", 1)[1])
            for line in text.split("\r\n")
            if line.lower().startswith("content-length:")
        ),
        len(body),
    )
    return RawAnswer(status, text, body[:length])


class Connection:
    """One keep-alive connection: send a request, read exactly its answer, repeat."""

    def __init__(self, base_url: str) -> None:
        host, port = base_url.removeprefix("http://").rsplit(":", 1)
        self._sock = socket.create_connection((host.strip("[]"), int(port)), timeout=TIMEOUT)
        self._reader = self._sock.makefile("rb")

    def send(self, payload: bytes) -> RawAnswer:
        """Send a request and read its answer: the head, then ``Content-Length`` bytes."""
        self._sock.sendall(payload)
        lines = []
        while (line := self._reader.readline()) not in (b"\r\n", b""):
            lines.append(line.decode("latin-1").rstrip("\r\n"))
        head = "\r\n".join(lines)
        answer = RawAnswer(int(head.split(" ", 2)[1]), head, b"")
        length = int(answer.header("Content-Length") or 0)
        return RawAnswer(answer.status, head, self._reader.read(length))

    def close(self) -> None:
        """Close the connection."""
        self._reader.close()
        self._sock.close()

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def request_bytes(
    method: str, path: str, headers: dict[str, str] | None = None, body: bytes = b""
) -> bytes:
    """A request's bytes; ``Content-Length`` is the body's unless ``headers`` says otherwise."""
    fields = {"Host": "emulator", **(headers or {})}
    if body and "Content-Length" not in fields and "Transfer-Encoding" not in fields:
        fields["Content-Length"] = str(len(body))
    head = "".join(f"{name}: {value}\r\n" for name, value in fields.items())
    return f"{method} {path} HTTP/1.1\r\n{head}\r\n".encode("latin-1") + body
