"""Pulumi's dynamic-provider host (``python -m pulumi.dynamic``), driven over gRPC like the engine.

The Pulumi CLI runs a Python dynamic provider as the separate process ``python -m pulumi.dynamic``
and talks to it with the ``ResourceProvider`` gRPC protocol. :class:`ProviderHost` starts that very
process and calls it with the SDK's generated stubs, serializing properties with
``pulumi.runtime.rpc.serialize_properties`` as the engine-side code path does.

It plays the part of the engine's provider client (``sdk/go/common/resource/plugin/
provider_plugin.go``), including its handling of secrets: the dynamic host answers ``Configure``
with ``acceptSecrets: False``, so secrets are stripped from every property bag sent to it, and the
secret bit is put back afterwards on any returned property whose same-named input was secret
(the engine's ``annotateSecrets``).

Values returned to the caller keep secrets visible as the SDK's wire form
(``rpc.wrap_rpc_secret``); use :func:`is_secret` and :func:`unwrap` on them. Unknown values
(previews) are the string :data:`UNKNOWN` on both sides.
"""

from __future__ import annotations

import asyncio
import os
import queue
import subprocess
import sys
import tempfile
import threading
from collections.abc import Collection, Coroutine, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import IO, Any, TypeVar

import grpc
from pulumi.dynamic.dynamic import ResourceProvider, serialize_provider
from pulumi.output import Unknown
from pulumi.runtime import rpc
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

__all__ = [
    "PROVIDER_KEY",
    "UNKNOWN",
    "CheckResponse",
    "DiffResponse",
    "ProviderError",
    "ProviderHost",
    "ReadResponse",
    "annotate_secrets",
    "contains_secrets",
    "from_wire",
    "is_secret",
    "provider_property",
    "secret",
    "strip_secrets",
    "unwrap",
    "urn",
]

T = TypeVar("T")

PROVIDER_KEY = "__provider"
"""The property in which a dynamic resource carries its pickled provider."""

UNKNOWN: str = rpc.UNKNOWN
"""An input not yet known (preview). On the wire it is this string; the host hands it to the
provider as a ``pulumi.output.Unknown``. Unknowns in answers come back as this string."""

_DIFF_CHANGES = {
    provider_pb2.DiffResponse.DIFF_UNKNOWN: "DIFF_UNKNOWN",
    provider_pb2.DiffResponse.DIFF_NONE: "DIFF_NONE",
    provider_pb2.DiffResponse.DIFF_SOME: "DIFF_SOME",
}


class ProviderError(Exception):
    """A gRPC error answered by the provider host.

    ``details`` holds the host's text: for an exception raised in a provider method, its full
    traceback (the host aborts the call with ``traceback.format_exc()``).
    """

    def __init__(self, method: str, code: str, details: str) -> None:
        super().__init__(f"{method} failed ({code}): {details}")
        self.method = method
        self.code = code
        self.details = details


@dataclass
class CheckResponse:
    """The answer to ``Check``: the checked inputs and any ``(property, reason)`` failures."""

    inputs: dict[str, Any]
    failures: list[tuple[str, str]]


@dataclass
class DiffResponse:
    """The answer to ``Diff``.

    ``changes`` is ``"DIFF_NONE"``, ``"DIFF_SOME"`` or ``"DIFF_UNKNOWN"`` (the dynamic host answers
    ``DIFF_UNKNOWN`` when the provider's ``diff`` left ``changes`` as ``None``).
    """

    changes: str
    replaces: list[str]
    delete_before_replace: bool


@dataclass
class ReadResponse:
    """The answer to ``Read``. An empty ``id`` means the resource is gone. ``inputs`` is ``None``
    unless the provider returned ``ReadResult.inputs``."""

    id: str
    outputs: dict[str, Any]
    inputs: dict[str, Any] | None


# --------------------------------------------------------------------------------------------
# Secrets and unknowns in plain property bags


def secret(value: Any) -> Any:
    """Mark ``value`` as a secret, in the SDK's wire form (``rpc.wrap_rpc_secret``)."""
    return rpc.wrap_rpc_secret(value)


def is_secret(value: Any) -> bool:
    """Whether ``value`` is a secret marker (as produced by :func:`secret`)."""
    return rpc.is_rpc_secret(value)


