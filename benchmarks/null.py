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

__all__ = ["NullProvider"]

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
