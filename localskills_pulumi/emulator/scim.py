"""SCIM 2.0 (RFC 7644) at ``/scim/v2``: what identity providers call with an issued SCIM token.

Users belong to the tenant of the token used. Answers are ``application/scim+json``; errors
are SCIM errors (RFC 7644 section 3.12), the route checked before the token.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .messages import (
    Headers,
    Params,
    Request,
    Response,
    RouteTable,
    bearer,
    json_response,
    parse_json,
)
from .store import Conflict, Store

SCIM_TYPE = "application/scim+json"
SCIM_ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
SCIM_LIST = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
SCIM_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
SCIM_SPC = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"

PAGE_SIZE = 100
PAGING_LIMIT = 2**63 - 1
"""``startIndex`` and ``count`` outside ±this (a 64-bit integer) answer 400 ``invalidValue``."""

_USERNAME_FILTER = re.compile(r'\s*userName\s+eq\s+"((?:[^"\\]|\\.)*)"\s*', re.IGNORECASE)
_CHALLENGE = [("WWW-Authenticate", 'Bearer realm="scim"')]
_ATTRIBUTES: dict[str, tuple[type, str]] = {
    "externalId": (str, "a string"),
    "displayName": (str, "a string"),
    "active": (bool, "a boolean"),
    "name": (dict, "an object"),
    "emails": (list, "a list"),
}
"""The optional user attributes that are stored, with the type each must have."""


def scim_json(status: int, payload: object, headers: Headers = ()) -> Response:
    """A SCIM answer."""
    return json_response(status, payload, SCIM_TYPE, headers)


def scim_error(
    status: int, detail: str, scim_type: str | None = None, headers: Headers = ()
) -> Response:
    """A SCIM error (RFC 7644 section 3.12)."""
    payload: dict[str, Any] = {"schemas": [SCIM_ERROR], "status": str(status), "detail": detail}
    if scim_type is not None:
        payload["scimType"] = scim_type
    return scim_json(status, payload, headers)


def error(status: int, message: str, headers: Headers = ()) -> Response:
    """A SCIM error without ``scimType``."""
    return scim_error(status, message, headers=headers)


class ScimApi:
    """The SCIM 2.0 endpoint: ServiceProviderConfig and Users."""

    error = staticmethod(error)

    def __init__(self, store: Store) -> None:
        self.store = store
        base = ("scim", "v2")
        self.routes = RouteTable(
            {
                (*base, "ServiceProviderConfig"): {"GET": self._service_provider_config},
                (*base, "Users"): {"GET": self._list_users, "POST": self._create_user},
                (*base, "Users", "{user}"): {"GET": self._get_user, "DELETE": self._delete_user},
            }
        )

    def handle(self, request: Request) -> Response:
        """Answer a ``/scim/v2/...`` request; the route's ``params`` gain ``tenant``."""
        route = self.routes.resolve(request, error)
        if isinstance(route, Response):
            return route
        secret = bearer(request.headers)
        if secret is None:
            return scim_error(401, "Missing bearer token", headers=_CHALLENGE)
        auth = self.store.authenticate_scim(secret)
        if not auth.ok:
            return scim_error(401, auth.reason, headers=_CHALLENGE)
        return route.handler(request, {**route.params, "tenant": auth.tenant_id})

    # -- routes ----------------------------------------------------------------------------

    def _service_provider_config(self, request: Request, params: Params) -> Response:
        return scim_json(
            200,
            {
                "schemas": [SCIM_SPC],
                "documentationUri": "https://github.com/localskills-pulumi/docs/emulator.md",
                "patch": {"supported": False},
                "bulk": {"supported": False, "maxOperations": 0, "maxPayloadSize": 0},
                "filter": {"supported": True, "maxResults": PAGE_SIZE},
                "changePassword": {"supported": False},
                "sort": {"supported": False},
                "etag": {"supported": False},
                "authenticationSchemes": [
                    {
                        "type": "oauthbearertoken",
                        "name": "OAuth Bearer Token",
                        "description": "An issued SCIM token (lsk_scim_...) as a bearer token",
                        "primary": True,
                    }
                ],
                "meta": {
                    "resourceType": "ServiceProviderConfig",
                    "location": f"{request.base_url}/scim/v2/ServiceProviderConfig",
                },
            },
        )

    def _get_user(self, request: Request, params: Params) -> Response:
        user = self.store.get_user(params["tenant"], params["user"])
        if user is None:
            return scim_error(404, "User not found")
        return scim_json(200, _user_json(user, request.base_url))

    def _delete_user(self, request: Request, params: Params) -> Response:
        if not self.store.delete_user(params["tenant"], params["user"]):
            return scim_error(404, "User not found")
        return Response(204, b"", SCIM_TYPE)

    def _list_users(self, request: Request, params: Params) -> Response:
        start, problem = _integer(request.query, "startIndex", 1)
        if problem:
            return scim_error(400, problem, "invalidValue")
        count, problem = _integer(request.query, "count", PAGE_SIZE)
        if problem:
            return scim_error(400, problem, "invalidValue")
        start = max(start, 1)  # RFC 7644 3.4.2.4: below 1 is read as 1
        count = min(max(count, 0), PAGE_SIZE)  # negative is read as 0
        user_name: str | None = None
        filters = request.query.get("filter")
        if filters:
            user_name, problem = _user_name_filter(filters[-1])
            if problem:
                return scim_error(400, problem, "invalidFilter")
        total, users = self.store.list_users(params["tenant"], user_name, start, count)
        return scim_json(
            200,
            {
                "schemas": [SCIM_LIST],
                "totalResults": total,
                "startIndex": start,
                "itemsPerPage": len(users),
                "Resources": [_user_json(user, request.base_url) for user in users],
            },
        )

    def _create_user(self, request: Request, params: Params) -> Response:
        payload, problem = parse_json(request.body)
        if problem:
            return scim_error(400, problem, "invalidSyntax")
        if not isinstance(payload, dict):
            return scim_error(400, "Request body must be a JSON object", "invalidSyntax")
        user_name = payload.get("userName")
        if not isinstance(user_name, str) or not user_name.strip():
            return scim_error(
                400, "userName is required and must be a non-blank string", "invalidValue"
            )
        attributes: dict[str, Any] = {"userName": user_name}
        for key, (kind, what) in _ATTRIBUTES.items():
            if payload.get(key) is None:
                continue
            if not isinstance(payload[key], kind):
                return scim_error(400, f"{key} must be {what}", "invalidValue")
            attributes[key] = payload[key]
        if "emails" in attributes and not all(isinstance(e, dict) for e in attributes["emails"]):
            return scim_error(400, "emails must be a list of objects", "invalidValue")
        try:
            user = self.store.create_user(params["tenant"], user_name, attributes)
        except Conflict:
            return scim_error(409, "userName is already taken in this tenant", "uniqueness")
        rendered = _user_json(user, request.base_url)
        return scim_json(201, rendered, [("Location", rendered["meta"]["location"])])


