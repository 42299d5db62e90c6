"""Fixtures that run ScimTokenProvider inside Pulumi's own dynamic-provider host."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from localskills_pulumi.testing.emulator import Emulator
from localskills_pulumi.testing.host import ProviderHost
from tests.host.scim import Engine, emulator_config, start_host


@pytest.fixture(scope="session")
def host(emulator: Emulator) -> Iterator[ProviderHost]:
    """One host process for the session, configured through stack config like the engine does."""
    running = start_host(emulator_config(emulator, **{"localskills:maxRetries": "2"}))
    yield running
    running.stop()


@pytest.fixture
def host_factory() -> Iterator[Callable[..., ProviderHost]]:
    """Hosts with their own configuration; stopped after the test."""
    started: list[ProviderHost] = []

    def factory(
        config: dict[str, Any] | None = None, env: dict[str, str] | None = None
    ) -> ProviderHost:
        running = start_host(config, env)
        started.append(running)
        return running

    yield factory
    for running in started:
        running.stop()


@pytest.fixture
def engine(host: ProviderHost) -> Engine:
    return Engine(host)
