"""The engine's side of the provider gRPC protocol: calls a provider as the engine's provider client
(``sdk/go/common/resource/plugin/provider_plugin.go``) does.

It uses the SDK's generated stubs and serializes properties with
``pulumi.runtime.rpc.serialize_properties``. Like the engine, it strips secrets from every
property bag sent to a provider that answered ``Configure`` with ``acceptSecrets: False`` (the
dynamic host does), and puts the secret bit back afterwards on any returned property whose
same-named input was secret (``annotateSecrets``).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Collection, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import grpc
from pulumi.runtime import rpc
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from ..errors import LocalskillsError
from .wire import annotate_secrets, config_string, from_wire, secret, strip_secrets

__all__ = [
    "CheckResponse",
    "DiffResponse",
    "ProviderClient",
    "ProviderError",
    "ReadResponse",
]

T = TypeVar("T")

_DIFF_CHANGES = {
    provider_pb2.DiffResponse.DIFF_UNKNOWN: "DIFF_UNKNOWN",
    provider_pb2.DiffResponse.DIFF_NONE: "DIFF_NONE",
    provider_pb2.DiffResponse.DIFF_SOME: "DIFF_SOME",
}


class ProviderError(LocalskillsError):
    """A gRPC error answered by the provider.

    ``details`` holds the provider's text: for an exception raised in a dynamic provider's
    method, its full traceback (the host aborts the call with ``traceback.format_exc()``).
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
    ``DIFF_UNKNOWN`` when the provider's ``diff`` left ``changes`` as ``None``). ``changed_keys``
    are the response's ``diffs``, which the dynamic host never sets.
    """

    changes: str
    replaces: list[str]
    delete_before_replace: bool
    changed_keys: list[str] = field(default_factory=list)


@dataclass
class ReadResponse:
    """The answer to ``Read``. An empty ``id`` means the resource is gone. ``inputs`` is ``None``
    unless the provider returned ``ReadResult.inputs``."""

    id: str
    outputs: dict[str, Any]
    inputs: dict[str, Any] | None


class ProviderClient:
    """Calls one provider over gRPC. Thread-safe: gRPC channels are, and the engine makes several
    calls at once (a dynamic host serves 4)."""

    def __init__(self, *, rpc_timeout: float = 120.0) -> None:
        self.rpc_timeout = rpc_timeout
        self.accept_secrets: bool | None = None
        """What the provider answered to ``Configure`` (the dynamic host says ``False``)."""
        self.supports_preview: bool = False
        """What the provider answered to ``Configure`` (the dynamic host leaves it ``False``)."""
        self.configured_with: tuple[dict[str, Any], frozenset[str]] | None = None
        """The config and secret keys of the last :meth:`configure` call."""
        self._channel: Any = None
        self._stub: Any = None
        self._loop_lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- connection --------------------------------------------------------------------------

    def connect(self, address: str, timeout: float) -> None:
        """Open a channel to ``address`` (``host:port``) and wait until it is ready."""
        self._channel = grpc.insecure_channel(address)
        try:
            grpc.channel_ready_future(self._channel).result(timeout=timeout)
        except grpc.FutureTimeoutError:
            self.close()
            raise RuntimeError(f"could not connect to the provider at {address}") from None
        self._stub = provider_pb2_grpc.ResourceProviderStub(self._channel)

    def close(self) -> None:
        """Close the channel and the private event loop. Idempotent."""
        if self._channel is not None:
            self._channel.close()
            self._channel = None
            self._stub = None
        with self._loop_lock:
            if self._loop is not None:
                self._loop.close()
                self._loop = None

    # -- plumbing ----------------------------------------------------------------------------

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine on a private event loop (the client may be called from any thread)."""
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
            raise RuntimeError("the provider host is not started (or its client not connected)")
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
        variables = {k: config_string(v) for k, v in config.items()}
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
        ignore_changes: Sequence[str] = (),
    ) -> DiffResponse:
        """``Diff``. ``olds`` are the resource's **prior outputs** (state), ``news`` the checked new
        inputs; ``old_inputs`` the prior inputs and ``ignore_changes`` the resource option, which
        the engine also sends and the Python host ignores. Source: ``provider_plugin.go``
        (``DiffRequest{OldInputs: mOldInputs, Olds: mOldOutputs, News: mNewInputs}``)."""
        request = provider_pb2.DiffRequest(
            id=id,
            urn=urn,
            olds=self._to_wire(olds),
            news=self._to_wire(news),
            name=_urn_name(urn),
            type=_urn_type(urn),
            ignoreChanges=list(ignore_changes),
        )
        if old_inputs is not None:
            request.old_inputs.CopyFrom(self._to_wire(old_inputs))
        response = self._call("Diff", request)
        return DiffResponse(
            changes=_DIFF_CHANGES.get(response.changes, str(response.changes)),
            replaces=list(response.replaces),
            delete_before_replace=bool(response.deleteBeforeReplace),
            changed_keys=list(response.diffs),
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
        """``Read``. On refresh ``properties`` are the prior outputs and ``inputs`` the prior
        inputs (``step.go`` ``RefreshStep.Apply``); on ``Resource.get`` the engine sends the given
        inputs as both (``ReadStep.Apply``); on an import it sends the id alone (both ``None``),
        which the Python host cannot serve (``KeyError: '__provider'``, pulumi issue 16175)."""
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


def _urn_name(urn: str) -> str:
    return urn.rsplit("::", 1)[-1]


def _urn_type(urn: str) -> str:
    parts = urn.split("::")
    return parts[2].rsplit("$", 1)[-1] if len(parts) >= 4 else ""
