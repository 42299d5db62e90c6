"""What an answer of the localskills API means: data, or which error of the package.

The client sends requests and reads answers within their bounds; this module turns what came
back — an answer, or the exception of an exchange that broke — into the ``data`` of the
``{success, data, error}`` envelope or into one error of :mod:`localskills_pulumi.errors`.
Answers are classified by status and structure; the API's English message is read in one place
only (:func:`not_found_kind`). Every text a server supplied is redacted before it reaches an
error.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import requests
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, NewConnectionError
from urllib3.exceptions import TimeoutError as SocketTimeoutError

from .errors import (
    ApiError,
    AuthenticationError,
    DeadlineExceededError,
    LocalskillsError,
    MalformedResponseError,
    NotFoundError,
    RateLimitError,
    RedirectError,
    TenantNotFoundError,
    TokenNotFoundError,
    TransportError,
)
from .identifiers import redact
from .settings import Credentials

__all__ = [
    "Answer",
    "Failure",
    "error_for",
    "exchange_failure",
    "not_found_kind",
    "read_envelope",
    "snippet",
    "with_note",
]

SNIPPET_CHARS = 200
"""The most characters of a server's text that an error shows."""


@dataclass(frozen=True)
class Answer:
    """An HTTP answer, its body read within its limit."""

    status: int
    headers: Mapping[str, str]
    body: bytes


class Failure(LocalskillsError):
    """An exchange that got no usable answer: the error to raise, and what it means for a
    POST (whether the server may have acted, and may still be acting)."""

    def __init__(
        self,
        error: LocalskillsError,
        *,
        reached_server: bool,
        may_still_run: bool = False,
        retry_after: str | None = None,
    ) -> None:
        super().__init__(str(error))
        self.error = error
        self.reached_server = reached_server
        self.may_still_run = may_still_run
        self.retry_after = retry_after
        """The answer's ``Retry-After``, if it had one: how long the server asked us to wait."""


def read_envelope(
    method: str, answer: Answer, operation: str, tenant_id: str, credentials: Credentials
) -> tuple[int, Any]:
    """The status and ``data`` of a successful answer.

    :raises Failure: any other answer, with the package's error for it; ``reached_server``
            tells whether the server may have acted on a POST (a 5xx, an unreadable 2xx).
    """
    status = answer.status
    if 300 <= status < 400:
        location = redact(answer.headers.get("Location", "(none)"), credentials.api_token)
        raise Failure(
            RedirectError(
                operation,
                status,
                f"the server redirects to {location[:SNIPPET_CHARS]}",
                "Redirects are never followed (the API token must not travel elsewhere): "
                "set the base URL to the address the API answers at.",
            ),
            reached_server=False,
        )
    if method == "DELETE" and 200 <= status < 300 and not answer.body.strip():
        return status, None  # 204 No Content, or an empty 200: revoked
    envelope = _parse_json(answer.body)
    if not isinstance(envelope, dict):
        text = snippet(redact(answer.body.decode("utf-8", "replace"), credentials.api_token))
        if status < 400:
            error: ApiError = MalformedResponseError(
                operation, status, f"the answer is not the API's JSON envelope: {text}"
            )
        else:
            error = error_for(operation, tenant_id, status, text, credentials, enveloped=False)
        raise Failure(
            error,
            reached_server=status < 400 or status >= 500,
            retry_after=answer.headers.get("Retry-After"),
        )
    if status >= 400 or envelope.get("success") is not True:
        raw = envelope.get("error")
        message = redact(raw if isinstance(raw, str) else "no error message", credentials.api_token)
        error = error_for(
            operation, tenant_id, status, snippet(message), credentials, enveloped=True
        )
        raise Failure(
            error, reached_server=status >= 500, retry_after=answer.headers.get("Retry-After")
        )
    return status, envelope.get("data")


