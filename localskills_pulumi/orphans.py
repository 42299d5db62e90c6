"""No live token that nobody holds: the client's bookkeeping around creates.

Why it must exist: an ambiguous POST failure (timeout, reset, 5xx) may have issued a token whose
secret never arrived, and the API has no idempotency key. :class:`OrphanSearch` revokes such a
token before the next attempt, never one a sibling create of this client is being answered with
(it counts the POSTs in flight per ``(tenant, name)``), and across processes revokes only when
the candidates are no more than its own ambiguous POSTs, else warns naming them.
"""

from __future__ import annotations

import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

from .errors import LocalskillsError, OrphanedTokenError
from .records import ScimTokenRecord, format_timestamp

__all__ = ["MAX_REVOKES", "OrphanSearch"]

SLACK_SECONDS = 2.0
"""createdAt has whole-second precision and so has the Date header: this much slack on each
side of an ambiguous POST's time window catches the token it may have created."""
POLL_SECONDS = 0.25
MAX_REVOKES = 16
"""The most tokens one search revokes: a failed POST makes one token at most, and the host
runs 4 calls at once. More is no trace of our own failed POSTs (a hostile listing)."""

Key = tuple[str, str]
"""``(tenant_id, name)``."""


def _warn_on_stderr(message: str) -> None:
    print(f"localskills-pulumi: warning: {message}", file=sys.stderr, flush=True)


class OrphanSearch:
    """
    The creates of one client, and the search for the tokens its failed ones left.

    :param list_tokens: Lists a tenant's tokens.
    :param delete_token: Revokes a token; True when it existed.
    :param server_offset: The server's clock minus this machine's.
    :param timeout: How long the server may still be working on a timed-out POST.
    :param on_warning: Shows a warning (default: one line on stderr).
    """

    def __init__(
        self,
        list_tokens: Callable[[str], list[ScimTokenRecord]],
        delete_token: Callable[[str, str], bool],
        server_offset: Callable[[], timedelta],
        timeout: float,
        on_warning: Callable[[str], None] | None = None,
    ) -> None:
        self._list = list_tokens
        self._delete = delete_token
        self._server_offset = server_offset
        self._timeout = timeout
        self._warn = on_warning or _warn_on_stderr
        self._creates = threading.Condition()
        self._in_flight: Counter[Key] = Counter()
        self._searching: set[Key] = set()
        self._ambiguous: Counter[Key] = Counter()
        self._issued: set[str] = set()

    @contextmanager
    def slot(self, key: Key) -> Iterator[None]:
        """One POST of ``key`` in flight; waits while a search for ``key`` runs. Record the
        token it issued with :meth:`issued` before leaving the slot."""
        with self._creates:
            while key in self._searching:
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

    def ambiguous(self, key: Key) -> None:
        """A POST of ``key`` failed ambiguously; call it inside its slot, so that a search of a
        sibling counts it before the slot is left. Its :meth:`search` closes it."""
        with self._creates:
            self._ambiguous[key] += 1

    def issued(self, token_id: str) -> None:
        """A token handed back to a caller: no search ever revokes it."""
        with self._creates:
            self._issued.add(token_id)

    def search(self, key: Key, started: float, operation: str, may_still_run: bool) -> int:
        """
        Revoke the tokens an ambiguous POST of ``key`` may have created: same name, created
        within the attempt's time window (in the server's clock), and not issued. Returns how
        many were revoked.

        After a timeout the server may still be working on the request, so the tenant is
        looked at again for up to one more timeout until such a token shows up.

        :raises OrphanedTokenError: the tenant cannot be listed, a token cannot be revoked,
                or there are more candidates than this client can have made.
        """
        with self._creates:
            while key in self._searching:
                self._creates.wait()
            self._searching.add(key)
            while self._in_flight.get(key):
                self._creates.wait()
        try:
            deadline = time.monotonic() + (self._timeout if may_still_run else 0.0)
            while True:
                revoked = self._revoke_candidates(key, started, operation)
                if revoked is None:
                    return 0
                if revoked or time.monotonic() >= deadline:
                    return revoked
                time.sleep(min(POLL_SECONDS, max(0.0, deadline - time.monotonic())))
        finally:
            with self._creates:
                self._searching.discard(key)
                self._ambiguous[key] -= 1
                if self._ambiguous[key] <= 0:
                    del self._ambiguous[key]
                self._creates.notify_all()

    def _revoke_candidates(self, key: Key, started: float, operation: str) -> int | None:
        """How many candidates were revoked; ``None`` when there were more than this client's
        ambiguous POSTs, so that none was (and a warning names them)."""
        tenant_id, name = key
        try:
            tokens = self._list(tenant_id)
        except LocalskillsError as exc:
            raise OrphanedTokenError(
                f"{operation}: the request may have reached the server, and looking for the "
                f"token it may have created failed ({exc}). A token named {name!r} created "
                f"around {format_timestamp(datetime.fromtimestamp(started, timezone.utc))} "
                f"may exist in tenant {tenant_id!r} that nobody holds: list the tenant's "
                "tokens and revoke it."
            ) from None
        offset = self._server_offset()
        slack = timedelta(seconds=SLACK_SECONDS)
        low = datetime.fromtimestamp(started, timezone.utc) + offset - slack
        high = datetime.now(timezone.utc) + offset + slack
        with self._creates:
            issued = set(self._issued)
            ours = max(1, self._ambiguous[key])
        candidates = [
            token
            for token in tokens
            if token.name == name and token.id not in issued and low <= token.created <= high
        ]
        if len(candidates) > MAX_REVOKES:
            raise OrphanedTokenError(
                f"{operation}: the request may have reached the server, and the tenant lists "
                f"{len(candidates)} tokens named {name!r} created within seconds of it, more "
                "than this client can have made: none was revoked. List the tenant's tokens "
                "and revoke the ones nobody holds."
            )
        if len(candidates) > ours:
            ids = ", ".join(token.id for token in candidates)
            self._warn(
                f"{operation}: the request may have reached the "
                f"server, and tenant {tenant_id!r} lists {len(candidates)} tokens named "
                f"{name!r} created within seconds of it ({ids}), more than the {ours} this "
                "process may have made: another client (a second stack, a CI job) is creating "
                "the same name, and nothing tells its token from ours, so none was revoked. One "
                "of them may be held by nobody: compare them with your stacks' state "
                "(`localskills-pulumi tokens list`) and revoke the orphan in the console."
            )
            return None
        revoked = 0
        for token in candidates:
            try:
                revoked += self._delete(tenant_id, token.id)
            except LocalskillsError as exc:
                raise OrphanedTokenError(
                    f"{operation}: the request may have reached the server, and token "
                    f"{token.id!r} named {name!r}, created at {token.created_at} and held by "
                    f"nobody, could not be revoked ({exc}): revoke it in tenant {tenant_id!r}."
                ) from None
        return revoked
