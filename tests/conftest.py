"""Shared pytest fixtures."""

from __future__ import annotations

import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from localskills_pulumi.testing.emulator import Emulator
from tests import background


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


_BACKGROUND_SHARE = "localskills_background_share"
"""The key of ``workerinput`` that names the directory the workers share (tests/background.py)."""
_share_key = pytest.StashKey[Path]()


def pytest_configure(config: pytest.Config) -> None:
    """Under pytest-xdist: the controller makes the directory its workers share for background
    preparations; each worker uses it."""
    workerinput: dict[str, Any] | None = getattr(config, "workerinput", None)
    if workerinput is not None:
        background.share(Path(workerinput[_BACKGROUND_SHARE]))
    elif config.pluginmanager.hasplugin("xdist") and config.getoption("numprocesses", None):
        config.stash[_share_key] = Path(tempfile.mkdtemp(prefix="localskills-background-"))


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    node.workerinput[_BACKGROUND_SHARE] = str(node.config.stash[_share_key])


def pytest_unconfigure(config: pytest.Config) -> None:
    shared = config.stash.get(_share_key, None)
    if shared is not None:
        shutil.rmtree(shared, ignore_errors=True)


def _waits_on_background(item: pytest.Item) -> bool:
    module = getattr(item, "module", None)
    fixture = getattr(module, background.FIXTURE, None)
    return fixture is not None and fixture in getattr(item, "fixturenames", ())


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The tests that wait on background preparations run last, so the preparations have the
    rest of the suite's time to run (see tests/background.py); otherwise the order is kept."""
    items.sort(key=_waits_on_background)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Start the background preparations that selected tests wait on, costliest first."""
    if session.config.option.collectonly:
        return
    modules = {item.module for item in session.items if _waits_on_background(item)}
    for module in sorted(modules, key=lambda m: (-getattr(m, background.COST, 0), m.__name__)):
        background.start(module.__name__, getattr(module, background.HOOK))


def pytest_sessionfinish(session: pytest.Session) -> None:
    background.wait_all()
