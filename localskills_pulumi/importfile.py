"""Import files for ``pulumi import --file``: existing SCIM tokens brought under management.

An entry that supplies ``outputs`` skips the engine's ``Read``, which a dynamic resource cannot
serve, and is stored as given (docs/cli.md, ``ImportStep.Apply``); so an entry holds what a
``create`` of the token would have stored, ``__provider`` included, without ``token_value``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pulumi.dynamic.dynamic import PROVIDER_KEY, serialize_provider

from .errors import ImportFileError
from .model import SCIM_TOKEN_TYPE, ScimTokenInputs, composite_id, validate_inputs
from .provider import ScimTokenProvider
from .records import ScimTokenRecord

__all__ = ["MIN_PULUMI_VERSION", "ImportedToken", "import_entry", "import_file", "instructions"]

MIN_PULUMI_VERSION = "3.254.0"
"""The first Pulumi CLI whose ``pulumi import --file`` reads ``outputs`` (pulumi/pulumi#23984)."""
FILE_NAME = "scim-tokens.json"


@dataclass(frozen=True)
class ImportedToken:
    """One token to import, its resource name, and the clock (the server's) to judge expiry by."""

    tenant_id: str
    record: ScimTokenRecord
    resource_name: str
    rotate_before_days: int | None = None
    now: datetime | None = None

    @property
    def inputs(self) -> ScimTokenInputs:
        """The inputs that match the live token."""
        return ScimTokenInputs(
            tenant_id=self.tenant_id,
            name=self.record.name,
            expires_in_days=self.record.lifetime_days,
            rotate_before_days=self.rotate_before_days,
        )


def _present(props: Mapping[str, Any]) -> dict[str, Any]:
    # The SDK leaves properties whose value is None off the wire, so no state holds them.
    return {key: value for key, value in props.items() if value is not None}


def import_entry(token: ImportedToken) -> dict[str, Any]:
    """
    The import file's entry for one token.

    :raises ImportFileError: the inputs would fail ``check``, or the next ``pulumi up`` would
           replace the token (expired, or due for rotation).
    """
    inputs = token.inputs
    rotate = inputs.rotate_before_days
    where = f"SCIM token {token.record.id!r} of tenant {token.tenant_id!r}"
    failures = validate_inputs(inputs.as_inputs())
    if failures:
        declared = f" (declared with rotate_before_days={rotate})" if rotate else ""
        raise ImportFileError(f"{where}{declared}: " + " ".join(reason for _, reason in failures))
    if token.record.due_for_rotation(rotate, token.now):
        window = f" or expires within rotate_before_days ({rotate})" if rotate else ""
        raise ImportFileError(
            f"{where} expires at {token.record.expires_at}: it has expired{window}, so the "
            "next `pulumi up` would replace it at once. Declare a ScimToken without importing "
            "it to issue a new one."
        )
    provider = serialize_provider(ScimTokenProvider())
    return {
        "type": SCIM_TOKEN_TYPE,
        "name": token.resource_name,
        "id": composite_id(token.tenant_id, token.record.id),
        "inputs": {**_present(inputs.as_inputs()), PROVIDER_KEY: provider},
        "outputs": {**_present(inputs.outputs(token.record, None)), PROVIDER_KEY: provider},
    }


def import_file(tokens: Sequence[ImportedToken]) -> dict[str, Any]:
    """The whole import file: ``{"resources": [entry, ...]}``."""
    return {"resources": [import_entry(token) for token in tokens]}


def instructions(tokens: Sequence[ImportedToken]) -> str:
    """The declarations the program needs (matching the entries) and the command to run."""
    lines = [
        f"# Save the import file printed on stdout as {FILE_NAME}, and add this to your",
        "# Pulumi program (keep the resource names and inputs as they are):",
        "",
        "from localskills_pulumi import ScimToken",
        "",
    ]
    for token in tokens:
        lines += [*token.inputs.declaration(token.resource_name), ""]
    lines += [
        f"# Then import it with Pulumi CLI {MIN_PULUMI_VERSION} or later (older ones fail):",
        "#",
        f"#     pulumi import --file {FILE_NAME} --generate-code=false --protect=false",
        "#",
        "# The CLI cannot write code for a dynamic resource (it is above), and a protected token",
        "# could never be replaced, so never rotate. The next `pulumi up` plans no change;",
        "# token_value stays unset (the API shows a token's value only once, at creation).",
        "",
    ]
    return "\n".join(lines)
