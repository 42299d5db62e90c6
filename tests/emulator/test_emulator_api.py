"""The SCIM token API of the emulator, through real sockets (shared emulator, tenant per test)."""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
from typing import Any

import pytest
import requests

from localskills_pulumi.testing.emulator import DEMO_API_TOKEN, Emulator
from tests.emulator.support import exchange

TIMEOUT = 10
OTHER_TOKEN = "lsk_" + "ab" * 32
ISO_Z = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


def auth(token: str = DEMO_API_TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def post_raw(
    emulator: Emulator, tenant: str, body: bytes, token: str = DEMO_API_TOKEN
) -> requests.Response:
    return requests.post(
        emulator.tokens_url(tenant),
        data=body,
        headers={**auth(token), "Content-Type": "application/json"},
        timeout=TIMEOUT,
    )


def assert_error(response: requests.Response, status: int, message: str | None = None) -> str:
    assert response.status_code == status
    assert response.headers["Content-Type"] == "application/json"
    body = response.json()
    assert body["success"] is False
    assert isinstance(body["error"], str) and body["error"]
    assert set(body) == {"success", "error"}
    if message is not None:
        assert body["error"] == message
    return str(body["error"])


# -- happy paths ---------------------------------------------------------------------------


def test_new_tenant_lists_no_tokens(emulator: Emulator, tenant_id: str) -> None:
    response = requests.get(emulator.tokens_url(tenant_id), headers=auth(), timeout=TIMEOUT)
    assert response.status_code == 200
    assert response.json() == {"success": True, "data": []}


def test_demo_tenant_accepts_demo_token(emulator: Emulator) -> None:
    response = requests.get(emulator.tokens_url("engineering"), headers=auth(), timeout=TIMEOUT)
    assert response.status_code == 200
    assert response.json()["success"] is True


def test_create_answers_201_with_secret_once(emulator: Emulator, tenant_id: str) -> None:
    response = requests.post(
        emulator.tokens_url(tenant_id), json={"name": "Okta"}, headers=auth(), timeout=TIMEOUT
    )
    assert response.status_code == 201
    body = response.json()
    assert body["success"] is True
    data = body["data"]
    assert set(data) == {"id", "name", "token", "createdAt", "expiresAt"}
    assert re.fullmatch(r"[0-9a-f]{32}", data["id"])
    assert re.fullmatch(r"lsk_scim_[0-9a-f]{64}", data["token"])
    assert data["name"] == "Okta"
    assert ISO_Z.fullmatch(data["createdAt"])
    assert data["expiresAt"] is None
    listed = emulator.list_tokens(tenant_id)
    assert data["token"] not in json.dumps(listed)


def test_expires_at_is_created_at_plus_days(emulator: Emulator, tenant_id: str) -> None:
    data = emulator.create_token(tenant_id, "expiring", expires_in_days=30)
    created = dt.datetime.strptime(data["createdAt"], "%Y-%m-%dT%H:%M:%SZ")
    assert ISO_Z.fullmatch(data["expiresAt"])
    expires = dt.datetime.strptime(data["expiresAt"], "%Y-%m-%dT%H:%M:%SZ")
    assert expires - created == dt.timedelta(days=30)


def test_list_shows_tokens_in_creation_order_without_secrets(
    emulator: Emulator, tenant_id: str
) -> None:
    created = [
        emulator.create_token(tenant_id, f"token {i}", expires_in_days=i + 1) for i in range(3)
    ]
    listed = emulator.list_tokens(tenant_id)
    assert [t["id"] for t in listed] == [t["id"] for t in created]
    for entry, original in zip(listed, created, strict=True):
        assert set(entry) == {"id", "name", "createdAt", "lastUsedAt", "expiresAt"}
        assert entry["name"] == original["name"]
        assert entry["createdAt"] == original["createdAt"]
        assert entry["expiresAt"] == original["expiresAt"]
        assert entry["lastUsedAt"] is None


def test_duplicate_names_in_a_tenant_are_allowed(emulator: Emulator, tenant_id: str) -> None:
    first = emulator.create_token(tenant_id, "same")
    second = emulator.create_token(tenant_id, "same")
    assert first["id"] != second["id"]
    assert first["token"] != second["token"]
    assert [t["name"] for t in emulator.list_tokens(tenant_id)] == ["same", "same"]


def test_token_ids_and_secrets_are_unique(emulator: Emulator, tenant_id: str) -> None:
    tokens = [emulator.create_token(tenant_id, "n") for _ in range(10)]
    assert len({t["id"] for t in tokens}) == 10
    assert len({t["token"] for t in tokens}) == 10


@pytest.mark.parametrize("days", [1, 36_500])
def test_expires_in_days_bounds_are_accepted(emulator: Emulator, tenant_id: str, days: int) -> None:
    data = emulator.create_token(tenant_id, "bounds", expires_in_days=days)
    assert data["expiresAt"] is not None


def test_null_expires_in_days_counts_as_absent(emulator: Emulator, tenant_id: str) -> None:
    response = post_raw(emulator, tenant_id, b'{"name": "n", "expiresInDays": null}')
    assert response.status_code == 201
    assert response.json()["data"]["expiresAt"] is None


def test_name_of_256_characters_is_accepted(emulator: Emulator, tenant_id: str) -> None:
    assert emulator.create_token(tenant_id, "x" * 256)["name"] == "x" * 256


def test_delete_revokes_and_answers_envelope(emulator: Emulator, tenant_id: str) -> None:
    data = emulator.create_token(tenant_id, "doomed")
    response = requests.delete(
        f"{emulator.tokens_url(tenant_id)}/{data['id']}", headers=auth(), timeout=TIMEOUT
    )
    assert response.status_code == 200
    assert response.json() == {"success": True, "data": None}
    assert emulator.list_tokens(tenant_id) == []


def test_delete_of_unknown_token_is_404(emulator: Emulator, tenant_id: str) -> None:
    response = requests.delete(
        f"{emulator.tokens_url(tenant_id)}/{'0' * 32}", headers=auth(), timeout=TIMEOUT
    )
    assert_error(response, 404, "SCIM token not found")


def test_second_delete_is_404(emulator: Emulator, tenant_id: str) -> None:
    data = emulator.create_token(tenant_id, "once")
    assert emulator.delete_token(tenant_id, data["id"]) == 200
    assert emulator.delete_token(tenant_id, data["id"]) == 404


def test_delete_of_another_tenants_token_is_404_and_keeps_it(emulator: Emulator) -> None:
    owner, other = emulator.new_tenant(), emulator.new_tenant()
    data = emulator.create_token(owner, "mine")
    response = requests.delete(
        f"{emulator.tokens_url(other)}/{data['id']}", headers=auth(), timeout=TIMEOUT
    )
    assert_error(response, 404, "SCIM token not found")
    assert [t["id"] for t in emulator.list_tokens(owner)] == [data["id"]]


# -- authentication and authorization ------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": ""},
        {"Authorization": f"Basic {DEMO_API_TOKEN}"},
        {"Authorization": DEMO_API_TOKEN},
        {"Authorization": "Bearer lsk_1234"},
        {"Authorization": "Bearer " + DEMO_API_TOKEN + "0"},
        {"Authorization": "Bearer lsk_scim_" + "0" * 64},
        {"Authorization": "Bearer lsk_" + "g" * 64},
        {"Authorization": "Bearer lsk_" + secrets.token_hex(32)},  # well formed, unknown
    ],
    ids=[
        "none",
        "empty",
        "basic",
        "no-scheme",
        "short",
        "long",
        "scim-secret",
        "non-hex",
        "unknown",
    ],
)
def test_missing_malformed_or_unknown_api_token_is_401(
    emulator: Emulator, tenant_id: str, headers: dict[str, str]
) -> None:
    response = requests.get(emulator.tokens_url(tenant_id), headers=headers, timeout=TIMEOUT)
    assert_error(response, 401)


