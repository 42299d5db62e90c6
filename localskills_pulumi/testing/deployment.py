"""One run of the stand-in engine against a stack state: an update, a preview, a refresh, a destroy.

Each rule below is the engine's, read in Pulumi's Go source (``pkg/resource/deploy/``); the
docstrings name the file and function. Short names: ``sg.go`` = ``step_generator.go``,
``ex.go`` = ``deployment_executor.go``.

Provider hosts: one per stack config of the run (:mod:`.runhosts`), so an ``up --refresh``
whose config changed uses two hosts, as the engine does.

Parallelism: nothing here holds a lock around a provider call. Registrations arrive on the SDK's
worker threads and proceed at once; refreshes and each antichain of deletes run on a thread pool
(``--parallel``, default ``cpu_count * 4`` as in ``pkg/cmd/pulumi/up.go``); the dynamic host serves
4 calls at a time. A lock guards only the run's own bookkeeping.
"""

from __future__ import annotations

import copy
import os
import threading
from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any, TypeVar

from .host import HostPool, ProviderHost
from .provider_client import DiffResponse
from .rules import (
    apply_replace_on_changes,
    changed_keys,
    has_unknown,
    mark_secret_outputs,
    process_ignore_changes,
    schedule_deletes,
    should_trigger_replace,
)
from .runhosts import RunHosts
from .state import (
    CheckFailedError,
    EngineError,
    EngineState,
    Goal,
    ResourceState,
    Step,
    protect_error,
)
from .wire import annotate_secrets, unwrap

__all__ = ["Deployment"]

T = TypeVar("T")

DEFAULT_PARALLEL = (os.cpu_count() or 1) * 4
"""``pulumi up --parallel`` defaults to GOMAXPROCS x 4 (``pkg/cmd/pulumi/up.go``)."""


