"""A client for the localskills.sh API's SCIM token endpoints.

It knows the API (paths, the ``{success, data, error}`` envelope, which failures are safe to
retry) and nothing of Pulumi. One client holds one pooled ``requests.Session`` and may be used
from several threads at once.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, NewConnectionError
from urllib3.util.retry import Retry

from . import __version__
from .credentials import Credentials

__all__ = [
    "ApiError",
    "AuthenticationError",
    "IssuedScimToken",
    "LocalskillsClient",
    "LocalskillsError",
    "NotFoundError",
    "ScimTokenRecord",
    "TransportError",
    "parse_timestamp",
]

DEFAULT_TIMEOUT_SECONDS = 30.0
DEFAULT_MAX_RETRIES = 3
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_RETRY_AFTER_SECONDS = 60.0
# createdAt has whole-second precision and the Date header too; this much slack on each side
# of an ambiguous POST's time window catches the token it may have created.
_RECONCILE_SLACK_SECONDS = 2.0
_RECONCILE_POLL_SECONDS = 0.25


class LocalskillsError(Exception):
    """Base class of every error this client raises. Messages never hold a secret."""


class TransportError(LocalskillsError):
    """The request did not get an HTTP answer (connection refused, reset, timed out)."""


class ApiError(LocalskillsError):
    """The API answered with an error, or an answer that does not parse."""

    def __init__(self, operation: str, status: int, api_message: str, hint: str = "") -> None:
        self.operation = operation
        self.status = status
        self.api_message = api_message
        text = f"{operation} failed: HTTP {status}: {api_message}"
        super().__init__(f"{text}. {hint}" if hint else text)


class AuthenticationError(ApiError):
    """401 or 403: the API token is wrong, or is not a member of the tenant."""


class NotFoundError(ApiError):
    """404: the tenant, or the SCIM token, does not exist."""


@dataclass(frozen=True)
class ScimTokenRecord:
    """A SCIM token as the API lists it. The secret is never part of it."""

    id: str
    name: str
    created_at: str
    last_used_at: str | None
    expires_at: str | None

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> ScimTokenRecord:
        return cls(
            id=str(data["id"]),
            name=str(data["name"]),
            created_at=str(data["createdAt"]),
            last_used_at=data.get("lastUsedAt"),
            expires_at=data.get("expiresAt"),
        )


@dataclass(frozen=True)
class IssuedScimToken(ScimTokenRecord):
    """A token just created: the only time the API returns its secret, ``token``."""

    token: str = field(default="", repr=False)


def parse_timestamp(value: str) -> datetime:
    """Parse the API's ISO 8601 UTC timestamps (``2024-01-01T00:00:00Z``)."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


class _ApiRetry(Retry):
    """
    urllib3's ``Retry`` with one rule added for POST: it is re-sent only when the server
    certainly did not act on it, that is on 429 (urllib3 already re-sends any request whose
    connection was never established). GET and DELETE retry 429, 5xx and read errors too.
    """

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        if method.upper() == "POST":
            return status_code == 429 and bool(self.total)
        return super().is_retry(method, status_code, has_retry_after)

    def get_retry_after(self, response: Any) -> float | None:
        seconds = super().get_retry_after(response)
        return None if seconds is None else min(seconds, MAX_RETRY_AFTER_SECONDS)


