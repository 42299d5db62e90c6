"""Helpers for the hostile-server tests: a host pointed at a misbehaving server, and what an
error that reached the engine must look like."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from localskills_pulumi import errors
from localskills_pulumi.testing.emulator import DEMO_API_TOKEN
from localskills_pulumi.testing.host import ProviderHost
from localskills_pulumi.testing.provider_client import ProviderError
from tests.host.scim import props, scim_urn, start_host
from tests.hostile.servers import HostileServer, Responder

API_TOKEN = DEMO_API_TOKEN
TENANT = "engineering"
TOKEN_ID = "tok1"

# Exceptions the provider must never let reach the engine raw.
RAW_ERRORS = (
    "KeyError",
    "TypeError",
    "ValueError",
    "AttributeError",
    "IndexError",
    "UnicodeEncodeError",
    "UnicodeDecodeError",
    "OverflowError",
    "RecursionError",
    "InvalidHeader",
    "JSONDecodeError",
    "MemoryError",
    "AssertionError",
)

# A line of a traceback that names an exception: at the start of the line, a dotted name.
_EXCEPTION_LINE = re.compile(r"^(?P<name>[A-Za-z_][\w.]*(?:Error|Exception|Exceeded))(?::|$)", re.M)


def host_config(base_url: str, **extra: Any) -> dict[str, Any]:
    """Stack config for a host talking to ``base_url``: a short deadline, one retry."""
    config: dict[str, Any] = {
        "localskills:apiToken": API_TOKEN,
        "localskills:baseUrl": base_url,
        "localskills:requestTimeout": "1",
        "localskills:maxRetries": "1",
    }
    config.update({f"localskills:{key}": value for key, value in extra.items()})
    return config


@contextmanager
def running_host(
    base_url: str, env: dict[str, str] | None = None, **extra: Any
) -> Iterator[ProviderHost]:
    """A fresh provider host configured for ``base_url`` (see :func:`host_config`), with
    ``env`` added to its environment."""
    host = start_host(host_config(base_url, **extra), env)
    try:
        yield host
    finally:
        host.stop()


@contextmanager
def hostile(responder: Responder, **extra: Any) -> Iterator[tuple[HostileServer, ProviderHost]]:
    """A misbehaving server and a fresh host pointed at it; both stopped on exit."""
    with HostileServer(responder) as server, running_host(server.base_url, **extra) as host:
        yield server, host


HostPair = tuple[HostileServer, ProviderHost]
"""A misbehaving server and a host pointed at it."""


def afresh(pair: HostPair, responder: Responder | None = None) -> HostPair:
    """``pair``, shared by a module's tests (as the engine sends many resources' calls to one
    host in one run), made ready for the next test: the server's request log emptied and, if
    given, ``responder`` answering from now on. Only for cases that leave nothing behind in
    the host that another case could see (no cached listing another case reads, the same
    config)."""
    server, _ = pair
    if responder is not None:
        server.responder = responder
    server.forget_requests()
    return pair


def token_outputs(
    tenant_id: str = TENANT, token_id: str = TOKEN_ID, **extra: Any
) -> dict[str, Any]:
    """Prior outputs of a ScimToken, as state holds them."""
    return props(
        tenant_id=tenant_id,
        name="Okta",
        token_id=token_id,
        created_at="2026-01-01T00:00:00Z",
        **extra,
    )


def read(host: ProviderHost, token_id: str = TOKEN_ID) -> Any:
    """A refresh of one token."""
    return host.read(f"{TENANT}/{token_id}", scim_urn(), token_outputs(token_id=token_id))


def create(host: ProviderHost, name: str = "Okta", **inputs: Any) -> tuple[str, dict[str, Any]]:
    """Check, then Create, as ``pulumi up`` does for a new resource."""
    checked = host.check(scim_urn(), {}, props(tenant_id=TENANT, name=name, **inputs))
    assert checked.failures == [], checked.failures
    return host.create(scim_urn(), checked.inputs)


def delete(host: ProviderHost, token_id: str = TOKEN_ID) -> None:
    host.delete(f"{TENANT}/{token_id}", scim_urn(), token_outputs(token_id=token_id))


def exception_names(details: str) -> list[str]:
    """The exceptions a host traceback names, in order (a chained one shows two or more)."""
    return [m.group("name") for m in _EXCEPTION_LINE.finditer(details)]


def assert_clean_error(
    error: ProviderError, expected: type[errors.LocalskillsError], *words: str
) -> str:
    """The host's traceback ends in exactly one exception, of the package's ``expected`` class
    (or a subclass), its message holds ``words``, and no raw Python error shows anywhere.
    Returns the error's message."""
    details = error.details
    names = exception_names(details)
    assert len(names) == 1, f"expected one exception, got {names}:\n{details}"
    module, _, name = names[0].rpartition(".")
    assert module == "localskills_pulumi.errors", details
    raised = getattr(errors, name)
    assert issubclass(raised, expected), f"{name} is not a {expected.__name__}:\n{details}"
    assert issubclass(raised, errors.LocalskillsError)
    for raw in RAW_ERRORS:
        assert raw not in details, f"{raw} in:\n{details}"
    message = details[details.index(names[0]) + len(names[0]) + 1 :].strip()
    for word in words:
        assert word in message, f"{word!r} not in: {message}"
    return message


def peak_rss_bytes(pid: int) -> int:
    """The process's peak resident set size so far (``VmHWM``), in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM in /proc/<pid>/status")
