"""TenantListings: when reads share a listing and when they fetch their own, on a fake clock."""

from __future__ import annotations

import threading
from collections.abc import Callable

from localskills_pulumi.listings import TenantListings
from localskills_pulumi.records import ScimTokenRecord


def record(token_id: str) -> ScimTokenRecord:
    return ScimTokenRecord(
        id=token_id,
        name=f"token {token_id}",
        created_at="2026-01-01T00:00:00Z",
        last_used_at=None,
        expires_at=None,
    )


class FakeTenant:
    """A tenant's listing endpoint that counts its calls; tokens can be added or removed."""

    def __init__(self, *token_ids: str) -> None:
        self.tokens = {token_id: record(token_id) for token_id in token_ids}
        self.calls = 0
        self.before_return: Callable[[], None] = lambda: None

    def fetch(self, tenant_id: str) -> list[ScimTokenRecord]:
        self.calls += 1
        listing = list(self.tokens.values())
        self.before_return()
        return listing


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_reads_within_the_ttl_share_one_listing() -> None:
    tenant, clock = FakeTenant("a", "b"), Clock()
    listings = TenantListings(tenant.fetch, ttl=5, clock=clock)
    assert listings.find("t", "a") == record("a")
    clock.now += 4.9
    assert listings.find("t", "b") == record("b")
    assert tenant.calls == 1


def test_a_read_after_the_ttl_fetches_again() -> None:
    tenant, clock = FakeTenant("a"), Clock()
    listings = TenantListings(tenant.fetch, ttl=5, clock=clock)
    listings.find("t", "a")
    clock.now += 5.0
    listings.find("t", "a")
    assert tenant.calls == 2


def test_a_token_missing_from_a_reused_listing_is_looked_for_in_a_fresh_one() -> None:
    tenant, clock = FakeTenant("a"), Clock()
    listings = TenantListings(tenant.fetch, ttl=5, clock=clock)
    listings.find("t", "a")
    tenant.tokens["new"] = record("new")  # created by someone else since the listing
    clock.now += 1
    assert listings.find("t", "new") == record("new")
    assert tenant.calls == 2


def test_a_token_missing_from_a_fresh_listing_is_gone_after_one_fetch() -> None:
    tenant, clock = FakeTenant("a"), Clock()
    listings = TenantListings(tenant.fetch, ttl=5, clock=clock)
    assert listings.find("t", "gone") is None
    assert tenant.calls == 1


def test_invalidate_makes_the_next_read_fetch() -> None:
    tenant, clock = FakeTenant("a"), Clock()
    listings = TenantListings(tenant.fetch, ttl=5, clock=clock)
    listings.find("t", "a")
    listings.invalidate("t")
    listings.find("t", "a")
    assert tenant.calls == 2


def test_a_listing_fetched_while_the_tenant_changed_is_not_kept() -> None:
    tenant, clock = FakeTenant("a"), Clock()
    listings = TenantListings(tenant.fetch, ttl=5, clock=clock)
    # A create in this process lands while the listing is on its way back.
    tenant.before_return = lambda: listings.invalidate("t")
    listings.find("t", "a")
    tenant.before_return = lambda: None
    listings.find("t", "a")
    assert tenant.calls == 2


def test_ttl_zero_never_shares() -> None:
    tenant, clock = FakeTenant("a"), Clock()
    listings = TenantListings(tenant.fetch, ttl=0, clock=clock)
    listings.find("t", "a")
    listings.find("t", "a")
    assert tenant.calls == 2


def test_tenants_are_listed_apart() -> None:
    tenant, clock = FakeTenant("a"), Clock()
    listings = TenantListings(tenant.fetch, ttl=5, clock=clock)
    listings.find("t1", "a")
    listings.find("t2", "a")
    assert tenant.calls == 2


def test_concurrent_reads_of_one_tenant_wait_for_one_listing() -> None:
    tenant, clock = FakeTenant("a", "b", "c", "d"), Clock()
    listings = TenantListings(tenant.fetch, ttl=5, clock=clock)
    release = threading.Event()
    started = threading.Event()

    def slow_fetch_gate() -> None:
        started.set()
        assert release.wait(10)

    tenant.before_return = slow_fetch_gate
    results: dict[str, ScimTokenRecord | None] = {}

    def read(token_id: str) -> None:
        results[token_id] = listings.find("t", token_id)

    first = threading.Thread(target=read, args=("a",))
    first.start()
    assert started.wait(10)
    others = [threading.Thread(target=read, args=(t,)) for t in ("b", "c", "d")]
    for thread in others:
        thread.start()
    release.set()
    for thread in (first, *others):
        thread.join(10)
    assert results == {t: record(t) for t in ("a", "b", "c", "d")}
    assert tenant.calls == 1
