"""SCIM token hygiene: a Pulumi policy pack for localskills.sh tokens.

Three policies on ``pulumi-python:dynamic/localskills:ScimToken`` resources:

- ``scim-token-must-expire``: a token without ``expires_in_days`` never expires.
- ``scim-token-max-lifetime``: ``expires_in_days`` is at most ``maxLifetimeDays`` (default 365).
- ``scim-token-must-rotate``: ``rotate_before_days`` is set, and at least
  ``minRotateBeforeDays`` (default 7, so a weekly scheduled ``pulumi up`` never misses the
  window).

Each is ``mandatory`` unless the pack's config says otherwise (``--policy-pack-config``), per
policy or for ``all``. A value not known yet (``pulumi preview`` with an input computed from
another resource) is not judged: the policy looks at it again during the update, when it is
known. Run with ``pulumi preview --policy-pack policy``.
"""

from __future__ import annotations

from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyPack,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)
from pulumi_policy.proxy import UnknownValueError

SCIM_TOKEN_TYPE = "pulumi-python:dynamic/localskills:ScimToken"
DEFAULT_MAX_LIFETIME_DAYS = 365
DEFAULT_MIN_ROTATE_BEFORE_DAYS = 7
_EXAMPLE = "e.g. expires_in_days=90, rotate_before_days=14"


class _NotKnownYet:
    """A property whose value a preview does not know yet."""


NOT_KNOWN_YET = _NotKnownYet()


def _prop(args: ResourceValidationArgs, name: str) -> Any:
    """The property's value, None when unset, or NOT_KNOWN_YET during a preview.

    pulumi-policy wraps the properties in a proxy that raises on a value not known yet; a
    policy that let that escape would report "can't run policy during preview" for a token
    that may be perfectly fine.
    """
    try:
        return args.props.get(name)
    except UnknownValueError:
        return NOT_KNOWN_YET


def _days(value: Any) -> Any:
    """``90.0`` (every number arrives as a float) as ``90``; anything else as given."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _config_days(args: ResourceValidationArgs, key: str, default: int) -> int:
    value = _days(args.get_config().get(key, default))
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(
            f"policy config {key} must be a whole number of days, at least 1; got {value!r}"
        )
    return value


def _applies(args: ResourceValidationArgs) -> bool:
    if args.resource_type != SCIM_TOKEN_TYPE:
        args.not_applicable(f"applies to {SCIM_TOKEN_TYPE} only")
        return False
    return True


def _resource(args: ResourceValidationArgs) -> str:
    return f"ScimToken {args.name!r}"


def must_expire(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """A token must have ``expires_in_days``."""
    if not _applies(args):
        return
    if _prop(args, "expires_in_days") is None:
        report_violation(
            f"{_resource(args)} never expires: expires_in_days is not set. A leaked token "
            f"would work forever. Fix: set expires_in_days and rotate_before_days ({_EXAMPLE}); "
            "the change replaces the token, new one first.",
            None,
        )


def max_lifetime(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """``expires_in_days`` is at most ``maxLifetimeDays``; a token that never expires is left
    to ``scim-token-must-expire``."""
    if not _applies(args):
        return
    maximum = _config_days(args, "maxLifetimeDays", DEFAULT_MAX_LIFETIME_DAYS)
    expires = _days(_prop(args, "expires_in_days"))
    if expires is None or expires is NOT_KNOWN_YET or not isinstance(expires, (int, float)):
        return
    if expires > maximum:
        report_violation(
            f"{_resource(args)} lives {expires} days (expires_in_days={expires}), more than the "
            f"maximum of {maximum}. Fix: set expires_in_days to {maximum} or fewer "
            f"({_EXAMPLE}); the change replaces the token, new one first.",
            None,
        )


def must_rotate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """``rotate_before_days`` is set and at least ``minRotateBeforeDays``. A token that never
    expires cannot rotate (the provider refuses ``rotate_before_days`` without
    ``expires_in_days``); ``scim-token-must-expire`` reports it."""
    if not _applies(args):
        return
    minimum = _config_days(args, "minRotateBeforeDays", DEFAULT_MIN_ROTATE_BEFORE_DAYS)
    expires = _days(_prop(args, "expires_in_days"))
    rotate = _days(_prop(args, "rotate_before_days"))
    if expires is None or rotate is NOT_KNOWN_YET:
        return
    if rotate is None:
        report_violation(
            f"{_resource(args)} does not rotate: rotate_before_days is not set, so the token "
            "is replaced only once it has expired, and the identity provider holding it stops "
            f"provisioning until then. Fix: set rotate_before_days to at least {minimum} "
            f"({_EXAMPLE}) and run `pulumi up` on a schedule.",
            None,
        )
    elif isinstance(rotate, (int, float)) and rotate < minimum:
        report_violation(
            f"{_resource(args)} rotates only {rotate} days before expiry "
            f"(rotate_before_days={rotate}), fewer than the minimum of {minimum}. Fix: set "
            f"rotate_before_days to at least {minimum} (and below expires_in_days), so a "
            "scheduled `pulumi up` cannot miss the window.",
            None,
        )


POLICIES = [
    ResourceValidationPolicy(
        name="scim-token-must-expire",
        description="SCIM tokens must expire.",
        validate=must_expire,
        severity=Severity.HIGH,
        remediation_steps="Set expires_in_days (and rotate_before_days) on the ScimToken.",
    ),
    ResourceValidationPolicy(
        name="scim-token-max-lifetime",
        description="SCIM tokens must not live longer than the configured maximum.",
        validate=max_lifetime,
        severity=Severity.MEDIUM,
        config_schema=PolicyConfigSchema(
            properties={
                "maxLifetimeDays": {
                    "type": "integer",
                    "minimum": 1,
                    "default": DEFAULT_MAX_LIFETIME_DAYS,
                    "description": "The longest expires_in_days allowed.",
                }
            }
        ),
        remediation_steps="Lower expires_in_days to the maximum or below.",
    ),
    ResourceValidationPolicy(
        name="scim-token-must-rotate",
        description="SCIM tokens must be rotated before they expire.",
        validate=must_rotate,
        severity=Severity.MEDIUM,
        config_schema=PolicyConfigSchema(
            properties={
                "minRotateBeforeDays": {
                    "type": "integer",
                    "minimum": 1,
                    "default": DEFAULT_MIN_ROTATE_BEFORE_DAYS,
                    "description": (
                        "The smallest rotate_before_days allowed: at least the interval "
                        "between scheduled `pulumi up` runs."
                    ),
                }
            }
        ),
        remediation_steps="Set rotate_before_days to the minimum or more.",
    ),
]

if __name__ == "__main__":
    PolicyPack(
        name="localskills-scim-tokens",
        enforcement_level=EnforcementLevel.MANDATORY,
        policies=list(POLICIES),
    )
