"""The emulator's SCIM 2.0 endpoint (RFC 7644) used with issued SCIM tokens."""

from __future__ import annotations

import re
from typing import Any

import pytest
import requests

from localskills_pulumi.testing.emulator import DEMO_API_TOKEN, Emulator

TIMEOUT = 10
SCIM_TYPE = "application/scim+json"
ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"
LIST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"


class Scim:
    """A tiny SCIM client bound to one secret."""

    def __init__(self, emulator: Emulator, secret: str) -> None:
        self.base = f"{emulator.base_url}/scim/v2"
        self.headers = {"Authorization": f"Bearer {secret}"}

    def get(self, path: str, **params: Any) -> requests.Response:
        return requests.get(self.base + path, params=params, headers=self.headers, timeout=TIMEOUT)

    def post_user(self, **user: Any) -> requests.Response:
        return requests.post(
            self.base + "/Users",
            json={"schemas": [USER_SCHEMA], **user},
            headers={**self.headers, "Content-Type": SCIM_TYPE},
            timeout=TIMEOUT,
        )

    def delete(self, path: str) -> requests.Response:
        return requests.delete(self.base + path, headers=self.headers, timeout=TIMEOUT)


@pytest.fixture
def scim(emulator: Emulator, tenant_id: str) -> Scim:
    return Scim(emulator, emulator.create_token(tenant_id, "Okta")["token"])