class Deployment:
    """One run against ``state``. ``kind`` is ``"update"`` (``pulumi up``, or ``pulumi preview``
    with ``preview``), ``"refresh"`` or ``"destroy"``. ``config``/``secret_keys`` are the stack
    config of this run, namespaced. ``replace`` holds the URNs of ``up --replace``.

    Call :meth:`refresh_phase` (``refresh``, ``up --refresh``), :meth:`register` /
    :meth:`read_resource` for the program's resources (``update``), :meth:`destroy_phase`
    (``destroy``), then always :meth:`finish`.
    """

    def __init__(
        self,
        state: EngineState,
        hosts: ProviderHost | HostPool,
        *,
        kind: str = "update",
        preview: bool = False,
        config: Mapping[str, Any] | None = None,
        secret_keys: Collection[str] = (),
        replace: Collection[str] = (),
        parallel: int | None = None,
    ) -> None:
        if kind not in ("update", "refresh", "destroy"):
            raise ValueError(f"unknown kind of run {kind!r}")
        self.state = state
        self.kind = kind
        self.preview = preview
        self.config = dict(config or {})
        self.secret_keys = frozenset(secret_keys)
        self.replace_urns = frozenset(replace)
        self.parallel = parallel or DEFAULT_PARALLEL
        self.prior: dict[str, ResourceState] = dict(state.resources)
        self.pending: list[ResourceState] = list(state.pending_deletes)
        self.steps: list[Step] = []
        self.registered: dict[str, ResourceState] = {}
        self.seen: set[str] = set()
        self.replaced: dict[str, ResourceState] = {}
        self.provider_stderr = ""
        self._hosts = RunHosts(
            hosts,
            state,
            self.config,
            self.secret_keys,
            records_config=kind == "update" and not preview,
        )
        self._lock = threading.RLock()
        self._finished = False

    # -- helpers -----------------------------------------------------------------------------

    def _step(self, step: Step) -> None:
        with self._lock:
            self.steps.append(step)

    def _parallel(self, fn: Callable[[T], Any], items: Sequence[T]) -> list[Any]:
        """``fn`` over ``items`` on up to ``parallel`` threads; each result or its exception."""

        def guarded(item: T) -> Any:
            try:
                return fn(item)
            except Exception as e:  # returned, so every item runs and the caller sees them all
                return e

        if len(items) <= 1:
            return [guarded(item) for item in items]
        with ThreadPoolExecutor(max_workers=min(self.parallel, len(items))) as pool:
            return list(pool.map(guarded, items))

    def _check(
        self, host: ProviderHost, urn: str, olds: Mapping[str, Any], news: Mapping[str, Any]
    ) -> dict[str, Any]:
        checked = host.check(urn, olds, news)
        if checked.failures:
            raise CheckFailedError(urn, checked.failures)
        return checked.inputs

    def _diff(
        self,
        host: ProviderHost,
        id_: str,
        urn: str,
        old_inputs: Mapping[str, Any],
        old_outputs: Mapping[str, Any],
        new_inputs: Mapping[str, Any],
        ignore_changes: Sequence[str],
    ) -> DiffResponse:
        """``sg.go`` ``diffResource``: the provider's Diff; DIFF_UNKNOWN falls back to comparing
        the old inputs with the new ones (ignored paths reset), as DIFF_SOME with those keys."""
        diff = host.diff(
            id_, urn, old_outputs, new_inputs, old_inputs=old_inputs, ignore_changes=ignore_changes
        )
        if diff.changes == "DIFF_UNKNOWN":
            keys = changed_keys(
                old_inputs, process_ignore_changes(new_inputs, old_inputs, ignore_changes)
            )
            changes = "DIFF_SOME" if keys else "DIFF_NONE"
            diff = DiffResponse(changes, diff.replaces, diff.delete_before_replace, keys)
        return diff

    def _create(
        self, host: ProviderHost, urn: str, inputs: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        if self.preview and not host.supports_preview:
            # What the engine does for a provider without supportsPreview: the checked inputs
            # stand for the outputs, so anything else reads as unknown in the program.
            return "", dict(inputs)
        return host.create(urn, inputs, preview=self.preview)

    def _delete(self, res: ResourceState, *, replacing: bool) -> None:
        """``step.go`` ``DeleteStep.Apply``: a protected resource is refused (unless it is being
        replaced: that was checked when the replacement was planned); a preview, a read
        (external) resource and one with ``retain_on_delete`` send no Delete."""
        if not replacing and res.protect:
            raise protect_error(res.urn)
        if self.preview or res.external or res.retain_on_delete:
            return
        host = self._hosts.snapshot()
        host.delete(res.id, res.urn, res.outputs, old_inputs=res.inputs)

    # -- refresh -----------------------------------------------------------------------------

    def refresh_phase(self) -> None:
        """Refresh every resource in the state, pending deletes included (``ex.go`` ``refresh``,
        ``step.go`` ``RefreshStep.Apply``), in parallel. Read gets the prior outputs and inputs;
        an empty ID drops the resource; returned inputs replace the state's; then, for a managed
        resource, the drift Diff: refreshed inputs and outputs as the old ones, the state's old
        inputs as the new ones. An error in a Read or that Diff fails the refresh (what refreshed
        before it is kept)."""
        targets = [*self.prior.values(), *self.pending]
        if not targets:
            return
        results = self._parallel(self._refresh_one, targets)
        error: Exception | None = None
        refreshed: dict[int, ResourceState | None] = {}
        for res, result in zip(targets, results, strict=True):
            if isinstance(result, Exception):
                error = error or result
                continue
            new, op = result
            refreshed[id(res)] = new
            self.steps.append((op, res.urn))
        with self._lock:
            prior: dict[str, ResourceState] = {}
            for urn, res in self.prior.items():
                new_res = refreshed.get(id(res), res)
                if new_res is not None:
                    prior[urn] = new_res
            self.prior = prior
            self.pending = [
                r for r in (refreshed.get(id(p), p) for p in self.pending) if r is not None
            ]
        if error is not None:
            raise error

    def _refresh_one(self, res: ResourceState) -> tuple[ResourceState | None, str]:
        host = self._hosts.snapshot()
        read = host.read(res.id, res.urn, res.outputs, inputs=res.inputs)
        if not read.id:
            return None, "refresh-delete"
        inputs = read.inputs if read.inputs is not None else res.inputs
        new = replace(res, id=read.id, inputs=inputs, outputs=read.outputs)
        if res.external:
            # External resources: outputs are diffed, the provider is not asked.
            changed = unwrap(read.outputs) != unwrap(res.outputs)
            return new, "refresh-update" if changed else "refresh"
        diff = self._diff(
            host, new.id, res.urn, new.inputs, new.outputs, res.inputs, res.ignore_changes
        )
        return new, "refresh" if diff.changes == "DIFF_NONE" else "refresh-update"

    # -- the program's resources -------------------------------------------------------------

    def check_replace_targets(self) -> None:
        """``ex.go`` ``checkTargets``: every ``--replace`` URN must be in the state, or the run
        fails before the program runs."""
        known = {*self.prior, *(p.urn for p in self.pending)}
        missing = sorted(self.replace_urns - known)
        if missing:
            raise EngineError(
                f"one or more targets could not be found in the stack: {', '.join(missing)}"
            )

    def _claim(self, urn: str) -> ResourceState | None:
        with self._lock:
            if urn in self.seen:
                raise EngineError(f"duplicate resource URN '{urn}'")
            self.seen.add(urn)
            return self.prior.get(urn)

    def register(
        self, urn: str, type_: str, goal: Goal, news: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        """A resource registration (``sg.go`` ``generateResourceSteps`` and
        ``continueStepsFromImport``): returns the ID and outputs the program gets.

        - New resource, or a targeted replace (``--replace``, taint; ``isTargetedReplace``):
          ``Check`` with no olds and the program's inputs as they are.
        - Otherwise ``Check(old inputs, program inputs with ignore_changes paths set back to the
          old values)`` (``processIgnoreChanges``).
        - No old state: ``Create`` (none in a preview). Old state: :meth:`_update_or_replace`.
        """
        old = self._claim(urn)
        if old is not None and old.external:
            old = None  # taking over a read resource: a create; the read one is discarded
        host = self._hosts.registration()
        if goal.import_id and old is None:
            return self._import(host, urn, type_, goal, news)
        targeted = old is not None and (urn in self.replace_urns or old.taint)
        if old is None or targeted:
            inputs = self._check(host, urn, {}, news)
        else:
            ignored = process_ignore_changes(news, old.inputs, goal.ignore_changes)
            inputs = self._check(host, urn, old.inputs, ignored)
        if old is None:
            id_, outputs = self._create(host, urn, inputs)
            self._step(("create", urn))
        else:
            id_, outputs, inputs = self._update_or_replace(
                host, urn, old, goal, news, inputs, targeted
            )
        outputs = mark_secret_outputs(outputs, goal.additional_secret_outputs)
        self._record(urn, type_, id_, inputs, outputs, goal)
        return id_, outputs

    def _record(
        self,
        urn: str,
        type_: str,
        id_: str,
        inputs: dict[str, Any],
        outputs: dict[str, Any],
        goal: Goal,
        external: bool = False,
    ) -> None:
        if self.preview:
            return
        new = ResourceState.from_goal(urn, type_, id_, inputs, outputs, goal, external=external)
        with self._lock:
            self.registered[urn] = new

    def _update_or_replace(
        self,
        host: ProviderHost,
        urn: str,
        old: ResourceState,
        goal: Goal,
        news: dict[str, Any],
        inputs: dict[str, Any],
        targeted: bool,
    ) -> tuple[str, dict[str, Any], dict[str, Any]]:
        """``sg.go`` ``generateStepsFromDiff`` and ``continueStepsFromDiff``.

        - A targeted replace skips the provider's Diff: a replace blamed on ``id`` (``diff``).
        - A changed ``replacement_trigger`` skips it too: a replacement with no keys; an unknown
          trigger outside a preview is an error (``shouldTriggerReplace``).
        - Otherwise the provider's Diff (``diffResource``), then ``replace_on_changes``
          (``applyReplaceOnChanges``).
        - A replacement of a resource protected before and now fails. Unless targeted, the
          engine checks again with no olds and the program's inputs; then create-before-delete
          (the old instance is deleted in the delete phase), or, with ``delete_before_replace``
          (the option wins over the provider), delete then create.
        """
        if not self.preview and has_unknown(goal.replacement_trigger):
            raise EngineError(f"replacement trigger contains unknowns for {urn}")
        trigger = should_trigger_replace(goal.replacement_trigger, old.replacement_trigger)
        if targeted:
            diff = DiffResponse("DIFF_SOME", ["id"], False)
        elif trigger:
            diff = DiffResponse("DIFF_SOME", [], False)
        else:
            diff = self._diff(
                host, old.id, urn, old.inputs, old.outputs, inputs, goal.ignore_changes
            )
        if diff.changes not in ("DIFF_NONE", "DIFF_SOME"):
            raise EngineError(f"unrecognized diff state for {urn}: {diff.changes}")
        diff = apply_replace_on_changes(diff, goal.replace_on_changes)

        if diff.changes == "DIFF_SOME" and (diff.replaces or trigger):
            if goal.protect and old.protect:
                raise EngineError(
                    f'unable to replace resource "{urn}" as it is currently marked for '
                    "protection. To unprotect the resource, remove the `protect` flag from the "
                    "resource in your Pulumi program and run `pulumi up`"
                )
            if not targeted:
                inputs = self._check(host, urn, {}, news)
            dbr = diff.delete_before_replace
            if goal.delete_before_replace is not None:
                dbr = goal.delete_before_replace
            if dbr:
                self._delete(old, replacing=True)
                self._step(("delete-replaced", urn))
                with self._lock:  # deleted: a failure from here on must not keep it in state
                    self.prior.pop(urn, None)
            id_, outputs = self._create(host, urn, inputs)
            if not dbr:
                with self._lock:  # the engine marks it Delete once the create succeeded
                    self.replaced[urn] = old
            self._step(("replace", urn, tuple(diff.replaces)))
            return id_, outputs, inputs
        if diff.changes == "DIFF_SOME":
            if self.preview:
                outputs = dict(inputs)
            else:
                outputs = host.update(old.id, urn, old.outputs, inputs, old_inputs=old.inputs)
            self._step(("update", urn))
            return old.id, outputs, inputs
        self._step(("same", urn))
        return old.id, annotate_secrets(copy.deepcopy(old.outputs), inputs), inputs

    def _import(
        self, host: ProviderHost, urn: str, type_: str, goal: Goal, news: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        """``step.go`` ``ImportStep.Apply``: Read with the ID alone (the Python host then fails
        with ``KeyError: '__provider'``, pulumi issue 16175), Check, and a Diff that must find
        no change."""
        read = host.read(goal.import_id, urn, None, None)
        if not read.id:
            raise EngineError(f"resource '{goal.import_id}' does not exist")
        read_inputs = read.inputs if read.inputs is not None else read.outputs
        inputs = self._check(host, urn, read_inputs, news)
        diff = host.diff(read.id, urn, read.outputs, inputs, old_inputs=read_inputs)
        if diff.changes == "DIFF_SOME" or diff.replaces:
            raise EngineError(
                f"{urn}: inputs to import do not match the existing resource; "
                "importing this resource will fail"
            )
        outputs = mark_secret_outputs(dict(read.outputs), goal.additional_secret_outputs)
        self._step(("import", urn))
        self._record(urn, type_, read.id, inputs, outputs, goal)
        return read.id, outputs

    def read_resource(
        self, urn: str, type_: str, id_: str, goal: Goal, props: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        """``Resource.get`` / ``opts.id`` (``step.go`` ``ReadStep.Apply``, which runs in previews
        too): Read with the program's inputs as both inputs and state. The engine fails only when
        no outputs come back at all; an empty ID keeps the requested one."""
        self._claim(urn)
        host = self._hosts.registration()
        read = host.read(id_, urn, props, inputs=props)
        if not read.outputs:
            raise EngineError(f"resource '{id_}' does not exist")
        new_id = read.id or id_
        outputs = mark_secret_outputs(dict(read.outputs), goal.additional_secret_outputs)
        self._step(("read", urn))
        self._record(urn, type_, new_id, props, outputs, goal, external=True)
        return new_id, outputs

    # -- deletes -----------------------------------------------------------------------------

    def _run_deletes(self, condemned: list[tuple[ResourceState, str]]) -> None:
        """Delete in antichains (``sg.go`` ``ScheduleDeletes``, ``ex.go`` ``performPostSteps``):
        each antichain in parallel, the next once it is done. After a failure no further
        antichain starts (the engine goes on with the resources that do not depend on the failed
        one); the failed resources stay in the state."""
        ops = {id(res): op for res, op in condemned}
        for chain in schedule_deletes([res for res, _ in condemned]):

            def delete(res: ResourceState) -> None:
                op = ops[id(res)]
                if op != "discard":
                    self._delete(res, replacing=op == "delete-replaced")

            results = self._parallel(delete, chain)
            error: Exception | None = None
            for res, result in zip(chain, results, strict=True):
                if isinstance(result, Exception):
                    error = error or result
                    continue
                self._forget(res)
                self._step((ops[id(res)], res.urn))
            if error is not None:
                raise error

    def _forget(self, res: ResourceState) -> None:
        """Drop a deleted resource from whichever part of the state held it."""
        with self._lock:
            self.pending = [p for p in self.pending if p is not res]
            for urn, replaced in list(self.replaced.items()):
                if replaced is res:
                    del self.replaced[urn]
            if self.prior.get(res.urn) is res:
                del self.prior[res.urn]

    def delete_phase(self) -> None:
        """After the program (``sg.go`` ``GenerateDeletes``): old instances pending deletion from a
        failed run, old instances of this run's create-before-delete replacements, and the
        resources the program no longer registers (read ones are discarded, not deleted)."""
        condemned: list[tuple[ResourceState, str]] = [(p, "delete-replaced") for p in self.pending]
        for urn, res in self.prior.items():
            if urn in self.replaced:
                condemned.append((self.replaced[urn], "delete-replaced"))
            elif urn not in self.seen:
                condemned.append((res, "discard" if res.external else "delete"))
        self._run_deletes(condemned)

    def destroy_phase(self) -> None:
        """``pulumi destroy``: every resource, in reverse dependency order; pending deletes too.
        The engine loads and configures the provider of the state's resources before it
        schedules anything, so a host starts even when no Delete follows (``retain_on_delete``,
        a protected resource): seen through the real CLI (tests/engine/test_engine_fidelity.py)."""
        if self.prior or self.pending:
            self._hosts.snapshot()
        condemned: list[tuple[ResourceState, str]] = [(p, "delete-replaced") for p in self.pending]
        for res in self.prior.values():
            condemned.append((res, "discard" if res.external else "delete"))
        self._run_deletes(condemned)

    # -- the end -----------------------------------------------------------------------------

    def finish(self, *, success: bool = True) -> list[Step]:
        """End the run: after a successful update, the delete phase; then (unless a preview) the
        state: what the program registered, plus what a failure kept — resources not registered,
        and old instances of replacements, now pending deletion (``step.go``
        ``CreateStep.Apply`` marks them ``Delete`` once their replacement exists). Stops the
        run's hosts. Re-raises a delete-phase error after saving the state."""
        if self._finished:
            return list(self.steps)
        self._finished = True
        error: BaseException | None = None
        try:
            if success and self.kind == "update":
                self.delete_phase()
        except BaseException as e:  # re-raised after the state is saved
            error = e
        finally:
            self.provider_stderr = self._hosts.stop()
        if not self.preview:
            kept = {u: r for u, r in self.prior.items() if u not in self.registered}
            # A replaced resource's old instance is in `prior` under the same URN; the new one
            # takes its place, the old one waits for deletion.
            for urn in self.replaced:
                kept.pop(urn, None)
            self.state.resources = {**kept, **self.registered}
            self.state.pending_deletes = [
                *self.pending,
                *(replace(old, delete=True, taint=False) for old in self.replaced.values()),
            ]
        self.state.runs.append(list(self.steps))
        if error is not None:
            raise error
        return list(self.steps)
