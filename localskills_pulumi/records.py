"""SCIM tokens as the API describes them, and the rules that hold on one.

The API's JSON becomes a :class:`ScimTokenRecord` here and nowhere else, and every field is
checked on the way in (type, timestamp form, ID characters): data from the network is hostile,
and a record that exists is one the rest of the package can trust. Expiry, lifetime and
rotation are judged on the record, against a clock the caller passes (the server's, where an
answer's ``Date`` is at hand).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from .errors import MalformedResponseError
from .identifiers import MAX_NAME_LENGTH, id_problem, shown

__all__ = ["IssuedScimToken", "ScimTokenRecord", "format_timestamp", "parse_timestamp"]

_TIMESTAMP = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})?",
    re.IGNORECASE,
)


def parse_timestamp(value: str) -> datetime:
    """Parse an ISO 8601 timestamp such as ``2024-01-01T00:00:00Z`` (fractions of a second
    and ``+hh:mm`` offsets too; none means UTC) into an aware UTC ``datetime``.

    :raises ValueError: anything else.
    """
    match = _TIMESTAMP.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f"not an ISO 8601 timestamp: {value!r}")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    tz = timezone.utc
    if zone and zone.upper() != "Z":
        sign = 1 if zone[0] == "+" else -1
        tz = timezone(sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6])))
    try:
        moment = datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second), micro, tzinfo=tz
        )
        return moment.astimezone(timezone.utc)
    except OverflowError:  # a moment that is out of range once in UTC (year 0 or 10000)
        pass
    raise ValueError(f"not a timestamp datetime can hold in UTC: {value!r}")


def format_timestamp(moment: datetime) -> str:
    """``2024-01-01T00:00:00Z``: the API's form, to the second."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class ScimTokenRecord:
    """A SCIM token as the API lists it. The secret is never part of it.

    :param id: The token's ID (a safe single path segment).
    :param name: The token's name.
    :param created_at: When it was created, ISO 8601 UTC.
    :param last_used_at: When an identity provider last used it, or None.
    :param expires_at: When it expires, or None for a token that never expires.
    """

    id: str
    name: str
    created_at: str
    last_used_at: str | None
    expires_at: str | None

    @classmethod
    def from_api(cls, data: Any, operation: str, status: int = 200) -> ScimTokenRecord:
        """A record from one item of the API's ``data``, every field checked.

        :raises MalformedResponseError: naming the field and ``operation``.
        """
        return cls(**_record_fields(_Fields(data, operation, status)))

    @property
    def created(self) -> datetime:
        """``created_at`` as an aware ``datetime``."""
        return parse_timestamp(self.created_at)

    @property
    def expiry(self) -> datetime | None:
        """``expires_at`` as an aware ``datetime``, or None."""
        return parse_timestamp(self.expires_at) if self.expires_at else None

    @property
    def lifetime_days(self) -> int | None:
        """``expires_at - created_at`` in whole days (rounded), or None if it never expires."""
        expiry = self.expiry
        if expiry is None:
            return None
        return round((expiry - self.created).total_seconds() / 86400)

    def is_expired(self, now: datetime | None = None) -> bool:
        """Whether the token has expired at ``now`` (default: this machine's clock)."""
        expiry = self.expiry
        return expiry is not None and expiry <= (now or _now())

    def expires_within(self, days: float, now: datetime | None = None) -> bool:
        """Whether the token expires within ``days`` days of ``now``: True when expired,
        False when it never expires."""
        expiry = self.expiry
        return expiry is not None and expiry <= (now or _now()) + timedelta(days=days)

    def due_for_rotation(
        self, rotate_before_days: float | None, now: datetime | None = None
    ) -> bool:
        """Whether a token kept ``rotate_before_days`` ahead of expiry is due to be replaced:
        expired, or expiring within that window (None: only once expired)."""
        return self.expires_within(rotate_before_days or 0, now)


@dataclass(frozen=True)
class IssuedScimToken(ScimTokenRecord):
    """A token just created: the only time the API returns its secret, ``token``."""

    token: str = field(default="", repr=False)

    @classmethod
    def from_api(cls, data: Any, operation: str, status: int = 201) -> IssuedScimToken:
        """A just-issued token from the create answer's ``data``, every field checked.

        :raises MalformedResponseError: naming the field (never showing the secret).
        """
        fields = _Fields(data, operation, status)
        return cls(**_record_fields(fields), token=fields.secret("token"))


def _record_fields(fields: _Fields) -> dict[str, Any]:
    """The API's JSON mapped to a record's fields: the one place that knows the API's names.
    (A create's answer holds no ``lastUsedAt``: optional fields may be absent.)"""
    return {
        "id": fields.token_id("id"),
        "name": fields.name("name"),
        "created_at": fields.required_timestamp("createdAt"),
        "last_used_at": fields.timestamp("lastUsedAt", optional=True),
        "expires_at": fields.timestamp("expiresAt", optional=True),
    }


class _Fields:
    """Reads one JSON object from the API, field by field, refusing what is off."""

    def __init__(self, data: Any, operation: str, status: int) -> None:
        self.operation = operation
        self.status = status
        if not isinstance(data, dict):
            self._fail(f"a SCIM token must be a JSON object, got {_kind(data)}")
        self.data: dict[str, Any] = data

    def _fail(self, message: str) -> None:
        raise MalformedResponseError(
            self.operation,
            self.status,
            f"the answer is malformed: {message}",
            "The API answered data this client cannot trust; nothing was changed on its "
            "account. Check the base URL, or retry later.",
        )

    def _value(self, key: str, optional: bool) -> Any:
        if key not in self.data and not optional:
            self._fail(f"field {key!r} is missing")
        return self.data.get(key)

    def token_id(self, key: str) -> str:
        value = self._value(key, optional=False)
        problem = id_problem(value)
        if problem:
            self._fail(f"field {key!r} {problem} (got {shown(value)})")
        return str(value)

    def name(self, key: str) -> str:
        value = self._value(key, optional=False)
        if not isinstance(value, str):
            self._fail(f"field {key!r} must be a string, got {_kind(value)}")
        if len(value) > MAX_NAME_LENGTH * 4:
            self._fail(f"field {key!r} is {len(value)} characters long")
        return str(value)

    def required_timestamp(self, key: str) -> str:
        value = self.timestamp(key, optional=False)
        assert value is not None
        return value

    def timestamp(self, key: str, optional: bool = False) -> str | None:
        value = self._value(key, optional)
        if value is None and optional:
            return None
        if not isinstance(value, str):
            self._fail(f"field {key!r} must be an ISO 8601 timestamp string, got {_kind(value)}")
        try:
            parse_timestamp(value)
            parsed = True
        except (ValueError, OverflowError):
            parsed = False
        if not parsed:  # raised outside the except: no chained ValueError in the traceback
            self._fail(f"field {key!r} is not an ISO 8601 timestamp: {shown(value)}")
        return str(value)

    def secret(self, key: str) -> str:
        value = self._value(key, optional=False)
        if not isinstance(value, str) or not value or not value.isprintable():
            self._fail(f"field {key!r} must be a non-empty string, got {_kind(value)}")
        return str(value)


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__
