"""The emulator's HTTP layer: routing, auth, validation, faults and the request log.

No SQL here: state lives in :class:`~localskills_pulumi.emulator.store.Store`. The server is
a ``ThreadingHTTPServer`` speaking HTTP/1.1 with keep-alive. Every answer is written in a
single ``send`` (status line, headers and body together) so that keep-alive clients are not
slowed down by Nagle's algorithm meeting delayed ACKs.
"""

from __future__ import annotations

import contextlib
import email.utils
import json
import logging
import re
import socket
import struct
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeGuard
from urllib.parse import parse_qs, unquote

from .faults import FaultBook, FaultRule, RequestLog, RuleError, parse_rules
from .seed import api_token_problem, tenant_id_problem
from .store import Conflict, Store, StoreError, format_time

log = logging.getLogger("localskills_pulumi.emulator")

JSON_TYPE = "application/json"
SCIM_TYPE = "application/scim+json"
SCIM_ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
SCIM_LIST = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
SCIM_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
SCIM_SPC = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"

API_TOKEN_BEARER = re.compile(r"lsk_[0-9a-fA-F]{64}")
BEARER = re.compile(r"Bearer +(\S+) *", re.IGNORECASE)
USERNAME_FILTER = re.compile(r'\s*userName\s+eq\s+"((?:[^"\\]|\\.)*)"\s*', re.IGNORECASE)

MAX_NAME_LENGTH = 100
MAX_EXPIRES_IN_DAYS = 3650
MAX_BODY_BYTES = 1 << 20
SCIM_PAGE_SIZE = 100
IDLE_TIMEOUT_SECONDS = 120


@dataclass
class Response:
    """An answer, ready to be written."""

    status: int
    body: bytes = b""
    content_type: str = JSON_TYPE
    headers: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Request:
    """What the routes need from a request."""

    method: str
    path: str  # raw path, no query string
    segments: tuple[str, ...]  # path segments, percent-decoded once
    query: Mapping[str, list[str]]
    headers: Mapping[str, str]
    body: bytes


def _dump(payload: object) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode("utf-8")


def api_ok(data: object, status: int = 200) -> Response:
    """A success envelope."""
    return Response(status, _dump({"success": True, "data": data}))


def api_error(status: int, message: str, headers: list[tuple[str, str]] | None = None) -> Response:
    """An error envelope."""
    return Response(status, _dump({"success": False, "error": message}), headers=headers or [])


def scim_json(
    status: int, payload: object, headers: list[tuple[str, str]] | None = None
) -> Response:
    """A SCIM answer."""
    return Response(status, _dump(payload), SCIM_TYPE, headers or [])


def scim_error(
    status: int,
    detail: str,
    scim_type: str | None = None,
    headers: list[tuple[str, str]] | None = None,
) -> Response:
    """A SCIM error (RFC 7644 section 3.12)."""
    payload: dict[str, Any] = {"schemas": [SCIM_ERROR], "status": str(status), "detail": detail}
    if scim_type is not None:
        payload["scimType"] = scim_type
    return scim_json(status, payload, headers)


def admin_json(status: int, payload: object) -> Response:
    """An ``/_emulator/`` answer: plain JSON, no envelope."""
    return Response(status, _dump(payload))


def parse_json(body: bytes) -> tuple[Any, str | None]:
    """(value, None) or (None, the problem) for a JSON body; NaN/Infinity are refused."""

    def refuse(constant: str) -> None:
        raise ValueError(f"invalid constant {constant}")

    try:
        return json.loads(body.decode("utf-8"), parse_constant=refuse), None
    except UnicodeDecodeError:
        return None, "Request body must be UTF-8 JSON"
    except ValueError:
        return None, "Request body is not valid JSON"


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> TypeGuard[int | float]:
    return _is_int(value) or isinstance(value, float)


def _bearer(headers: Mapping[str, str]) -> str | None:
    match = BEARER.fullmatch(headers.get("authorization", ""))
    return match.group(1) if match else None