class LocalskillsClient:
    """
    The SCIM token endpoints of the localskills.sh API.

    :param credentials: The API token and base URL (see ``resolve_credentials``).
    :param timeout: Seconds to wait for the server on each request.
    :param max_retries: Retries after the first attempt, for 429, 5xx and connection errors.
    :param backoff_factor: Exponential backoff base in seconds (jitter is added).
    :param pool_size: Connections kept open to the API; match it to the threads that share
           the client.
    """

    def __init__(
        self,
        credentials: Credentials,
        *,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        max_retries: int = DEFAULT_MAX_RETRIES,
        backoff_factor: float = 0.5,
        pool_size: int = 4,
    ) -> None:
        self._credentials = credentials
        self._timeout = timeout
        self._max_retries = max_retries
        self._backoff_factor = backoff_factor
        self._retry = _ApiRetry(
            total=max_retries,
            status_forcelist=sorted(RETRY_STATUSES),
            allowed_methods=frozenset({"GET", "DELETE"}),
            backoff_factor=backoff_factor,
            backoff_jitter=backoff_factor / 2,
            respect_retry_after_header=True,
            raise_on_status=False,
        )
        self._session = requests.Session()
        # Read the environment's proxy and CA bundle settings once, not on every request
        # (requests rescans the environment, and looks for a .netrc, per request otherwise).
        self._session.proxies.update(requests.utils.get_environ_proxies(credentials.base_url))
        self._session.verify = (
            os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
        )
        self._session.trust_env = False
        adapter = HTTPAdapter(max_retries=self._retry, pool_connections=1, pool_maxsize=pool_size)
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)
        self._session.headers.update(
            {
                "Authorization": f"Bearer {credentials.api_token}",
                "Accept": "application/json",
                "User-Agent": f"localskills-pulumi/{__version__}",
            }
        )
        self._lock = threading.Lock()
        self._issued_ids: set[str] = set()
        self._server_offset: timedelta | None = None

    def __repr__(self) -> str:
        return f"LocalskillsClient(base_url={self._credentials.base_url!r})"

    def close(self) -> None:
        """Close the pooled connections."""
        self._session.close()

    def __enter__(self) -> LocalskillsClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the API -------------------------------------------------------------------------

    def list_scim_tokens(self, tenant_id: str) -> list[ScimTokenRecord]:
        """Every SCIM token of a tenant (no secrets)."""
        operation = f"list SCIM tokens of tenant {tenant_id!r}"
        data = self._call("GET", self._tokens_path(tenant_id), operation, tenant_id)
        if not isinstance(data, list):
            raise ApiError(operation, 200, "the answer's data is not a list")
        return [ScimTokenRecord.from_api(item) for item in data]

    def create_scim_token(
        self, tenant_id: str, name: str, expires_in_days: int | None = None
    ) -> IssuedScimToken:
        """
        Issue a SCIM token; the answer holds its secret, which no later call returns.

        A POST is re-sent as-is only when the server certainly did not act (429, or no
        connection). After an ambiguous failure (timeout, reset, 5xx) the tokens that attempt
        may have created are found in the tenant's list and revoked before the next attempt,
        so no live token is left that nobody holds.
        """
        operation = f"create SCIM token {name!r} in tenant {tenant_id!r}"
        body: dict[str, Any] = {"name": name}
        if expires_in_days is not None:
            body["expiresInDays"] = expires_in_days
        path = self._tokens_path(tenant_id)
        attempts = self._max_retries + 1
        revoked = 0
        for attempt in range(1, attempts + 1):
            started = time.time()
            try:
                issued = _issued_token(self._call("POST", path, operation, tenant_id, json=body))
            except _AmbiguousCreate as ambiguous:
                revoked += self._revoke_orphans(
                    tenant_id, name, started, operation, ambiguous.may_still_run
                )
                if attempt == attempts:
                    raise ApiError(
                        operation,
                        ambiguous.status,
                        f"{ambiguous.detail} (after {attempts} attempts)",
                        "After each attempt the token it may have created was looked for and "
                        f"revoked ({revoked} revoked), so none is left that nobody holds.",
                    ) from None
                time.sleep(self._backoff(attempt))
                continue
            with self._lock:
                self._issued_ids.add(issued.id)
            return issued
        raise AssertionError("unreachable")  # pragma: no cover

    def delete_scim_token(self, tenant_id: str, token_id: str) -> bool:
        """Revoke a token. Returns False when it did not exist (already revoked)."""
        operation = f"delete SCIM token {token_id!r} of tenant {tenant_id!r}"
        path = f"{self._tokens_path(tenant_id)}/{quote(token_id, safe='')}"
        try:
            self._call("DELETE", path, operation, tenant_id)
        except NotFoundError as exc:
            if exc.api_message == "SCIM token not found":
                return False
            raise
        return True

    # -- plumbing ------------------------------------------------------------------------

    @staticmethod
    def _tokens_path(tenant_id: str) -> str:
        return f"/api/tenants/{quote(tenant_id, safe='')}/scim-tokens"

    def _backoff(self, attempt: int) -> float:
        return float(self._backoff_factor * 2 ** (attempt - 1) + random.random() * 0.1)

    def _call(
        self,
        method: str,
        path: str,
        operation: str,
        tenant_id: str,
        json: dict[str, Any] | None = None,
    ) -> Any:
        """Send one request (urllib3 retries what is safe) and unwrap the envelope."""
        url = self._credentials.base_url + path
        with self._transport_errors(method, operation):
            response = self._session.request(method, url, json=json, timeout=self._timeout)
        self._note_server_time(response)
        status = response.status_code
        try:
            envelope = response.json()
        except ValueError:
            envelope = None
        if not isinstance(envelope, dict):
            if method == "POST" and (status < 400 or status >= 500):
                raise _AmbiguousCreate(status, f"unreadable answer with HTTP {status}")
            raise ApiError(operation, status, _snippet(response.text))
        if status >= 400 or envelope.get("success") is not True:
            message = str(envelope.get("error") or "no error message")
            if method == "POST" and status >= 500:
                raise _AmbiguousCreate(status, f"HTTP {status}: {message}")
            raise self._error_for(operation, tenant_id, status, message)
        return envelope.get("data")

    @contextmanager
    def _transport_errors(self, method: str, operation: str) -> Iterator[None]:
        try:
            yield
        except requests.ConnectionError as exc:
            if method == "POST" and not _never_connected(exc):
                raise _AmbiguousCreate(0, "the connection broke before an answer") from None
            raise TransportError(
                f"{operation} failed: cannot reach {self._credentials.base_url} ({_reason(exc)})"
            ) from None
        except requests.Timeout:
            if method == "POST":
                raise _AmbiguousCreate(
                    0, f"no answer within {self._timeout:g} s", may_still_run=True
                ) from None
            raise TransportError(
                f"{operation} failed: no answer from {self._credentials.base_url} "
                f"within {self._timeout:g} s"
            ) from None
        except requests.RequestException as exc:
            if method == "POST":
                raise _AmbiguousCreate(0, f"the answer broke off ({_reason(exc)})") from None
            raise TransportError(f"{operation} failed: {_reason(exc)}") from None

    def _error_for(self, operation: str, tenant_id: str, status: int, message: str) -> ApiError:
        if status == 401:
            return AuthenticationError(
                operation,
                status,
                message,
                f"The API token was refused: check the token from "
                f"{self._credentials.token_source}.",
            )
        if status == 403:
            return AuthenticationError(
                operation,
                status,
                message,
                f"The API token from {self._credentials.token_source} has no access to "
                f"tenant {tenant_id!r}: use a token of a member of that team.",
            )
        if status == 404:
            hint = (
                f"Tenant {tenant_id!r} does not exist at {self._credentials.base_url}: "
                "check tenant_id."
                if message == "Tenant not found"
                else ""
            )
            return NotFoundError(operation, status, message, hint)
        if status == 429:
            return ApiError(operation, status, message, "Rate limited; retries ran out.")
        return ApiError(operation, status, message)

    def _note_server_time(self, response: requests.Response) -> None:
        date = response.headers.get("Date")
        if not date:
            return
        try:
            server_now = parsedate_to_datetime(date)
        except (TypeError, ValueError):
            return
        self._server_offset = server_now - datetime.now(timezone.utc)

    def _revoke_orphans(
        self, tenant_id: str, name: str, started: float, operation: str, may_still_run: bool
    ) -> int:
        """
        Revoke the tokens an ambiguous POST may have created: same name, created within the
        attempt's time window (in the server's clock), and not issued to this client.

        After a timeout the server may still be working on the request, so the tenant is
        looked at again for up to one more timeout until such a token shows up.
        """
        deadline = time.monotonic() + (self._timeout if may_still_run else 0.0)
        while True:
            revoked = self._revoke_candidates(tenant_id, name, started, operation)
            if revoked or time.monotonic() >= deadline:
                return revoked
            time.sleep(min(_RECONCILE_POLL_SECONDS, max(0.0, deadline - time.monotonic())))

    def _revoke_candidates(self, tenant_id: str, name: str, started: float, operation: str) -> int:
        try:
            tokens = self.list_scim_tokens(tenant_id)
        except LocalskillsError as exc:
            raise LocalskillsError(
                f"{operation}: the request may have reached the server, and looking for the "
                f"token it may have created failed ({exc}). A token named {name!r} created "
                f"around {datetime.fromtimestamp(started, timezone.utc):%Y-%m-%dT%H:%M:%SZ} "
                f"may exist in tenant {tenant_id!r} that nobody holds: list the tenant's "
                "tokens and revoke it."
            ) from None
        offset = self._server_offset or timedelta(0)
        slack = timedelta(seconds=_RECONCILE_SLACK_SECONDS)
        low = datetime.fromtimestamp(started, timezone.utc) + offset - slack
        high = datetime.now(timezone.utc) + offset + slack
        with self._lock:
            issued = set(self._issued_ids)
        revoked = 0
        for token in tokens:
            if token.name != name or token.id in issued:
                continue
            try:
                created = parse_timestamp(token.created_at)
            except ValueError:
                continue
            if low <= created <= high and self.delete_scim_token(tenant_id, token.id):
                revoked += 1
        return revoked


