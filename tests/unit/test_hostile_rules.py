"""The rules behind the hostile-server tests, one function at a time (no server needed):
settings the client cannot honour are refused, Retry-After is read tolerantly, API data is
checked field by field, and redaction catches every secret shape."""

from __future__ import annotations

import math
from typing import Any

import pytest

from localskills_pulumi.errors import (
    ConfigError,
    CredentialsError,
    LocalskillsError,
    MalformedResponseError,
)
from localskills_pulumi.identifiers import redact
from localskills_pulumi.records import IssuedScimToken, ScimTokenRecord, parse_timestamp
from localskills_pulumi.retry import MAX_RETRY_AFTER_SECONDS, RetryPolicy
from localskills_pulumi.settings import resolve_settings

API_TOKEN = "lsk_" + "0123456789abcdef" * 4


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("localskills:requestTimeout", math.nan),
        ("localskills:requestTimeout", math.inf),
        ("localskills:requestTimeout", 0),
        ("localskills:requestTimeout", -1),
        ("localskills:requestTimeout", 601),
        ("localskills:requestTimeout", True),
        ("localskills:requestTimeout", "thirty"),
        ("localskills:maxRetries", 10**9),
        ("localskills:maxRetries", 11),
        ("localskills:maxRetries", -1),
        ("localskills:maxRetries", 1.5),
        ("localskills:maxRetries", True),
    ],
    ids=repr,
)
def test_settings_the_client_cannot_bound_are_refused(key: str, value: Any) -> None:
    with pytest.raises(ConfigError) as raised:
        resolve_settings(api_token=API_TOKEN, config={key: value}, environ={})
    assert isinstance(raised.value, LocalskillsError)
    assert key in str(raised.value)


@pytest.mark.parametrize(
    "token",
    ["lsk_" + "\u20ac" * 8, "lsk_" + "\xe9" * 8, "lsk_ab cd", "lsk_ab\r\nX-Evil: 1"],
    ids=["non-Latin-1", "Latin-1", "space", "line break"],
)
def test_an_api_token_no_header_can_carry_is_refused(token: str) -> None:
    with pytest.raises(CredentialsError, match="malformed") as raised:
        resolve_settings(api_token=token, environ={})
    assert token not in str(raised.value)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("soon", 0.0),
        ("-1", 0.0),
        ("1e3", 0.0),
        ("", 0.0),
        ("Fri, 99 Foo 2025", 0.0),
        ("Mon, 01 Jan 1990 00:00:00 GMT", 0.0),  # a date in the past: no wait
        ("5", 5.0),
        ("120", MAX_RETRY_AFTER_SECONDS),
        ("9" * 400, MAX_RETRY_AFTER_SECONDS),
    ],
)
def test_retry_after_is_read_tolerantly_and_capped(value: str, seconds: float) -> None:
    assert RetryPolicy.default(3).parse_retry_after(value) == seconds


def test_the_backoff_grows_and_the_first_retry_waits_none() -> None:
    policy = RetryPolicy.default(3, backoff_factor=0.5)
    policy.backoff_jitter = 0.0
    assert [policy.backoff_before(n) for n in (1, 2, 3)] == [0.0, 1.0, 2.0]


@pytest.mark.parametrize(
    "value",
    [
        "yesterday",
        "2026-13-01T00:00:00Z",
        "9999-12-31T23:59:59-23:59",  # year 10000 in UTC
        "0001-01-01T00:00:00+01:00",  # year 0 in UTC
        "2026-01-01T00:00:00+99:00",
        "2026-01-01",
        1767225600,
        None,
    ],
    ids=repr,
)
def test_a_timestamp_the_api_could_not_have_sent_does_not_parse(value: Any) -> None:
    with pytest.raises(ValueError):
        parse_timestamp(value)


def test_timestamps_with_fractions_and_offsets_parse_to_utc() -> None:
    assert parse_timestamp("2026-01-01T01:30:00.123456789+01:30").isoformat() == (
        "2026-01-01T00:00:00.123456+00:00"
    )


@pytest.mark.parametrize(
    "item",
    [
        None,
        [],
        "tok1",
        {"id": "tok1"},
        {"id": "tok1", "name": "n", "createdAt": "2026-01-01T00:00:00Z", "expiresAt": 5},
        {"id": "a/b", "name": "n", "createdAt": "2026-01-01T00:00:00Z"},
        {"id": "..", "name": "n", "createdAt": "2026-01-01T00:00:00Z"},
        {"id": "x" * 201, "name": "n", "createdAt": "2026-01-01T00:00:00Z"},
        {"id": "tok1", "name": "n" * 2000, "createdAt": "2026-01-01T00:00:00Z"},
    ],
    ids=repr,
)
def test_a_listing_item_off_the_api_shape_is_a_malformed_response(item: Any) -> None:
    with pytest.raises(MalformedResponseError, match="list SCIM tokens"):
        ScimTokenRecord.from_api(item, "list SCIM tokens of tenant 't'")


def test_a_malformed_create_answer_never_shows_the_secret() -> None:
    secret = "lsk_scim_" + "4" * 40
    data = {"id": "a/b", "name": "n", "createdAt": "2026-01-01T00:00:00Z", "token": secret}
    with pytest.raises(MalformedResponseError) as raised:
        IssuedScimToken.from_api(data, "create SCIM token 'n'")
    assert secret not in str(raised.value)
    data = {"id": secret + "/x", "name": "n", "createdAt": "2026-01-01T00:00:00Z", "token": "x"}
    with pytest.raises(MalformedResponseError) as raised:
        IssuedScimToken.from_api(data, "create SCIM token 'n'")
    assert secret not in str(raised.value)


def test_redaction_covers_the_api_token_and_every_secret_shape() -> None:
    text = f"Bearer {API_TOKEN} scim lsk_scim_{'a' * 40} odd lsk_abc-DEF_0123 short lsk_ab"
    redacted = redact(text, API_TOKEN)
    assert "lsk_scim_" not in redacted and API_TOKEN not in redacted
    assert "lsk_abc-DEF" not in redacted
    assert redacted.count("[redacted]") == 3
    assert redact("token=xyz", "xyz") == "token=[redacted]"  # any token, whatever its shape
