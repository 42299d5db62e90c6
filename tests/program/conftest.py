"""Fixtures for the root project's stack under the stand-in engine."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from localskills_pulumi.testing.emulator import Emulator
from localskills_pulumi.testing.host import HostPool
from tests.program.support import ROOT, Stack


@pytest.fixture(scope="module")
def hosts() -> Iterator[HostPool]:
    with HostPool(cwd=ROOT, spares=2) as pool:
        yield pool


@pytest.fixture
def stack(hosts: HostPool, emulator: Emulator, tenant_id: str) -> Stack:
    return Stack(hosts, emulator, tenant_id)
