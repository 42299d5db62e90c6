"""The ScimToken model's rules, as pure functions (no server needed)."""

from datetime import datetime, timedelta, timezone

import pytest
from pulumi.output import Unknown

from localskills_pulumi.errors import ImportIdError
from localskills_pulumi.model import (
    changed_inputs,
    parse_composite_id,
    rotation_due,
    validate_inputs,
)
from localskills_pulumi.records import ScimTokenRecord


def failing(news: dict[str, object]) -> set[str]:
    return {prop for prop, _ in validate_inputs(news)}


@pytest.mark.parametrize("value", ["a", "a/", "/b", "a/b/c", " a/b", "a/b ", "a /b", "", None, 7])
def test_malformed_composite_ids_are_refused(value: object) -> None:
    with pytest.raises(ImportIdError, match="<tenant_id>/<token_id>"):
        parse_composite_id(value)


def test_composite_id_splits_into_tenant_and_token() -> None:
    assert parse_composite_id("engineering/abc123") == ("engineering", "abc123")


@pytest.mark.parametrize("tenant_id", ["", "  ", None, 5, "a/b", "a b", "a\tb", "a\x00b"])
def test_tenant_id_must_be_a_clean_non_blank_string(tenant_id: object) -> None:
    assert failing({"tenant_id": tenant_id, "name": "n"}) == {"tenant_id"}


@pytest.mark.parametrize("name", ["", "   ", None, 3])
def test_name_must_be_a_non_blank_string(name: object) -> None:
    assert failing({"tenant_id": "t", "name": name}) == {"name"}


@pytest.mark.parametrize("days", [0, -1, 1.5, True, "30"])
def test_day_counts_must_be_positive_whole_numbers(days: object) -> None:
    assert failing({"tenant_id": "t", "name": "n", "expires_in_days": days}) == {"expires_in_days"}


def test_rotate_before_days_needs_expires_in_days() -> None:
    assert failing({"tenant_id": "t", "name": "n", "rotate_before_days": 5}) == {
        "rotate_before_days"
    }


def test_rotate_before_days_must_be_smaller_than_expires_in_days() -> None:
    news = {"tenant_id": "t", "name": "n", "expires_in_days": 30, "rotate_before_days": 30}
    assert failing(news) == {"rotate_before_days"}


def test_unknown_values_pass_check() -> None:
    news = {
        "tenant_id": Unknown(),
        "name": Unknown(),
        "expires_in_days": Unknown(),
        "rotate_before_days": 5,
    }
    assert validate_inputs(news) == []


def test_import_marker_must_name_the_same_tenant() -> None:
    news = {"tenant_id": "t", "name": "n", "import_id": "other/abc"}
    assert failing(news) == {"import_id"}


def test_wire_floats_equal_ints_and_unknowns_count_as_changes() -> None:
    olds = {"tenant_id": "t", "name": "n", "expires_in_days": 30}
    assert changed_inputs(olds, {**olds, "expires_in_days": 30.0}) == []
    assert changed_inputs(olds, {**olds, "name": Unknown()}) == ["name"]


def test_rotation_is_due_inside_the_window_or_after_expiry() -> None:
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    expires = (now + timedelta(days=10)).isoformat().replace("+00:00", "Z")
    assert not rotation_due(expires, None, now)
    assert not rotation_due(expires, 9, now)
    assert rotation_due(expires, 10, now)
    assert rotation_due(expires, None, now + timedelta(days=11))
    assert not rotation_due(None, 10, now)


def test_lifetime_is_whole_days_between_creation_and_expiry() -> None:
    record = ScimTokenRecord("id", "n", "2026-01-01T00:00:00Z", None, "2026-04-01T00:00:00Z")
    assert record.lifetime_days == 90
    assert ScimTokenRecord("id", "n", "2026-01-01T00:00:00Z", None, None).lifetime_days is None