def unwrap(value: Any) -> Any:
    """``value`` with every secret marker removed, at any depth."""
    if is_secret(value):
        return unwrap(value["value"])
    if isinstance(value, Mapping):
        return {k: unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap(v) for v in value]
    return value


def strip_secrets(properties: Mapping[str, Any]) -> dict[str, Any]:
    """A property bag with secrets removed, as the engine sends it to a provider that does not
    accept secrets (the engine's ``MarshalProperties(KeepSecrets: false)``)."""
    return {k: unwrap(v) for k, v in properties.items()}


def contains_secrets(value: Any) -> bool:
    """Whether ``value`` is, or holds at any depth, a secret."""
    if is_secret(value):
        return True
    if isinstance(value, Mapping):
        return any(contains_secrets(v) for v in value.values())
    if isinstance(value, list):
        return any(contains_secrets(v) for v in value)
    return False


def annotate_secrets(outs: dict[str, Any], ins: Mapping[str, Any]) -> dict[str, Any]:
    """Mark as secret each property of ``outs`` whose same-named input in ``ins`` holds a secret,
    recursing into objects present on both sides. A port of the engine's ``annotateSecrets``
    (``provider_plugin.go``); modifies ``outs`` in place and returns it."""
    for key, in_value in ins.items():
        if key not in outs:
            continue
        out_value = outs[key]
        if (
            isinstance(out_value, dict)
            and not is_secret(out_value)
            and isinstance(in_value, Mapping)
            and not is_secret(in_value)
        ):
            annotate_secrets(out_value, in_value)
        elif not is_secret(out_value) and contains_secrets(in_value):
            outs[key] = secret(out_value)
    return outs


