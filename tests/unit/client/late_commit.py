"""A proxy in front of the emulator that makes a timed-out create land late, without a race.

The first POST is held unanswered, so the client times out. It reaches the emulator (and the
token is created) only after the client has listed the tenant once, finding nothing; the
client's next listing waits until that token exists. So the token shows up exactly while the
client keeps looking for it, however slow the machine: every step waits on the one before.
Everything else is forwarded as it comes.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

import requests

WAIT_SECONDS = 30.0  # a bound on each wait; reaching it fails the test, it is never slept


class LateCommitProxy:
    """``with LateCommitProxy(upstream) as proxy:`` point the client at ``proxy.base_url``."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.listings = 0
        self._lock = threading.Lock()
        self._held = False
        self._first_listing_answered = threading.Event()
        self._committed = threading.Event()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                with proxy._lock:
                    proxy.listings += 1
                    listing = proxy.listings
                if listing > 1 and not proxy._committed.wait(WAIT_SECONDS):
                    raise TimeoutError("the held POST was never committed")
                self._forward()
                if listing == 1:
                    proxy._first_listing_answered.set()

            def do_POST(self) -> None:
                with proxy._lock:
                    hold, proxy._held = not proxy._held, True
                if not hold:
                    self._forward()
                    return
                body = self._body()
                if not proxy._first_listing_answered.wait(WAIT_SECONDS):
                    raise TimeoutError("the client never listed the tenant after its timeout")
                self._send_upstream(body)  # the late commit; the client is gone
                proxy._committed.set()
                self.close_connection = True

            def do_DELETE(self) -> None:
                self._forward()

            def _body(self) -> bytes:
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def _send_upstream(self, body: bytes) -> requests.Response:
                headers = {
                    k: v
                    for k, v in self.headers.items()
                    if k.lower() in ("authorization", "content-type")
                }
                return requests.request(
                    self.command,
                    proxy.upstream + self.path,
                    headers=headers,
                    data=body,
                    timeout=WAIT_SECONDS,
                )

            def _forward(self) -> None:
                answer = self._send_upstream(self._body())
                self.send_response_only(answer.status_code)  # no Date of its own: upstream's
                for name in ("Content-Type", "Date", "Retry-After"):
                    if name in answer.headers:
                        self.send_header(name, answer.headers[name])
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> LateCommitProxy:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=WAIT_SECONDS)
