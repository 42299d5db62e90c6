"""A stand-in for the Pulumi engine: a mock monitor that plays the engine for dynamic resources,
and the CLI's operations (``up``, ``preview``, ``refresh``, ``destroy``) on a stack state.

``pulumi.runtime.set_mocks`` runs a program without an engine, but its stock monitor neither calls
dynamic providers nor applies ``additional_secret_outputs``. :class:`EngineMonitor` sends every
dynamic resource (type ``pulumi-python:dynamic...``) through a real provider host
(``python -m pulumi.dynamic``, :mod:`.host`) in the engine's order; :mod:`.deployment` holds the
rules, each traced to Pulumi's Go source. Everything else goes to ``mocks.new_resource`` /
``mocks.call`` as with the stock monitor.

What it models: ``Check``/``Diff``/``Create``/``Update``/``Delete`` with create-before-delete and
delete-before-replace replacement; ``refresh`` (Read, drift Diff) alone or before an ``up``;
``--replace`` and ``pulumi state taint``; ``replace_on_changes``, ``replacement_trigger``,
``ignore_changes``, ``protect``, ``retain_on_delete``, ``delete_before_replace``; a failed run
leaving the replaced instance pending deletion for the next run; ``destroy``; ``Resource.get``;
previews; ``additional_secret_outputs`` and the engine's secret bookkeeping; one provider host
process per run configured with that run's config (the last ``up``'s for ``refresh`` and
``destroy``); concurrent provider calls. What it does not: see ``docs/testing.md``.

:func:`run_program` runs a program against a monitor the way the Python language host does, in a
fresh runtime each time, and returns the stack exports with their secretness; :func:`run_refresh`
and :func:`run_destroy` are the program-less operations. :class:`~.stack.Stack` wraps them all.
"""

from __future__ import annotations

import contextvars
import logging
import os
import threading
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime import MockCallArgs, MockResourceArgs, Mocks, rpc
from pulumi.runtime.proto import resource_pb2

from ._sdk import MockMonitor, ensure_event_loop, sync_await
from .deployment import Deployment
from .host import HostPool, ProviderHost
from .program import program_callable, run_in_fresh_runtime
from .state import CheckFailedError, EngineError, EngineState, Goal, ResourceState, Step
from .wire import from_wire

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
    "run_destroy",
    "run_program",
    "run_refresh",
]

DYNAMIC_TYPE_PREFIX = "pulumi-python:dynamic"
"""Types starting with this are served by the dynamic provider host."""

_STACK_TYPE = "pulumi:pulumi:Stack"


