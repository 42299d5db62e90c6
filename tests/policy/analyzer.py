"""A Python policy pack, started and called over the analyzer gRPC protocol as the Pulumi CLI does.

How the CLI runs a Python policy pack (pulumi/pulumi v3.259):

- ``sdk/go/common/resource/plugin/analyzer_plugin.go`` ``NewPolicyAnalyzer`` asks the Python
  language host to ``RunPlugin`` the pack; ``sdk/python/cmd/pulumi-language-python/main.go``
  ``RunPlugin`` then runs ``python -u -m pulumi.policy <engine address> <pack directory>`` in the
  pack's directory, with ``PULUMI_ORGANIZATION``, ``PULUMI_PROJECT``, ``PULUMI_STACK``,
  ``PULUMI_DRY_RUN`` (``true``/``false``) and ``PULUMI_CONFIG`` (the stack config as JSON)
  added to the environment. The pack prints its port on stdout.
- The language host's policy proxy (``sdk/policy_proxy.go``) answers ``Handshake`` itself and
  forwards the engine's ``ConfigureStack`` to the pack; everything else is passed through.
- ``pkg/engine/update.go`` then calls ``GetAnalyzerInfo``, reconciles the policy config
  (``pkg/resource/analyzer/config.go`` ``ReconcilePolicyPackConfig``: schema defaults, then the
  pack's initial config, then ``--policy-pack-config``) and sends it with ``Configure``.
- For each resource, after the provider's ``Check``, ``pkg/resource/deploy/step_generator.go``
  calls ``Analyze`` with the **checked inputs**, marshalled with ``KeepUnknowns``,
  ``KeepSecrets`` and ``SkipInternalKeys`` (so ``__provider``, like every top-level key starting
  with ``__``, is left out), the resource options and the resource's provider.

:class:`PolicyPackProcess` does exactly that; the gRPC stubs are the SDK's own
(``pulumi.runtime.proto.analyzer_pb2_grpc``). The one thing left out is the CLI's JSON-schema
validation of the reconciled config.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from concurrent import futures
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import grpc
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime import rpc
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc, engine_pb2_grpc, plugin_pb2
from pulumi.runtime.sync_await import _sync_await

from localskills_pulumi.testing.process import PluginProcess

ROOT = Path(__file__).resolve().parents[2]
POLICY_PACK = ROOT / "policy"

_LEVELS = {
    "advisory": analyzer_pb2.ADVISORY,
    "mandatory": analyzer_pb2.MANDATORY,
    "remediate": analyzer_pb2.REMEDIATE,
    "disabled": analyzer_pb2.DISABLED,
}
_LEVEL_NAMES = {number: name for name, number in _LEVELS.items()}


@dataclass(frozen=True)
class Diagnostic:
    """One policy violation as the engine receives it."""

    policy_name: str
    message: str
    enforcement_level: str
    """``advisory``, ``mandatory``, ``remediate`` or ``disabled``."""
    policy_pack_name: str
    description: str


@dataclass(frozen=True)
class AnalyzeResult:
    """The answer to ``Analyze``: the violations, and the policies that did not apply."""

    diagnostics: list[Diagnostic]
    not_applicable: dict[str, str]
    """Policy name -> reason."""

    def by_policy(self, name: str) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.policy_name == name]


@dataclass
class PolicyConfig:
    """One policy's reconciled config: an enforcement level and properties."""

    enforcement_level: str
    properties: dict[str, Any] | None = None


@dataclass
class ResourceOptions:
    """What the engine sends as ``AnalyzerResourceOptions`` (``marshalResourceOptions``)."""

    parent: str = ""
    protect: bool = False
    additional_secret_outputs: list[str] = field(default_factory=list)
    delete_before_replace: bool | None = None


@dataclass
class ProviderResource:
    """The resource's provider, as the engine sends it (``marshalProvider``)."""

    urn: str
    type: str
    name: str
    properties: dict[str, Any] = field(default_factory=dict)


def default_provider(package: str, project: str, stack: str) -> ProviderResource:
    """The default provider of a package, as the engine registers it: no inputs when the stack
    config has none for the package (the dynamic provider, ``pulumi-python``, has none)."""
    type_ = f"pulumi:providers:{package}"
    return ProviderResource(f"urn:pulumi:{stack}::{project}::{type_}::default", type_, "default")


def analyzer_properties(properties: Mapping[str, Any]) -> struct_pb2.Struct:
    """``plugin.MarshalProperties(props, KeepUnknowns, KeepSecrets, SkipInternalKeys)``: top-level
    keys starting with ``__`` are dropped; secret markers (``rpc.wrap_rpc_secret``) and unknowns
    (``rpc.UNKNOWN``) are kept in their wire forms."""
    kept = {k: v for k, v in properties.items() if not k.startswith("__")}
    struct: struct_pb2.Struct = _sync_await(rpc.serialize_properties(kept, {}))
    return struct


