"""Property bags as they travel between the engine and a provider: secrets, unknowns, config.

Values here keep secrets visible as the SDK's wire form (``rpc.wrap_rpc_secret``); use
:func:`is_secret` and :func:`unwrap` on them. Unknown values (previews) are the string
:data:`UNKNOWN`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pulumi.dynamic import ResourceProvider
from pulumi.dynamic.dynamic import PROVIDER_KEY
from pulumi.runtime import rpc

from ._sdk import Unknown, serialize_provider

__all__ = [
    "PROVIDER_KEY",
    "UNKNOWN",
    "annotate_secrets",
    "config_string",
    "contains_secrets",
    "from_wire",
    "is_secret",
    "provider_property",
    "secret",
    "strip_secrets",
    "unwrap",
    "urn",
]


UNKNOWN: str = rpc.UNKNOWN
"""An input not yet known (preview). On the wire it is this string; the host hands it to the
provider as a ``pulumi.output.Unknown``. Unknowns in answers come back as this string."""


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


def config_string(value: Any) -> str:
    """A stack config value as the engine hands it over in string form: strings as they are,
    anything else as JSON (secrets unwrapped). What ``pulumi.Config`` reads in the program and
    what ``ConfigureRequest.variables`` carries."""
    if isinstance(value, str):
        return value
    return json.dumps(unwrap(value))


def provider_property(provider: ResourceProvider) -> str:
    """The ``__provider`` value for ``provider``, made by ``serialize_provider`` as the program
    makes it (dill + base64). A class importable by module path is pickled by reference."""
    return serialize_provider(provider)


def urn(type_: str, name: str, project: str = "project", stack: str = "stack") -> str:
    """A resource URN as the engine makes it for a resource without a parent."""
    return f"urn:pulumi:{stack}::{project}::{type_}::{name}"
