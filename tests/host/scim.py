"""Helpers for driving ScimTokenProvider through the real host, as the engine does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from localskills_pulumi.model import SCIM_TOKEN_TYPE
from localskills_pulumi.provider import ScimTokenProvider
from localskills_pulumi.testing.emulator import Emulator
from localskills_pulumi.testing.host import ProviderHost
from localskills_pulumi.testing.wire import PROVIDER_KEY, provider_property, urn

ROOT = Path(__file__).resolve().parents[2]

PROVIDER = provider_property(ScimTokenProvider())


def scim_urn(name: str = "token") -> str:
    return urn(SCIM_TOKEN_TYPE, name)


def props(**values: Any) -> dict[str, Any]:
    """A property bag as the program sends it: the pickled provider plus the given values."""
    return {PROVIDER_KEY: PROVIDER, **{k: v for k, v in values.items() if v is not None}}


def emulator_config(emulator: Emulator, **extra: Any) -> dict[str, Any]:
    return {
        "localskills:apiToken": emulator.api_token,
        "localskills:baseUrl": emulator.base_url,
        **extra,
    }


def start_host(config: dict[str, Any] | None, env: dict[str, str] | None = None) -> ProviderHost:
    host = ProviderHost(cwd=ROOT, env=env).start()
    host.configure(config or {}, secret_keys={"localskills:apiToken"})
    return host


class Engine:
    """The engine's sequence of calls for one resource, on top of a host."""

    def __init__(self, host: ProviderHost) -> None:
        self.host = host

    def up(self, resource: str = "token", **inputs: Any) -> tuple[str, dict[str, Any]]:
        """Check, then Create: what `pulumi up` does for a new resource."""
        checked = self.host.check(scim_urn(resource), {}, props(**inputs))
        assert checked.failures == [], checked.failures
        return self.host.create(scim_urn(resource), checked.inputs)
