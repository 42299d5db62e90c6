"""What a tenant ID, a token ID, a token name, a day count and an API token may be, and how a
secret is redacted: one definition for the resource's ``check``, the client and the emulator.
It imports nothing of the package, so any layer may use it."""

from __future__ import annotations

import math
import re

API_TOKEN_PATTERN = re.compile(r"lsk_[0-9a-fA-F]{64}")  # the documented form of an API token
SECRET_SHAPE = re.compile(r"lsk_[A-Za-z0-9_\-]{8,}")  # an API or SCIM token, for redaction
# The API states no limits; these are the product's and the emulator's alike.
MAX_ID_LENGTH = 200  # far above any real ID
MAX_NAME_LENGTH = 256
MAX_DAYS = 36_500  # 100 years: date arithmetic on it cannot overflow


def _text_problem(value: object, limit: int) -> str | None:
    if not isinstance(value, str):
        return f"must be a string, not {_type_name(value)}"
    if not value.strip():
        return "must not be blank"
    if len(value) > limit:
        return f"must be at most {limit} characters, got {len(value)}"
    return None


def id_problem(value: object) -> str | None:
    """Why ``value`` cannot be a tenant or token ID, or None: a safe single URL path segment,
    nothing a server could split or drop (``/``, ``..``) or that breaks a header or a log line."""
    problem = _text_problem(value, MAX_ID_LENGTH)
    if problem or not isinstance(value, str):
        return problem
    if value in (".", ".."):
        return f"must not be {value!r} (a URL would drop it as a dot segment)"
    if "/" in value or "\\" in value:
        return "must not contain '/' or '\\'"
    if any(ch.isspace() or not ch.isprintable() for ch in value):
        return "must not contain white space or control characters"
    return None


def name_problem(value: object) -> str | None:
    """Why ``value`` cannot be a SCIM token's name, or None."""
    problem = _text_problem(value, MAX_NAME_LENGTH)
    if problem or not isinstance(value, str):
        return problem
    if any(not ch.isprintable() for ch in value):
        return "must not contain control characters (line breaks, tabs, NUL)"
    return None


def days_problem(value: object, *, low: int = 1, high: int = MAX_DAYS) -> str | None:
    """Why ``value`` cannot be a day count from ``low`` to ``high``, or None: an int or an
    integral float (as the wire carries it), never a bool, NaN, infinity or fraction."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return f"must be a whole number of days, not {_type_name(value)}"
    if isinstance(value, float) and not math.isfinite(value):
        return f"must be a finite whole number of days, got {value!r}"
    if value != int(value):
        return f"must be a whole number of days, got {value!r}"
    if not low <= value <= high:
        return f"must be from {low} to {high}, got {int(value)}"
    return None


def api_token_problem(value: object, *, exact: bool = False) -> str | None:
    """Why ``value`` cannot be an API token, or None, never repeating it: any ``lsk_`` token of
    ASCII letters, digits, ``_`` and ``-`` (what a header carries safely; the API judges the
    rest); with ``exact``, only :data:`API_TOKEN_PATTERN` (the emulator's seed and admin API)."""
    if not isinstance(value, str):
        return f"must be a string, not {_type_name(value)}"
    if exact:
        return None if API_TOKEN_PATTERN.fullmatch(value) else "must be 'lsk_' and 64 hex digits"
    if not value:
        return "is malformed: it is empty"
    if not value.startswith("lsk_"):
        return (
            "does not start with 'lsk_': use an API token created on localskills.sh (not a "
            "SCIM token or another secret)"
        )
    if not all(ch.isascii() and (ch.isalnum() or ch in "_-") for ch in value):
        return (
            "is malformed: it holds characters no API token has (white space, punctuation or "
            "non-ASCII letters); copy it again from localskills.sh"
        )
    return None


def shown(value: object, limit: int = 60) -> str:
    """``repr(value)`` for a message: redacted and cut to ``limit`` characters."""
    text = redact(repr(value))
    return text if len(text) <= limit else text[:limit] + "..."


def redact(text: str, *secrets: str) -> str:
    """``text`` with ``secrets`` and anything shaped like a secret replaced by ``[redacted]``,
    for server text (which may echo the ``Authorization`` header) bound for an error or a log."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    return SECRET_SHAPE.sub("[redacted]", text)


def _type_name(value: object) -> str:
    return "null" if value is None else type(value).__name__
