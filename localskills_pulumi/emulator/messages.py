"""What the emulator's three APIs share: requests and answers, JSON in and out, route tables.

No sockets here (that is :mod:`.framing`) and no SQL (that is :mod:`.store`). Each API
(:mod:`.api`, :mod:`.scim`, :mod:`.admin`) declares its routes in a :class:`RouteTable` and
renders its own errors; :mod:`.server` picks the API a request belongs to.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeGuard

JSON_TYPE = "application/json"
MAX_JSON_DEPTH = 64
"""The deepest nesting of arrays and objects a request body may have (real bodies use 3)."""

_BEARER = re.compile(r"Bearer +(\S+) *", re.IGNORECASE)

Headers = Sequence[tuple[str, str]]


@dataclass
class Response:
    """An answer, ready to be written."""

    status: int
    body: bytes = b""
    content_type: str = JSON_TYPE
    headers: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Request:
    """What the APIs need from a request."""

    method: str
    path: str
    """The raw path, without the query string."""
    segments: tuple[str, ...]
    """The path's segments, each percent-decoded once."""
    query: Mapping[str, list[str]]
    headers: Mapping[str, str]
    """Header names in lower case."""
    body: bytes
    base_url: str
    """Where the server that received the request listens (``http://host:port``), for links."""


class ErrorFactory(Protocol):
    """How one API renders an error: its envelope, its content type."""

    def __call__(self, status: int, message: str, headers: Headers = ()) -> Response:
        """An error answer with ``status`` and ``message``."""
        ...


Params = dict[str, str]
Handler = Callable[[Request, Params], Response]


def dump_json(payload: object) -> bytes:
    """Compact UTF-8 JSON."""
    return json.dumps(payload, separators=(",", ":")).encode("utf-8")


def json_response(
    status: int, payload: object, content_type: str = JSON_TYPE, headers: Headers = ()
) -> Response:
    """A JSON answer."""
    return Response(status, dump_json(payload), content_type, list(headers))


def _refuse_constant(constant: str) -> None:
    raise ValueError(f"invalid constant {constant}")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e400 reads as infinity
        raise ValueError(f"number out of range: {text}")
    return value


def parse_json(body: bytes) -> tuple[Any, str | None]:
    """``(value, None)``, or ``(None, the problem)`` for a body that is not usable JSON.

    Refused: bytes that are not UTF-8, text that is not JSON, NaN, infinities and numbers that
    overflow to them, nesting deeper than :data:`MAX_JSON_DEPTH`, and strings with a lone
    surrogate (``"\\ud800"``), which no UTF-8 store or answer can hold.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None, "Request body must be UTF-8 JSON"
    try:
        value = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except RecursionError:
        return None, f"Request body is nested more than {MAX_JSON_DEPTH} levels deep"
    except ValueError:
        return None, "Request body is not valid JSON"
    return value, _shape_problem(value)


def _shape_problem(value: object) -> str | None:
    """Depth and string check of a parsed body, without recursion."""
    pending: list[tuple[object, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str):
            if not _is_unicode(item):
                return "Request body holds a string with a lone surrogate (not valid Unicode)"
        elif isinstance(item, (dict, list)):
            if depth > MAX_JSON_DEPTH:
                return f"Request body is nested more than {MAX_JSON_DEPTH} levels deep"
            children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
            pending.extend((child, depth + 1) for child in children)
    return None


def _is_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def is_int(value: object) -> TypeGuard[int]:
    """A JSON integer (``true`` and ``false`` are not)."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: object) -> TypeGuard[int | float]:
    """A JSON number (``true`` and ``false`` are not)."""
    return is_int(value) or isinstance(value, float)


def bearer(headers: Mapping[str, str]) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header (scheme in any case), or None."""
    match = _BEARER.fullmatch(headers.get("authorization", ""))
    return match.group(1) if match else None


@dataclass(frozen=True)
class Route:
    """A resolved route: the handler for the request's method and the path's parameters."""

    handler: Handler
    params: Params


class RouteTable:
    """Path patterns to handlers by method.

    A pattern is a tuple of segments; ``{name}`` matches any one non-empty segment and hands
    it to the handler as ``params[name]``. A path that matches no pattern answers 404, a
    method the pattern does not list answers 405 with ``Allow`` (methods in table order).
    """

    def __init__(self, routes: Mapping[tuple[str, ...], Mapping[str, Handler]]) -> None:
        self._routes = [(pattern, dict(methods)) for pattern, methods in routes.items()]

    def resolve(self, request: Request, error: ErrorFactory) -> Route | Response:
        """The route for ``request``, or the 404/405 answer (rendered by ``error``)."""
        for pattern, methods in self._routes:
            params = _match(pattern, request.segments)
            if params is None:
                continue
            handler = methods.get(request.method)
            if handler is None:
                return error(405, "Method not allowed", [("Allow", ", ".join(methods))])
            return Route(handler, params)
        return error(404, "Not found")


def _match(pattern: tuple[str, ...], segments: tuple[str, ...]) -> Params | None:
    if len(pattern) != len(segments):
        return None
    params: Params = {}
    for want, got in zip(pattern, segments, strict=True):
        if want.startswith("{") and want.endswith("}"):
            if not got:
                return None
            params[want[1:-1]] = got
        elif want != got:
            return None
    return params
