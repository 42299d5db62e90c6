"""The admin API at ``/_emulator/``: fault rules, the request log, tenants and the clock.

No authentication. Answers are plain JSON without an envelope; an error is
``{"error": "<field>: <problem>"}``.
"""

from __future__ import annotations

from typing import Any

from ..identifiers import api_token_problem, id_problem
from .api import create_token
from .faults import FaultBook, RuleError, parse_rules
from .messages import (
    Headers,
    Params,
    Request,
    Response,
    RouteTable,
    is_number,
    json_response,
    parse_json,
)
from .requestlog import RequestLog
from .store import ClockRangeError, Conflict, Store, format_time

MAX_ADVANCE_SECONDS = 1e10
"""The most one ``POST /_emulator/clock`` may move the clock, either way (about 317 years)."""


def error(status: int, message: str, headers: Headers = ()) -> Response:
    """An admin error: ``{"error": message}``."""
    return json_response(status, {"error": message}, headers=headers)


def answer(status: int, payload: object) -> Response:
    """An admin answer: plain JSON."""
    return json_response(status, payload)


class AdminApi:
    """``/_emulator/...``: what tests use to shape and inspect the emulator."""

    error = staticmethod(error)

    def __init__(self, store: Store, faults: FaultBook, requests_log: RequestLog) -> None:
        self.store = store
        self.faults = faults
        self.requests_log = requests_log
        self.routes = RouteTable(
            {
                ("_emulator", "faults"): {
                    "GET": self._faults,
                    "POST": self._add_faults,
                    "DELETE": self._clear_faults,
                },
                ("_emulator", "requests"): {"GET": self._requests, "DELETE": self._clear_requests},
                ("_emulator", "tenants"): {"POST": self._add_tenant},
                ("_emulator", "tenants", "{tenant}", "scim-tokens"): {
                    "GET": self._tokens,
                    "POST": self._add_token,
                },
                ("_emulator", "clock"): {"GET": self._clock, "POST": self._move_clock},
            }
        )

    def handle(self, request: Request) -> Response:
        """Answer a ``/_emulator/...`` request."""
        route = self.routes.resolve(request, error)
        if isinstance(route, Response):
            return route
        return route.handler(request, route.params)

    # -- routes ----------------------------------------------------------------------------

    def _faults(self, request: Request, params: Params) -> Response:
        return answer(200, {"rules": self.faults.active()})

    def _add_faults(self, request: Request, params: Params) -> Response:
        payload, problem = parse_json(request.body)
        if problem:
            return error(400, f"body: {problem}")
        try:
            rules = parse_rules(payload)
        except RuleError as exc:
            return error(400, str(exc))
        self.faults.add(rules)
        return answer(200, {"rules": self.faults.active()})

    def _clear_faults(self, request: Request, params: Params) -> Response:
        self.faults.clear()
        return answer(200, {"rules": []})

    def _requests(self, request: Request, params: Params) -> Response:
        return answer(200, self.requests_log.snapshot())

    def _clear_requests(self, request: Request, params: Params) -> Response:
        self.requests_log.clear()
        return answer(200, {"requests": [], "connections": 0})

    def _add_tenant(self, request: Request, params: Params) -> Response:
        payload, problem = _object(request.body)
        if problem:
            return error(400, problem)
        problem = id_problem(payload.get("id"))
        if problem:
            return error(400, f"id: {problem}")
        tenant_id: str = payload["id"]
        name = payload.get("name", tenant_id)
        if not isinstance(name, str) or not name.strip():
            return error(400, "name: must be a non-blank string")
        tokens = payload.get("api_tokens", [])
        if not isinstance(tokens, list):
            return error(400, "api_tokens: must be a list")
        for index, token in enumerate(tokens):
            problem = api_token_problem(token, exact=True)
            if problem:
                return error(400, f"api_tokens[{index}]: {problem}")
        try:
            self.store.create_tenant(tenant_id, name, tokens)
        except Conflict:
            return error(409, "id: tenant already exists")
        return answer(201, {"id": tenant_id, "name": name})

    def _tokens(self, request: Request, params: Params) -> Response:
        if not self.store.tenant_exists(params["tenant"]):
            return error(404, "tenant: no such tenant")
        return answer(200, {"tokens": self.store.list_scim_tokens(params["tenant"])})

    def _add_token(self, request: Request, params: Params) -> Response:
        """A token issued as the API's create would, with no credential, fault or log entry."""
        if not self.store.tenant_exists(params["tenant"]):
            return error(404, "tenant: no such tenant")
        created = create_token(self.store, params["tenant"], request.body)
        return created if isinstance(created, Response) else answer(201, created)

    def _clock(self, request: Request, params: Params) -> Response:
        return answer(200, {"now": format_time(self.store.clock.now())})

    def _move_clock(self, request: Request, params: Params) -> Response:
        payload, problem = parse_json(request.body)
        if problem:
            return error(400, f"body: {problem}")
        seconds = payload.get("advance_seconds") if isinstance(payload, dict) else None
        if not is_number(seconds):
            return error(400, "advance_seconds: must be a number of seconds")
        if not -MAX_ADVANCE_SECONDS < seconds < MAX_ADVANCE_SECONDS:
            return error(
                400, f"advance_seconds: must be less than {MAX_ADVANCE_SECONDS:.0e} either way"
            )
        try:
            now = self.store.clock.advance(float(seconds))
        except ClockRangeError as exc:
            return error(400, f"advance_seconds: {exc}")
        return answer(200, {"now": format_time(now)})


def _object(body: bytes) -> tuple[dict[str, Any], str | None]:
    """A JSON object body: ``(object, None)`` or ``({}, the problem)``."""
    payload, problem = parse_json(body)
    if problem:
        return {}, f"body: {problem}"
    if not isinstance(payload, dict):
        return {}, "body: must be a JSON object"
    return payload, None
