"""The ScimToken resource's model: its properties, their rules, its ID, its expiry.

Pure functions over plain values; nothing here talks HTTP or to the engine, so the provider
and the resource class share one definition of what a valid ScimToken is.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from pulumi.output import Unknown

from .client import ScimTokenRecord, parse_timestamp

# Inputs the user sets; each forces replacement when it changes.
INPUT_NAMES = ("tenant_id", "name", "expires_in_days", "rotate_before_days")
# Set by the resource class from `opts.import_`; never part of a diff.
IMPORT_ID = "import_id"
OUTPUT_NAMES = (
    *INPUT_NAMES,
    "token_id",
    "token_value",
    "created_at",
    "expires_at",
    "last_used_at",
)

_TENANT_ID_FORBIDDEN = re.compile(r"[/\s\x00-\x1f\x7f]")


class ImportIdError(ValueError):
    """A composite ID that is not ``<tenant_id>/<token_id>``."""


def is_unknown(value: Any) -> bool:
    """True for an input whose value is not known yet (a preview)."""
    return isinstance(value, Unknown)


def composite_id(tenant_id: str, token_id: str) -> str:
    """The Pulumi ID of a ScimToken: ``<tenant_id>/<token_id>``."""
    return f"{tenant_id}/{token_id}"


def parse_composite_id(value: Any, what: str = "ID") -> tuple[str, str]:
    """
    Split ``<tenant_id>/<token_id>``: exactly one slash, both parts non-empty, no white space.

    :raises ImportIdError: naming ``what`` and the expected form.
    """
    form = f"expected <tenant_id>/<token_id>, e.g. 'engineering/3f2a...', got {value!r}"
    if not isinstance(value, str):
        raise ImportIdError(f"{what} must be a string: {form}")
    parts = value.split("/")
    if len(parts) != 2 or not all(parts) or any(p != p.strip() or not p.strip() for p in parts):
        raise ImportIdError(f"{what} is malformed: {form}")
    if any(_TENANT_ID_FORBIDDEN.search(p) for p in parts):
        raise ImportIdError(f"{what} holds white space or control characters: {form}")
    return parts[0], parts[1]


def validate_inputs(news: Mapping[str, Any]) -> list[tuple[str, str]]:
    """
    Every problem with a ScimToken's inputs, as ``(property, reason)`` pairs; values not yet
    known (a preview) pass.
    """
    failures: list[tuple[str, str]] = []
    tenant_id = news.get("tenant_id")
    if not is_unknown(tenant_id):
        if not isinstance(tenant_id, str) or not tenant_id.strip():
            failures.append(
                (
                    "tenant_id",
                    "tenant_id is required: set it to the team's tenant ID, e.g. 'engineering'.",
                )
            )
        elif _TENANT_ID_FORBIDDEN.search(tenant_id):
            failures.append(
                (
                    "tenant_id",
                    f"tenant_id {tenant_id!r} holds a '/', white space or a control character: "
                    "use the tenant ID exactly as localskills.sh shows it.",
                )
            )
    name = news.get("name")
    if not is_unknown(name) and (not isinstance(name, str) or not name.strip()):
        failures.append(
            (
                "name",
                "name is required: set it to a non-blank label, e.g. 'Okta SCIM Provisioning'.",
            )
        )

    expires = news.get("expires_in_days")
    expires_ok = _check_positive_int("expires_in_days", expires, failures)
    rotate = news.get("rotate_before_days")
    rotate_ok = _check_positive_int("rotate_before_days", rotate, failures)
    if rotate_ok and rotate is not None and not is_unknown(rotate):
        if expires is None:
            failures.append(
                (
                    "rotate_before_days",
                    "rotate_before_days needs expires_in_days: a token that never expires is "
                    "never due for rotation. Set expires_in_days, or remove rotate_before_days.",
                )
            )
        elif expires_ok and not is_unknown(expires) and rotate >= expires:
            failures.append(
                (
                    "rotate_before_days",
                    f"rotate_before_days ({rotate}) must be smaller than expires_in_days "
                    f"({expires}), or every token would be due for rotation as soon as it exists.",
                )
            )

    import_id = news.get(IMPORT_ID)
    if import_id is not None and not is_unknown(import_id):
        try:
            import_tenant, _ = parse_composite_id(import_id, "import_")
        except ImportIdError as exc:
            failures.append((IMPORT_ID, str(exc)))
        else:
            if isinstance(tenant_id, str) and import_tenant != tenant_id:
                failures.append(
                    (
                        IMPORT_ID,
                        f"import_ names tenant {import_tenant!r} but tenant_id is {tenant_id!r}: "
                        "they must be the same.",
                    )
                )
    return failures


def _check_positive_int(prop: str, value: Any, failures: list[tuple[str, str]]) -> bool:
    if value is None or is_unknown(value):
        return True
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value):
        failures.append((prop, f"{prop} must be a whole number of days, got {value!r}."))
        return False
    if value < 1:
        failures.append((prop, f"{prop} must be at least 1, got {value!r}."))
        return False
    return True


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


def rotation_due(
    expires_at: str | None, rotate_before_days: Any, now: datetime | None = None
) -> bool:
    """True when the token has expired, or expires within ``rotate_before_days``."""
    if not expires_at:
        return False
    try:
        expiry = parse_timestamp(expires_at)
    except ValueError:
        return False
    window = timedelta(0)
    if isinstance(rotate_before_days, (int, float)) and not isinstance(rotate_before_days, bool):
        window = timedelta(days=rotate_before_days)
    return expiry - window <= (now or datetime.now(timezone.utc))


def lifetime_days(record: ScimTokenRecord) -> int | None:
    """``expires_at - created_at`` in whole days, or None for a token that never expires."""
    if not record.expires_at:
        return None
    delta = parse_timestamp(record.expires_at) - parse_timestamp(record.created_at)
    return round(delta.total_seconds() / 86400)


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
        """Build from property values; raises ``ValueError`` on what ``check`` would refuse."""
        failures = validate_inputs(props)
        if failures:
            raise ValueError("; ".join(reason for _, reason in failures))
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

    def outputs(self, record: ScimTokenRecord, token_value: Any) -> dict[str, Any]:
        """The resource's outputs for a live token."""
        return {
            **self.as_inputs(),
            "token_id": record.id,
            "token_value": token_value,
            "created_at": record.created_at,
            "expires_at": record.expires_at,
            "last_used_at": record.last_used_at,
        }