def error_for(
    operation: str,
    tenant_id: str,
    status: int,
    message: str,
    credentials: Credentials,
    *,
    enveloped: bool,
) -> ApiError:
    """The error for an answer, by status and structure; the message decides only between
    the two kinds of 404 (see :func:`not_found_kind`)."""
    if status == 401:
        return AuthenticationError(operation, status, message, credentials.refused_message)
    if status == 403:
        return AuthenticationError(
            operation,
            status,
            message,
            f"The API token from {credentials.token_source} has no access to tenant "
            f"{tenant_id!r}: use a token of a member of that team.",
        )
    if status == 404:
        kind = not_found_kind(message) if enveloped else NotFoundError
        if kind is TenantNotFoundError:
            hint = (
                f"Tenant {tenant_id!r} does not exist at {credentials.base_url}: check "
                "tenant_id, and the base URL."
            )
        elif kind is TokenNotFoundError:
            hint = "The token was revoked, or never existed."
        else:
            hint = (
                f"The server did not say what is missing: check the base URL "
                f"({credentials.base_url}); it must be the site's root, such as "
                "https://localskills.sh, without a path like /api."
            )
        return kind(operation, status, message, hint)
    if status == 429:
        return RateLimitError(
            operation,
            status,
            message,
            "Rate limited, and the retries (which honour Retry-After) ran out: run again "
            "later, or with fewer operations at once.",
        )
    return ApiError(operation, status, message)


def not_found_kind(message: str) -> type[NotFoundError]:
    """Which thing a 404's envelope says is missing. The API gives nothing but its English
    message to tell "Tenant not found" from "SCIM token not found"; this is the one place
    that reads it."""
    text = message.lower()
    if "token" in text:
        return TokenNotFoundError
    if "tenant" in text or "team" in text:
        return TenantNotFoundError
    return NotFoundError


def exchange_failure(
    operation: str,
    exc: BaseException,
    *,
    expired: bool,
    base_url: str,
    timeout: float,
    base_url_source: str = "",
) -> Failure:
    """The failure for an exchange that raised ``exc`` (``expired``: its deadline passed); one
    that never reached the server names where the base URL came from (``base_url_source``)."""
    if expired:
        return Failure(
            DeadlineExceededError(
                f"{operation} failed: no complete answer from {base_url} within "
                f"{timeout:g} s (the request's deadline)"
            ),
            reached_server=True,
            may_still_run=True,
        )
    if isinstance(exc, requests.ConnectionError) and _never_connected(exc):
        check = (
            f". The base URL is from {base_url_source}: check it, and that the server is up "
            "and reachable from here"
            if base_url_source
            else ""
        )
        return Failure(
            TransportError(f"{operation} failed: cannot reach {base_url} ({_reason(exc)}){check}"),
            reached_server=False,
        )
    if isinstance(exc, requests.Timeout) or isinstance(_root_cause(exc), SocketTimeoutError):
        # requests raises a read timeout as a ConnectionError when it ends the retries or
        # the body's reading; either way it is the socket's timeout, the same bound.
        return Failure(
            TransportError(f"{operation} failed: no answer from {base_url} within {timeout:g} s"),
            reached_server=True,
            may_still_run=True,
        )
    return Failure(
        TransportError(
            f"{operation} failed: the exchange with {base_url} broke off ({_reason(exc)})"
        ),
        reached_server=True,
    )


def with_note(error: LocalskillsError, note: str) -> LocalskillsError:
    """``error`` again, its message extended with ``note`` (same type and fields)."""
    if isinstance(error, ApiError):
        hint = f"{error.hint} {note}" if error.hint else note
        return type(error)(error.operation, error.status, error.api_message, hint)
    return type(error)(f"{error}. {note}")


def snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    """The first ``limit`` characters of ``text`` on one line; reads only what it shows."""
    head = " ".join(text[: limit * 4].split())
    return head if len(head) <= limit and len(text) <= limit * 4 else head[:limit] + "..."


def _parse_json(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8"))
    except (ValueError, RecursionError):
        return None


def _never_connected(exc: requests.ConnectionError) -> bool:
    """True when the request certainly never reached the server."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    return isinstance(_root_cause(exc), (NewConnectionError, ConnectTimeoutError))


def _root_cause(exc: BaseException) -> BaseException:
    """The innermost exception ``exc`` wraps, through requests' and urllib3's wrappers."""
    cause = exc
    while True:
        if isinstance(cause, MaxRetryError) and cause.reason is not None:
            cause = cause.reason
            continue
        inner = cause.args[0] if cause.args and isinstance(cause.args[0], BaseException) else None
        if inner is None:
            return cause
        cause = inner


def _reason(exc: BaseException) -> str:
    return type(_root_cause(exc)).__name__
