"""The Pulumi SDK names the test kit uses that are not the SDK's public API, in one place.

The kit plays the engine's part for a program run under mocks, so it needs a few of the SDK's
internals: the pickler behind ``__provider`` (``pulumi.dynamic.dynamic.serialize_provider``), the
SDK's own sync-over-async helpers (``pulumi.runtime.sync_await``), the mock monitor and engine
(``pulumi.runtime.mocks.MockMonitor`` / ``MockEngine``), the root-stack context variable and the
type of a preview's unknown values (``pulumi.output.Unknown``). They
may change in any SDK release, so they are reached only through this module, which checks at
import that the installed SDK is within :data:`SUPPORTED`: the range these names were read in
(the SDK's source, 3.258 on) and tested with (3.272). Outside it the import fails with a message
saying so, rather than the kit misbehaving quietly.

Everything else the kit uses is public: ``pulumi.runtime.Settings``, ``configure``,
``set_all_config``, ``run_in_stack``, ``pulumi.runtime.rpc`` and the generated gRPC stubs.
"""

from __future__ import annotations

import importlib.metadata
import logging
import re
from collections.abc import Awaitable
from typing import Any, TypeVar

__all__ = [
    "SUPPORTED",
    "MockMonitor",
    "Unknown",
    "check_sdk_version",
    "configure_runtime",
    "ensure_event_loop",
    "serialize_provider",
    "sync_await",
]

T = TypeVar("T")

SUPPORTED = ((3, 258), (4, 0))
"""The ``pulumi`` versions the kit is known to work with: ``>=3.258,<4``."""


def _version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text)[:3])


def check_sdk_version(version: str | None = None) -> str:
    """Raise ``ImportError`` unless ``version`` (default: the installed ``pulumi``) is supported.

    :returns: the version checked.
    """
    if version is None:
        try:
            version = importlib.metadata.version("pulumi")
        except importlib.metadata.PackageNotFoundError:
            raise ImportError(
                "localskills_pulumi.testing needs the Pulumi Python SDK: "
                "pip install 'pulumi>=3.258,<4'"
            ) from None
    low, high = SUPPORTED
    if not low <= _version_tuple(version) < high:
        raise ImportError(
            f"localskills_pulumi.testing works with pulumi >=3.258,<4, but pulumi {version} is "
            "installed: it plays the engine with SDK internals that change between releases. "
            "Install a supported version: pip install 'pulumi>=3.258,<4'"
        )
    return version


check_sdk_version()

# The non-public names, imported once the version is known to have them.
from google.protobuf import empty_pb2  # noqa: E402
from pulumi.dynamic.dynamic import ResourceProvider  # noqa: E402
from pulumi.dynamic.dynamic import serialize_provider as _serialize_provider  # noqa: E402
from pulumi.output import Unknown  # noqa: E402
from pulumi.runtime import Settings, configure  # noqa: E402
from pulumi.runtime import settings as _settings  # noqa: E402
from pulumi.runtime.mocks import MockEngine, MockMonitor  # noqa: E402
from pulumi.runtime.sync_await import _ensure_event_loop, _sync_await  # noqa: E402


def serialize_provider(provider: ResourceProvider) -> str:
    """The ``__provider`` value for ``provider``, as the SDK makes it (dill, base64)."""
    value: str = _serialize_provider(provider)
    return value


def sync_await(awaitable: Awaitable[T]) -> T:
    """Wait for ``awaitable`` from synchronous code, as the SDK's mock monitor does."""
    result: T = _sync_await(awaitable)
    return result


def ensure_event_loop() -> None:
    """Give the current thread an event loop if it has none (the SDK calls monitors from its
    worker threads)."""
    _ensure_event_loop()  # type: ignore[no-untyped-call]


def configure_runtime(
    monitor: Any,
    *,
    project: str,
    stack: str,
    preview: bool,
    organization: str,
    logger: logging.Logger | None,
) -> None:
    """Point the SDK's runtime at ``monitor`` with a fresh root stack, as ``set_mocks`` does,
    minus the Stack it makes: the caller runs the program in ``run_in_stack``, as the language
    host does, so that exports reach the monitor through ``RegisterResourceOutputs``."""
    _settings.ROOT.set(None)
    settings = Settings(
        project=project,
        stack=stack,
        monitor=monitor,
        engine=MockEngine(logger),
        dry_run=preview,
        organization=organization,
    )
    settings.monitor_features = set(monitor.GetDeploymentInfo(empty_pb2.Empty()).supportedFeatures)
    configure(settings)