def test_bearer_scheme_is_case_insensitive(emulator: Emulator, tenant_id: str) -> None:
    response = requests.get(
        emulator.tokens_url(tenant_id),
        headers={"Authorization": f"bearer {DEMO_API_TOKEN}"},
        timeout=TIMEOUT,
    )
    assert response.status_code == 200


def _foreign_tenant(emulator: Emulator) -> str:
    tenant = f"foreign-{emulator.new_tenant()}"
    response = requests.post(
        f"{emulator.base_url}/_emulator/tenants",
        json={"id": tenant, "name": "Foreign", "api_tokens": [OTHER_TOKEN]},
        timeout=TIMEOUT,
    )
    assert response.status_code == 201
    return tenant


@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
def test_token_without_membership_is_403(emulator: Emulator, method: str) -> None:
    tenant = _foreign_tenant(emulator)
    url = emulator.tokens_url(tenant) + ("/" + "0" * 32 if method == "DELETE" else "")
    response = requests.request(method, url, json={"name": "x"}, headers=auth(), timeout=TIMEOUT)
    assert_error(response, 403)


def test_member_of_other_tenant_can_use_its_own(emulator: Emulator) -> None:
    tenant = _foreign_tenant(emulator)
    response = requests.get(emulator.tokens_url(tenant), headers=auth(OTHER_TOKEN), timeout=TIMEOUT)
    assert response.status_code == 200