def _integer(query: Mapping[str, list[str]], name: str, default: int) -> tuple[int, str | None]:
    """A paging parameter: ``(value, None)`` or ``(0, the problem)``."""
    values = query.get(name)
    if not values:
        return default, None
    try:
        value = int(values[-1])
    except ValueError:
        return 0, f"{name} must be an integer"
    if not -PAGING_LIMIT <= value <= PAGING_LIMIT:
        return 0, f"{name} must be an integer from {-PAGING_LIMIT} to {PAGING_LIMIT}"
    return value, None


def _user_name_filter(text: str) -> tuple[str | None, str | None]:
    """The value of ``userName eq "value"``: ``(value, None)`` or ``(None, the problem)``."""
    match = _USERNAME_FILTER.fullmatch(text)
    if match is None:
        return None, 'Only the filter userName eq "value" is supported'
    value, problem = parse_json(f'"{match.group(1)}"'.encode())
    if problem or not isinstance(value, str):
        return None, "Malformed string in filter"
    return value, None


def _user_json(user: dict[str, Any], base_url: str) -> dict[str, Any]:
    attributes: dict[str, Any] = user["attributes"]
    out: dict[str, Any] = {"schemas": [SCIM_USER], "id": user["id"], **attributes}
    out.setdefault("active", True)
    out["meta"] = {
        "resourceType": "User",
        "created": user["created"],
        "lastModified": user["lastModified"],
        "location": f"{base_url}/scim/v2/Users/{user['id']}",
    }
    return out
