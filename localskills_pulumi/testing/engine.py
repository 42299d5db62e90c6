"""A mock monitor that plays the Pulumi engine for dynamic resources, and a program runner.

``pulumi.runtime.set_mocks`` runs a program without an engine, but its stock monitor neither calls
dynamic providers nor applies ``additional_secret_outputs``. :class:`EngineMonitor` sends every
dynamic resource (type ``pulumi-python:dynamic...``) through a real :class:`~.host.ProviderHost`
in the order the engine's step generator does (``pkg/resource/deploy/step_generator.go``):

- ``Check(olds=prior inputs or {}, news=program inputs)``; failures abort the resource.
- No prior state: ``Create`` (in a preview: nothing; the outputs are the checked inputs, so the
  rest read as unknown, as the engine does for a provider without ``supportsPreview``).
  An ``import_`` id: ``Read`` with the id alone, as the engine's import step does.
- Prior state: ``Diff(id, prior outputs, checked inputs)``. ``DIFF_NONE`` is a *same*;
  ``DIFF_SOME`` without replaces an ``Update``; replaces a replacement: a second ``Check`` with no
  olds, then create-before-delete (``Create`` now, ``Delete`` of the old resource in the delete
  phase at the end of the run) or, if ``delete_before_replace``, ``Delete`` then ``Create``.
  ``DIFF_UNKNOWN`` falls back to comparing old and new inputs, as the engine does.
- ``additionalSecretOutputs`` are made secret, and outputs whose same-named input was secret
  stay secret (see :mod:`.host`).
- Resources in state that the program did not register are deleted at the end of the run, in
  reverse order.

Everything else goes to ``mocks.new_resource`` / ``mocks.call`` as with the stock monitor.
:func:`run_program` runs a program against it the way the Python language host does, in a fresh
runtime each time, and returns the stack exports with their secretness.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import copy
import logging
import os
import runpy
import sys
import threading
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from google.protobuf import empty_pb2
from pulumi.runtime import config as runtime_config
from pulumi.runtime import rpc
from pulumi.runtime import settings as runtime_settings
from pulumi.runtime.mocks import (
    MockCallArgs,
    MockEngine,
    MockMonitor,
    MockResourceArgs,
    Mocks,
    MockSettings,
)
from pulumi.runtime.proto import resource_pb2
from pulumi.runtime.stack import run_in_stack
from pulumi.runtime.sync_await import _ensure_event_loop, _sync_await

from .host import (
    CheckResponse,
    ProviderHost,
    annotate_secrets,
    from_wire,
    is_secret,
    secret,
    unwrap,
)

__all__ = [
    "DYNAMIC_TYPE_PREFIX",
    "CheckFailedError",
    "EngineError",
    "EngineMonitor",
    "EngineState",
    "NoMocks",
    "ProgramResult",
    "ResourceState",
    "Step",
    "run_program",
]

DYNAMIC_TYPE_PREFIX = "pulumi-python:dynamic"
"""Types starting with this are served by the dynamic provider host."""

_STACK_TYPE = "pulumi:pulumi:Stack"

Step = tuple[str, str] | tuple[str, str, tuple[str, ...]]
"""One step the engine took, ``(op, urn)`` or, for a replacement, ``(op, urn, replace_keys)``.

