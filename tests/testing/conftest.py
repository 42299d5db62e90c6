"""Fixtures for the test kit's own tests: an echo provider log, a host pool, an engine."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from localskills_pulumi.testing.host import HostPool
from tests.testing.engine_support import PROJECT, PROJECT_ROOT, Engine


@pytest.fixture(scope="module")
def log_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("echo-engine") / "calls.jsonl"


@pytest.fixture(scope="module")
def pool(log_path: Path) -> Iterator[HostPool]:
    """Fresh hosts for each operation, as the engine starts them."""
    env = {"ECHO_PROVIDER_LOG": str(log_path), "PULUMI_PROJECT": PROJECT}
    with HostPool(env=env, cwd=PROJECT_ROOT, spares=2) as hosts:
        yield hosts


@pytest.fixture
def engine(pool: HostPool, log_path: Path) -> Engine:
    return Engine(pool, log_path)