class App:
    """The emulated service: the localskills API, SCIM 2.0 and the ``/_emulator/`` admin API."""

    def __init__(self, store: Store, faults: FaultBook, requests_log: RequestLog) -> None:
        self.store = store
        self.faults = faults
        self.requests_log = requests_log
        self.base_url = ""

    # -- the localskills API ---------------------------------------------------------------

    def handle_api(self, request: Request) -> Response:
        """``/api/...``: the SCIM token endpoints."""
        seg = request.segments
        token_id = ""
        allowed: tuple[str, ...]
        if len(seg) == 4 and seg[:2] == ("api", "tenants") and seg[3] == "scim-tokens":
            allowed = ("GET", "POST")
        elif len(seg) == 5 and seg[:2] == ("api", "tenants") and seg[3] == "scim-tokens" and seg[4]:
            allowed = ("DELETE",)
            token_id = seg[4]
        else:
            return api_error(404, "Not found")
        if request.method not in allowed:
            return api_error(405, "Method not allowed", [("Allow", ", ".join(allowed))])

        bearer = _bearer(request.headers)
        if bearer is None:
            return api_error(401, "Missing bearer token", [("WWW-Authenticate", "Bearer")])
        if not API_TOKEN_BEARER.fullmatch(bearer):
            return api_error(401, "Malformed API token", [("WWW-Authenticate", "Bearer")])
        if not self.store.api_token_known(bearer):
            return api_error(401, "Invalid API token", [("WWW-Authenticate", "Bearer")])
        tenant_id = seg[2]
        if not self.store.tenant_exists(tenant_id):
            return api_error(404, "Tenant not found")
        if not self.store.is_member(bearer, tenant_id):
            return api_error(403, "API token has no access to this tenant")

        if request.method == "GET":
            return api_ok(self.store.list_scim_tokens(tenant_id))
        if request.method == "DELETE":
            if not self.store.delete_scim_token(tenant_id, token_id):
                return api_error(404, "SCIM token not found")
            return api_ok(None)
        return self._create_token(tenant_id, request.body)

    def _create_token(self, tenant_id: str, body: bytes) -> Response:
        payload, problem = parse_json(body)
        if problem:
            return api_error(400, problem)
        if not isinstance(payload, dict):
            return api_error(400, "Request body must be a JSON object")
        name = payload.get("name")
        if "name" not in payload or name is None:
            return api_error(400, "name is required")
        if not isinstance(name, str):
            return api_error(400, "name must be a string")
        if not name.strip():
            return api_error(400, "name must not be blank")
        if len(name) > MAX_NAME_LENGTH:
            return api_error(400, f"name must be at most {MAX_NAME_LENGTH} characters")
        days = payload.get("expiresInDays")
        if days is not None and (not _is_int(days) or not 1 <= days <= MAX_EXPIRES_IN_DAYS):
            return api_error(
                400, f"expiresInDays must be an integer from 1 to {MAX_EXPIRES_IN_DAYS}"
            )
        return api_ok(self.store.create_scim_token(tenant_id, name, days), 201)

    # -- SCIM 2.0 --------------------------------------------------------------------------

    def handle_scim(self, request: Request) -> Response:
        """``/scim/v2/...``: the endpoint identity providers call with an issued SCIM token."""
        seg = request.segments[2:]
        user_id = ""
        if seg == ("ServiceProviderConfig",):
            allowed: tuple[str, ...] = ("GET",)
        elif seg == ("Users",):
            allowed = ("GET", "POST")
        elif len(seg) == 2 and seg[0] == "Users" and seg[1]:
            allowed = ("GET", "DELETE")
            user_id = seg[1]
        else:
            return scim_error(404, "Not found")
        if request.method not in allowed:
            return scim_error(405, "Method not allowed", headers=[("Allow", ", ".join(allowed))])

        bearer = _bearer(request.headers)
        challenge = [("WWW-Authenticate", 'Bearer realm="scim"')]
        if bearer is None:
            return scim_error(401, "Missing bearer token", headers=challenge)
        auth = self.store.authenticate_scim(bearer)
        if not auth.ok:
            return scim_error(401, auth.reason, headers=challenge)
        tenant_id = auth.tenant_id

        if seg == ("ServiceProviderConfig",):
            return scim_json(200, self._service_provider_config())
        if seg == ("Users",):
            if request.method == "GET":
                return self._list_users(tenant_id, request.query)
            return self._create_user(tenant_id, request.body)
        if request.method == "GET":
            user = self.store.get_user(tenant_id, user_id)
            if user is None:
                return scim_error(404, "User not found")
            return scim_json(200, self._user_json(user))
        if not self.store.delete_user(tenant_id, user_id):
            return scim_error(404, "User not found")
        return Response(204, b"", SCIM_TYPE)

    def _service_provider_config(self) -> dict[str, Any]:
        return {
            "schemas": [SCIM_SPC],
            "documentationUri": "https://github.com/localskills-pulumi/docs/emulator.md",
            "patch": {"supported": False},
            "bulk": {"supported": False, "maxOperations": 0, "maxPayloadSize": 0},
            "filter": {"supported": True, "maxResults": SCIM_PAGE_SIZE},
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
                "location": f"{self.base_url}/scim/v2/ServiceProviderConfig",
            },
        }

    def _user_json(self, user: dict[str, Any]) -> dict[str, Any]:
        attributes: dict[str, Any] = user["attributes"]
        out: dict[str, Any] = {"schemas": [SCIM_USER], "id": user["id"], **attributes}
        out.setdefault("active", True)
        out["meta"] = {
            "resourceType": "User",
            "created": user["created"],
            "lastModified": user["lastModified"],
            "location": f"{self.base_url}/scim/v2/Users/{user['id']}",
        }
        return out

    def _list_users(self, tenant_id: str, query: Mapping[str, list[str]]) -> Response:
        def integer(name: str, default: int) -> int | None:
            values = query.get(name)
            if not values:
                return default
            try:
                return int(values[-1])
            except ValueError:
                return None

        start = integer("startIndex", 1)
        count = integer("count", SCIM_PAGE_SIZE)
        if start is None:
            return scim_error(400, "startIndex must be an integer", "invalidValue")
        if count is None:
            return scim_error(400, "count must be an integer", "invalidValue")
        start = max(start, 1)  # RFC 7644 3.4.2.4: below 1 is read as 1
        count = min(max(count, 0), SCIM_PAGE_SIZE)
        user_name: str | None = None
        filters = query.get("filter")
        if filters:
            match = USERNAME_FILTER.fullmatch(filters[-1])
            if match is None:
                return scim_error(
                    400, 'Only the filter userName eq "value" is supported', "invalidFilter"
                )
            try:
                user_name = json.loads(f'"{match.group(1)}"')
            except ValueError:
                return scim_error(400, "Malformed string in filter", "invalidFilter")
        total, users = self.store.list_users(tenant_id, user_name, start, count)
        return scim_json(
            200,
            {
                "schemas": [SCIM_LIST],
                "totalResults": total,
                "startIndex": start,
                "itemsPerPage": len(users),
                "Resources": [self._user_json(user) for user in users],
            },
        )

    def _create_user(self, tenant_id: str, body: bytes) -> Response:
        payload, problem = parse_json(body)
        if problem:
            return scim_error(400, problem, "invalidSyntax")
        if not isinstance(payload, dict):
            return scim_error(400, "Request body must be a JSON object", "invalidSyntax")
        user_name = payload.get("userName")
        if not isinstance(user_name, str) or not user_name.strip():
            return scim_error(
                400, "userName is required and must be a non-blank string", "invalidValue"
            )
        checks: dict[str, tuple[type, str]] = {
            "externalId": (str, "a string"),
            "displayName": (str, "a string"),
            "active": (bool, "a boolean"),
            "name": (dict, "an object"),
            "emails": (list, "a list"),
        }
        attributes: dict[str, Any] = {"userName": user_name}
        for key, (kind, what) in checks.items():
            if key not in payload or payload[key] is None:
                continue
            if not isinstance(payload[key], kind):
                return scim_error(400, f"{key} must be {what}", "invalidValue")
            attributes[key] = payload[key]
        if "emails" in attributes and not all(isinstance(e, dict) for e in attributes["emails"]):
            return scim_error(400, "emails must be a list of objects", "invalidValue")
        try:
            user = self.store.create_user(tenant_id, user_name, attributes)
        except Conflict:
            return scim_error(409, "userName is already taken in this tenant", "uniqueness")
        rendered = self._user_json(user)
        return scim_json(201, rendered, [("Location", rendered["meta"]["location"])])

    # -- /_emulator/ -----------------------------------------------------------------------

    def handle_admin(self, request: Request) -> Response:
        """``/_emulator/...``: faults, request log, tenants, clock. No auth."""
        seg = request.segments[1:]
        routes: dict[tuple[str, ...], dict[str, Callable[[Request], Response]]] = {
            ("faults",): {
                "GET": lambda r: admin_json(200, {"rules": self.faults.active()}),
                "POST": self._add_faults,
                "DELETE": self._clear_faults,
            },
            ("requests",): {
                "GET": lambda r: admin_json(200, self.requests_log.snapshot()),
                "DELETE": self._clear_requests,
            },
            ("tenants",): {"POST": self._admin_tenant},
            ("clock",): {"GET": self._clock, "POST": self._advance_clock},
        }
        handlers = routes.get(seg)
        if handlers is None:
            return admin_json(404, {"error": "Not found"})
        handler = handlers.get(request.method)
        if handler is None:
            response = admin_json(405, {"error": "Method not allowed"})
            response.headers.append(("Allow", ", ".join(handlers)))
            return response
        return handler(request)

    def _admin_body(self, request: Request) -> tuple[Any, Response | None]:
        payload, problem = parse_json(request.body)
        if problem:
            return None, admin_json(400, {"error": problem})
        return payload, None

    def _add_faults(self, request: Request) -> Response:
        payload, error = self._admin_body(request)
        if error:
            return error
        try:
            rules = parse_rules(payload)
        except RuleError as exc:
            return admin_json(400, {"error": str(exc)})
        self.faults.add(rules)
        return admin_json(200, {"rules": self.faults.active()})

    def _clear_faults(self, request: Request) -> Response:
        self.faults.clear()
        return admin_json(200, {"rules": []})

    def _clear_requests(self, request: Request) -> Response:
        self.requests_log.clear()
        return admin_json(200, {"requests": [], "connections": 0})

    def _admin_tenant(self, request: Request) -> Response:
        payload, error = self._admin_body(request)
        if error:
            return error
        if not isinstance(payload, dict):
            return admin_json(400, {"error": "body: must be a JSON object"})
        problem = tenant_id_problem(payload.get("id"))
        if problem:
            return admin_json(400, {"error": f"id: {problem}"})
        name = payload.get("name", payload["id"])
        if not isinstance(name, str) or not name.strip():
            return admin_json(400, {"error": "name: must be a non-blank string"})
        tokens = payload.get("api_tokens", [])
        if not isinstance(tokens, list):
            return admin_json(400, {"error": "api_tokens: must be a list"})
        for index, token in enumerate(tokens):
            problem = api_token_problem(token)
            if problem:
                return admin_json(400, {"error": f"api_tokens[{index}]: {problem}"})
        try:
            self.store.create_tenant(payload["id"], name, tokens)
        except Conflict:
            return admin_json(409, {"error": "id: tenant already exists"})
        return admin_json(201, {"id": payload["id"], "name": name})

    def _clock(self, request: Request) -> Response:
        return admin_json(200, {"now": format_time(self.store.clock.now())})

    def _advance_clock(self, request: Request) -> Response:
        payload, error = self._admin_body(request)
        if error:
            return error
        seconds = payload.get("advance_seconds") if isinstance(payload, dict) else None
        if not _is_number(seconds) or not -1e10 < seconds < 1e10:
            return admin_json(400, {"error": "advance_seconds: must be a number of seconds"})
        now = self.store.clock.advance(float(seconds))
        return admin_json(200, {"now": format_time(now)})