def assert_scim_error(response: requests.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status
    assert response.headers["Content-Type"] == SCIM_TYPE
    body: dict[str, Any] = response.json()
    assert body["schemas"] == [ERROR_SCHEMA]
    assert body["status"] == str(status)
    assert body["detail"]
    return body


def test_create_user_answers_201_with_id_and_meta(scim: Scim) -> None:
    response = scim.post_user(
        userName="ada@example.com",
        externalId="00u1",
        displayName="Ada Lovelace",
        name={"givenName": "Ada", "familyName": "Lovelace"},
        emails=[{"value": "ada@example.com", "primary": True, "type": "work"}],
        active=True,
    )
    assert response.status_code == 201
    assert response.headers["Content-Type"] == SCIM_TYPE
    user = response.json()
    assert user["schemas"] == [USER_SCHEMA]
    assert re.fullmatch(r"[0-9a-f]{32}", user["id"])
    assert user["userName"] == "ada@example.com"
    assert user["externalId"] == "00u1"
    assert user["displayName"] == "Ada Lovelace"
    assert user["name"] == {"givenName": "Ada", "familyName": "Lovelace"}
    assert user["emails"] == [{"value": "ada@example.com", "primary": True, "type": "work"}]
    assert user["active"] is True
    meta = user["meta"]
    assert meta["resourceType"] == "User"
    assert meta["created"] == meta["lastModified"]
    assert meta["location"] == f"{scim.base}/Users/{user['id']}"
    assert response.headers["Location"] == meta["location"]


def test_get_user_returns_what_was_stored(scim: Scim) -> None:
    created = scim.post_user(userName="bob", active=False).json()
    response = scim.get(f"/Users/{created['id']}")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == SCIM_TYPE
    assert response.json() == created
    assert response.json()["active"] is False


def test_duplicate_user_name_is_409_uniqueness(scim: Scim) -> None:
    assert scim.post_user(userName="carol").status_code == 201
    body = assert_scim_error(scim.post_user(userName="Carol"), 409)
    assert body["scimType"] == "uniqueness"


def test_same_user_name_is_allowed_in_another_tenant(emulator: Emulator, scim: Scim) -> None:
    other = Scim(emulator, emulator.create_token(emulator.new_tenant(), "Okta")["token"])
    assert scim.post_user(userName="dave").status_code == 201
    assert other.post_user(userName="dave").status_code == 201


@pytest.mark.parametrize(
    "user",
    [
        {},
        {"userName": ""},
        {"userName": 5},
        {"userName": "u", "active": "yes"},
        {"userName": "u", "emails": "u@x"},
        {"userName": "u", "name": "U"},
        {"userName": "u", "emails": ["u@x"]},
    ],
)
def test_invalid_user_is_400(scim: Scim, user: dict[str, Any]) -> None:
    body = assert_scim_error(scim.post_user(**user), 400)
    assert body["scimType"] == "invalidValue"


def test_non_json_user_body_is_400_invalid_syntax(scim: Scim) -> None:
    response = requests.post(
        scim.base + "/Users", data=b"nope", headers=scim.headers, timeout=TIMEOUT
    )
    assert assert_scim_error(response, 400)["scimType"] == "invalidSyntax"


def test_list_users_is_a_list_response(scim: Scim) -> None:
    ids = [scim.post_user(userName=f"user{i}").json()["id"] for i in range(3)]
    response = scim.get("/Users")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == SCIM_TYPE
    body = response.json()
    assert body["schemas"] == [LIST_SCHEMA]
    assert body["totalResults"] == 3
    assert body["startIndex"] == 1
    assert body["itemsPerPage"] == 3
    assert [u["id"] for u in body["Resources"]] == ids


def test_list_users_pages_with_start_index_and_count(scim: Scim) -> None:
    ids = [scim.post_user(userName=f"p{i}").json()["id"] for i in range(5)]
    body = scim.get("/Users", startIndex=2, count=2).json()
    assert body["totalResults"] == 5
    assert body["startIndex"] == 2
    assert body["itemsPerPage"] == 2
    assert [u["id"] for u in body["Resources"]] == ids[1:3]
    assert scim.get("/Users", startIndex=5, count=10).json()["itemsPerPage"] == 1
    assert scim.get("/Users", startIndex=9).json()["Resources"] == []
    assert scim.get("/Users", count=0).json() == {
        "schemas": [LIST_SCHEMA],
        "totalResults": 5,
        "startIndex": 1,
        "itemsPerPage": 0,
        "Resources": [],
    }
    assert scim.get("/Users", startIndex=0, count=1).json()["startIndex"] == 1


def test_non_integer_paging_is_400(scim: Scim) -> None:
    assert_scim_error(scim.get("/Users", startIndex="x"), 400)
    assert_scim_error(scim.get("/Users", count="many"), 400)


def test_user_name_eq_filter_finds_one_user(scim: Scim) -> None:
    scim.post_user(userName="eve@example.com")
    wanted = scim.post_user(userName="frank@example.com").json()
    body = scim.get("/Users", filter='userName eq "frank@example.com"').json()
    assert body["totalResults"] == 1
    assert [u["id"] for u in body["Resources"]] == [wanted["id"]]
    # userName is case-insensitive (RFC 7643 caseExact=false), like Okta expects.
    assert scim.get("/Users", filter='userName eq "FRANK@example.com"').json()["totalResults"] == 1


def test_user_name_eq_filter_without_match_is_empty(scim: Scim) -> None:
    body = scim.get("/Users", filter='userName eq "nobody"').json()
    assert body["totalResults"] == 0
    assert body["Resources"] == []


def test_unsupported_filter_is_400_invalid_filter(scim: Scim) -> None:
    body = assert_scim_error(scim.get("/Users", filter='displayName co "x"'), 400)
    assert body["scimType"] == "invalidFilter"


def test_delete_user_answers_204_then_404(scim: Scim) -> None:
    user = scim.post_user(userName="gone").json()
    response = scim.delete(f"/Users/{user['id']}")
    assert response.status_code == 204
    assert response.content == b""
    assert_scim_error(scim.get(f"/Users/{user['id']}"), 404)
    assert_scim_error(scim.delete(f"/Users/{user['id']}"), 404)
    assert scim.get("/Users").json()["totalResults"] == 0


def test_users_are_invisible_to_other_tenants(emulator: Emulator, scim: Scim) -> None:
    user = scim.post_user(userName="private").json()
    other = Scim(emulator, emulator.create_token(emulator.new_tenant(), "Okta")["token"])
    assert_scim_error(other.get(f"/Users/{user['id']}"), 404)
    assert_scim_error(other.delete(f"/Users/{user['id']}"), 404)
    assert other.get("/Users").json()["totalResults"] == 0
    assert other.get("/Users", filter='userName eq "private"').json()["totalResults"] == 0
    assert scim.get(f"/Users/{user['id']}").status_code == 200


def test_tokens_of_one_tenant_share_its_users(emulator: Emulator, tenant_id: str) -> None:
    first = Scim(emulator, emulator.create_token(tenant_id, "one")["token"])
    second = Scim(emulator, emulator.create_token(tenant_id, "two")["token"])
    user = first.post_user(userName="shared").json()
    assert second.get(f"/Users/{user['id']}").status_code == 200


def test_service_provider_config(scim: Scim) -> None:
    response = scim.get("/ServiceProviderConfig")
    assert response.status_code == 200
    body = response.json()
    assert body["schemas"] == ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"]
    assert body["filter"]["supported"] is True
    assert body["patch"]["supported"] is False
    assert body["authenticationSchemes"][0]["type"] == "oauthbearertoken"


def test_accepted_request_sets_last_used_at(emulator: Emulator, tenant_id: str) -> None:
    data = emulator.create_token(tenant_id, "used")
    unused = emulator.create_token(tenant_id, "unused")
    assert emulator.scim_get_users(data["token"]).status_code == 200
    listed = {t["id"]: t for t in emulator.list_tokens(tenant_id)}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", listed[data["id"]]["lastUsedAt"])
    assert listed[data["id"]]["lastUsedAt"] >= data["createdAt"]
    assert listed[unused["id"]]["lastUsedAt"] is None


def test_revoked_token_is_401(emulator: Emulator, tenant_id: str) -> None:
    data = emulator.create_token(tenant_id, "revoked")
    assert emulator.scim_get_users(data["token"]).status_code == 200
    assert emulator.delete_token(tenant_id, data["id"]) == 200
    assert_scim_error(emulator.scim_get_users(data["token"]), 401)


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer lsk_scim_" + "0" * 64, f"Bearer {DEMO_API_TOKEN}", "Basic abc"],
    ids=["missing", "unknown", "api-token", "basic"],
)
def test_unknown_or_missing_scim_token_is_401(
    emulator: Emulator, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = requests.get(f"{emulator.base_url}/scim/v2/Users", headers=headers, timeout=TIMEOUT)
    body = assert_scim_error(response, 401)
    assert "WWW-Authenticate" in response.headers
    assert set(body) == {"schemas", "status", "detail"}


def test_scim_secret_is_not_an_api_token(emulator: Emulator, tenant_id: str) -> None:
    secret = emulator.create_token(tenant_id, "scim")["token"]
    response = requests.get(
        emulator.tokens_url(tenant_id),
        headers={"Authorization": f"Bearer {secret}"},
        timeout=TIMEOUT,
    )
    assert response.status_code == 401


def test_unknown_scim_route_is_404_and_wrong_method_405(scim: Scim) -> None:
    assert_scim_error(scim.get("/Groups"), 404)
    response = requests.put(scim.base + "/Users", headers=scim.headers, timeout=TIMEOUT)
    assert_scim_error(response, 405)
    assert response.headers["Allow"] == "GET, POST"