def reconcile_config(
    info: analyzer_pb2.AnalyzerInfo, config_file: Mapping[str, Any] | None
) -> dict[str, PolicyConfig]:
    """The config the CLI sends with ``Configure``: every policy's schema defaults and enforcement
    level, then the pack's initial config, then ``config_file`` (the JSON of
    ``--policy-pack-config``: per policy, an enforcement level string or an object of properties
    with an optional ``enforcementLevel``; ``all`` sets every policy's level). A port of
    ``ReconcilePolicyPackConfig`` and ``LoadPolicyPackConfigFromFile``, without the schema check."""
    result: dict[str, PolicyConfig] = {}
    for policy in info.policies:
        schema = json_format.MessageToDict(policy.configSchema.properties)
        defaults = {k: v["default"] for k, v in schema.items() if "default" in v}
        result[policy.name] = PolicyConfig(_LEVEL_NAMES[policy.enforcementLevel], defaults or None)
    initial = {
        # convertPolicyConfig: the level is read as sent (an unset enum is advisory).
        name: PolicyConfig(
            _LEVEL_NAMES[value.enforcementLevel],
            json_format.MessageToDict(value.properties) or None,
        )
        for name, value in info.initialConfig.items()
    }
    _apply_config(result, initial)
    if config_file is not None:
        _apply_config(result, _parse_config_file(config_file))
    return result


def _parse_config_file(config: Mapping[str, Any]) -> dict[str, PolicyConfig]:
    parsed: dict[str, PolicyConfig] = {}
    for name, value in config.items():
        if isinstance(value, str):
            if value not in _LEVELS:
                raise ValueError(f"parsing enforcement level for {name!r}: {value!r} is not valid")
            parsed[name] = PolicyConfig(value)
        elif isinstance(value, Mapping):
            properties = dict(value)
            level = properties.pop("enforcementLevel", "")
            if level and level not in _LEVELS:
                raise ValueError(f"parsing enforcement level for {name!r}: {level!r} is not valid")
            if level or properties:
                parsed[name] = PolicyConfig(level, properties or None)
        else:
            raise ValueError(f"parsing {name!r}: must be a string or object, got {value!r}")
    return parsed


def _apply_config(result: dict[str, PolicyConfig], given: Mapping[str, PolicyConfig]) -> None:
    everything = given.get("all")
    if everything is not None and everything.enforcement_level in _LEVELS:
        for config in result.values():
            config.enforcement_level = everything.enforcement_level
    for name, config in given.items():
        current = result.get(name, PolicyConfig(""))
        level = config.enforcement_level or current.enforcement_level
        properties = dict(current.properties) if current.properties is not None else None
        if config.properties:
            properties = {**(properties or {}), **config.properties}
        result[name] = PolicyConfig(level, properties)


class _RecordingEngine(engine_pb2_grpc.EngineServicer):
    """The engine's gRPC service, whose address a plugin gets as its first argument: here it
    records log messages and answers nothing else."""

    def __init__(self) -> None:
        self.logs: list[tuple[int, str]] = []

    def Log(self, request: Any, context: Any) -> empty_pb2.Empty:
        self.logs.append((request.severity, request.message))
        return empty_pb2.Empty()


