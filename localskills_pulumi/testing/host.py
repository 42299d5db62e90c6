"""Pulumi's dynamic-provider host (``python -m pulumi.dynamic``), driven over gRPC like the engine.

:class:`ProviderHost` is one host process (:mod:`.process`) with the engine's provider client
(:mod:`.provider_client`) connected to it: start it, ``configure`` it with stack config, then call
``check``/``diff``/``create``/``read``/``update``/``delete`` as the engine does.

:class:`HostPool` hands out a fresh, started host per run, as the engine starts one provider host
per ``pulumi up``/``preview``/``refresh``/``destroy``, and starts the next one in the background
while a run executes.

The wire helpers (secrets, unknowns, URNs) live in :mod:`.wire`, the response types in
:mod:`.provider_client`.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping

from .process import HostProcess
from .provider_client import ProviderClient

__all__ = ["HostPool", "ProviderHost"]


class ProviderHost(ProviderClient):
    """``python -m pulumi.dynamic`` as a subprocess, called over gRPC with the engine's own stubs.

    ``env`` holds extra environment variables on top of ``os.environ`` (the engine passes its own
    environment plus ``PULUMI_PROJECT``, ``PULUMI_CONFIG``; set ``PULUMI_PROJECT`` here if the
    provider reads un-namespaced config keys). ``cwd`` is the process's working directory: with
    ``-m`` it is also the first entry of the host's ``sys.path``, so a provider class pickled by
    reference must be importable from there (or from ``PYTHONPATH`` in ``env``).

    Calls are thread-safe (gRPC channels are); the host itself serves 4 calls at once. The Python
    host configures each provider once per process: a host serves one stack config.
    """

    def __init__(
        self,
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
        start_timeout: float = 30.0,
        rpc_timeout: float = 120.0,
    ) -> None:
        super().__init__(rpc_timeout=rpc_timeout)
        self.process = HostProcess(env=env, cwd=cwd, start_timeout=start_timeout)
        self.env = self.process.env
        self.cwd = cwd
        self.start_timeout = start_timeout

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> ProviderHost:
        """Start the host process, read its port and connect. Returns ``self``."""
        if self.process.running:
            raise RuntimeError("ProviderHost already started")
        port = self.process.start_process()
        try:
            self.connect(f"127.0.0.1:{port}", self.start_timeout)
        except RuntimeError:
            stderr = self.process.stderr_text()[-4000:]
            self.process.stop_process()
            raise RuntimeError(
                f"could not connect to provider host on port {port}; stderr:\n{stderr}"
            ) from None
        return self

    def stop(self) -> None:
        """Close the channel and end the process (terminate, then kill). Idempotent."""
        self.close()
        self.process.stop_process()

    def __enter__(self) -> ProviderHost:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def pid(self) -> int | None:
        """The host process's id, once started."""
        return self.process.pid

    @property
    def port(self) -> int | None:
        """The port the host serves on, once started."""
        return self.process.port

    @property
    def running(self) -> bool:
        """Whether the process is alive."""
        return self.process.running

    def stderr_text(self) -> str:
        """Everything the host wrote to stderr so far (kept after :meth:`stop`)."""
        return self.process.stderr_text()

    def stdout_text(self) -> str:
        """Everything the host wrote to stdout so far (the port line first)."""
        return self.process.stdout_text()


class HostPool:
    """Fresh provider hosts, one per run, as the engine starts them.

    The engine starts a new ``python -m pulumi.dynamic`` for each operation (``pkg/host/host.go``
    ``defaultHost.Provider`` starts a plugin process per load) and configures it once with the
    stack config, so whatever a provider keeps in memory lasts one run. Starting a host costs a
    fraction of a second, so the pool keeps ``spares`` hosts started in the background: :meth:`take`
    hands one out (started, not yet configured) and starts its replacement. The taker stops the
    host when its run is over. ``env``, ``cwd``, ``start_timeout`` and ``rpc_timeout`` are passed
    to each :class:`ProviderHost`.

    Use as a context manager (or call :meth:`close`) to stop the spares.
    """

    def __init__(
        self,
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
        spares: int = 1,
        start_timeout: float = 30.0,
        rpc_timeout: float = 120.0,
    ) -> None:
        if spares < 0:
            raise ValueError("spares must not be negative")
        self.env = dict(env or {})
        self.cwd = cwd
        self.spares = spares
        self.start_timeout = start_timeout
        self.rpc_timeout = rpc_timeout
        self.started = 0
        """How many hosts the pool has started."""
        self._lock = threading.Condition()
        self._ready: list[ProviderHost] = []
        self._starting = 0
        self._errors: list[BaseException] = []
        self._closed = False

    def _new_host(self) -> ProviderHost:
        return ProviderHost(
            env=self.env,
            cwd=self.cwd,
            start_timeout=self.start_timeout,
            rpc_timeout=self.rpc_timeout,
        )

    def _fill(self) -> None:
        """Start hosts in the background until ``spares`` are ready or starting. Hold the lock."""
        while not self._closed and len(self._ready) + self._starting < self.spares:
            self._starting += 1
            threading.Thread(target=self._start_spare, daemon=True, name="host-pool").start()

    def _start_spare(self) -> None:
        host = self._new_host()
        try:
            host.start()
        except BaseException as e:  # handed to the next take()
            with self._lock:
                self._starting -= 1
                self._errors.append(e)
                self._lock.notify_all()
            return
        with self._lock:
            self._starting -= 1
            self.started += 1
            if self._closed:
                host.stop()
            else:
                self._ready.append(host)
            self._lock.notify_all()

    def prestart(self) -> HostPool:
        """Start the spares now, in the background. Returns ``self``."""
        with self._lock:
            self._fill()
        return self

    def take(self) -> ProviderHost:
        """A started host for one run (yours to stop); its replacement starts in the background."""
        with self._lock:
            if self._closed:
                raise RuntimeError("the HostPool is closed")
            if self._errors:
                raise self._errors.pop(0)
            if not self._ready and not self._starting:
                host = None
            else:
                while not self._ready and self._starting and not self._errors:
                    self._lock.wait()
                if self._errors:
                    raise self._errors.pop(0)
                host = self._ready.pop(0) if self._ready else None
        if host is None:
            host = self._new_host().start()
            with self._lock:
                self.started += 1
        with self._lock:
            self._fill()
        return host

    def spare_pids(self, *, wait: bool = False) -> list[int]:
        """The process ids of the spares ready to be taken; with ``wait``, once all ``spares``
        are ready (or a start failed)."""
        with self._lock:
            if wait:
                self._fill()
                while self._starting and not self._errors and not self._closed:
                    self._lock.wait()
            return [host.pid for host in self._ready if host.pid is not None]

    def close(self) -> None:
        """Stop the spares, waiting for those still starting; hosts already taken are their
        takers' to stop. Idempotent."""
        with self._lock:
            self._closed = True
            while self._starting:
                self._lock.wait()
            ready, self._ready = self._ready, []
        for host in ready:
            host.stop()

    def __enter__(self) -> HostPool:
        return self.prestart()

    def __exit__(self, *exc: object) -> None:
        self.close()