def test_unknown_tenant_is_404(emulator: Emulator) -> None:
    response = requests.get(emulator.tokens_url("no-such-tenant"), headers=auth(), timeout=TIMEOUT)
    assert_error(response, 404, "Tenant not found")


def test_encoded_slash_in_tenant_segment_is_decoded_once_and_matches_nothing(
    emulator: Emulator, tenant_id: str
) -> None:
    url = f"{emulator.base_url}/api/tenants/{tenant_id}%2Fx/scim-tokens"
    assert_error(requests.get(url, headers=auth(), timeout=TIMEOUT), 404, "Tenant not found")


def test_percent_encoded_tenant_id_is_decoded(emulator: Emulator) -> None:
    url = f"{emulator.base_url}/api/tenants/%65ngineering/scim-tokens"  # %65 = "e"
    assert requests.get(url, headers=auth(), timeout=TIMEOUT).status_code == 200


def test_double_encoding_is_decoded_only_once(emulator: Emulator) -> None:
    url = f"{emulator.base_url}/api/tenants/%2565ngineering/scim-tokens"  # -> "%65ngineering"
    assert_error(requests.get(url, headers=auth(), timeout=TIMEOUT), 404, "Tenant not found")


def test_auth_is_checked_before_tenant_existence(emulator: Emulator) -> None:
    response = requests.get(emulator.tokens_url("no-such-tenant"), timeout=TIMEOUT)
    assert_error(response, 401)


def test_tenant_existence_is_checked_before_body(emulator: Emulator) -> None:
    assert_error(post_raw(emulator, "no-such-tenant", b"garbage"), 404, "Tenant not found")


def test_membership_is_checked_before_body(emulator: Emulator) -> None:
    assert_error(post_raw(emulator, _foreign_tenant(emulator), b"garbage"), 403)


# -- request validation --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "mentions"),
    [
        (b"", "JSON"),
        (b"not json", "JSON"),
        (b'{"name": "x"', "JSON"),
        (b"\xff\xfe", "JSON"),
        (b'{"name": NaN}', "JSON"),
        (b"[]", "object"),
        (b'"name"', "object"),
        (b"null", "object"),
        (b"{}", "name"),
        (b'{"name": null}', "name"),
        (b'{"name": 5}', "name"),
        (b'{"name": ["x"]}', "name"),
        (b'{"name": ""}', "name"),
        (b'{"name": "   "}', "name"),
        (json.dumps({"name": "x" * 257}).encode(), "name"),
        (b'{"name": "x", "expiresInDays": 0}', "expiresInDays"),
        (b'{"name": "x", "expiresInDays": -1}', "expiresInDays"),
        (b'{"name": "x", "expiresInDays": 36501}', "expiresInDays"),
        (b'{"name": "x", "expiresInDays": true}', "expiresInDays"),
        (b'{"name": "x", "expiresInDays": "30"}', "expiresInDays"),
        (b'{"name": "x", "expiresInDays": 30.0}', "expiresInDays"),
        (b'{"name": "x", "expiresInDays": 30.5}', "expiresInDays"),
    ],
)
def test_invalid_create_body_is_400_with_clear_error(
    emulator: Emulator, tenant_id: str, body: bytes, mentions: str
) -> None:
    message = assert_error(post_raw(emulator, tenant_id, body), 400)
    assert mentions in message
    assert emulator.list_tokens(tenant_id) == []