class PolicyPackProcess:
    """A policy pack running as the CLI runs it, called over gRPC as the engine calls it.

    ``stack_config`` is the stack's config (namespaced keys, string values) that the CLI puts in
    ``PULUMI_CONFIG``; ``dry_run`` is true for ``pulumi preview``.
    """

    def __init__(
        self,
        pack: Path = POLICY_PACK,
        *,
        project: str = "project",
        stack: str = "dev",
        organization: str = "organization",
        dry_run: bool = True,
        stack_config: Mapping[str, str] | None = None,
        start_timeout: float = 60.0,
        rpc_timeout: float = 60.0,
    ) -> None:
        self.pack = pack.resolve()
        self.project = project
        self.stack = stack
        self.organization = organization
        self.dry_run = dry_run
        self.stack_config = dict(stack_config or {})
        self.start_timeout = start_timeout
        self.rpc_timeout = rpc_timeout
        self.engine = _RecordingEngine()
        self._engine_server: Any = None
        self._plugin: PluginProcess | None = None
        self._channel: Any = None
        self._stub: Any = None
        self.configured: dict[str, PolicyConfig] | None = None
        self.info: analyzer_pb2.AnalyzerInfo | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def command(self, engine_address: str) -> list[str]:
        """``RunPlugin`` for an analyzer: ``python -u -m pulumi.policy <engine> <pack dir>``."""
        return [sys.executable, "-u", "-m", "pulumi.policy", engine_address, str(self.pack)]

    def environment(self) -> dict[str, str]:
        """The CLI's environment plus what ``RunPlugin`` adds for a policy pack."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("PULUMI_")}
        env.update(
            PULUMI_ORGANIZATION=self.organization,
            PULUMI_PROJECT=self.project,
            PULUMI_STACK=self.stack,
            PULUMI_DRY_RUN="true" if self.dry_run else "false",
        )
        if self.stack_config:
            env["PULUMI_CONFIG"] = json.dumps(self.stack_config)
        return env

    def start(self) -> PolicyPackProcess:
        """Start the pack, read its port, connect, and forward the stack configuration."""
        self._engine_server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
        engine_pb2_grpc.add_EngineServicer_to_server(self.engine, self._engine_server)
        engine_port = self._engine_server.add_insecure_port("127.0.0.1:0")
        self._engine_server.start()

        self._plugin = PluginProcess(
            self.command(f"127.0.0.1:{engine_port}"),
            env=self.environment(),
            cwd=self.pack,
            name="policy pack",
            start_timeout=self.start_timeout,
            stop_timeout=10.0,
        )
        try:
            port = self._plugin.start_process()
        except RuntimeError:
            self.stop()
            raise
        self._channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        grpc.channel_ready_future(self._channel).result(timeout=self.start_timeout)
        self._stub = analyzer_pb2_grpc.AnalyzerStub(self._channel)
        self._call(
            "ConfigureStack",
            analyzer_pb2.AnalyzerStackConfigureRequest(
                stack=self.stack,
                project=self.project,
                organization=self.organization,
                dry_run=self.dry_run,
                config=self.stack_config,
            ),
        )
        return self

    def stop(self) -> None:
        """Close the channel, end the pack (terminate, then kill) and the engine server."""
        if self._channel is not None:
            self._channel.close()
            self._channel = self._stub = None
        if self._plugin is not None:
            self._plugin.stop_process()
        if self._engine_server is not None:
            self._engine_server.stop(None)
            self._engine_server = None

    def close(self) -> None:
        """:meth:`stop`; what the pack wrote to stderr stays readable."""
        self.stop()

    def __enter__(self) -> PolicyPackProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def stderr_text(self) -> str:
        """What the pack wrote to stderr so far."""
        return self._plugin.stderr_text() if self._plugin is not None else ""

    def _call(self, method: str, request: Any) -> Any:
        if self._stub is None:
            raise RuntimeError("the policy pack is not running")
        return getattr(self._stub, method)(request, timeout=self.rpc_timeout)

    # -- the analyzer protocol ---------------------------------------------------------------

    def get_analyzer_info(self) -> analyzer_pb2.AnalyzerInfo:
        self.info = self._call("GetAnalyzerInfo", empty_pb2.Empty())
        return self.info

    def get_plugin_info(self) -> plugin_pb2.PluginInfo:
        info: plugin_pb2.PluginInfo = self._call("GetPluginInfo", empty_pb2.Empty())
        return info

    def configure(self, config_file: Mapping[str, Any] | None = None) -> dict[str, PolicyConfig]:
        """``GetAnalyzerInfo``, then ``Configure`` with the config reconciled as the CLI does
        from ``config_file`` (the contents of ``--policy-pack-config``). Returns what was sent."""
        info = self.get_analyzer_info()
        if not info.supportsConfig:
            raise RuntimeError("the policy pack does not support config")
        config = reconcile_config(info, config_file)
        request = analyzer_pb2.ConfigureAnalyzerRequest()
        for name, value in config.items():
            if value.enforcement_level not in _LEVELS:
                raise ValueError(
                    f"invalid enforcement level {value.enforcement_level!r} for {name}"
                )
            entry = request.policyConfig[name]
            entry.enforcementLevel = _LEVELS[value.enforcement_level]
            if value.properties:
                entry.properties.update(value.properties)
            else:
                entry.properties.Clear()
        self._call("Configure", request)
        self.configured = config
        return config

    def analyze(
        self,
        urn: str,
        properties: Mapping[str, Any],
        *,
        options: ResourceOptions | None = None,
        provider: ProviderResource | None = None,
    ) -> AnalyzeResult:
        """``Analyze`` one resource: ``properties`` are its checked inputs as the engine holds
        them (``__provider`` included; it is dropped on the way, as the engine drops it)."""
        parts = urn.split("::")
        type_, name = parts[2].rsplit("$", 1)[-1], parts[3]
        options = options or ResourceOptions()
        request = analyzer_pb2.AnalyzeRequest(
            urn=urn,
            type=type_,
            name=name,
            properties=analyzer_properties(properties),
            options=analyzer_pb2.AnalyzerResourceOptions(
                protect=options.protect,
                deleteBeforeReplace=bool(options.delete_before_replace),
                deleteBeforeReplaceDefined=options.delete_before_replace is not None,
                additionalSecretOutputs=options.additional_secret_outputs,
                customTimeouts=analyzer_pb2.AnalyzerResourceOptions.CustomTimeouts(),
                parent=options.parent,
            ),
        )
        if provider is not None:
            request.provider.CopyFrom(
                analyzer_pb2.AnalyzerProviderResource(
                    urn=provider.urn,
                    type=provider.type,
                    name=provider.name,
                    properties=analyzer_properties(provider.properties),
                )
            )
        response = self._call("Analyze", request)
        return AnalyzeResult(
            diagnostics=[
                Diagnostic(
                    policy_name=d.policyName,
                    message=d.message,
                    enforcement_level=_LEVEL_NAMES[d.enforcementLevel],
                    policy_pack_name=d.policyPackName,
                    description=d.description,
                )
                for d in response.diagnostics
            ],
            not_applicable={n.policy_name: n.reason for n in response.not_applicable},
        )
