"""``TenantListings``: one listing of a tenant's tokens, shared by the reads close together.

A refresh reads every token, and the API can only list a tenant's tokens, all of them. The
Terraform resource lists once per token: N listings for N tokens. This cache makes it one
listing per tenant per burst of reads. It knows nothing of Pulumi or of HTTP: it is handed a
function that lists a tenant.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from .records import ScimTokenRecord

__all__ = ["TenantListings"]


class TenantListings:
    """
    One listing of a tenant's tokens shared by the reads that come close together.

    A refresh reads every token, and a plan checks that every token is still live; listing
    the tenant once per token (what the Terraform resource does) costs N listings for N
    tokens. Here concurrent reads wait for one listing in flight (and share its failure, so a
    tenant that cannot be listed costs one failed listing, not one per token), later reads
    within ``ttl`` seconds reuse it, and this process's own deletes invalidate it. A token
    missing from a reused listing is looked for once more in a fresh one before it is reported
    gone, so sharing never makes a live token look revoked.
    """

    def __init__(
        self,
        fetch: Callable[[str], list[ScimTokenRecord]],
        ttl: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self._ttl = ttl
        self._clock = clock
        self._guard = threading.Lock()
        self._tenant_locks: dict[str, threading.Lock] = {}
        self._cached: dict[str, tuple[float, dict[str, ScimTokenRecord]]] = {}
        self._generation: dict[str, int] = {}
        self._failed: dict[str, tuple[float, Exception]] = {}

    def find(self, tenant_id: str, token_id: str) -> ScimTokenRecord | None:
        """The token, or None when the tenant's current list does not hold it."""
        tokens, fresh = self._tokens(tenant_id, allow_cached=True)
        record = tokens.get(token_id)
        if record is None and not fresh:
            tokens, _ = self._tokens(tenant_id, allow_cached=False)
            record = tokens.get(token_id)
        return record

    def invalidate(self, tenant_id: str) -> None:
        """Forget the tenant's listing (this process changed the tenant)."""
        with self._guard:
            self._cached.pop(tenant_id, None)
            self._generation[tenant_id] = self._generation.get(tenant_id, 0) + 1

    def _tokens(
        self, tenant_id: str, *, allow_cached: bool
    ) -> tuple[dict[str, ScimTokenRecord], bool]:
        """The tenant's tokens by id, and whether this call fetched them."""
        with self._guard:
            lock = self._tenant_locks.setdefault(tenant_id, threading.Lock())
        requested_at = self._clock()
        with lock:
            with self._guard:
                cached = self._cached.get(tenant_id)
                generation = self._generation.get(tenant_id, 0)
                failed = self._failed.get(tenant_id)
            if failed is not None and failed[0] >= requested_at:
                # A listing that started after this call asked, and failed: the same answer.
                raise failed[1]
            if cached is not None:
                fetched_at, tokens = cached
                # A listing fetched while this call waited is as fresh as one of its own.
                if fetched_at >= requested_at or (
                    allow_cached and self._clock() - fetched_at < self._ttl
                ):
                    return tokens, fetched_at >= requested_at
            fetched_at = self._clock()
            try:
                tokens = {record.id: record for record in self._fetch(tenant_id)}
            except Exception as exc:
                with self._guard:
                    self._failed[tenant_id] = (fetched_at, exc)
                raise
            with self._guard:
                self._failed.pop(tenant_id, None)
                # A delete that ran meanwhile makes this listing unsafe to share.
                if self._generation.get(tenant_id, 0) == generation and self._ttl > 0:
                    self._cached[tenant_id] = (fetched_at, tokens)
            return tokens, True
