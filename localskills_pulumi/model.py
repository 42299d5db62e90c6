"""The ScimToken resource's model: its properties, their rules, its ID, its expiry.

Pure functions over plain values; nothing here talks HTTP or to the engine, so the provider
and the resource class share one definition of what a valid ScimToken is.
"""

from __future__ import annotations

import keyword
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from .errors import ImportIdError, InputError
from .identifiers import MAX_DAYS, days_problem, id_problem, name_problem, shown
from .records import ScimTokenRecord

__all__ = [
    "IMPORT_ID",
    "INPUT_NAMES",
    "OUTPUT_NAMES",
    "RECORD_OUTPUT_NAMES",
    "SCIM_TOKEN_TYPE",
    "ScimTokenInputs",
    "changed_inputs",
    "composite_id",
    "is_unknown",
    "normalize_inputs",
    "parse_composite_id",
    "rotation_due",
    "validate_inputs",
    "whole_number",
]

# Inputs the user sets; each forces replacement when it changes.
INPUT_NAMES = ("tenant_id", "name", "expires_in_days", "rotate_before_days")
# Set by the resource class from `opts.import_`; never part of a diff.
IMPORT_ID = "import_id"
SCIM_TOKEN_TYPE = "pulumi-python:dynamic/localskills:ScimToken"
"""The type token of ``ScimToken`` (``pulumi-python:dynamic/<module>:<name>``, from the class's
``module`` and ``name`` in ``resource.py``), in every URN and import file."""
# The record's fields that are outputs as they are (its id is `token_id`; its name is an input).
RECORD_OUTPUT_NAMES = tuple(f.name for f in fields(ScimTokenRecord) if f.name not in ("id", "name"))
OUTPUT_NAMES = (*INPUT_NAMES, "token_id", "token_value", *RECORD_OUTPUT_NAMES)


def is_unknown(value: Any) -> bool:
    """True for an input whose value is not known yet (a preview).

    Pulumi is not imported for this: a value can only be unknown where Pulumi already runs.
    """
    output = sys.modules.get("pulumi.output")
    return output is not None and isinstance(value, output.Unknown)


def composite_id(tenant_id: str, token_id: str) -> str:
    """The Pulumi ID of a ScimToken: ``<tenant_id>/<token_id>``."""
    return f"{tenant_id}/{token_id}"


def parse_composite_id(value: Any, what: str = "ID") -> tuple[str, str]:
    """
    Split ``<tenant_id>/<token_id>``: exactly one slash, each part a safe single path segment
    (no white space, control characters, ``\\``, ``.`` or ``..``).

    :raises ImportIdError: naming ``what`` and the expected form.
    """
    form = f"expected <tenant_id>/<token_id>, e.g. 'engineering/3f2a...', got {value!r}"
    if not isinstance(value, str):
        raise ImportIdError(f"{what} must be a string: {form}")
    parts = value.split("/")
    if len(parts) != 2 or not all(p.strip() for p in parts):
        raise ImportIdError(f"{what} is malformed: {form}")
    for label, part in zip(("tenant_id", "token_id"), parts, strict=True):
        problem = id_problem(part)
        if problem:
            raise ImportIdError(f"{what} is malformed: its {label} {problem}: {form}")
    return parts[0], parts[1]


def validate_inputs(news: Mapping[str, Any]) -> list[tuple[str, str]]:
    """
    Every problem with a ScimToken's inputs, as ``(property, reason)`` pairs; values not yet
    known (a preview) pass. Each reason names the property and the fix.
    """
    failures: list[tuple[str, str]] = []

    def refuse(prop: str, reason: str) -> bool:
        failures.append((prop, reason))
        return False

    def required(
        prop: str, problem: Callable[[object], str | None], example: str, fix: str
    ) -> None:
        value = news.get(prop)
        if is_unknown(value):
            return
        if value is None or (isinstance(value, str) and not value.strip()):
            refuse(prop, f"{prop} is required: set it to {example}.")
        elif reason := problem(value):
            refuse(prop, f"{prop} {shown(value)} {reason}: {fix}.")

    def days(prop: str) -> bool:
        value = news.get(prop)
        if value is None or is_unknown(value):
            return True
        reason = days_problem(value, high=MAX_DAYS)
        return not reason or refuse(prop, f"{prop} {reason}: set a whole number of days, e.g. 90.")

    required(
        "tenant_id",
        id_problem,
        "the team's tenant ID, e.g. 'engineering'",
        "use the tenant ID exactly as localskills.sh shows it",
    )
    required(
        "name",
        name_problem,
        "a non-blank label, e.g. 'Okta SCIM Provisioning'",
        "use a short one-line label",
    )
    expires, rotate = news.get("expires_in_days"), news.get("rotate_before_days")
    expires_ok, rotate_ok = days("expires_in_days"), days("rotate_before_days")
    if rotate_ok and rotate is not None and not is_unknown(rotate):
        if expires is None:
            refuse(
                "rotate_before_days",
                "rotate_before_days needs expires_in_days: a token that never expires is never "
                "due for rotation. Set expires_in_days, or remove rotate_before_days.",
            )
        elif expires_ok and not is_unknown(expires) and rotate >= expires:
            refuse(
                "rotate_before_days",
                f"rotate_before_days ({whole_number(rotate)}) must be smaller than "
                f"expires_in_days ({whole_number(expires)}), or every token would be due for "
                "rotation as soon as it exists.",
            )

    import_id, tenant_id = news.get(IMPORT_ID), news.get("tenant_id")
    if import_id is not None and not is_unknown(import_id):
        try:
            import_tenant, _ = parse_composite_id(import_id, "import_")
        except ImportIdError as exc:
            refuse(IMPORT_ID, str(exc))
        else:
            if isinstance(tenant_id, str) and import_tenant != tenant_id:
                refuse(
                    IMPORT_ID,
                    f"import_ names tenant {import_tenant!r} but tenant_id is {tenant_id!r}: "
                    "they must be the same.",
                )
    return failures


