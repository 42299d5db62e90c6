"""Shared pytest fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from localskills_pulumi.testing.emulator import Emulator


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    """One emulator process shared by the whole session (in-memory, demo seed)."""
    with Emulator() as running:
        yield running


@pytest.fixture
def tenant_id(emulator: Emulator) -> str:
    """A fresh tenant of the shared emulator; the demo API token is its member."""
    return emulator.new_tenant()


@pytest.fixture
def clean_emulator(emulator: Emulator) -> Iterator[Emulator]:
    """The shared emulator with no fault rules and an empty request log, before and after."""
    emulator.clear_faults()
    emulator.clear_requests()
    yield emulator
    emulator.clear_faults()
    emulator.clear_requests()
