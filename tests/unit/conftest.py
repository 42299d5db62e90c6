"""The fast tier: the emulator runs in this process, on a thread, behind a real socket.

``pytest tests/unit`` starts no process: the provider's and the client's rules are exercised
here against the same server code the subprocess emulator runs, through the same admin routes.
The host and real-engine tiers prove the contract; this tier proves the rules, in seconds.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from localskills_pulumi import provider, settings
from localskills_pulumi.emulator.seed import apply_seed, load_demo_seed
from localskills_pulumi.emulator.server import EmulatorServer, make_server
from localskills_pulumi.emulator.store import Store
from localskills_pulumi.testing.emulator import Emulator


class InProcessEmulator(Emulator):
    """``Emulator``'s helpers over a server on a thread of this process (demo seed, in memory)."""

    def start(self) -> InProcessEmulator:
        self._store = Store(None)
        apply_seed(self._store, load_demo_seed())
        self._server: EmulatorServer = make_server(self._store, log_requests=False)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        self.base_url = self._server.base_url
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
        self._store.close()


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    """One in-process emulator for the tier (overrides the suite's subprocess emulator)."""
    with InProcessEmulator() as running:
        yield running


@pytest.fixture
def configured(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Emulator:
    """The emulator with no faults and an empty log, the environment pointing the provider at
    it (every other setting at its default), and a fresh run memory: each test is one engine
    run (one provider process)."""
    emulator.clear_faults()
    emulator.clear_requests()
    for key in settings.ENV_KEYS:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("LOCALSKILLS_API_TOKEN", emulator.api_token)
    monkeypatch.setenv("LOCALSKILLS_BASE_URL", emulator.base_url)
    monkeypatch.setattr(provider, "_RUN", provider._RunMemory())
    return emulator
