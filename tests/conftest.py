"""Shared pytest fixtures."""

from __future__ import annotations

import socket
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


@pytest.fixture
def unused_port() -> int:
    """A loopback port nothing listens on (bound, then released): connections are refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port
