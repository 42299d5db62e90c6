"""Counting helpers the test modules share: what the emulator served and holds."""

from __future__ import annotations

from localskills_pulumi.testing.emulator import Emulator


def posts(emulator: Emulator) -> int:
    """POSTs the emulator served since its request log was last cleared."""
    return sum(1 for r in emulator.requests_log() if r["method"] == "POST")


def live_ids(emulator: Emulator, tenant_id: str) -> set[str]:
    """The IDs of a tenant's live tokens."""
    return {t["id"] for t in emulator.list_tokens(tenant_id)}
