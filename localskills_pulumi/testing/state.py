"""The stack state the stand-in engine keeps between runs, the steps it records, what a program
asks of a resource (``Goal``), and the errors the engine reports."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import LocalskillsError

__all__ = [
    "CheckFailedError",
    "EngineError",
    "EngineState",
    "Goal",
    "ResourceState",
    "Step",
    "protect_error",
]

Step = tuple[str, str] | tuple[str, str, tuple[str, ...]]
"""One step the engine took, ``(op, urn)`` or, for a replacement, ``(op, urn, replace_keys)``.

Ops of an update (``pkg/resource/deploy/step.go``): ``"create"``, ``"same"``, ``"update"``,
``"replace"`` (the replacement was created; keys are the diff's replace keys, ``("id",)`` for a
targeted replace, ``()`` for a ``replacement_trigger``), ``"delete-replaced"`` (an old instance of
a replaced resource was deleted, in this run or pending from a failed one), ``"delete"``,
``"read"`` (``Resource.get`` / ``opts.id``), ``"discard"`` (a read resource no longer read:
dropped from state, nothing deleted), ``"import"``. A delete of a resource with
``retain_on_delete`` is still a ``"delete"`` step; no provider ``Delete`` is sent.

Ops of a refresh (``RefreshStep.ResultOp``): ``"refresh"`` (no drift), ``"refresh-update"``
(the provider's drift diff found changes, or a read resource's outputs changed),
``"refresh-delete"`` (the resource is gone: dropped from state).

In a preview the steps are the ones planned; no Create/Update/Delete reaches the provider."""


class EngineError(LocalskillsError):
    """An error the engine reports for a resource or a run (protect, a bad replacement trigger,
    a host configured for another config...)."""


class CheckFailedError(EngineError):
    """The provider's ``check`` returned failures; ``failures`` holds ``(property, reason)``."""

    def __init__(self, urn: str, failures: list[tuple[str, str]]) -> None:
        details = "; ".join(f"property {prop!r}: {reason}" for prop, reason in failures)
        super().__init__(f"error: {urn}: check failed: {details}")
        self.urn = urn
        self.failures = failures


@dataclass(frozen=True)
class Goal:
    """What the program asked for a resource, besides its inputs (``RegisterResourceRequest``)."""

    protect: bool = False
    retain_on_delete: bool = False
    ignore_changes: tuple[str, ...] = ()
    replace_on_changes: tuple[str, ...] = ()
    replacement_trigger: Any = None
    delete_before_replace: bool | None = None
    additional_secret_outputs: tuple[str, ...] = ()
    dependencies: tuple[str, ...] = ()
    import_id: str = ""


def protect_error(urn: str) -> EngineError:
    """``step.go`` ``deleteProtectedError``."""
    return EngineError(
        f'resource "{urn}" cannot be deleted because it is protected. To unprotect the '
        "resource, either remove the `protect` flag from the resource in your Pulumi program "
        f"and run `pulumi up`, or use the command: `pulumi state unprotect '{urn}'`"
    )


@dataclass
class ResourceState:
    """What the engine keeps for one resource (``pkg/resource/state.go``): ids, inputs and outputs
    (secrets kept as ``rpc.wrap_rpc_secret`` markers) and the options that act on later runs.

    ``external`` marks a resource read (``Resource.get``), not managed. ``delete`` marks an old
    instance pending deletion (``Delete: true``: its replacement was created, then the run failed
    before the delete phase). ``taint`` marks it for replacement on the next ``up``
    (``pulumi state taint``). ``dependencies`` are the URNs it depends on (parent, ``depends_on``,
    inputs), which order deletes.
    """

    urn: str
    type: str
    id: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    external: bool = False
    protect: bool = False
    retain_on_delete: bool = False
    ignore_changes: tuple[str, ...] = ()
    replacement_trigger: Any = None
    dependencies: tuple[str, ...] = ()
    delete: bool = False
    taint: bool = False

    @classmethod
    def from_goal(
        cls, urn: str, type_: str, id_: str, inputs: dict[str, Any], outputs: dict[str, Any],
        goal: Goal, *, external: bool = False,
    ) -> ResourceState:  # fmt: skip
        """A resource as a run records it: the program's goal supplies its options."""
        return cls(
            urn, type_, id_, inputs, outputs, external=external, protect=goal.protect,
            retain_on_delete=goal.retain_on_delete, ignore_changes=goal.ignore_changes,
            replacement_trigger=goal.replacement_trigger, dependencies=goal.dependencies,
        )  # fmt: skip


@dataclass
class EngineState:
    """The stack state between runs.

    ``resources``: the live resources by URN, in registration order. ``pending_deletes``: old
    instances marked for deletion by a failed run (they share a URN with a live resource, so they
    are kept apart), deleted by the next ``up`` or ``destroy``. ``runs``: the steps of each run
    (``runs[-1]`` is the latest). ``provider_config``: the stack config and secret keys the
    dynamic provider was last registered with, i.e. by the last ``up``; ``refresh`` and
    ``destroy`` configure the provider host with it, as the engine configures providers from the
    snapshot (``deployment.go`` ``EnsureProvider``).

    Pass one state to several runs so each plans against the one before. Previews record steps
    but change nothing.
    """

    resources: dict[str, ResourceState] = field(default_factory=dict)
    pending_deletes: list[ResourceState] = field(default_factory=list)
    runs: list[list[Step]] = field(default_factory=list)
    provider_config: tuple[dict[str, Any], frozenset[str]] | None = None

    @property
    def last_steps(self) -> list[Step]:
        """The steps of the latest run (empty before any)."""
        return self.runs[-1] if self.runs else []

    def taint(self, urn: str) -> None:
        """``pulumi state taint URN``: the next ``up`` replaces the resource.

        :raises KeyError: when no live resource has that URN.
        """
        if urn not in self.resources:
            raise KeyError(f"no resource {urn} in the stack state")
        self.resources[urn].taint = True

    def set_provider_config(
        self, config: Mapping[str, Any], secret_keys: Collection[str] = ()
    ) -> None:
        """Record the config the provider was registered with (what an ``up`` does)."""
        self.provider_config = (dict(config), frozenset(secret_keys))
