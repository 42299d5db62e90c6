"""The emulated service: which API serves a request, with latency, faults and a safety net.

The layout follows a service emulator such as moto's:

- :mod:`.framing` frames HTTP/1.1 (keep-alive, bodies, single-send answers, resets) and
  keeps the request log;
- :mod:`.api`, :mod:`.scim` and :mod:`.admin` are the three APIs, each a route table;
- :mod:`.faults` says what each fault action does; :mod:`.store` holds the state (SQLite).

:class:`App` mounts the APIs by path prefix. An ``/_emulator/`` request is answered as is;
every other one waits ``latency_ms``, may be taken by a fault rule, and is logged.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime
from typing import Protocol

from .admin import AdminApi
from .api import LocalskillsApi
from .faults import FaultBook
from .framing import EmulatorServer, Outcome
from .messages import ErrorFactory, Request, Response
from .requestlog import RequestLog
from .scim import ScimApi
from .store import Store, StoreError

__all__ = ["App", "EmulatorServer", "make_server"]

log = logging.getLogger("localskills_pulumi.emulator")


class _Api(Protocol):
    error: ErrorFactory

    def handle(self, request: Request) -> Response: ...


class App:
    """The localskills API, SCIM 2.0 and the ``/_emulator/`` admin API over one store.

    :param store: The state.
    :param latency_ms: Milliseconds added to every ``/api/`` and ``/scim/v2/`` answer.
    """

    def __init__(
        self,
        store: Store,
        faults: FaultBook | None = None,
        requests_log: RequestLog | None = None,
        *,
        latency_ms: float = 0,
    ) -> None:
        self.store = store
        self.faults = faults or FaultBook()
        self.requests_log = requests_log or RequestLog()
        self.latency_ms = latency_ms
        self.admin = AdminApi(store, self.faults, self.requests_log)
        self._mounts: tuple[tuple[tuple[str, ...], _Api], ...] = (
            (("_emulator",), self.admin),
            (("scim", "v2"), ScimApi(store)),
            ((), LocalskillsApi(store)),
        )

    def serve(self, request: Request) -> Outcome:
        """The outcome of a request: its answer (None: reset), and whether it is logged."""
        api = self._api_for(request.segments)
        if api is self.admin:  # never delayed, faulted or logged
            return Outcome(self._guarded(api, request), logged=False)
        if self.latency_ms > 0:
            time.sleep(self.latency_ms / 1000)
        rule = self.faults.take(request.method, request.path)
        if rule is None:
            return Outcome(self._guarded(api, request), logged=True)
        return Outcome(rule.apply(lambda: self._guarded(api, request), api.error), logged=True)

    def protocol_error(self, status: int, message: str, path: str) -> Response:
        """An answer to a request that cannot be read, in the envelope of ``path``'s API."""
        return self._api_for(tuple(path.split("/")[1:])).error(status, message)

    def now(self) -> datetime:
        """The emulator's clock, which the admin API may have moved: every answer's ``Date``."""
        return self.store.clock.now()

    def _api_for(self, segments: tuple[str, ...]) -> _Api:
        for prefix, api in self._mounts:
            if segments[: len(prefix)] == prefix:
                return api
        raise AssertionError("the last mount takes every path")  # pragma: no cover

    @staticmethod
    def _guarded(api: _Api, request: Request) -> Response:
        try:
            return api.handle(request)
        except StoreError:
            return api.error(503, "The emulator is shutting down")
        except Exception:
            log.exception("internal error on %s %s", request.method, request.path)
            return api.error(500, "Internal emulator error")


def make_server(
    store: Store,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    latency_ms: float = 0,
    log_requests: bool = True,
) -> EmulatorServer:
    """Bind a server for ``store`` (port 0 picks a free port); call ``serve_forever`` on it.

    Links in answers (SCIM ``meta.location``) use the address the server is bound to, which
    the transport hands to every request; nothing is taken from the client's ``Host`` header.
    """
    app = App(store, latency_ms=latency_ms)
    return EmulatorServer((host, port), app, log_requests=log_requests)
