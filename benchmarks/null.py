"""A provider that does nothing, for the cold-start comparison and the host's per-call floor.

It imports nothing beyond what the host itself has loaded (``pulumi.dynamic``), sends no
request and keeps no state: what a call through the host costs when the provider costs nothing.
"""

from __future__ import annotations

import itertools
from typing import Any

from pulumi.dynamic import (
    CheckResult,
    ConfigureRequest,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
)

__all__ = ["NullProvider", "ShapedNullProvider"]

_IDS = itertools.count(1)


class NullProvider(ResourceProvider):
    """Check accepts, Create makes up an ID, Read echoes its properties, Delete forgets."""

    def configure(self, req: ConfigureRequest) -> None:
        """Nothing to configure."""

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """Accept the inputs as they are."""
        return CheckResult(news, [])

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        """Never any change."""
        return DiffResult(changes=False)

    def create(self, props: dict[str, Any]) -> CreateResult:
        """A new ID, no outputs beyond the inputs."""
        return CreateResult(f"null-{next(_IDS)}", {})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """The resource exists as the state says."""
        return ReadResult(id_, props)

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        """Nothing to revoke."""


class ShapedNullProvider(NullProvider):
    """``NullProvider`` with the state of ``ScimToken``: Create returns the same outputs (a
    ``token_value`` among them, which the program marks secret) and Read returns the inputs
    as ``ScimTokenProvider.read`` does, so the engine carries and compares the same property
    bag. Against it, ours is measured with the state's shape the same on both sides."""

    def create(self, props: dict[str, Any]) -> CreateResult:
        """The inputs and made-up outputs, in the shape of an issued token."""
        number = next(_IDS)
        outputs = {
            **{key: props.get(key) for key in _INPUTS},
            "token_id": f"null-{number}",
            "token_value": f"lsk_scim_{number:032d}",
            "created_at": "2026-12-07T00:00:00Z",
            "expires_at": "2027-01-06T00:00:00Z",
            "last_used_at": None,
        }
        return CreateResult(f"{props['tenant_id']}/null-{number}", outputs)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """The state's outputs as they are, and the inputs among them."""
        inputs = {key: props.get(key) for key in _INPUTS}
        return ReadResult(id_, props, inputs)


# localskills_pulumi.model.INPUT_NAMES, written out: importing the package here would load it into
# the host of NullProvider too, and that floor loads nothing beyond the host's own modules.
_INPUTS = ("tenant_id", "name", "expires_in_days", "rotate_before_days")
