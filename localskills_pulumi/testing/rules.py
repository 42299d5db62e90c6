"""The engine's rules for one resource, ported from Pulumi's Go source as pure functions.

Each function names the Go function it ports (``pkg/resource/deploy/step_generator.go`` unless
said otherwise); the stand-in engine (:mod:`.deployment`) applies them in the engine's order.

Property paths (``ignore_changes``, ``replace_on_changes``) are the subset of
``resource.ParsePropertyPath`` a Python program writes for a flat resource: dotted keys
(``"name"``, ``"tags.team"``) and ``"*"``; array indexes and quoted keys are not supported.
"""

from __future__ import annotations

import copy
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from .provider_client import DiffResponse
from .state import ResourceState
from .wire import UNKNOWN, is_secret, secret, unwrap

__all__ = [
    "apply_replace_on_changes",
    "changed_keys",
    "has_unknown",
    "mark_secret_outputs",
    "process_ignore_changes",
    "schedule_deletes",
    "should_trigger_replace",
]


def _path(text: str) -> list[str]:
    return [part for part in text.split(".") if part]


def _reset(path: Sequence[str], old: Any, new: Any) -> None:
    """``PropertyPath.Reset`` (``sdk/go/common/resource/properties_path.go``) for dotted keys:
    the value at ``path`` in ``new`` becomes the one in ``old``; a leaf absent from ``old`` is
    removed from ``new``; intermediate objects are never created."""
    if not path:
        return
    key, rest = path[0], path[1:]
    if is_secret(old):
        old = old["value"]
    if is_secret(new):
        new = new["value"]
    if not isinstance(new, dict):
        return
    if not rest:
        if isinstance(old, Mapping) and key in old:
            new[key] = copy.deepcopy(old[key])
        else:
            new.pop(key, None)
        return
    if isinstance(old, Mapping) and key in old and key in new:
        _reset(rest, old[key], new[key])


def process_ignore_changes(
    inputs: Mapping[str, Any], old_inputs: Mapping[str, Any], ignore_changes: Sequence[str]
) -> dict[str, Any]:
    """The program's inputs with every ``ignore_changes`` path set back to its old value (or
    removed, if the old inputs lack it). Port of ``processIgnoreChanges``; the engine applies it
    to the inputs of a resource that has old state, before ``Check``
    (``continueStepsFromImport``), and to the DIFF_UNKNOWN fallback (``diffResource``)."""
    ignored = copy.deepcopy(dict(inputs))
    for text in ignore_changes:
        path = _path(text)
        if path == ["*"]:
            ignored = copy.deepcopy(dict(old_inputs))
            continue
        _reset(path, old_inputs, ignored)
    return ignored


def changed_keys(old_inputs: Mapping[str, Any], new_inputs: Mapping[str, Any]) -> list[str]:
    """The top-level keys whose (unwrapped) values differ: ``PropertyMap.Diff(...).ChangedKeys()``,
    what ``diffResource`` falls back to when a provider answers DIFF_UNKNOWN."""
    old, new = unwrap(dict(old_inputs)), unwrap(dict(new_inputs))
    return sorted(key for key in {*old, *new} if old.get(key) != new.get(key))


def _contains(path: Sequence[str], key: str) -> bool:
    """``PropertyPath.Contains`` for a one-element path ``[key]``."""
    return len(path) == 1 and path[0] in ("*", key)


def apply_replace_on_changes(diff: DiffResponse, replace_on_changes: Sequence[str]) -> DiffResponse:
    """Port of ``applyReplaceOnChanges``: with DIFF_SOME, every *changed key* (the diff's
    ``diffs``) under a ``replace_on_changes`` path becomes a replace key. The Python dynamic host
    never reports changed keys, so this only acts when the engine computed them itself (the
    provider answered DIFF_UNKNOWN)."""
    if diff.changes != "DIFF_SOME" or not replace_on_changes:
        return diff
    paths = [_path(text) for text in replace_on_changes]
    replaces = list(diff.replaces)
    for key in diff.changed_keys:
        if key not in replaces and any(_contains(path, key) for path in paths):
            replaces.append(key)
    return DiffResponse(diff.changes, replaces, diff.delete_before_replace, diff.changed_keys)


def has_unknown(value: Any) -> bool:
    """Whether ``value`` is, or holds at any depth, an unknown (a preview's computed value)."""
    value = unwrap(value)
    if value == UNKNOWN:
        return True
    if isinstance(value, Mapping):
        return any(has_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(has_unknown(v) for v in value)
    return False


def should_trigger_replace(new: Any, old: Any) -> bool:
    """Port of ``shouldTriggerReplace``: a ``replacement_trigger`` that is unknown on either side,
    or differs from the old one, replaces the resource; a missing one (``None``) never does."""
    if has_unknown(old) or has_unknown(new):
        return True
    if old is None or new is None:
        return False
    return bool(unwrap(new) != unwrap(old))


def schedule_deletes(condemned: Sequence[ResourceState]) -> list[list[ResourceState]]:
    """Port of ``ScheduleDeletes``: the resources to delete as a list of antichains, each safe to
    delete in parallel once the ones before are done. A resource goes after every condemned
    resource that depends on it. Within an antichain, resources keep reverse state order."""
    remaining = list(condemned)
    antichains: list[list[ResourceState]] = []
    while remaining:
        urns = {r.urn for r in remaining}
        # A resource whose dependencies are no longer condemned; deleted last, since the list of
        # antichains is reversed below.
        chain = [r for r in remaining if not (set(r.dependencies) - {r.urn}) & urns]
        if not chain:  # a dependency cycle: cannot happen in a valid state; delete the rest
            chain = list(remaining)
        antichains.append(list(reversed(chain)))
        remaining = [r for r in remaining if all(r is not c for c in chain)]
    antichains.reverse()
    return antichains


def mark_secret_outputs(outputs: dict[str, Any], keys: Collection[str]) -> dict[str, Any]:
    """Make ``additionalSecretOutputs`` secret, unless they are already (``step_executor.go``)."""
    for key in keys:
        if key in outputs and not is_secret(outputs[key]):
            outputs[key] = secret(outputs[key])
    return outputs
