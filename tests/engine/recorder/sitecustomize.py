"""Records the provider calls a dynamic provider host receives, for the tests that hold the
stand-in engine to the real one (tests/engine/test_engine_fidelity.py).

On ``PYTHONPATH`` with ``TEST_PROVIDER_CALL_LOG`` set, every Python process of the run loads it at
start; it wraps ``grpc.server`` so that each ResourceProvider call a server of the process
answers is appended to that file as one JSON line (``method``, the resource's name, and the
payload's salient parts, and when it started and ended on the machine's monotonic clock, which
all processes share) once it is served. The same recorder sits in the host under the real CLI
and under the stand-in, so the two records compare like for like; the benchmarks of
``benchmarks/engine.py`` read the times.
"""

from __future__ import annotations

import json
import os
import threading
import time
from typing import Any

_LOG = os.environ.get("TEST_PROVIDER_CALL_LOG")
_SERVICE = "/pulumirpc.ResourceProvider/"
_RECORDED = {"Configure", "Check", "Diff", "Create", "Read", "Update", "Delete"}
_lock = threading.Lock()


def _keys(struct: Any) -> list[str]:
    return sorted(struct.fields.keys()) if struct is not None else []


def _summary(method: str, request: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {"method": method}
    if method != "Configure":
        entry["resource"] = request.urn.rsplit("::", 1)[-1]
    if method == "Check":
        entry.update(olds=_keys(request.olds), news=_keys(request.news))
    elif method == "Diff":
        entry.update(id=request.id, olds=_keys(request.olds), news=_keys(request.news))
    elif method == "Create":
        entry.update(properties=_keys(request.properties), preview=request.preview)
    elif method == "Read":
        entry.update(id=request.id, properties=_keys(request.properties),
                     inputs=_keys(request.inputs))  # fmt: skip
    elif method == "Update":
        entry.update(id=request.id, olds=_keys(request.olds), news=_keys(request.news))
    elif method == "Delete":
        entry.update(id=request.id, properties=_keys(request.properties))
    return entry


def _record(method: str, request: Any, started: float) -> None:
    timing = {"pid": os.getpid(), "started": started, "ended": time.monotonic()}
    line = json.dumps({**timing, **_summary(method, request)})
    with _lock, open(_LOG or os.devnull, "a", encoding="utf-8") as log:
        log.write(line + "\n")


def _install() -> None:
    import grpc

    class Recorder(grpc.ServerInterceptor):  # type: ignore[misc]
        def intercept_service(self, continuation: Any, details: Any) -> Any:
            handler = continuation(details)
            method = details.method
            if handler is None or not method.startswith(_SERVICE):
                return handler
            name = method[len(_SERVICE) :]
            if name not in _RECORDED or handler.unary_unary is None:
                return handler
            serve = handler.unary_unary

            def recorded(request: Any, context: Any) -> Any:
                started = time.monotonic()
                try:
                    return serve(request, context)
                finally:
                    _record(name, request, started)

            return handler._replace(unary_unary=recorded)

    original = grpc.server

    def server(*args: Any, **kwargs: Any) -> Any:
        kwargs["interceptors"] = [*(kwargs.get("interceptors") or ()), Recorder()]
        return original(*args, **kwargs)

    grpc.server = server


if _LOG:
    _install()