# -- routing and HTTP ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/api",
        "/api/tenants",
        "/api/tenants/engineering",
        "/api/tenants/engineering/scim-tokens/",
        "/api/tenants/engineering/other",
        "/api/tenants/engineering/scim-tokens/a/b",
    ],
)
def test_unknown_route_is_404_not_found(emulator: Emulator, path: str) -> None:
    response = requests.get(emulator.base_url + path, headers=auth(), timeout=TIMEOUT)
    assert_error(response, 404, "Not found")


@pytest.mark.parametrize(
    ("method", "suffix", "allow"),
    [
        ("PUT", "", "GET, POST"),
        ("DELETE", "", "GET, POST"),
        ("PATCH", "", "GET, POST"),
        ("GET", "/abc", "DELETE"),
        ("POST", "/abc", "DELETE"),
    ],
)
def test_wrong_method_is_405(
    emulator: Emulator, tenant_id: str, method: str, suffix: str, allow: str
) -> None:
    response = requests.request(
        method, emulator.tokens_url(tenant_id) + suffix, headers=auth(), timeout=TIMEOUT
    )
    assert_error(response, 405)
    assert response.headers["Allow"] == allow


def test_answers_carry_json_type_and_length_over_http_11(
    emulator: Emulator, tenant_id: str
) -> None:
    responses: list[requests.Response] = [
        requests.get(emulator.tokens_url(tenant_id), headers=auth(), timeout=TIMEOUT),
        requests.get(emulator.tokens_url(tenant_id), timeout=TIMEOUT),
        requests.get(emulator.base_url + "/nope", timeout=TIMEOUT),
    ]
    for response in responses:
        assert response.raw.version == 11
        assert response.headers["Content-Type"] == "application/json"
        assert int(response.headers["Content-Length"]) == len(response.content)
        assert "success" in response.json()


def test_malformed_request_line_gets_envelope(emulator: Emulator) -> None:
    answer = exchange(emulator.base_url, b"GARBAGE\r\n\r\n")
    assert answer.head.startswith("HTTP/1.1 400")
    assert "Content-Type: application/json" in answer.head
    assert answer.json()["success"] is False


def test_unsupported_method_gets_envelope(emulator: Emulator) -> None:
    answer = exchange(emulator.base_url, b"BREW /api/tenants HTTP/1.1\r\nHost: x\r\n\r\n")
    assert answer.head.startswith("HTTP/1.1 501")
    assert answer.json()["success"] is False


def test_chunked_request_body_is_read(emulator: Emulator, tenant_id: str) -> None:
    def chunks() -> Any:
        yield b'{"name": '
        yield b'"chunked"}'

    response = requests.post(
        emulator.tokens_url(tenant_id),
        data=chunks(),
        headers={**auth(), "Content-Type": "application/json"},
        timeout=TIMEOUT,
    )
    assert response.status_code == 201
    assert response.json()["data"]["name"] == "chunked"


def test_logs_never_show_secrets_tokens_or_bodies(emulator: Emulator, tenant_id: str) -> None:
    data = emulator.create_token(tenant_id, "body-marker-7f3a")
    emulator.scim_get_users(data["token"])
    requests.get(emulator.tokens_url(tenant_id), headers=auth(), timeout=TIMEOUT)
    log = emulator.stderr_text()
    assert tenant_id in log  # the request was logged...
    assert data["token"] not in log  # ...without the secret,
    assert data["token"][9:] not in log
    assert DEMO_API_TOKEN not in log  # the API token
    assert DEMO_API_TOKEN[4:] not in log
    assert "body-marker-7f3a" not in log  # or the body.
