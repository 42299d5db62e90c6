"""Fixtures shared by the example tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from localskills_pulumi.testing.host import ProviderHost
from tests.examples.support import ROOT


@pytest.fixture(scope="module")
def host() -> Iterator[ProviderHost]:
    """One dynamic-provider host per test module: the host configures its provider once, with
    one stack config, so each module keeps to one."""
    with ProviderHost(cwd=ROOT) as running:
        yield running
