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
import os
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

import requests
from urllib3.exceptions import (
    HTTPError,
    MaxRetryError,
    ProtocolError,
)
from urllib3.util.retry import Retry

from ._version import __version__
from .answers import Answer, Failure, exchange_failure, read_envelope, with_note
from .errors import (
    InputError,
    MalformedResponseError,
    ResponseTooLargeError,
    TokenNotFoundError,
)
from .identifiers import id_problem, redact
from .orphans import OrphanSearch
from .records import IssuedScimToken, ScimTokenRecord
from .retry import RetryPolicy
from .settings import Settings
from .transport import (
    Attempt,
    BodyTooLarge,
    DeadlineAdapter,
    NoRedirectSession,
    protect_in_logs,
    read_body,
)

__all__ = ["ANSWER_BODY_LIMIT", "ERROR_BODY_LIMIT", "LISTING_BODY_LIMIT", "LocalskillsClient"]

LISTING_BODY_LIMIT = 4 * 1024 * 1024
"""Bytes read at most of a listing: about 16,000 tokens of 250 bytes each. Parsing a listing
of this size costs at most about 100 MB of memory, whatever the server puts in it."""
ANSWER_BODY_LIMIT = 64 * 1024
"""Bytes read at most of any other successful answer (a create, a delete: a few hundred)."""
ERROR_BODY_LIMIT = 64 * 1024
"""Bytes read at most of an error's body; the rest is never read."""
# A server clock (the Date header) outside these years is ignored: date arithmetic on it, plus
# the largest day count (identifiers.MAX_DAYS), must not overflow.
_SERVER_YEARS = (1971, 9800)


class LocalskillsClient:
    """
    The SCIM token endpoints of the localskills.sh API.

    :param settings: The credentials, timeout and retries (from ``resolve_settings``, which
           checks every value; the client trusts them).
    :param retry: A retry policy instead of ``settings.max_retries`` retries with the default
           backoff, e.g. ``RetryPolicy.default(2, backoff_factor=0.1)``.
    :param pool_size: Connections kept open to the API; match it to the threads that share
           the client.
    :param on_warning: Shows a warning that fails nothing (an orphan search that revoked
           nothing because another client may own the candidates); default: stderr.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        retry: RetryPolicy | None = None,
        pool_size: int = 4,
        on_warning: Callable[[str], None] | None = None,
    ) -> None:
        credentials = self._credentials = settings.credentials
        protect_in_logs(credentials.api_token)
        self._timeout = settings.request_timeout
        self._retry = retry or RetryPolicy.default(settings.max_retries)
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
        self._server_offset: timedelta | None = None
        self._orphans = OrphanSearch(
            self.list_scim_tokens,
            self.delete_scim_token,
            lambda: self._server_offset or timedelta(0),
            self._timeout,
            on_warning,
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
        revoked = attempt = 0
        while True:
            attempt += 1
            started = time.time()
            outcome = self._post_in_slot(key, url, operation, tenant_id, body)
            if isinstance(outcome, IssuedScimToken):
                return outcome
            failed_at = time.monotonic()
            revoked += self._orphans.search(key, started, operation, outcome.may_still_run)
            if attempt == attempts:
                raise with_note(
                    outcome.error,
                    f"{attempts} attempt{'s' if attempts > 1 else ''} failed; after each, the "
                    f"token it may have created was looked for and revoked ({revoked} revoked), "
                    "so none is left that nobody holds.",
                ) from None
            # A Retry-After the server sent is honoured as on every other path (capped);
            # the search since the failure counts towards it.
            asked = self._retry.parse_retry_after(outcome.retry_after or "")
            if asked:
                time.sleep(max(0.0, asked - (time.monotonic() - failed_at)))
            else:
                time.sleep(self._retry.backoff_before(attempt))

    def _post_in_slot(
        self, key: tuple[str, str], url: str, operation: str, tenant_id: str, body: Any
    ) -> IssuedScimToken | Failure:
        """One POST, counted among the creates of ``key`` in flight: the issued token, or the
        ambiguous failure, counted for the search that follows before the slot is left."""
        with self._orphans.slot(key):
            try:
                status, data = self._call(
                    "POST", url, operation, tenant_id, json=body, limit=ANSWER_BODY_LIMIT
                )
                issued = IssuedScimToken.from_api(data, operation, status)
            except Failure as failed:
                self._orphans.ambiguous(key)
                return failed
            except MalformedResponseError as malformed:
                # A 2xx answer: the server may well have created a token we cannot read.
                self._orphans.ambiguous(key)
                return Failure(malformed, reached_server=True)
            self._orphans.issued(issued.id)
            return issued

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
        acted is raised as :class:`Failure` with ``reached_server``; every other failure is
        raised as the package's error.
        """
        try:
            answer = self._exchange(method, url, operation, json, limit)
            return read_envelope(method, answer, operation, tenant_id, self._credentials)
        except Failure as failed:
            if method == "POST" and failed.reached_server:
                raise
            raise failed.error from None

    def _exchange(self, method: str, url: str, operation: str, json: Any, limit: int) -> Answer:
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
                    raise self._failure(operation, exc, attempt.expired) from None
                try:
                    return self._read(response, operation, limit, attempt)
                except _TRANSPORT_ERRORS as exc:
                    failure = self._failure(operation, exc, attempt.expired)
                    retries = self._next_try(method, url, getattr(response.raw, "retries", None))
                    if retries is None:
                        raise failure from None
                finally:
                    response.close()
            retries.sleep()

    def _read(
        self,
        response: requests.Response,
        operation: str,
        limit: int,
        attempt: Attempt,
    ) -> Answer:
        """The answer, its body read within its limit. A body cut short by the deadline is an
        answer that broke off (``ProtocolError``, as when the server closes early)."""
        status = response.status_code
        self._note_server_time(response.headers)
        try:
            if 300 <= status < 400:
                body = b""
            elif status >= 400:
                body = read_body(response, ERROR_BODY_LIMIT, truncate=True)
            else:
                body = read_body(response, limit)
        except BodyTooLarge as exc:
            size = f"{exc.declared} bytes" if exc.declared is not None else "more"
            error = ResponseTooLargeError(
                operation,
                status,
                f"the answer's body is {size}, over the limit of {exc.limit} bytes; "
                "the rest was not read",
                "Check the base URL: the localskills API answers far less.",
            )
            raise Failure(error, reached_server=True) from None
        if attempt.expired:
            raise ProtocolError("the deadline cut the answer short")
        return Answer(status, response.headers, body)

    def _failure(self, operation: str, exc: BaseException, expired: bool) -> Failure:
        return exchange_failure(
            operation,
            exc,
            expired=expired,
            base_url=self._credentials.base_url,
            base_url_source=self._credentials.base_url_source,
            timeout=self._timeout,
        )

    def _next_try(self, method: str, url: str, state: Retry | None) -> Retry | None:
        """The retry state for another try of a GET or DELETE whose answer broke off, or None
        when the method is not retried or the budget is spent."""
        try:
            return (state or self._retry).increment(
                method, url, error=ProtocolError("the answer broke off")
            )
        except (MaxRetryError, ProtocolError):
            return None

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


_TRANSPORT_ERRORS = (requests.RequestException, HTTPError, http.client.HTTPException, OSError)