class NoMocks(Mocks):
    """Mocks for a program whose every resource is dynamic: any other resource or any invoke
    is a test failure, not something to answer."""

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        raise AssertionError(f"unexpected resource {args.typ} {args.name!r}")

    def call(self, args: MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        raise AssertionError(f"unexpected call {args.token}")


@dataclass
class ProgramResult:
    """What a program run produced.

    ``outputs``: the stack exports as the engine received them (``RegisterResourceOutputs`` on the
    root stack), secret ones as secret markers (test with :func:`.wire.is_secret`), unknown ones
    (preview) as :data:`.wire.UNKNOWN`. ``resources``: the registrations of this run by URN
    (``MockMonitor.ResourceRegistration(urn, id, state)``; for dynamic resources ``state`` is the
    outputs, secrets marked). ``steps``: the engine steps of this run. ``provider_stderr``: what
    the run's provider hosts wrote to stderr (the CLI shows a dynamic provider's stderr lines).
    """

    outputs: dict[str, Any]
    resources: dict[str, MockMonitor.ResourceRegistration]
    steps: list[Step]
    provider_stderr: str = ""


def _is_dynamic(type_: str) -> bool:
    return type_.startswith(DYNAMIC_TYPE_PREFIX)


def _namespaced(key: str, project: str) -> str:
    return key if ":" in key else f"{project}:{key}"


def _replacement_trigger(request: Any) -> Any:
    if not request.HasField("replacement_trigger"):
        return None
    struct = struct_pb2.Struct()
    struct.fields["trigger"].CopyFrom(request.replacement_trigger)
    return from_wire(struct).get("trigger")


def _goal(request: Any, stack_urn: str | None) -> Goal:
    dependencies = [*request.dependencies]
    for deps in request.propertyDependencies.values():
        dependencies.extend(deps.urns)
    if request.parent and request.parent != stack_urn:
        dependencies.append(request.parent)
    return Goal(
        protect=bool(request.protect),
        retain_on_delete=bool(request.retainOnDelete),
        ignore_changes=tuple(request.ignoreChanges),
        replace_on_changes=tuple(request.replaceOnChanges),
        replacement_trigger=_replacement_trigger(request),
        delete_before_replace=(
            bool(request.deleteBeforeReplace) if request.deleteBeforeReplaceDefined else None
        ),
        additional_secret_outputs=tuple(request.additionalSecretOutputs),
        dependencies=tuple(dict.fromkeys(dependencies)),
        import_id=request.importId,
    )


class EngineMonitor(MockMonitor):
    """Sends dynamic resources (type ``pulumi-python:dynamic...``) through a real provider host
    the way the engine does; everything else goes to ``mocks.new_resource``.

    ``host`` is a :class:`~.host.HostPool`, from which each run takes a fresh host as the engine
    starts one per run, or a single :class:`~.host.ProviderHost` (started if needed), which then
    serves every run it is given with one stack config: one process for several runs, unlike the
    engine, so a provider's per-process memory spans them.

    ``config`` is stack config (keys may be namespaced, ``"localskills:apiToken"``; bare keys get
    the project's namespace at run time) and ``secret_config_keys`` its secret keys. ``state`` is
    the stack state to plan against and to update (a new empty one by default). ``preview`` plans
    without changing anything. ``parallel`` caps concurrent provider calls of refreshes and
    deletes (``--parallel``). Thread-safe: the SDK registers resources from worker threads, and
    their provider calls run concurrently.

    Use with :func:`run_program`. With plain ``set_mocks(..., monitor=...)`` a run starts at the
    first registration; call :meth:`end_run` afterwards for the delete phase and the state update.
    """

    def __init__(
        self,
        mocks: Mocks,
        host: ProviderHost | HostPool,
        *,
        config: Mapping[str, Any] | None = None,
        secret_config_keys: Collection[str] = (),
        preview: bool = False,
        state: EngineState | None = None,
        parallel: int | None = None,
    ) -> None:
        super().__init__(mocks)
        self.host = host
        self.config: dict[str, Any] = dict(config or {})
        self.secret_config_keys: set[str] = set(secret_config_keys)
        self.preview = preview
        self.parallel = parallel
        self.state = state if state is not None else EngineState()
        self._lock = threading.RLock()
        self._run: Deployment | None = None
        self._stack_urn: str | None = None
        self._stack_outputs: dict[str, Any] = {}
        self._last_stderr = ""

    # -- runs --------------------------------------------------------------------------------

    def _deployment(
        self,
        kind: str,
        *,
        project: str,
        preview: bool,
        config: Mapping[str, Any] | None,
        secret_config_keys: Collection[str],
        replace: Collection[str] = (),
    ) -> Deployment:
        merged = {**self.config, **(config or {})}
        secrets = {*self.secret_config_keys, *secret_config_keys}
        return Deployment(
            self.state,
            self.host,
            kind=kind,
            preview=preview,
            config={_namespaced(k, project): v for k, v in merged.items()},
            secret_keys={_namespaced(k, project) for k in secrets},
            replace=replace,
            parallel=self.parallel,
        )

    def begin_run(
        self,
        *,
        project: str,
        stack: str,
        preview: bool | None = None,
        config: Mapping[str, Any] | None = None,
        secret_config_keys: Collection[str] = (),
        replace: Collection[str] = (),
    ) -> None:
        """Start an update or a preview against :attr:`state`. ``config`` and
        ``secret_config_keys`` are merged over the monitor's; bare keys get ``<project>:``.
        ``replace`` holds the URNs of ``up --replace``."""
        deployment = self._deployment(
            "update",
            project=project,
            preview=self.preview if preview is None else preview,
            config=config,
            secret_config_keys=secret_config_keys,
            replace=replace,
        )
        with self._lock:
            self.resources = {}
            self._run = deployment
            self._stack_urn = None
            self._stack_outputs = {}

    def refresh_state(self) -> None:
        """Refresh every resource of the state before the program runs (``up --refresh``)."""
        self._current_run().refresh_phase()

    def check_targets(self) -> None:
        """Fail the run if a ``--replace`` URN is not in the state, as the engine does before
        running the program."""
        self._current_run().check_replace_targets()

    @property
    def run_config(self) -> tuple[dict[str, Any], frozenset[str]]:
        """The namespaced stack config and secret keys of the current run."""
        run = self._current_run()
        return dict(run.config), run.secret_keys

    @property
    def stack_outputs(self) -> dict[str, Any]:
        """The stack exports registered in the current run, or in the last one once ended."""
        with self._lock:
            return dict(self._stack_outputs)

    @property
    def provider_stderr(self) -> str:
        """What the provider hosts of the last ended run wrote to stderr."""
        return self._last_stderr

    def _current_run(self) -> Deployment:
        with self._lock:
            if self._run is None:
                self.begin_run(project=pulumi.get_project(), stack=pulumi.get_stack())
            assert self._run is not None
            return self._run

    def end_run(self, *, success: bool = True) -> list[Step]:
        """Finish the current run and return its steps.

        After a successful update: the delete phase (old instances pending deletion and those of
        this run's replacements, then resources not registered this run, in reverse dependency
        order). After a failed run nothing is deleted: the state keeps what was not registered,
        and old instances of replacements become pending deletes. A preview changes nothing.
        """
        with self._lock:
            run, self._run = self._run, None
        if run is None:  # no run in progress: nothing to finish (and nothing to delete)
            return []
        try:
            return run.finish(success=success)
        finally:
            self._last_stderr = run.provider_stderr

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
                    self._current_run()
                    self._stack_urn = response.urn
            return response

        ensure_event_loop()
        urn = self.make_urn(request.parent, request.type, request.name)
        news = from_wire(request.object)
        run = self._current_run()
        id_, outputs = run.register(urn, request.type, _goal(request, self._stack_urn), news)
        with self._lock:
            self.resources[urn] = MockMonitor.ResourceRegistration(urn, id_, outputs)
        obj = sync_await(rpc.serialize_properties(outputs, {}))
        return resource_pb2.RegisterResourceResponse(urn=urn, id=id_, object=obj)

    def ReadResource(self, request: Any) -> Any:
        """``Resource.get`` / ``opts.id``: dynamic ones via the host's Read (the given inputs as
        both inputs and state), the rest via mocks."""
        if not _is_dynamic(request.type):
            with self._lock:
                return super().ReadResource(request)  # type: ignore[no-untyped-call]

        ensure_event_loop()
        urn = self.make_urn(request.parent, request.type, request.name)
        props = from_wire(request.properties)
        run = self._current_run()
        goal = Goal(
            additional_secret_outputs=tuple(request.additionalSecretOutputs),
            dependencies=tuple(request.dependencies),
        )
        id_, outputs = run.read_resource(urn, request.type, request.id, goal, props)
        with self._lock:
            self.resources[urn] = MockMonitor.ResourceRegistration(urn, id_, outputs)
        obj = sync_await(rpc.serialize_properties(outputs, {}))
        return resource_pb2.ReadResourceResponse(urn=urn, properties=obj, id=id_)

    def RegisterResourceOutputs(self, request: Any) -> Any:
        """Capture the root stack's outputs (the exports); ignore components'."""
        self._current_run()
        with self._lock:
            if request.urn == self._stack_urn:
                self._stack_outputs = from_wire(request.outputs)
        return empty_pb2.Empty()


def run_program(
    program: str | os.PathLike[str] | Callable[[], Any],
    *,
    monitor: EngineMonitor,
    project: str,
    stack: str = "dev",
    config: Mapping[str, Any] | None = None,
    secret_config_keys: Collection[str] = (),
    preview: bool | None = None,
    refresh: bool = False,
    replace: Collection[str] = (),
    organization: str = "organization",
    logger: logging.Logger | None = None,
) -> ProgramResult:
    """Run a Pulumi program against ``monitor`` as the engine and the Python language host would:
    ``pulumi up`` (or ``pulumi preview`` with ``preview``).

    ``program`` is a callable (its return value may be awaitable), or the path of a program's
    ``__main__.py`` (or its directory), run with ``runpy.run_path`` as ``__main__`` with its
    directory first on ``sys.path`` and as the working directory. ``config`` (bare keys get the
    ``<project>:`` namespace) is merged over the monitor's; it is what ``pulumi.Config`` reads in
    the program and what the provider host is configured with. ``preview`` defaults to the
    monitor's. ``refresh`` refreshes the state first (``up --refresh``); ``replace`` lists URNs to
    replace (``up --replace``).

    The program runs in a thread of its own, in a copy of the caller's context, with a fresh
    runtime (settings, root stack, config, event loop), so nothing leaks between runs and several
    programs may run in one test process. Errors (the program's, a provider's
    :class:`~.provider_client.ProviderError`, a :class:`CheckFailedError`) are re-raised after
    the run is recorded in ``monitor.state``.
    """
    func = program_callable(program)
    monitor.begin_run(
        project=project,
        stack=stack,
        preview=preview,
        config=config,
        secret_config_keys=secret_config_keys,
        replace=replace,
    )
    run_preview = monitor.preview if preview is None else preview
    errors: list[BaseException] = []
    try:
        if refresh:
            monitor.refresh_state()
        monitor.check_targets()
    except BaseException as e:  # the update does not start; re-raised below
        errors.append(e)
    ctx = contextvars.copy_context()
    run_config, secret_keys = monitor.run_config

    def target() -> None:
        try:
            ctx.run(
                run_in_fresh_runtime,
                func,
                monitor,
                config=run_config,
                secret_keys=secret_keys,
                project=project,
                stack=stack,
                preview=run_preview,
                organization=organization,
                logger=logger,
            )
        except BaseException as e:  # re-raised in the caller's thread
            errors.append(e)

    if not errors:
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
        provider_stderr=monitor.provider_stderr,
    )


