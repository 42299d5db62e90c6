"""Warnings the Pulumi CLI counts as warnings.

The engine starts every plugin with its own address as the first argument, and serves a Log
service there: a message sent with warning severity is shown among the run's warnings, and
counted. What a plugin writes on stderr is shown too, but as plain text under the stack. So the
provider's warnings go to the engine when its host was started by one, and to stderr when not
(the stand-in engine, a test calling the host directly, or a Log call that fails).
"""

from __future__ import annotations

import re
import sys
import threading

import grpc
from pulumi.runtime.proto import engine_pb2, engine_pb2_grpc

__all__ = ["warn"]

_PREFIX = "localskills-pulumi: "
"""Before every warning; on stderr, ``warning: `` follows it (the engine adds its own)."""
_LOG_TIMEOUT_SECONDS = 5.0
_ADDRESS = re.compile(r"^(127\.0\.0\.1|localhost|\[::1\]):\d{1,5}$")
_lock = threading.Lock()
_stub: engine_pb2_grpc.EngineStub | None = None


def _engine() -> engine_pb2_grpc.EngineStub | None:
    """The engine's Log service, when this process is a plugin the engine started."""
    global _stub
    address = sys.argv[1] if len(sys.argv) > 1 else ""
    if not _ADDRESS.match(address):
        return None
    with _lock:
        if _stub is None:
            _stub = engine_pb2_grpc.EngineStub(grpc.insecure_channel(address))
        return _stub


def warn(message: str) -> None:
    """Show ``message`` as a warning of the run: through the engine's Log service, else on
    stderr with the package's prefix."""
    engine = _engine()
    if engine is not None:
        try:
            engine.Log(
                engine_pb2.LogRequest(severity=engine_pb2.WARNING, message=_PREFIX + message),
                timeout=_LOG_TIMEOUT_SECONDS,
            )
            return
        except grpc.RpcError:
            pass
    print(f"{_PREFIX}warning: {message}", file=sys.stderr, flush=True)