Ops: ``"create"``, ``"same"``, ``"update"``, ``"replace"`` (the replacement was created; keys are
the diff's replaces), ``"delete-replaced"`` (the old instance of a replaced resource was deleted),
``"delete"``, ``"read"`` (``Resource.get`` / ``opts.id``), ``"discard"`` (a read resource no
longer read: dropped from state, nothing deleted), ``"import"``. In a preview the steps are the
ones planned; no Create/Update/Delete reaches the provider."""


class NoMocks(Mocks):
    """Mocks for a program whose every resource is dynamic: any other resource or any invoke
    is a test failure, not something to answer."""

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        raise AssertionError(f"unexpected resource {args.typ} {args.name!r}")

    def call(self, args: MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        raise AssertionError(f"unexpected call {args.token}")


class EngineError(Exception):
    """An error the engine reports for a resource, e.g. a read of a resource that is gone."""


class CheckFailedError(EngineError):
    """The provider's ``check`` returned failures; ``failures`` holds ``(property, reason)``."""

    def __init__(self, urn: str, failures: list[tuple[str, str]]) -> None:
        details = "; ".join(f"property {prop!r}: {reason}" for prop, reason in failures)
        super().__init__(f"error: {urn}: check failed: {details}")
        self.urn = urn
        self.failures = failures


@dataclass
class ResourceState:
    """What the engine keeps for one resource: ids, inputs and outputs, secrets kept as
    ``rpc.wrap_rpc_secret`` markers. ``external`` marks a resource read, not managed."""

    urn: str
    type: str
    id: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    external: bool = False


@dataclass
class EngineState:
    """The stack state between runs: per URN the resource (in registration order), and the steps
    taken by each run (``runs[-1]`` is the latest). Pass one to several monitors/runs so a second
    program run plans against the first one's state. Previews record steps but change nothing."""

    resources: dict[str, ResourceState] = field(default_factory=dict)
    runs: list[list[Step]] = field(default_factory=list)

    @property
    def last_steps(self) -> list[Step]:
        """The steps of the latest run (empty before any)."""
        return self.runs[-1] if self.runs else []


@dataclass
class ProgramResult:
    """What a program run produced.

    ``outputs``: the stack exports as the engine received them (``RegisterResourceOutputs`` on the
    root stack), secret ones as secret markers (test with :func:`.host.is_secret`), unknown ones
    (preview) as :data:`.host.UNKNOWN`. ``resources``: the registrations of this run by URN
    (``MockMonitor.ResourceRegistration(urn, id, state)``; for dynamic resources ``state`` is the
    outputs, secrets marked). ``steps``: the engine steps of this run.
    """

    outputs: dict[str, Any]
    resources: dict[str, MockMonitor.ResourceRegistration]
    steps: list[Step]


@dataclass
class _Run:
    project: str
    stack: str
    preview: bool
    config: dict[str, Any]
    secret_keys: frozenset[str]
    prior: dict[str, ResourceState]
    steps: list[Step] = field(default_factory=list)
    registered: dict[str, ResourceState] = field(default_factory=dict)
    seen: set[str] = field(default_factory=set)
    pending_replaced: dict[str, ResourceState] = field(default_factory=dict)
    stack_urn: str | None = None
    stack_outputs: dict[str, Any] = field(default_factory=dict)


def _is_dynamic(type_: str) -> bool:
    return type_.startswith(DYNAMIC_TYPE_PREFIX)


def _namespaced(key: str, project: str) -> str:
    return key if ":" in key else f"{project}:{key}"


def _mark_secret_outputs(outputs: dict[str, Any], keys: Collection[str]) -> dict[str, Any]:
    for key in keys:
        if key in outputs and not is_secret(outputs[key]):
            outputs[key] = secret(outputs[key])
    return outputs


class EngineMonitor(MockMonitor):
    """Sends dynamic resources (type ``pulumi-python:dynamic...``) through a real ProviderHost the
    way the engine does; everything else goes to ``mocks.new_resource``.

    ``config`` is stack config (keys may be namespaced, ``"localskills:apiToken"``; bare keys get
    the project's namespace at run time) and ``secret_config_keys`` its secret keys. The host is
    configured with the whole stack config once, before the first dynamic resource; the Python
    host caches each configured provider per process, so a host already configured with a
    different config is refused (start a new host instead). ``state`` is the stack state to plan
    against and to update (a new empty one by default). ``preview`` plans without changing
    anything. Thread-safe: the SDK calls monitors from worker threads; calls are serialized.

    Use with :func:`run_program`. With plain ``set_mocks(..., monitor=...)`` a run starts at the
    first registration; call :meth:`end_run` afterwards for the delete phase and the state update.
    """

    def __init__(
        self,
        mocks: Mocks,
        host: ProviderHost,
        *,
        config: Mapping[str, Any] | None = None,
        secret_config_keys: Collection[str] = (),
        preview: bool = False,
        state: EngineState | None = None,
    ) -> None:
        super().__init__(mocks)
        self.host = host
        self.config: dict[str, Any] = dict(config or {})
        self.secret_config_keys: set[str] = set(secret_config_keys)
        self.preview = preview
        self.state = state if state is not None else EngineState()
        self._lock = threading.RLock()
        self._run: _Run | None = None
        self._last_stack_outputs: dict[str, Any] = {}

    # -- runs --------------------------------------------------------------------------------

    def begin_run(
        self,
        *,
        project: str,
        stack: str,
        preview: bool | None = None,
        config: Mapping[str, Any] | None = None,
        secret_config_keys: Collection[str] = (),
    ) -> None:
        """Start a run (an update or a preview) against :attr:`state`. ``config`` and
        ``secret_config_keys`` are merged over the monitor's; bare keys get ``<project>:``."""
        merged = {**self.config, **(config or {})}
        secrets = {*self.secret_config_keys, *secret_config_keys}
        with self._lock:
            self.resources = {}
            self._run = _Run(
                project=project,
                stack=stack,
                preview=self.preview if preview is None else preview,
                config={_namespaced(k, project): v for k, v in merged.items()},
                secret_keys=frozenset(_namespaced(k, project) for k in secrets),
                prior=dict(self.state.resources),
            )

    @property
    def run_config(self) -> tuple[dict[str, Any], frozenset[str]]:
        """The namespaced stack config and secret keys of the current run."""
        run = self._current_run()
        return dict(run.config), run.secret_keys

    @property
    def stack_outputs(self) -> dict[str, Any]:
        """The stack exports registered in the current run, or in the last one once ended."""
        with self._lock:
            if self._run is not None:
                return dict(self._run.stack_outputs)
            return dict(self._last_stack_outputs)

    def _current_run(self) -> _Run:
        with self._lock:
            if self._run is None:
                self.begin_run(
                    project=runtime_settings.get_project(), stack=runtime_settings.get_stack()
                )
            assert self._run is not None
            return self._run

    def end_run(self, *, success: bool = True) -> list[Step]:
        """Finish the current run and return its steps.

        After a successful update: the delete phase (old instances of create-before-delete
        replacements and resources not registered this run, in reverse state order), then the
        state becomes exactly what was registered. After a failed run nothing is deleted and the
        state keeps prior resources plus what was registered. A preview changes nothing.
        """
        with self._lock:
            run = self._run
            if run is None:  # no run in progress: nothing to finish (and nothing to delete)
                return []
            error: BaseException | None = None
            if success:
                try:
                    self._delete_phase(run)
                except BaseException as e:  # re-raised after the state is saved
                    error = e
            if not run.preview:
                if success and error is None:
                    self.state.resources = dict(run.registered)
                else:
                    kept = {u: r for u, r in run.prior.items() if u not in run.registered}
                    self.state.resources = {**kept, **run.registered}
            self.state.runs.append(list(run.steps))
            steps = list(run.steps)
            self._last_stack_outputs = dict(run.stack_outputs)
            self._run = None
        if error is not None:
            raise error
        return steps

    def _delete_phase(self, run: _Run) -> None:
        for urn in reversed(list(run.prior)):
            old = run.prior[urn]
            if urn in run.pending_replaced:
                replaced = run.pending_replaced.pop(urn)
                if not run.preview:
                    self.host.delete(replaced.id, urn, replaced.outputs, old_inputs=replaced.inputs)
                run.steps.append(("delete-replaced", urn))
            elif urn not in run.seen:
                if old.external:
                    run.steps.append(("discard", urn))
                    continue
                if not run.preview:
                    self._ensure_configured(run)
                    self.host.delete(old.id, urn, old.outputs, old_inputs=old.inputs)
                # Deleted: drop it from what a failure would keep.
                run.prior = {u: r for u, r in run.prior.items() if u != urn}
                run.steps.append(("delete", urn))

    def _ensure_configured(self, run: _Run) -> None:
        wanted = (run.config, run.secret_keys)
        if self.host.configured_with is None:
            self.host.configure(run.config, run.secret_keys)
        elif self.host.configured_with != wanted:
            raise EngineError(
                "the provider host was already configured with a different stack config; the "
                "Python dynamic host configures each provider once per process, so start a new "
                f"ProviderHost for this config (had {self.host.configured_with!r}, "
                f"want {wanted!r})"
            )

    # -- the resource monitor ----------------------------------------------------------------

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        """The URN the engine gives a resource: the parent's type is prefixed, except for the
        root stack (the stock mock monitor prefixes ``pulumi:pulumi:Stack$`` too)."""
        if parent and parent.split("::")[2].rsplit("$", 1)[-1] == _STACK_TYPE:
            parent = ""
        return super().make_urn(parent, type_, name)

    def RegisterResource(self, request: Any) -> Any:
        """Register a resource: dynamic ones through the provider host, the rest via mocks."""
        if request.type == _STACK_TYPE or not _is_dynamic(request.type):
            with self._lock:
                response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
                if request.type == _STACK_TYPE:
                    self._current_run().stack_urn = response.urn
            return response

        _ensure_event_loop()  # type: ignore[no-untyped-call]
        urn = self.make_urn(request.parent, request.type, request.name)
        news = from_wire(request.object)
        with self._lock:
            run = self._current_run()
            self._ensure_configured(run)
            id_, outputs = self._register_dynamic(run, urn, request, news)
            self.resources[urn] = MockMonitor.ResourceRegistration(urn, id_, outputs)
        obj = _sync_await(rpc.serialize_properties(outputs, {}))
        return resource_pb2.RegisterResourceResponse(urn=urn, id=id_, object=obj)

    def _check(self, urn: str, olds: Mapping[str, Any], news: Mapping[str, Any]) -> CheckResponse:
        checked = self.host.check(urn, olds, news)
        if checked.failures:
            raise CheckFailedError(urn, checked.failures)
        return checked

    def _register_dynamic(
        self, run: _Run, urn: str, request: Any, news: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        run.seen.add(urn)
        old = run.prior.get(urn)
        if old is not None and old.external:
            old = None
        secret_outputs = list(request.additionalSecretOutputs)

        if request.importId and old is None:
            return self._import(run, urn, request, news, secret_outputs)

        inputs = self._check(urn, old.inputs if old is not None else {}, news).inputs

        if old is None:
            id_, outputs = self._create(run, urn, inputs)
            run.steps.append(("create", urn))
        else:
            diff = self.host.diff(old.id, urn, old.outputs, inputs, old_inputs=old.inputs)
            changes = diff.changes
            if changes == "DIFF_UNKNOWN" and not diff.replaces:
                # The engine's fallback when a provider cannot tell: compare the inputs.
                changes = "DIFF_SOME" if unwrap(old.inputs) != unwrap(inputs) else "DIFF_NONE"
            if diff.replaces:
                dbr = diff.delete_before_replace
                if request.deleteBeforeReplaceDefined:
                    dbr = bool(request.deleteBeforeReplace)
                # The engine checks again, without olds, before replacing.
                inputs = self._check(urn, {}, news).inputs
                if dbr:
                    if not run.preview:
                        self.host.delete(old.id, urn, old.outputs, old_inputs=old.inputs)
                    run.steps.append(("delete-replaced", urn))
                    # Deleted: a failure from here on must not keep it in state.
                    run.prior = {u: r for u, r in run.prior.items() if u != urn}
                else:
                    run.pending_replaced[urn] = old
                id_, outputs = self._create(run, urn, inputs)
                run.steps.append(("replace", urn, tuple(diff.replaces)))
            elif changes == "DIFF_SOME":
                if run.preview:
                    id_, outputs = old.id, dict(inputs)
                else:
                    id_ = old.id
                    outputs = self.host.update(
                        old.id, urn, old.outputs, inputs, old_inputs=old.inputs
                    )
                run.steps.append(("update", urn))
            else:
                id_, outputs = old.id, annotate_secrets(copy.deepcopy(old.outputs), inputs)
                run.steps.append(("same", urn))

        outputs = _mark_secret_outputs(outputs, secret_outputs)
        if not run.preview:
            run.registered[urn] = ResourceState(urn, request.type, id_, inputs, outputs)
        return id_, outputs

    def _create(self, run: _Run, urn: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        if run.preview and not self.host.supports_preview:
            # What the engine does for a provider without supportsPreview: the checked inputs
            # stand for the outputs, so anything else reads as unknown in the program.
            return "", dict(inputs)
        return self.host.create(urn, inputs, preview=run.preview)

    def _import(
        self, run: _Run, urn: str, request: Any, news: dict[str, Any], secret_outputs: list[str]
    ) -> tuple[str, dict[str, Any]]:
        # The engine's import step reads with the id alone: no properties, no inputs. The Python
        # host then fails with KeyError '__provider' (pulumi issue 16175).
        read = self.host.read(request.importId, urn, None, None)
        if not read.id:
            raise EngineError(f"resource '{request.importId}' does not exist")
        read_inputs = read.inputs if read.inputs is not None else read.outputs
        inputs = self._check(urn, read_inputs, news).inputs
        diff = self.host.diff(read.id, urn, read.outputs, inputs, old_inputs=read_inputs)
        if diff.changes == "DIFF_SOME" or diff.replaces:
            raise EngineError(
                f"{urn}: inputs to import do not match the existing resource; "
                "importing this resource will fail"
            )
        outputs = _mark_secret_outputs(dict(read.outputs), secret_outputs)
        run.steps.append(("import", urn))
        if not run.preview:
            run.registered[urn] = ResourceState(urn, request.type, read.id, inputs, outputs)
        return read.id, outputs

    def ReadResource(self, request: Any) -> Any:
        """``Resource.get`` / ``opts.id``: dynamic ones via the host's Read (no properties, the
        given inputs), the rest via mocks."""
        if not _is_dynamic(request.type):
            with self._lock:
                return super().ReadResource(request)  # type: ignore[no-untyped-call]

        _ensure_event_loop()  # type: ignore[no-untyped-call]
        urn = self.make_urn(request.parent, request.type, request.name)
        props = from_wire(request.properties)
        with self._lock:
            run = self._current_run()
            self._ensure_configured(run)
            read = self.host.read(request.id, urn, None, inputs=props)
            if not read.id:
                raise EngineError(f"resource '{request.id}' does not exist")
            outputs = _mark_secret_outputs(dict(read.outputs), request.additionalSecretOutputs)
            run.seen.add(urn)
            run.steps.append(("read", urn))
            if not run.preview:
                inputs = read.inputs if read.inputs is not None else props
                run.registered[urn] = ResourceState(
                    urn, request.type, read.id, inputs, outputs, external=True
                )
            self.resources[urn] = MockMonitor.ResourceRegistration(urn, read.id, outputs)
        obj = _sync_await(rpc.serialize_properties(outputs, {}))
        return resource_pb2.ReadResourceResponse(urn=urn, properties=obj, id=read.id)

    def RegisterResourceOutputs(self, request: Any) -> Any:
        """Capture the root stack's outputs (the exports); ignore components'."""
        with self._lock:
            run = self._current_run()
            if request.urn == run.stack_urn:
                run.stack_outputs = from_wire(request.outputs)
        return empty_pb2.Empty()


def _program_callable(
    program: str | os.PathLike[str] | Callable[[], Any],
) -> Callable[[], Any]:
    if callable(program):
        return program
    path = Path(program)
    if path.is_dir():
        path = path / "__main__.py"
    path = path.resolve()
    if not path.is_file():
        raise FileNotFoundError(f"no Pulumi program at {path}")
    directory = path.parent

    def run() -> None:
        old_cwd = os.getcwd()
        old_sys_path = list(sys.path)
        old_modules = set(sys.modules)
        sys.path.insert(0, str(directory))
        os.chdir(directory)
        try:
            runpy.run_path(str(path), run_name="__main__")
        finally:
            os.chdir(old_cwd)
            sys.path[:] = old_sys_path
            # Forget the program's own modules so another program may use the same names.
            for name in set(sys.modules) - old_modules:
                module_file = getattr(sys.modules[name], "__file__", None) or ""
                if module_file and Path(module_file).resolve().is_relative_to(directory):
                    del sys.modules[name]

    return run


def _run_in_fresh_runtime(
    program: Callable[[], Any],
    monitor: EngineMonitor,
    *,
    project: str,
    stack: str,
    preview: bool,
    organization: str,
    logger: logging.Logger | None,
) -> None:
    # What set_mocks does, minus its Stack: run_in_stack below makes the root stack, as the
    # language host does, so that exports reach the monitor through RegisterResourceOutputs.
    runtime_settings.ROOT.set(None)
    features = set(monitor.GetDeploymentInfo(empty_pb2.Empty()).supportedFeatures)  # type: ignore[no-untyped-call]
    settings = MockSettings(  # type: ignore[no-untyped-call]
        monitor=monitor,
        monitor_features=features,
        engine=MockEngine(logger),
        project=project,
        stack=stack,
        dry_run=preview,
        organization=organization,
        callbacks=None,
        parallel=None,
        legacy_apply_enabled=os.getenv("PULUMI_ENABLE_LEGACY_APPLY", "false") == "true",
        outputs=set(),
        lock=threading.Lock(),
        package_refs={},
        base_providers_by_ref={},
    )
    runtime_settings.configure(settings)
    config, secret_keys = monitor.run_config
    program_config = {k: _config_string(v) for k, v in config.items()}
    runtime_config.set_all_config(program_config, list(secret_keys))

    async def main() -> None:
        result = program()
        if isinstance(result, Awaitable):
            await result

    loop = asyncio.new_event_loop()
    loop.set_exception_handler(_quiet_unobserved)
    asyncio.set_event_loop(loop)
    try:
        loop.run_until_complete(run_in_stack(main))
    finally:
        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        for task in pending:
            with contextlib.suppress(BaseException):
                loop.run_until_complete(task)
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.run_until_complete(loop.shutdown_default_executor())
        asyncio.set_event_loop(None)
        loop.close()


def _quiet_unobserved(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    # A failed registration fails every output of the resource; the futures nobody awaited
    # would each log the same error when collected. run_program re-raises it once instead
    # (the language host mutes these too, by silencing the asyncio logger).
    if str(context.get("message", "")).endswith("exception was never retrieved"):
        return
    loop.default_exception_handler(context)


def _config_string(value: Any) -> str:
    if isinstance(value, str):
        return value
    import json

    return json.dumps(value)


def run_program(
    program: str | os.PathLike[str] | Callable[[], Any],
    *,
    monitor: EngineMonitor,
    project: str,
    stack: str = "dev",
    config: Mapping[str, Any] | None = None,
    secret_config_keys: Collection[str] = (),
    preview: bool | None = None,
    organization: str = "organization",
    logger: logging.Logger | None = None,
) -> ProgramResult:
    """Run a Pulumi program against ``monitor`` as the engine and the Python language host would.

    ``program`` is a callable (its return value may be awaitable), or the path of a program's
    ``__main__.py`` (or its directory), run with ``runpy.run_path`` as ``__main__`` with its
    directory first on ``sys.path`` and as the working directory. ``config`` (bare keys get the
    ``<project>:`` namespace) is merged over the monitor's; it is what ``pulumi.Config`` reads in
    the program and what the provider host is configured with. ``preview`` defaults to the
    monitor's.

    The program runs in a thread of its own, in a copy of the caller's context, with a fresh
    runtime (settings, root stack, config, event loop), so nothing leaks between runs and several
    programs may run in one test process. Errors (the program's, a provider's
    :class:`~.host.ProviderError`, a :class:`CheckFailedError`) are re-raised after the run is
    recorded in ``monitor.state``.
    """
    func = _program_callable(program)
    monitor.begin_run(
        project=project,
        stack=stack,
        preview=preview,
        config=config,
        secret_config_keys=secret_config_keys,
    )
    run_preview = monitor.preview if preview is None else preview
    errors: list[BaseException] = []
    ctx = contextvars.copy_context()

    def target() -> None:
        try:
            ctx.run(
                _run_in_fresh_runtime,
                func,
                monitor,
                project=project,
                stack=stack,
                preview=run_preview,
                organization=organization,
                logger=logger,
            )
        except BaseException as e:  # re-raised in the caller's thread
            errors.append(e)

    thread = threading.Thread(target=target, name=f"pulumi-program-{project}-{stack}")
    thread.start()
    thread.join()
    steps = monitor.end_run(success=not errors)
    if errors:
        raise errors[0]
    return ProgramResult(
        outputs=monitor.stack_outputs,
        resources=monitor.get_registered_resources(),
        steps=steps,
    )
