"""A client for the localskills.sh API's SCIM token endpoints.

It knows the API (paths, the ``{success, data, error}`` envelope, which failures are safe to
retry, how to tell one 404 from another) and nothing of Pulumi. One client holds one pooled
``requests.Session`` and may be used from several threads at once.

Every call ends within a bound: each attempt has a deadline (``timeout``, the answer's body
included), and there are at most ``max_retries`` retries. Every answer is read within a size:
:data:`LISTING_BODY_LIMIT` for a listing, :data:`ANSWER_BODY_LIMIT` for other answers,
:data:`ERROR_BODY_LIMIT` of an error's body. Every failure is one error of
:mod:`localskills_pulumi.errors`, and no text a server supplied reaches one unredacted.
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import threading
import time
import traceback
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

import requests
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    MaxRetryError,
    NewConnectionError,
    ProtocolError,
)
from urllib3.util.retry import Retry

from ._version import __version__
from .errors import (
    ApiError,
    AuthenticationError,
    ConfigError,
    CredentialsError,
    DeadlineExceededError,
    InputError,
    LocalskillsError,
    MalformedResponseError,
    NotFoundError,
    OrphanedTokenError,
    RateLimitError,
    RedirectError,
    ResponseTooLargeError,
    TenantNotFoundError,
    TokenNotFoundError,
    TransportError,
)
from .identifiers import id_problem, redact
from .records import IssuedScimToken, ScimTokenRecord, format_timestamp, parse_timestamp
from .retry import MAX_RETRY_AFTER_SECONDS, RETRY_STATUSES, RetryPolicy
from .settings import (
    DEFAULT_MAX_RETRIES,
    DEFAULT_REQUEST_TIMEOUT,
    MAX_REQUEST_TIMEOUT,
    MAX_RETRIES,
    Credentials,
    Settings,
)
from .transport import BodyTooLarge, DeadlineAdapter, NoRedirectSession, read_body

__all__ = [
    "ANSWER_BODY_LIMIT",
    "ERROR_BODY_LIMIT",
    "LISTING_BODY_LIMIT",
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

DEFAULT_TIMEOUT_SECONDS = DEFAULT_REQUEST_TIMEOUT
LISTING_BODY_LIMIT = 4 * 1024 * 1024
"""Bytes read at most of a listing: about 16,000 tokens of 250 bytes each. Parsing a listing
of this size costs at most about 100 MB of memory, whatever the server puts in it."""
ANSWER_BODY_LIMIT = 64 * 1024
"""Bytes read at most of any other successful answer (a create, a delete: a few hundred)."""
ERROR_BODY_LIMIT = 64 * 1024
"""Bytes read at most of an error's body; the rest is never read."""
# Kept for the names the package has offered.
MAX_RETRY_AFTER = MAX_RETRY_AFTER_SECONDS
RETRYABLE_STATUSES = RETRY_STATUSES
# createdAt has whole-second precision and the Date header too; this much slack on each side
# of an ambiguous POST's time window catches the token it may have created.
_RECONCILE_SLACK_SECONDS = 2.0
_RECONCILE_POLL_SECONDS = 0.25
# The most tokens one reconcile revokes: a failed POST makes one token at most, and the host
# runs 4 calls at once. More is not the trace of our own failed POSTs (a hostile listing).
_MAX_RECONCILE_REVOKES = 16
_SNIPPET_CHARS = 200
# A server clock (the Date header) outside these years is ignored: date arithmetic on it, plus
# the largest day count (identifiers.MAX_DAYS), must not overflow.
_SERVER_YEARS = (1971, 9800)
# urllib3 logs server-supplied text (header lines it cannot parse, the errors behind a retry).
_URLLIB3_LOGGERS = ("urllib3", "urllib3.connection", "urllib3.connectionpool", "urllib3.response")


@dataclass(frozen=True)
class _Answer:
    status: int
    headers: Mapping[str, str]
    body: bytes


class _Failed(Exception):
    """An exchange that got no usable answer: the error to raise, and what it means for a
    POST (whether the server may have acted, and may still be acting)."""

    def __init__(
        self, error: LocalskillsError, *, reached_server: bool, may_still_run: bool = False
    ) -> None:
        super().__init__(str(error))
        self.error = error
        self.reached_server = reached_server
        self.may_still_run = may_still_run