class EmulatorServer(ThreadingHTTPServer):
    """A threaded HTTP/1.1 server bound to the emulator's :class:`App`."""

    daemon_threads = True
    request_queue_size = 128
    allow_reuse_address = True

    def __init__(
        self,
        address: tuple[str, int],
        app: App,
        *,
        latency_ms: float = 0,
        log_requests: bool = True,
    ) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, EmulatorHandler)
        self.app = app
        self.latency_ms = latency_ms
        self.log_requests = log_requests
        host, port = str(self.server_address[0]), int(self.server_address[1])
        shown = f"[{host}]" if ":" in host else host
        app.base_url = f"http://{shown}:{port}"

    @property
    def base_url(self) -> str:
        """``http://host:port``."""
        return self.app.base_url


class EmulatorHandler(BaseHTTPRequestHandler):
    """One connection: parses requests and hands them to the :class:`App`."""

    protocol_version = "HTTP/1.1"
    server_version = "localskills-emulator/0.1"
    timeout = IDLE_TIMEOUT_SECONDS
    disable_nagle_algorithm = True
    server: EmulatorServer

    def setup(self) -> None:
        """Remember the request-log epoch the connection was accepted in."""
        super().setup()
        self._accepted_epoch = self.server.app.requests_log.epoch
        self._counted = False

    # Every known verb goes through the same dispatcher, so routes can answer 405.
    def do_GET(self) -> None:
        """Dispatch."""
        self._dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = do_GET

    # -- plumbing ----------------------------------------------------------------------------

    def log_message(self, format: str, *args: Any) -> None:
        """Route http.server's own messages (bad request lines, timeouts) to the logger."""
        log.debug("%s %s", self.client_address[0], format % args)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Protocol-level errors (bad request line, oversized headers) with the JSON envelope."""
        try:
            phrase = HTTPStatus(code).phrase
        except ValueError:
            phrase = "Error"
        self.close_connection = True
        self._write(api_error(code, message or phrase), close=True)

    def _write(self, response: Response, *, close: bool = False) -> None:
        try:
            reason = HTTPStatus(response.status).phrase
        except ValueError:
            reason = "Fault"
        head = [
            f"HTTP/1.1 {response.status} {reason}",
            f"Server: {self.server_version}",
            # The emulator's own clock, which the admin API may have moved: clients judge
            # expiry by the server's Date.
            f"Date: {email.utils.format_datetime(self.server.app.store.clock.now(), usegmt=True)}",
            f"Content-Type: {response.content_type}",
            f"Content-Length: {len(response.body)}",
            *(f"{name}: {value}" for name, value in response.headers),
        ]
        if close or self.close_connection:
            head.append("Connection: close")
            self.close_connection = True
        data = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1")
        if self.command != "HEAD":
            data += response.body
        self.wfile.write(data)

    def _reset(self) -> None:
        """Abort the connection with a TCP RST, without answering."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            linger = struct.pack("ii", 1, 0)
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
        # The buffered reader holds a reference to the socket; close it first so that
        # closing the socket really closes the file descriptor (and sends the RST) now.
        self.rfile.close()
        self.connection.close()

    def _read_body(self) -> bytes | Response:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        length_text = self.headers.get("Content-Length")
        if length_text is None:
            return b""
        try:
            length = int(length_text)
        except ValueError:
            return api_error(400, "Invalid Content-Length")
        if length < 0:
            return api_error(400, "Invalid Content-Length")
        if length > MAX_BODY_BYTES:
            return api_error(413, "Request body too large")
        return self.rfile.read(length)

    def _read_chunked(self) -> bytes | Response:
        chunks: list[bytes] = []
        size_total = 0
        while True:
            line = self.rfile.readline(1024)
            try:
                size = int(line.split(b";")[0].strip(), 16)
            except ValueError:
                return api_error(400, "Malformed chunked body")
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(chunks)
            size_total += size
            if size_total > MAX_BODY_BYTES:
                return api_error(413, "Request body too large")
            chunks.append(self.rfile.read(size))
            self.rfile.readline(1024)

    def _dispatch(self) -> None:
        started = time.perf_counter()
        raw_path, _, query_text = self.path.partition("?")
        body = self._read_body()
        if isinstance(body, Response):
            self._write(body, close=True)
            return
        segments = tuple(unquote(part) for part in raw_path.split("/")[1:])
        request = Request(
            method=self.command,
            path=raw_path,
            segments=segments,
            query=parse_qs(query_text, keep_blank_values=True),
            headers={key.lower(): value for key, value in self.headers.items()},
            body=body,
        )
        app = self.server.app
        if segments[:1] == ("_emulator",):
            self._write(self._guarded(app.handle_admin, request))
            return
        if not self._counted:
            self._counted = True
            app.requests_log.count_connection(self._accepted_epoch)
        status, deliver = self._serve_api(request)
        duration_ms = (time.perf_counter() - started) * 1000
        # Logged before the answer leaves: a client that reads the log right after its
        # answer must find its request there.
        app.requests_log.record(request.method, raw_path, status, duration_ms)
        if self.server.log_requests:
            log.info(
                "%s %s %s %d %.1fms",
                self.client_address[0],
                request.method,
                raw_path,
                status,
                duration_ms,
            )
        deliver()

    def _guarded(self, route: Callable[[Request], Response], request: Request) -> Response:
        try:
            return route(request)
        except StoreError:
            return api_error(503, "The emulator is shutting down")
        except Exception:
            log.exception("internal error on %s %s", request.method, request.path)
            return api_error(500, "Internal emulator error")

    def _serve_api(self, request: Request) -> tuple[int, Callable[[], None]]:
        """Work out the answer to an API or SCIM request, applying latency and faults.

        Returns the status (0 for a reset) and what sends it, so the request is logged first.
        """
        if self.server.latency_ms > 0:
            time.sleep(self.server.latency_ms / 1000)
        app = self.server.app
        scim = request.segments[:2] == ("scim", "v2")
        route = app.handle_scim if scim else app.handle_api
        rule = app.faults.take(request.method, request.path)
        if rule is None:
            return self._answer(self._guarded(route, request))
        if rule.action == "reset":
            return 0, self._reset
        if rule.action == "delay":
            time.sleep((rule.delay_ms or 0) / 1000)
            return self._answer(self._guarded(route, request))
        if rule.action == "status":
            return self._answer(self._fault_response(rule, scim))
        self._guarded(route, request)  # commit_then_*: the work happens, its answer is lost
        if rule.action == "commit_then_reset":
            return 0, self._reset
        return self._answer(self._fault_response(rule, scim))

    def _answer(self, response: Response) -> tuple[int, Callable[[], None]]:
        return response.status, lambda: self._send(response)

    @staticmethod
    def _fault_response(rule: FaultRule, scim: bool) -> Response:
        status = rule.status or 500
        headers = [("Retry-After", str(rule.retry_after))] if rule.retry_after is not None else []
        message = f"Injected fault: status {status}"
        if scim:
            return scim_error(status, message, headers=headers)
        return api_error(status, message, headers)

    def _send(self, response: Response) -> None:
        try:
            self._write(response)
        except OSError:
            self.close_connection = True  # the client went away; the status is still logged


def make_server(
    store: Store,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    latency_ms: float = 0,
    log_requests: bool = True,
) -> EmulatorServer:
    """Bind a server for ``store`` (port 0 picks a free port); call ``serve_forever`` on it."""
    app = App(store, FaultBook(), RequestLog())
    return EmulatorServer((host, port), app, latency_ms=latency_ms, log_requests=log_requests)
