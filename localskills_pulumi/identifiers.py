"""What a tenant ID, a token ID, a token name and an API token may look like.

One definition, shared by everything that checks them: the resource's ``check`` (user input),
the client (IDs that come back from the API), and the emulator (its seed and admin API). The
module imports nothing of the package, so any layer may use it.

A tenant or token ID becomes one segment of a URL path, so it must be a *safe single path
segment*: nothing that a URL library or a server could split (``/``, ``\\``), normalize away
(``.``, ``..``) or that breaks a header or a log line (white space, control characters).
"""

from __future__ import annotations

import math
import re

__all__ = [
    "API_TOKEN_PATTERN",
    "API_TOKEN_PREFIX",
    "MAX_DAYS",
    "MAX_ID_LENGTH",
    "MAX_NAME_LENGTH",
    "SECRET_SHAPE",
    "api_token_problem",
    "days_problem",
    "id_problem",
    "name_problem",
    "redact",
    "shown",
]

API_TOKEN_PREFIX = "lsk_"
API_TOKEN_PATTERN = re.compile(r"lsk_[0-9a-fA-F]{64}")
"""A localskills API token: ``lsk_`` and 64 hexadecimal characters."""

SECRET_SHAPE = re.compile(r"lsk_[A-Za-z0-9_\-]{8,}")
"""Anything shaped like a localskills secret (API token or SCIM token), for redaction."""

MAX_ID_LENGTH = 200
"""The longest tenant or token ID accepted (the API states none; far above any real ID)."""
MAX_NAME_LENGTH = 256
"""The longest token name accepted here and by the emulator (the API states none)."""
MAX_DAYS = 36_500
"""The largest day count accepted here and by the emulator (100 years; the API states none):
date arithmetic on it cannot overflow."""


def id_problem(value: object) -> str | None:
    """Why ``value`` cannot be a tenant or token ID (a safe single path segment), or None."""
    if not isinstance(value, str):
        return f"must be a string, not {_type_name(value)}"
    if not value.strip():
        return "must not be blank"
    if len(value) > MAX_ID_LENGTH:
        return f"must be at most {MAX_ID_LENGTH} characters, got {len(value)}"
    if value in (".", ".."):
        return f"must not be {value!r} (a URL would drop it as a dot segment)"
    if "/" in value or "\\" in value:
        return "must not contain '/' or '\\'"
    if any(ch.isspace() or not ch.isprintable() for ch in value):
        return "must not contain white space or control characters"
    return None


def name_problem(value: object) -> str | None:
    """Why ``value`` cannot be a SCIM token's name, or None."""
    if not isinstance(value, str):
        return f"must be a string, not {_type_name(value)}"
    if not value.strip():
        return "must not be blank"
    if len(value) > MAX_NAME_LENGTH:
        return f"must be at most {MAX_NAME_LENGTH} characters, got {len(value)}"
    if any(not ch.isprintable() for ch in value):
        return "must not contain control characters (line breaks, tabs, NUL)"
    return None


def days_problem(value: object, *, low: int = 1, high: int = MAX_DAYS) -> str | None:
    """Why ``value`` cannot be a day count from ``low`` to ``high``, or None.

    Accepts an ``int`` or an integral ``float`` (the wire carries every number as a float);
    refuses booleans, NaN, infinities and fractions.
    """
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
    """Why ``value`` cannot be a localskills API token, or None; the message never repeats it.

    The package sends any ``lsk_`` token of ASCII letters, digits, ``_`` and ``-`` (what a
    header carries safely; another shape is the API's to refuse). With ``exact``, only the
    documented form, ``lsk_`` and 64 hexadecimal characters: the emulator's seed and admin API.
    """
    if not isinstance(value, str):
        return f"must be a string, not {_type_name(value)}"
    if exact:
        if not API_TOKEN_PATTERN.fullmatch(value):
            return f"must be '{API_TOKEN_PREFIX}' followed by 64 hexadecimal characters"
        return None
    if not value:
        return "is malformed: it is empty"
    if not value.startswith(API_TOKEN_PREFIX):
        return (
            f"does not start with '{API_TOKEN_PREFIX}': use an API token created on "
            "localskills.sh (not a SCIM token or another secret)"
        )
    if not all(ch.isascii() and (ch.isalnum() or ch in "_-") for ch in value):
        return (
            "is malformed: it holds characters no API token has (white space, punctuation or "
            "non-ASCII letters); copy it again from localskills.sh"
        )
    return None


def shown(value: object, limit: int = 60) -> str:
    """``repr(value)`` for a message: redacted (a user or a server may put a secret anywhere)
    and cut to ``limit`` characters."""
    text = redact(repr(value))
    return text if len(text) <= limit else text[:limit] + "..."


def redact(text: str, *secrets: str) -> str:
    """``text`` with each of ``secrets`` and anything shaped like a localskills secret
    replaced by ``[redacted]``: for any text a server supplied before it reaches an error or a
    log (a server may echo the request's own ``Authorization`` header)."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    return SECRET_SHAPE.sub("[redacted]", text)


def _type_name(value: object) -> str:
    return "null" if value is None else type(value).__name__