class LocalskillsClient:
    """
    The SCIM token endpoints of the localskills.sh API.

    :param credentials: The API token and base URL (see ``resolve_settings``).
    :param timeout: Seconds each attempt may take in all: connecting, sending, and reading the
           whole answer.
    :param max_retries: Retries after the first attempt, or a urllib3 ``Retry`` (made a
           :class:`~localskills_pulumi.retry.RetryPolicy`, which adds the API's rules).
    :param pool_size: Connections kept open to the API; match it to the threads that share
           the client.
    :param backoff_factor: With an ``int`` ``max_retries``: the backoff base in seconds
           (default 0.5). A ``Retry`` carries its own.
    """

    def __init__(
        self,
        credentials: Credentials,
        *,
        timeout: float = DEFAULT_REQUEST_TIMEOUT,
        max_retries: int | Retry = DEFAULT_MAX_RETRIES,
        pool_size: int = 4,
        backoff_factor: float | None = None,
    ) -> None:
        if (
            isinstance(timeout, bool)
            or not isinstance(timeout, (int, float))
            or not 0 < timeout <= MAX_REQUEST_TIMEOUT  # False for NaN too
        ):
            raise ConfigError(
                f"timeout must be a number of seconds above 0 and at most "
                f"{MAX_REQUEST_TIMEOUT:g}, got {timeout!r}"
            )
        if not isinstance(max_retries, Retry) and (
            isinstance(max_retries, bool)
            or not isinstance(max_retries, int)
            or not 0 <= max_retries <= MAX_RETRIES
        ):
            raise ConfigError(
                f"max_retries must be a whole number from 0 to {MAX_RETRIES} or a urllib3 "
                f"Retry, got {max_retries!r}"
            )
        if backoff_factor is not None and (
            isinstance(backoff_factor, bool)
            or not isinstance(backoff_factor, (int, float))
            or not 0 <= backoff_factor <= MAX_RETRY_AFTER_SECONDS
        ):
            raise ConfigError(
                f"backoff_factor must be a number of seconds from 0 to "
                f"{MAX_RETRY_AFTER_SECONDS:g}, got {backoff_factor!r}"
            )
        token = credentials.api_token
        if not token or not all(ch.isascii() and ch.isprintable() and ch != " " for ch in token):
            raise CredentialsError(
                f"The localskills API token from {credentials.token_source} is malformed: it "
                "holds characters no API token has (white space, control or non-ASCII "
                "characters); copy it again from localskills.sh."
            )
        _LOG_REDACTION.protect(token)
        self._credentials = credentials
        self._timeout = float(timeout)
        if backoff_factor is not None:
            if isinstance(max_retries, Retry):
                raise ConfigError("pass backoff_factor with an int max_retries, not with a Retry")
            max_retries = RetryPolicy.default(max_retries, backoff_factor)
        self._retry = RetryPolicy.coerce(max_retries)
        self._adapter = DeadlineAdapter(
            deadline=self._timeout, max_retries=self._retry, pool_maxsize=pool_size
        )
        self._session = NoRedirectSession()
        # Read the environment's proxy and CA bundle settings once, not on every request
        # (requests rescans the environment, and looks for a .netrc, per request otherwise).
        self._session.proxies.update(requests.utils.get_environ_proxies(credentials.base_url))
        self._session.verify = (
            os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
        )
        self._session.trust_env = False
        self._session.mount("http://", self._adapter)
        self._session.mount("https://", self._adapter)
        self._session.headers.update(
            {
                "Authorization": f"Bearer {credentials.api_token}",
                "Accept": "application/json",
                "User-Agent": f"localskills-pulumi/{__version__}",
            }
        )
        self._lock = threading.Lock()
        self._server_offset: timedelta | None = None
        # Creates in flight and reconciles under way, per (tenant, name): a reconcile waits for
        # the creates in flight and holds back new ones, so the tokens it finds that this
        # client did not issue are certainly not a sibling's answer still on its way.
        self._creates = threading.Condition()
        self._in_flight: Counter[tuple[str, str]] = Counter()
        self._reconciling: set[tuple[str, str]] = set()
        self._issued_ids: set[str] = set()

    @classmethod
    def from_settings(cls, settings: Settings, *, pool_size: int = 4) -> LocalskillsClient:
        """A client with the credentials, timeout and retries of ``settings``."""
        return cls(
            settings.credentials,
            timeout=settings.request_timeout,
            max_retries=settings.max_retries,
            pool_size=pool_size,
        )

    def __repr__(self) -> str:
        return f"LocalskillsClient(base_url={self._credentials.base_url!r})"

    def close(self) -> None:
        """Close the pooled connections."""
        self._session.close()

    def __enter__(self) -> LocalskillsClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def retry_policy(self) -> RetryPolicy:
        """The retry policy in force."""
        return self._retry

    def server_now(self) -> datetime:
        """The server's clock, from the ``Date`` of its latest answer (this machine's clock
        before any answer, or when the server's clock is not a plausible date)."""
        offset = self._server_offset or timedelta(0)
        return datetime.now(timezone.utc) + offset

    # -- the API -------------------------------------------------------------------------

    def list_scim_tokens(self, tenant_id: str) -> list[ScimTokenRecord]:
        """Every SCIM token of a tenant (no secrets), every field checked."""
        operation = f"list SCIM tokens of tenant {tenant_id!r}"
        url = self._tokens_url(tenant_id)
        status, data = self._call("GET", url, operation, tenant_id, limit=LISTING_BODY_LIMIT)
        if not isinstance(data, list):
            raise MalformedResponseError(
                operation, status, "the answer is malformed: its data must be a list"
            )
        return [ScimTokenRecord.from_api(item, operation, status) for item in data]

    def create_scim_token(
        self, tenant_id: str, name: str, expires_in_days: int | None = None
    ) -> IssuedScimToken:
        """
        Issue a SCIM token; the answer holds its secret, which no later call returns.

        A POST is re-sent as-is only when the server certainly did not act (429, or no
        connection). After an ambiguous failure (timeout, reset, 5xx, an unreadable answer)
        the token that attempt may have created is found in the tenant's list and revoked
        before the next attempt, so no live token is left that nobody holds. A token this
        client has handed back is never revoked by that search.

        :raises OrphanedTokenError: the search itself failed; the message says what to look for.
        """
        operation = f"create SCIM token {name!r} in tenant {tenant_id!r}"
        url = self._tokens_url(tenant_id)
        body: dict[str, Any] = {"name": name}
        if expires_in_days is not None:
            body["expiresInDays"] = expires_in_days
        key = (tenant_id, name)
        attempts = self._retry.attempts
        revoked = 0
        for attempt in range(1, attempts + 1):
            started = time.time()
            with self._create_slot(key):
                try:
                    status, data = self._call(
                        "POST", url, operation, tenant_id, json=body, limit=ANSWER_BODY_LIMIT
                    )
                    issued = IssuedScimToken.from_api(data, operation, status)
                except _Failed as failed:
                    ambiguous = failed
                except MalformedResponseError as malformed:
                    # A 2xx answer: the server may well have created a token we cannot read.
                    ambiguous = _Failed(malformed, reached_server=True)
                else:
                    with self._lock:
                        self._issued_ids.add(issued.id)
                    return issued
            revoked += self._reconcile(key, started, operation, ambiguous.may_still_run)
            if attempt == attempts:
                raise _with_note(
                    ambiguous.error,
                    f"{attempts} attempt{'s' if attempts > 1 else ''} failed; after each, the "
                    f"token it may have created was looked for and revoked ({revoked} revoked), "
                    "so none is left that nobody holds.",
                ) from None
            time.sleep(self._retry.backoff_before(attempt))
        raise AssertionError("unreachable")  # pragma: no cover

    def delete_scim_token(self, tenant_id: str, token_id: str) -> bool:
        """Revoke a token. Returns False when it did not exist (already revoked).

        :raises TenantNotFoundError: the tenant does not exist (nothing is counted revoked).
        :raises NotFoundError: a 404 that does not say the token is gone (e.g. a base URL
                that points elsewhere): nothing is counted revoked.
        """
        operation = f"delete SCIM token {token_id!r} of tenant {tenant_id!r}"
        url = self._tokens_url(tenant_id, token_id)
        try:
            self._call("DELETE", url, operation, tenant_id, limit=ANSWER_BODY_LIMIT)
        except TokenNotFoundError:
            return False
        return True

    # -- requests --------------------------------------------------------------------------

    def _tokens_url(self, tenant_id: str, token_id: str | None = None) -> str:
        """The URL of a tenant's tokens, or of one token; each ID one safe, encoded segment."""
        parts = [("tenant_id", tenant_id)]
        if token_id is not None:
            parts.append(("token_id", token_id))
        for what, value in parts:
            problem = id_problem(value)
            if problem:
                raise InputError(f"{what} {redact(repr(value))} {problem}.")
        path = f"/api/tenants/{quote(tenant_id, safe='')}/scim-tokens"
        if token_id is not None:
            path += f"/{quote(token_id, safe='')}"
        return self._credentials.base_url + path

    def _call(
        self,
        method: str,
        url: str,
        operation: str,
        tenant_id: str,
        *,
        limit: int,
        json: dict[str, Any] | None = None,
    ) -> tuple[int, Any]:
        """Send one request (urllib3 retries what is safe) and unwrap the envelope.

        Returns the status and ``data``. For POST, a failure after which the server may have
        acted is raised as :class:`_Failed` with ``reached_server``; every other failure is
        raised as the package's error.
        """
        try:
            answer = self._exchange(method, url, operation, json, limit)
            return self._unwrap(method, answer, operation, tenant_id)
        except _Failed as failed:
            if method == "POST" and failed.reached_server:
                raise
            raise failed.error from None

    def _exchange(self, method: str, url: str, operation: str, json: Any, limit: int) -> _Answer:
        """Send a request and read its answer, each attempt within the deadline.

        urllib3 retries what fails before the answer's head arrives (and 429/5xx for GET and
        DELETE). An answer whose body then breaks off or runs past the deadline is retried here
        for GET and DELETE, from the retry state urllib3 ended with, so both share one budget:
        at most ``max_retries`` retries in all.
        """
        retries: Retry | None = None
        while True:
            with self._adapter.attempt(retries) as attempt:
                try:
                    response = self._session.request(
                        method,
                        url,
                        json=json,
                        timeout=(self._timeout, self._timeout),
                        allow_redirects=False,
                        stream=True,
                    )
                except _TRANSPORT_ERRORS as exc:
                    raise self._transport_failure(operation, exc, attempt.expired) from None
                state: Retry | None = getattr(response.raw, "retries", None)
                status = response.status_code
                try:
                    self._note_server_time(response.headers)
                    if 300 <= status < 400:
                        body = b""
                    elif status >= 400:
                        body = read_body(response, ERROR_BODY_LIMIT, truncate=True)
                    else:
                        body = read_body(response, limit)
                    if attempt.expired:
                        # The deadline cut the body short; what was read is not the answer.
                        raise ProtocolError("the deadline cut the answer short")
                except BodyTooLarge as exc:
                    size = f"{exc.declared} bytes" if exc.declared is not None else "more"
                    error = ResponseTooLargeError(
                        operation,
                        status,
                        f"the answer's body is {size}, over the limit of {exc.limit} bytes; "
                        "the rest was not read",
                        "Check the base URL: the localskills API answers far less.",
                    )
                    raise _Failed(error, reached_server=True) from None
                except _TRANSPORT_ERRORS as exc:
                    failure = self._transport_failure(operation, exc, attempt.expired)
                    retries = self._next_try(method, url, state)
                    if retries is None:
                        raise failure from None
                else:
                    return _Answer(status, response.headers, body)
                finally:
                    response.close()
            retries.sleep()

    def _next_try(self, method: str, url: str, state: Retry | None) -> Retry | None:
        """The retry state for another try of a GET or DELETE whose answer broke off, or None
        when the method is not retried or the budget is spent."""
        try:
            return (state or self._retry).increment(
                method, url, error=ProtocolError("the answer broke off")
            )
        except (MaxRetryError, ProtocolError):
            return None

    def _transport_failure(self, operation: str, exc: BaseException, expired: bool) -> _Failed:
        base_url = self._credentials.base_url
        if expired:
            return _Failed(
                DeadlineExceededError(
                    f"{operation} failed: no complete answer from {base_url} within "
                    f"{self._timeout:g} s (the request's deadline)"
                ),
                reached_server=True,
                may_still_run=True,
            )
        if isinstance(exc, requests.ConnectionError) and _never_connected(exc):
            return _Failed(
                TransportError(f"{operation} failed: cannot reach {base_url} ({_reason(exc)})"),
                reached_server=False,
            )
        if isinstance(exc, requests.Timeout):
            return _Failed(
                TransportError(
                    f"{operation} failed: no answer from {base_url} within {self._timeout:g} s"
                ),
                reached_server=True,
                may_still_run=True,
            )
        return _Failed(
            TransportError(
                f"{operation} failed: the exchange with {base_url} broke off ({_reason(exc)})"
            ),
            reached_server=True,
        )

    def _unwrap(
        self, method: str, answer: _Answer, operation: str, tenant_id: str
    ) -> tuple[int, Any]:
        status = answer.status
        if 300 <= status < 400:
            location = self._redact(answer.headers.get("Location", "(none)"))[:_SNIPPET_CHARS]
            raise _Failed(
                RedirectError(
                    operation,
                    status,
                    f"the server redirects to {location}",
                    "Redirects are never followed (the API token must not travel elsewhere): "
                    "set the base URL to the address the API answers at.",
                ),
                reached_server=False,
            )
        if method == "DELETE" and 200 <= status < 300 and not answer.body.strip():
            return status, None  # 204 No Content, or an empty 200: revoked
        envelope = _parse_json(answer.body)
        if not isinstance(envelope, dict):
            text = _snippet(self._redact(answer.body.decode("utf-8", "replace")))
            if status < 400:
                error: ApiError = MalformedResponseError(
                    operation, status, f"the answer is not the API's JSON envelope: {text}"
                )
            else:
                error = self._error_for(operation, tenant_id, status, text, enveloped=False)
            raise _Failed(error, reached_server=status < 400 or status >= 500)
        if status >= 400 or envelope.get("success") is not True:
            raw = envelope.get("error")
            message = self._redact(raw if isinstance(raw, str) else "no error message")
            error = self._error_for(operation, tenant_id, status, _snippet(message), enveloped=True)
            raise _Failed(error, reached_server=status >= 500)
        return status, envelope.get("data")

    # -- what an error answer means ------------------------------------------------------

    def _error_for(
        self, operation: str, tenant_id: str, status: int, message: str, *, enveloped: bool
    ) -> ApiError:
        """The error for an answer, by status and structure; the message decides only
        between the two kinds of 404 (see :func:`_not_found_kind`)."""
        credentials = self._credentials
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
            kind = _not_found_kind(message) if enveloped else NotFoundError
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

    def _redact(self, text: str) -> str:
        return redact(text, self._credentials.api_token)

    def _note_server_time(self, headers: Mapping[str, str]) -> None:
        date = headers.get("Date")
        if not date:
            return
        try:
            server_now = parsedate_to_datetime(date)
            if server_now.tzinfo is None:
                server_now = server_now.replace(tzinfo=timezone.utc)
            if not _SERVER_YEARS[0] <= server_now.year <= _SERVER_YEARS[1]:
                return
            self._server_offset = server_now - datetime.now(timezone.utc)
        except (TypeError, ValueError, IndexError, OverflowError):
            return

    # -- no orphans --------------------------------------------------------------------------

    @contextmanager
    def _create_slot(self, key: tuple[str, str]) -> Iterator[None]:
        """One POST of ``key`` in flight; waits while a reconcile of ``key`` runs."""
        with self._creates:
            while key in self._reconciling:
                self._creates.wait()
            self._in_flight[key] += 1
        try:
            yield
        finally:
            with self._creates:
                self._in_flight[key] -= 1
                if self._in_flight[key] <= 0:
                    del self._in_flight[key]
                self._creates.notify_all()

    def _reconcile(
        self, key: tuple[str, str], started: float, operation: str, may_still_run: bool
    ) -> int:
        """
        Revoke the tokens an ambiguous POST may have created: same name, created within the
        attempt's time window (in the server's clock), and not issued by this client.

        It first waits for the other creates of the same name in flight (each ends within its
        deadline) and holds back new ones, so that a sibling's token whose answer is still on
        its way is recorded as issued before the tenant is looked at. After a timeout the
        server may still be working on the request, so the tenant is looked at again for up
        to one more timeout until such a token shows up.
        """
        tenant_id, name = key
        with self._creates:
            while key in self._reconciling:
                self._creates.wait()
            self._reconciling.add(key)
            while self._in_flight.get(key):
                self._creates.wait()
        try:
            deadline = time.monotonic() + (self._timeout if may_still_run else 0.0)
            while True:
                revoked = self._revoke_candidates(tenant_id, name, started, operation)
                if revoked or time.monotonic() >= deadline:
                    return revoked
                time.sleep(min(_RECONCILE_POLL_SECONDS, max(0.0, deadline - time.monotonic())))
        finally:
            with self._creates:
                self._reconciling.discard(key)
                self._creates.notify_all()

    def _revoke_candidates(self, tenant_id: str, name: str, started: float, operation: str) -> int:
        try:
            tokens = self.list_scim_tokens(tenant_id)
        except LocalskillsError as exc:
            raise OrphanedTokenError(
                f"{operation}: the request may have reached the server, and looking for the "
                f"token it may have created failed ({exc}). A token named {name!r} created "
                f"around {format_timestamp(datetime.fromtimestamp(started, timezone.utc))} "
                f"may exist in tenant {tenant_id!r} that nobody holds: list the tenant's "
                "tokens and revoke it."
            ) from None
        offset = self._server_offset or timedelta(0)
        slack = timedelta(seconds=_RECONCILE_SLACK_SECONDS)
        low = datetime.fromtimestamp(started, timezone.utc) + offset - slack
        high = datetime.now(timezone.utc) + offset + slack
        with self._lock:
            issued = set(self._issued_ids)
        candidates = [
            token
            for token in tokens
            if token.name == name and token.id not in issued and low <= token.created <= high
        ]
        if len(candidates) > _MAX_RECONCILE_REVOKES:
            # One failed POST makes one token at most; this many is no failed POST of ours.
            raise OrphanedTokenError(
                f"{operation}: the request may have reached the server, and the tenant lists "
                f"{len(candidates)} tokens named {name!r} created within seconds of it, more "
                "than this client can have made: none was revoked. List the tenant's tokens "
                "and revoke the ones nobody holds."
            )
        revoked = 0
        for token in candidates:
            try:
                revoked += self.delete_scim_token(tenant_id, token.id)
            except LocalskillsError as exc:
                raise OrphanedTokenError(
                    f"{operation}: the request may have reached the server, and token "
                    f"{token.id!r} named {name!r}, created at {token.created_at} and held by "
                    f"nobody, could not be revoked ({exc}): revoke it in tenant {tenant_id!r}."
                ) from None
        return revoked