class _AmbiguousCreate(Exception):
    """A POST failed in a way that does not say whether the server created the token."""

    def __init__(self, status: int, detail: str, *, may_still_run: bool = False) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.may_still_run = may_still_run


def _issued_token(data: Any) -> IssuedScimToken:
    try:
        return IssuedScimToken(
            id=str(data["id"]),
            name=str(data["name"]),
            created_at=str(data["createdAt"]),
            last_used_at=None,
            expires_at=data.get("expiresAt"),
            token=str(data["token"]),
        )
    except (KeyError, TypeError, AttributeError):
        # The server answered 2xx, so it may well have created a token we cannot read.
        raise _AmbiguousCreate(200, "the answer lacks the token's fields") from None


def _never_connected(exc: requests.ConnectionError) -> bool:
    """True when the request certainly never reached the server."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    cause = exc.args[0] if exc.args else None
    reason = cause.reason if isinstance(cause, MaxRetryError) else cause
    return isinstance(reason, (NewConnectionError, ConnectTimeoutError))


def _reason(exc: BaseException) -> str:
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, MaxRetryError) and cause.reason is not None:
            cause = cause.reason
            continue
        inner = cause.args[0] if cause.args and isinstance(cause.args[0], BaseException) else None
        if inner is None:
            break
        cause = inner
    return f"{type(cause).__name__}" if cause is not None else type(exc).__name__


def _snippet(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "..."