def whole_number(value: Any) -> Any:
    """``365.0`` as ``365``: the wire carries every number as a float. Other values as given."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def normalize_inputs(news: Mapping[str, Any]) -> dict[str, Any]:
    """The inputs as the provider keeps them: day counts as ``int``."""
    inputs = dict(news)
    for prop in ("expires_in_days", "rotate_before_days"):
        if prop in inputs:
            inputs[prop] = whole_number(inputs[prop])
    return inputs


def changed_inputs(olds: Mapping[str, Any], news: Mapping[str, Any]) -> list[str]:
    """The inputs whose value differs, or is not known yet; the import marker is not one."""
    return [
        prop
        for prop in INPUT_NAMES
        if is_unknown(news.get(prop))
        or whole_number(olds.get(prop)) != whole_number(news.get(prop))
    ]


IN_PLACE_INPUTS = ("rotate_before_days",)
"""Inputs that are settings of the resource, not of the token: a change updates the state in
place, with no API call. Every other input is the token's own, and replaces it."""


def replacing_changes(olds: Mapping[str, Any], news: Mapping[str, Any]) -> list[str]:
    """The changed inputs that replace the token (see :data:`IN_PLACE_INPUTS`)."""
    return [prop for prop in changed_inputs(olds, news) if prop not in IN_PLACE_INPUTS]


def rotation_due(
    expires_at: str | None, rotate_before_days: Any, now: datetime | None = None
) -> bool:
    """True when a token expiring at ``expires_at`` has expired, or expires within
    ``rotate_before_days`` (see :meth:`ScimTokenRecord.due_for_rotation`)."""
    if not expires_at:
        return False
    record = ScimTokenRecord(
        id="-", name="-", created_at=expires_at, last_used_at=None, expires_at=expires_at
    )
    try:
        window = days_problem(rotate_before_days, low=0) is None
        return record.due_for_rotation(rotate_before_days if window else None, now)
    except ValueError:
        return False


@dataclass(frozen=True)
class ScimTokenInputs:
    """A ScimToken's inputs, after ``check``."""

    tenant_id: str
    name: str
    expires_in_days: int | None = None
    rotate_before_days: int | None = None
    import_id: str | None = None

    @classmethod
    def from_props(cls, props: Mapping[str, Any]) -> ScimTokenInputs:
        """Build from property values; raises :class:`InputError` on what ``check`` refuses."""
        failures = validate_inputs(props)
        if failures:
            raise InputError("; ".join(reason for _, reason in failures))
        inputs = normalize_inputs(props)
        return cls(
            tenant_id=inputs["tenant_id"],
            name=inputs["name"],
            expires_in_days=inputs.get("expires_in_days"),
            rotate_before_days=inputs.get("rotate_before_days"),
            import_id=inputs.get(IMPORT_ID),
        )

    def as_inputs(self) -> dict[str, Any]:
        """The inputs as property values, the import marker included when set."""
        props: dict[str, Any] = {
            "tenant_id": self.tenant_id,
            "name": self.name,
            "expires_in_days": self.expires_in_days,
            "rotate_before_days": self.rotate_before_days,
        }
        if self.import_id is not None:
            props[IMPORT_ID] = self.import_id
        return props

    def declaration(self, resource_name: str) -> list[str]:
        """The lines of Python that declare these inputs as ``ScimToken(resource_name, ...)``."""
        variable = re.sub(r"\W+", "_", resource_name.lower()).strip("_")
        if not variable.isidentifier():
            variable = f"token_{variable}" if variable else "scim_token"
        if keyword.iskeyword(variable):
            variable += "_"
        lines = [f"{variable} = ScimToken(", f"    {resource_name!r},"]
        for key, value in self.as_inputs().items():
            if value is not None and key != IMPORT_ID:
                lines.append(f"    {key}={value!r},")
        return [*lines, ")"]

    def outputs(self, record: ScimTokenRecord, token_value: Any) -> dict[str, Any]:
        """The resource's outputs for a live token. The import marker is never one: it asks
        for an adoption, which is over once the token is in state."""
        props = self.as_inputs()
        props.pop(IMPORT_ID, None)
        return {
            **props,
            "token_id": record.id,
            "token_value": token_value,
            **{name: getattr(record, name) for name in RECORD_OUTPUT_NAMES},
        }
