"""Fixtures shared by the example tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from localskills_pulumi.testing.host import HostPool
from tests.examples.support import ROOT


@pytest.fixture(scope="module")
def host() -> Iterator[HostPool]:
    """Provider hosts for the module's runs: each run takes a fresh one, configured with that
    run's stack config, as the engine starts one per `pulumi up`."""
    with HostPool(cwd=ROOT) as hosts:
        yield hosts
