"""The localskills API: ``/api/tenants/{tenantId}/scim-tokens[/{tokenId}]``.

Every answer is JSON in the envelope ``{"success": true, "data": ...}`` or
``{"success": false, "error": "..."}``. Checks run in a fixed order: route (404, 405), API
token (401), tenant (404), membership (403), then the route's own (400, 404).
"""

from __future__ import annotations

from typing import Any

from ..identifiers import API_TOKEN_PATTERN, MAX_DAYS, MAX_NAME_LENGTH
from .messages import (
    Headers,
    Params,
    Request,
    Response,
    RouteTable,
    bearer,
    is_int,
    json_response,
    parse_json,
)
from .store import Store

_CHALLENGE = [("WWW-Authenticate", "Bearer")]


def ok(data: object, status: int = 200) -> Response:
    """A success envelope."""
    return json_response(status, {"success": True, "data": data})


def error(status: int, message: str, headers: Headers = ()) -> Response:
    """An error envelope."""
    return json_response(status, {"success": False, "error": message}, headers=headers)


class LocalskillsApi:
    """The SCIM token endpoints, as the provider calls them with an API token."""

    error = staticmethod(error)

    def __init__(self, store: Store) -> None:
        self.store = store
        tokens = ("api", "tenants", "{tenant}", "scim-tokens")
        self.routes = RouteTable(
            {
                tokens: {"GET": self._list, "POST": self._create},
                (*tokens, "{token}"): {"DELETE": self._delete},
            }
        )

    def handle(self, request: Request) -> Response:
        """Answer an ``/api/...`` request."""
        route = self.routes.resolve(request, error)
        if isinstance(route, Response):
            return route
        refused = self._authorize(request, route.params["tenant"])
        return refused or route.handler(request, route.params)

    def _authorize(self, request: Request, tenant_id: str) -> Response | None:
        token = bearer(request.headers)
        if token is None:
            return error(401, "Missing bearer token", _CHALLENGE)
        if not API_TOKEN_PATTERN.fullmatch(token):
            return error(401, "Malformed API token", _CHALLENGE)
        if not self.store.api_token_known(token):
            return error(401, "Invalid API token", _CHALLENGE)
        if not self.store.tenant_exists(tenant_id):
            return error(404, "Tenant not found")
        if not self.store.is_member(token, tenant_id):
            return error(403, "API token has no access to this tenant")
        return None

    def _list(self, request: Request, params: Params) -> Response:
        return ok(self.store.list_scim_tokens(params["tenant"]))

    def _delete(self, request: Request, params: Params) -> Response:
        if not self.store.delete_scim_token(params["tenant"], params["token"]):
            return error(404, "SCIM token not found")
        return ok(None)

    def _create(self, request: Request, params: Params) -> Response:
        created = create_token(self.store, params["tenant"], request.body)
        return created if isinstance(created, Response) else ok(created, 201)


def create_token(store: Store, tenant_id: str, body: bytes) -> dict[str, Any] | Response:
    """A create's body checked as the API checks it, and the token issued; or the 400."""
    payload, problem = parse_json(body)
    if problem:
        return error(400, problem)
    if not isinstance(payload, dict):
        return error(400, "Request body must be a JSON object")
    name = payload.get("name")
    if name is None:
        return error(400, "name is required")
    if not isinstance(name, str):
        return error(400, "name must be a string")
    if not name.strip():
        return error(400, "name must not be blank")
    if len(name) > MAX_NAME_LENGTH:
        return error(400, f"name must be at most {MAX_NAME_LENGTH} characters")
    days = payload.get("expiresInDays")
    if days is not None and (not is_int(days) or not 1 <= days <= MAX_DAYS):
        return error(400, f"expiresInDays must be an integer from 1 to {MAX_DAYS}")
    return store.create_scim_token(tenant_id, name, days)