def _operation(
    kind: str,
    monitor: EngineMonitor,
    project: str,
    config: Mapping[str, Any] | None,
    secret_config_keys: Collection[str],
) -> list[Step]:
    deployment = monitor._deployment(
        kind,
        project=project,
        preview=False,
        config=config,
        secret_config_keys=secret_config_keys,
    )
    error: BaseException | None = None
    try:
        if kind == "refresh":
            deployment.refresh_phase()
        else:
            deployment.destroy_phase()
    except BaseException as e:  # re-raised after the state is saved
        error = e
    try:
        steps = deployment.finish(success=error is None)
    finally:
        monitor._last_stderr = deployment.provider_stderr
    if error is not None:
        raise error
    return steps


def run_refresh(
    *,
    monitor: EngineMonitor,
    project: str,
    config: Mapping[str, Any] | None = None,
    secret_config_keys: Collection[str] = (),
) -> list[Step]:
    """``pulumi refresh`` of ``monitor.state``: Read every resource (pending deletes too), drop
    those that are gone, take the returned inputs and outputs, and run the provider's drift Diff
    on each managed one; an error in a Read or a Diff fails the refresh (re-raised after the
    state is saved). The provider host is configured with the last ``up``'s config; ``config``
    (merged over the monitor's) is used only when the state has none. Returns the steps."""
    return _operation("refresh", monitor, project, config, secret_config_keys)


def run_destroy(
    *,
    monitor: EngineMonitor,
    project: str,
    config: Mapping[str, Any] | None = None,
    secret_config_keys: Collection[str] = (),
) -> list[Step]:
    """``pulumi destroy`` of ``monitor.state``: delete every resource in reverse dependency order
    (read ones are discarded, ``retain_on_delete`` ones dropped without a Delete, protected ones
    refused), pending deletes too. Configured like :func:`run_refresh`. Returns the steps."""
    return _operation("destroy", monitor, project, config, secret_config_keys)
