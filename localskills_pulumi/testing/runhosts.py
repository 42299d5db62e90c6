"""The provider hosts of one stand-in run: one per stack config, configured once, stopped with
the run, as the engine starts a ``python -m pulumi.dynamic`` per operation and configures it
once. Resources registered by the program use the run's config; a refresh and a destroy use the
last ``up``'s (``EngineState.provider_config``), because the engine loads those providers from
the snapshot (``deployment.go`` ``EnsureProvider``, ``providers/registry.go`` ``Same``)."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from .host import HostPool, ProviderHost
from .state import EngineError, EngineState

__all__ = ["RunHosts"]


class RunHosts:
    """The hosts of a run, taken from a pool (fresh, stopped after the run) or one given host
    (started if needed, left running)."""

    def __init__(
        self,
        source: ProviderHost | HostPool,
        state: EngineState,
        config: Mapping[str, Any],
        secret_keys: frozenset[str],
        *,
        records_config: bool,
    ) -> None:
        self._source = source
        self._state = state
        self._config = (dict(config), secret_keys)
        self._records_config = records_config
        self._registered = False
        self._hosts: dict[tuple[Any, ...], ProviderHost] = {}
        self._lock = threading.Lock()

    def registration(self) -> ProviderHost:
        """The host for the program's resources: the run's config. Registering the provider
        records that config in the state (an update that is no preview), even if the run fails
        later (the provider resource's step completes first)."""
        with self._lock:
            first, self._registered = not self._registered, True
        if first and self._records_config:
            self._state.set_provider_config(*self._config)
        return self._configured(*self._config)

    def snapshot(self) -> ProviderHost:
        """The host for refreshes and for deletes of resources the program did not register:
        the last ``up``'s config, or the run's once the program registered a resource."""
        if self._registered or self._state.provider_config is None:
            return self._configured(*self._config)
        return self._configured(*self._state.provider_config)

    def _configured(self, config: Mapping[str, Any], secret_keys: frozenset[str]) -> ProviderHost:
        """The run's host for this stack config, configured with it on first use."""
        key = (tuple(sorted((k, repr(v)) for k, v in config.items())), secret_keys)
        with self._lock:
            host = self._hosts.get(key)
            if host is not None:
                return host
            host = self._take()
            wanted = (dict(config), secret_keys)
            if host.configured_with is None:
                try:
                    host.configure(config, secret_keys)
                except BaseException:
                    self._release(host)
                    raise
            elif host.configured_with != wanted:
                raise EngineError(
                    "the provider host was already configured with a different stack config; "
                    "the Python dynamic host configures each provider once per process, and "
                    "the engine starts a host per run: pass a HostPool rather than a "
                    f"ProviderHost (had {host.configured_with!r}, want {wanted!r})"
                )
            self._hosts[key] = host
            return host

    def stop(self) -> str:
        """End the run's hosts; what they wrote on stderr."""
        with self._lock:
            hosts, self._hosts = list(self._hosts.values()), {}
        stderr = []
        for host in hosts:
            self._release(host)
            stderr.append(host.stderr_text())
        return "".join(stderr)

    def _take(self) -> ProviderHost:
        if isinstance(self._source, HostPool):
            return self._source.take()
        if not self._source.running:
            self._source.start()
        return self._source

    def _release(self, host: ProviderHost) -> None:
        if isinstance(self._source, HostPool):
            host.stop()