_TRANSPORT_ERRORS = (requests.RequestException, HTTPError, http.client.HTTPException, OSError)
"""What a request or the reading of its answer raises when the exchange fails."""


class _LogRedaction(logging.Filter):
    """Redacts the API tokens of every client, and anything shaped like a localskills secret,
    from urllib3's log records: urllib3 logs text a server sent (a header line it cannot parse,
    the error behind a retry), and a server may echo the request's ``Authorization``."""

    def __init__(self) -> None:
        super().__init__()
        self._secrets: set[str] = set()
        self._installed = False
        self._lock = threading.Lock()

    def protect(self, secret: str) -> None:
        with self._lock:
            self._secrets.add(secret)
            if not self._installed:
                for name in _URLLIB3_LOGGERS:
                    logging.getLogger(name).addFilter(self)
                self._installed = True

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            text = record.getMessage()
            if record.exc_info and record.exc_info[0] is not None:
                text += "\n" + "".join(traceback.format_exception(*record.exc_info))
        except Exception:
            return False  # a record that cannot even be formatted is dropped, not shown raw
        with self._lock:
            secrets = tuple(self._secrets)
        record.msg, record.args = redact(text, *secrets), None
        record.exc_info, record.exc_text = None, None
        return True


_LOG_REDACTION = _LogRedaction()


def _not_found_kind(message: str) -> type[NotFoundError]:
    """Which thing a 404's envelope says is missing. The API gives nothing but its English
    message to tell "Tenant not found" from "SCIM token not found"; this is the one place
    that reads it."""
    text = message.lower()
    if "token" in text:
        return TokenNotFoundError
    if "tenant" in text or "team" in text:
        return TenantNotFoundError
    return NotFoundError


def _with_note(error: LocalskillsError, note: str) -> LocalskillsError:
    """``error`` again, its message extended with ``note`` (same type and fields)."""
    if isinstance(error, ApiError):
        hint = f"{error.hint} {note}" if error.hint else note
        return type(error)(error.operation, error.status, error.api_message, hint)
    return type(error)(f"{error}. {note}")


def _parse_json(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8"))
    except (ValueError, RecursionError):
        return None


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


def _snippet(text: str, limit: int = _SNIPPET_CHARS) -> str:
    """The first ``limit`` characters of ``text`` on one line; reads only what it shows."""
    head = " ".join(text[: limit * 4].split())
    return head if len(head) <= limit and len(text) <= limit * 4 else head[:limit] + "..."
