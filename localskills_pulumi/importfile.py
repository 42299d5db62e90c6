"""Import files for ``pulumi import --file``: existing SCIM tokens brought under management.

The engine cannot import a dynamic resource by ID alone: its import step calls ``Read`` with the
ID and nothing else, and the Python dynamic host fails before any provider code runs, for want of
``__provider`` (pulumi/pulumi#16175). Since Pulumi CLI 3.254.0 (pulumi/pulumi#23984), an entry
of an import file that supplies ``outputs`` skips that ``Read``: ``ImportStep.Apply``
(``pkg/resource/deploy/step.go``) takes the entry's ``inputs`` and ``outputs`` as the resource's
state, sets its ID to the entry's ``id``, then calls ``Check`` once with the inputs as both olds
and news (its failures only warn). So an entry here holds exactly what a ``create`` of the token
would have stored: the inputs as ``check`` returns them and the outputs as ``create`` returns
them, each with ``__provider``, without ``token_value`` (the API never shows a secret again).

What the import sets in the engine's state for an entry: the URN (stack, project, type, name;
parented to the stack), ``id`` = the entry's ``id``, ``inputs`` and ``outputs`` = the entry's,
verbatim (``Check``'s answer is not stored), the default ``pulumi-python`` provider,
``protect`` = the ``--protect`` flag (on unless ``--protect=false``), ``created``/``modified`` =
now, and no import ID. The next ``pulumi up`` then runs ``Check`` (olds: these inputs) and
``Diff`` (olds: these outputs) as for any resource in state.
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

__all__ = [
    "MIN_PULUMI_VERSION",
    "ImportedToken",
    "import_entry",
    "import_file",
    "instructions",
]

MIN_PULUMI_VERSION = "3.254.0"
"""The first Pulumi CLI whose ``pulumi import --file`` reads ``inputs`` and ``outputs``
(pulumi/pulumi#23984)."""


@dataclass(frozen=True)
class ImportedToken:
    """One token to import: where it lives, what the API lists, and its Pulumi names."""

    tenant_id: str
    record: ScimTokenRecord
    resource_name: str
    """The Pulumi resource name (the ``name`` of the entry, and of the ``ScimToken``)."""
    rotate_before_days: int | None = None
    now: datetime | None = None
    """The clock expiry is judged by: the server's, as of the listing (default: this machine's)."""

    @property
    def inputs(self) -> ScimTokenInputs:
        """The inputs a program that matches the live token declares."""
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
    The import file entry for one token: ``type``, ``name``, ``id``, and the ``inputs`` and
    ``outputs`` a ``create`` of it would have stored (no ``token_value``).

    :raises ImportFileError: the inputs would fail ``check`` (e.g. ``rotate_before_days`` not
           below the token's lifetime), or the token is expired or due for rotation, so the next
           ``pulumi up`` would replace it.
    """
    inputs = token.inputs
    where = f"SCIM token {token.record.id!r} of tenant {token.tenant_id!r}"
    failures = validate_inputs(inputs.as_inputs())
    if failures:
        declared = (
            f" (declared with rotate_before_days={inputs.rotate_before_days})"
            if inputs.rotate_before_days is not None
            else ""
        )
        raise ImportFileError(f"{where}{declared}: " + " ".join(reason for _, reason in failures))
    if token.record.due_for_rotation(inputs.rotate_before_days, token.now):
        window = (
            f" or expires within rotate_before_days ({inputs.rotate_before_days})"
            if inputs.rotate_before_days
            else ""
        )
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


def instructions(tokens: Sequence[ImportedToken], file_name: str = "scim-tokens.json") -> str:
    """
    What to do with the file, as Python: the declarations the program needs (matching the
    entries, so that the first ``pulumi up`` after the import plans no change), and the
    ``pulumi import`` command, in comments.
    """
    lines = [
        f"# Save the import file printed on stdout, e.g. as {file_name}, and add this to your",
        "# Pulumi program (resource names and inputs must stay as they are):",
        "",
        "from localskills_pulumi import ScimToken",
        "",
    ]
    for token in tokens:
        lines += [*token.inputs.declaration(token.resource_name), ""]
    lines += [
        f"# Then import it (Pulumi CLI {MIN_PULUMI_VERSION} or later: older ones ignore the",
        "# file's inputs and outputs and fail reading the token):",
        "#",
        f"#     pulumi import --file {file_name} --generate-code=false --protect=false",
        "#",
        "# --generate-code=false: the CLI cannot write code for a dynamic resource; the code is",
        "# above. --protect=false: pulumi import protects what it imports, and a protected token",
        "# can never be replaced, so it could never rotate. (To keep it protected, drop the flag",
        "# and add opts=pulumi.ResourceOptions(protect=True) to the declaration.)",
        "# The next `pulumi up` plans no change. token_value stays unset: the API shows a",
        "# token's value only once, when it is created.",
        "",
    ]
    return "\n".join(lines)