def _unknowns_to_string(value: Any) -> Any:
    if isinstance(value, Unknown):
        return UNKNOWN
    if isinstance(value, dict):
        return {k: _unknowns_to_string(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unknowns_to_string(v) for v in value]
    return value


def from_wire(struct: Any) -> dict[str, Any]:
    """Deserialize a protobuf ``Struct`` with ``rpc.deserialize_properties``, keeping secret markers
    and turning unknowns into :data:`UNKNOWN`."""
    props = rpc.deserialize_properties(struct, keep_unknowns=True)
    if not isinstance(props, dict):  # a bare asset/archive/secret at top level; not a property bag
        raise TypeError(f"expected a property bag, got {type(props).__name__}")
    return {k: _unknowns_to_string(v) for k, v in props.items()}


# --------------------------------------------------------------------------------------------
# Small helpers


def provider_property(provider: ResourceProvider) -> str:
    """The ``__provider`` value for ``provider``, made by ``serialize_provider`` as the program
    makes it (dill + base64). A class importable by module path is pickled by reference."""
    value: str = serialize_provider(provider)
    return value


def urn(type_: str, name: str, project: str = "project", stack: str = "stack") -> str:
    """A resource URN as the engine makes it for a resource without a parent."""
    return f"urn:pulumi:{stack}::{project}::{type_}::{name}"


# --------------------------------------------------------------------------------------------
# The host


class ProviderHost:
    """``python -m pulumi.dynamic`` as a subprocess, called over gRPC with the engine's own stubs.

    ``env`` holds extra environment variables on top of ``os.environ`` (the engine passes its own
    environment plus ``PULUMI_PROJECT``, ``PULUMI_CONFIG``; set ``PULUMI_PROJECT`` here if the
    provider reads un-namespaced config keys). ``cwd`` is the process's working directory: with
    ``-m`` it is also the first entry of the host's ``sys.path``, so a provider class pickled by
    reference must be importable from there (or from ``PYTHONPATH`` in ``env``).

    Calls are thread-safe (gRPC channels are); the host itself serves 4 calls at once.
    """

    def __init__(
        self,
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
        start_timeout: float = 30.0,
        rpc_timeout: float = 120.0,
    ) -> None:
        self.env = dict(env or {})
        self.cwd = cwd
        self.start_timeout = start_timeout
        self.rpc_timeout = rpc_timeout
        self.pid: int | None = None
        self.port: int | None = None
        self.accept_secrets: bool | None = None
        """What the host answered to ``Configure`` (the dynamic host says ``False``)."""
        self.supports_preview: bool = False
        """What the host answered to ``Configure`` (the dynamic host leaves it ``False``)."""
        self.configured_with: tuple[dict[str, Any], frozenset[str]] | None = None
        """The config and secret keys of the last :meth:`configure` call."""
        self._proc: subprocess.Popen[bytes] | None = None
        self._stderr: IO[bytes] | None = None
        self._stderr_final = ""
        self._stdout_lines: list[str] = []
        self._channel: Any = None
        self._stub: Any = None
        self._loop_lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> ProviderHost:
        """Start the host process, read its port and connect. Returns ``self``."""
        if self._proc is not None:
            raise RuntimeError("ProviderHost already started")
        env = {**os.environ, **self.env}
        # The host writes its port with sys.stdout.buffer.write and never flushes.
        env["PYTHONUNBUFFERED"] = "1"
        self._stdout_lines = []
        self._stderr_final = ""
        # Closed in stop(); a file rather than a pipe so a chatty provider can never block on it.
        self._stderr = tempfile.TemporaryFile(  # noqa: SIM115
            prefix="pulumi-dynamic-host-", suffix=".stderr"
        )
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "pulumi.dynamic"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env=env,
            cwd=self.cwd,
        )
        self.pid = self._proc.pid
        lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(
            target=self._drain_stdout,
            args=(self._proc, lines),
            daemon=True,
            name=f"pulumi-dynamic-host-{self.pid}-stdout",
        ).start()
        try:
            first = lines.get(timeout=self.start_timeout)
        except queue.Empty:
            self.stop()
            raise RuntimeError(
                f"provider host did not print its port within {self.start_timeout}s; "
                f"stderr:\n{self._last_stderr}"
            ) from None
        if first is None or not first.strip().isdigit():
            code = self._proc.poll() if self._proc else None
            self.stop()
            raise RuntimeError(
                f"provider host exited or printed no port (first line {first!r}, "
                f"exit code {code}); "
                f"stderr:\n{self._last_stderr}"
            )
        self.port = int(first.strip())
        self._channel = grpc.insecure_channel(f"127.0.0.1:{self.port}")
        try:
            grpc.channel_ready_future(self._channel).result(timeout=self.start_timeout)
        except grpc.FutureTimeoutError:
            self.stop()
            raise RuntimeError(
                f"could not connect to provider host on port {self.port}; "
                f"stderr:\n{self._last_stderr}"
            ) from None
        self._stub = provider_pb2_grpc.ResourceProviderStub(self._channel)
        return self

    def _drain_stdout(self, proc: subprocess.Popen[bytes], lines: queue.Queue[str | None]) -> None:
        # Keep reading so that a provider printing to stdout never fills the pipe and blocks.
        assert proc.stdout is not None
        for raw in proc.stdout:
            line = raw.decode(errors="replace").rstrip("\n")
            if not self._stdout_lines:
                lines.put(line)
            self._stdout_lines.append(line)
        lines.put(None)

    def stop(self) -> None:
        """Close the channel and end the process (terminate, then kill). Idempotent."""
        if self._channel is not None:
            self._channel.close()
            self._channel = None
            self._stub = None
        proc, self._proc = self._proc, None
        if proc is not None:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=5)
            if proc.stdout is not None:
                proc.stdout.close()
        with self._loop_lock:
            if self._loop is not None:
                self._loop.close()
                self._loop = None
        if self._stderr is not None:
            self._stderr_final = self.stderr_text()
            self._stderr.close()
            self._stderr = None

    def __enter__(self) -> ProviderHost:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        """Whether the process is alive."""
        return self._proc is not None and self._proc.poll() is None

    def stderr_text(self) -> str:
        """Everything the host wrote to stderr so far (kept after :meth:`stop`)."""
        if self._stderr is None:
            return self._stderr_final
        pos = self._stderr.tell()
        try:
            self._stderr.seek(0)
            return self._stderr.read().decode(errors="replace")
        finally:
            self._stderr.seek(pos)

    def stdout_text(self) -> str:
        """Everything the host wrote to stdout so far (the port line first)."""
        return "\n".join(self._stdout_lines)

    @property
    def _last_stderr(self) -> str:
        return self.stderr_text()[-4000:]

    # -- plumbing ----------------------------------------------------------------------------

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine on a private event loop (the host may be called from any thread)."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:
            # Called from inside a running loop: a nested run_until_complete would fail.
            result: list[T] = []
            error: list[BaseException] = []

            def runner() -> None:
                try:
                    result.append(asyncio.run(coro))
                except BaseException as e:  # re-raised below
                    error.append(e)

            t = threading.Thread(target=runner)
            t.start()
            t.join()
            if error:
                raise error[0]
            return result[0]
        with self._loop_lock:
            if self._loop is None:
                self._loop = asyncio.new_event_loop()
            return self._loop.run_until_complete(coro)

    def _to_wire(self, properties: Mapping[str, Any]) -> Any:
        if not self.accept_secrets:
            properties = strip_secrets(properties)
        return self._run(rpc.serialize_properties(dict(properties), {}))

    def _call(self, method: str, request: Any) -> Any:
        if self._stub is None:
            raise RuntimeError("ProviderHost is not started")
        try:
            return getattr(self._stub, method)(request, timeout=self.rpc_timeout)
        except grpc.RpcError as e:
            raise ProviderError(method, e.code().name, e.details() or "") from None

    # -- the provider protocol ---------------------------------------------------------------

    def configure(self, config: Mapping[str, Any], secret_keys: Collection[str] = ()) -> None:
        """``Configure`` with the stack config, keys namespaced (``"localskills:apiToken"``).

        Keys in ``secret_keys`` are sent as RPC secrets, as the engine sends secret config
        (``KeepSecrets: true``); the host unwraps them. ``variables`` carries the same values as
        strings (the host ignores it). Records ``accept_secrets`` / ``supports_preview``.
        """
        secret_set = frozenset(secret_keys)
        args = {k: secret(v) if k in secret_set else v for k, v in config.items()}
        variables = {k: v if isinstance(v, str) else _json(v) for k, v in config.items()}
        request = provider_pb2.ConfigureRequest(
            args=self._run(rpc.serialize_properties(args, {})),
            variables=variables,
            acceptSecrets=True,
            acceptResources=True,
            sends_old_inputs=True,
            sends_old_inputs_to_delete=True,
        )
        response = self._call("Configure", request)
        self.accept_secrets = bool(response.acceptSecrets)
        self.supports_preview = bool(response.supportsPreview)
        self.configured_with = (dict(config), secret_set)

    def check(
        self,
        urn: str,
        olds: Mapping[str, Any],
        news: Mapping[str, Any],
        *,
        random_seed: bytes = b"",
    ) -> CheckResponse:
        """``Check``. ``olds`` are the resource's **prior inputs** (``{}`` on a create, and again
        ``{}`` in the second Check the engine makes before a replacement), ``news`` the new inputs
        from the program; both must hold ``__provider``. Source: ``step_generator.go``
        (``prov.Check(CheckRequest{Olds: oldInputs, News: inputs})``, ``oldInputs = old.Inputs``).
        The returned inputs get the secret bit of same-named ``news``."""
        request = provider_pb2.CheckRequest(
            urn=urn,
            olds=self._to_wire(olds),
            news=self._to_wire(news),
            randomSeed=random_seed,
            name=_urn_name(urn),
            type=_urn_type(urn),
        )
        response = self._call("Check", request)
        inputs = annotate_secrets(from_wire(response.inputs), news)
        failures = [(f.property, f.reason) for f in response.failures]
        return CheckResponse(inputs=inputs, failures=failures)

    def diff(
        self,
        id: str,
        urn: str,
        olds: Mapping[str, Any],
        news: Mapping[str, Any],
        *,
        old_inputs: Mapping[str, Any] | None = None,
    ) -> DiffResponse:
        """``Diff``. ``olds`` are the resource's **prior outputs** (state), ``news`` the checked new
        inputs; ``old_inputs`` (optional) the prior inputs, which the engine also sends but the
        Python host ignores. Source: ``provider_plugin.go`` (``DiffRequest{OldInputs: mOldInputs,
        Olds: mOldOutputs, News: mNewInputs}``)."""
        request = provider_pb2.DiffRequest(
            id=id,
            urn=urn,
            olds=self._to_wire(olds),
            news=self._to_wire(news),
            name=_urn_name(urn),
            type=_urn_type(urn),
        )
        if old_inputs is not None:
            request.old_inputs.CopyFrom(self._to_wire(old_inputs))
        response = self._call("Diff", request)
        return DiffResponse(
            changes=_DIFF_CHANGES.get(response.changes, str(response.changes)),
            replaces=list(response.replaces),
            delete_before_replace=bool(response.deleteBeforeReplace),
        )

    def create(
        self, urn: str, properties: Mapping[str, Any], *, preview: bool = False
    ) -> tuple[str, dict[str, Any]]:
        """``Create`` with the checked inputs; returns ``(id, outputs)``. Outputs get the secret bit
        of same-named inputs. Note: the dynamic host ignores ``preview`` and really creates; the
        engine never calls it in a preview because the host does not claim ``supportsPreview``."""
        request = provider_pb2.CreateRequest(
            urn=urn,
            properties=self._to_wire(properties),
            preview=preview,
            name=_urn_name(urn),
            type=_urn_type(urn),
        )
        response = self._call("Create", request)
        outputs = annotate_secrets(from_wire(response.properties), properties)
        return response.id, outputs

    def read(
        self,
        id: str,
        urn: str,
        properties: Mapping[str, Any] | None,
        inputs: Mapping[str, Any] | None = None,
    ) -> ReadResponse:
        """``Read``. On refresh ``properties`` are the prior outputs (and ``inputs`` the prior
        inputs); on ``Resource.get`` the engine sends no properties and the given inputs; on an
        import it sends the id alone (both ``None``), which the Python host cannot serve
        (``KeyError: '__provider'``, pulumi issue 16175)."""
        request = provider_pb2.ReadRequest(id=id, urn=urn, name=_urn_name(urn), type=_urn_type(urn))
        if properties is not None:
            request.properties.CopyFrom(self._to_wire(properties))
        if inputs is not None:
            request.inputs.CopyFrom(self._to_wire(inputs))
        response = self._call("Read", request)
        outputs = annotate_secrets(from_wire(response.properties), properties or {})
        new_inputs: dict[str, Any] | None = None
        if response.HasField("inputs"):
            new_inputs = annotate_secrets(from_wire(response.inputs), inputs or {})
        return ReadResponse(id=response.id, outputs=outputs, inputs=new_inputs)

    def update(
        self,
        id: str,
        urn: str,
        olds: Mapping[str, Any],
        news: Mapping[str, Any],
        *,
        old_inputs: Mapping[str, Any] | None = None,
        preview: bool = False,
    ) -> dict[str, Any]:
        """``Update``: ``olds`` the prior outputs, ``news`` the checked new inputs. Returns the new
        outputs, with the secret bit of same-named ``news``."""
        request = provider_pb2.UpdateRequest(
            id=id,
            urn=urn,
            olds=self._to_wire(olds),
            news=self._to_wire(news),
            preview=preview,
            name=_urn_name(urn),
            type=_urn_type(urn),
        )
        if old_inputs is not None:
            request.old_inputs.CopyFrom(self._to_wire(old_inputs))
        response = self._call("Update", request)
        return annotate_secrets(from_wire(response.properties), news)

    def delete(
        self,
        id: str,
        urn: str,
        properties: Mapping[str, Any],
        *,
        old_inputs: Mapping[str, Any] | None = None,
    ) -> None:
        """``Delete``: ``properties`` are the prior outputs (they carry ``__provider``)."""
        request = provider_pb2.DeleteRequest(
            id=id,
            urn=urn,
            properties=self._to_wire(properties),
            name=_urn_name(urn),
            type=_urn_type(urn),
        )
        if old_inputs is not None:
            request.old_inputs.CopyFrom(self._to_wire(old_inputs))
        self._call("Delete", request)


def _json(value: Any) -> str:
    import json

    return json.dumps(unwrap(value))


def _urn_name(urn: str) -> str:
    return urn.rsplit("::", 1)[-1]


def _urn_type(urn: str) -> str:
    parts = urn.split("::")
    return parts[2].rsplit("$", 1)[-1] if len(parts) >= 4 else ""
