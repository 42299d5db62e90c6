"""What every benchmark figure shares: the providers compared, the emulator and the hosts, the
engine's calls sent from a thread pool, and the small helpers for timing and tables.

The providers, each pickled by reference into ``__provider`` as the engine stores it:

- ``ours``: :class:`localskills_pulumi.provider.ScimTokenProvider`;
- ``list_per_read``: :class:`benchmarks.baseline.ListPerReadProvider`, the Terraform resource's
  strategy (every read and every liveness check lists the whole tenant);
- ``null``: :class:`benchmarks.null.NullProvider`, which does nothing (the host's own floor).
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # also runnable as `python benchmarks/run.py`
    sys.path.insert(0, str(ROOT))

from benchmarks.baseline import ListPerReadProvider  # noqa: E402
from benchmarks.null import NullProvider  # noqa: E402
from localskills_pulumi.model import SCIM_TOKEN_TYPE  # noqa: E402
from localskills_pulumi.provider import ScimTokenProvider  # noqa: E402
from localskills_pulumi.settings import CONFIG_API_TOKEN, CONFIG_BASE_URL  # noqa: E402
from localskills_pulumi.testing.emulator import Emulator  # noqa: E402
from localskills_pulumi.testing.host import ProviderHost  # noqa: E402
from localskills_pulumi.testing.wire import PROVIDER_KEY, provider_property, urn  # noqa: E402

__all__ = [
    "KINDS",
    "LIST_PER_READ",
    "NULL",
    "OURS",
    "PROVIDERS",
    "ROOT",
    "SCIM_TOKEN_TYPE",
    "Bench",
    "Resource",
    "alternating",
    "create_resources",
    "host_run",
    "load_average",
    "median",
    "new_inputs",
    "peak_memory_kib",
    "read_back",
    "table",
    "timed",
]

T = TypeVar("T")
R = TypeVar("R")

OURS = "ours"
LIST_PER_READ = "list_per_read"
NULL = "null"
KINDS = (OURS, LIST_PER_READ, NULL)
PROVIDERS: dict[str, str] = {
    OURS: provider_property(ScimTokenProvider()),
    LIST_PER_READ: provider_property(ListPerReadProvider()),
    NULL: provider_property(NullProvider()),
}


@dataclass(frozen=True)
class Resource:
    """One resource as the engine keeps it in state: ID, URN, prior outputs, prior inputs."""

    id: str
    urn: str
    outputs: dict[str, Any]
    inputs: dict[str, Any]

    def as_provider(self, kind: str) -> Resource:
        """The same resource, its ``__provider`` swapped for another provider's."""
        provider = PROVIDERS[kind]
        return Resource(
            self.id,
            self.urn,
            {**self.outputs, PROVIDER_KEY: provider},
            {**self.inputs, PROVIDER_KEY: provider},
        )


class Bench:
    """The emulator every figure runs against, and how hosts are started and driven."""

    def __init__(self, emulator: Emulator, threads: int) -> None:
        self.emulator = emulator
        self.threads = threads

    def config(self) -> dict[str, Any]:
        """The stack configuration the engine would send (credentials of the emulator)."""
        return {CONFIG_API_TOKEN: self.emulator.api_token, CONFIG_BASE_URL: self.emulator.base_url}

    def start_host(self) -> ProviderHost:
        """A fresh ``python -m pulumi.dynamic`` in the project root, configured."""
        host = ProviderHost(cwd=ROOT).start()
        try:
            host.configure(self.config(), secret_keys={CONFIG_API_TOKEN})
        except BaseException:
            host.stop()
            raise
        return host

    def fan_out(
        self, fn: Callable[[T], R], items: Iterable[T], workers: int | None = None
    ) -> list[R]:
        """Call ``fn`` on every item from a thread pool (the engine's concurrent gRPC calls)."""
        with ThreadPoolExecutor(max_workers=workers or self.threads) as pool:
            return list(pool.map(fn, items))

    def api_calls(self, tenant_ids: str | Iterable[str], method: str) -> int:
        """Requests of ``method`` on the tenants' token collections since the last clear (for
        GET: listings)."""
        wanted = {tenant_ids} if isinstance(tenant_ids, str) else set(tenant_ids)
        paths = {f"/api/tenants/{tenant_id}/scim-tokens" for tenant_id in wanted}
        return sum(
            1
            for entry in self.emulator.requests_log()
            if entry["method"] == method and str(entry["path"]).split("?")[0] in paths
        )


def host_run(
    bench: Bench,
    kind: str,
    state: Sequence[Resource],
    call: Callable[[ProviderHost, Resource], bool],
    tenant_ids: Iterable[str],
) -> dict[str, Any]:
    """One engine run of provider ``kind`` over ``state`` in a fresh host: ``call`` once per
    resource, ``bench.threads`` calls in flight at any moment. ``call`` answers whether the
    resource came out as expected.

    The host is started and the provider loaded (one Check of the first resource, which sends no
    request) before the clock starts and the emulator's log is cleared. Returns the seconds from
    the first call sent to the last answered, the listings of ``tenant_ids`` and the TCP
    connections the emulator accepted meanwhile, and the host's peak memory (KiB).
    """
    resources = [resource.as_provider(kind) for resource in state]
    host = bench.start_host()
    try:
        first = resources[0]
        host.check(first.urn, first.inputs, first.inputs)
        bench.emulator.clear_requests()
        seconds, outcomes = timed(lambda: bench.fan_out(lambda r: call(host, r), resources))
        peak = peak_memory_kib(host.pid)
    finally:
        host.stop()
    wrong = [r.id for r, ok in zip(resources, outcomes, strict=True) if not ok]
    if wrong:
        raise RuntimeError(f"{kind}: {len(wrong)} resources not as expected, e.g. {wrong[0]}")
    return {
        "seconds": seconds,
        "listings": bench.api_calls(tenant_ids, "GET"),
        "connections": bench.emulator.connections(),
        "peak_kib": peak,
    }


def read_back(host: ProviderHost, resource: Resource) -> bool:
    """What `pulumi refresh` sends for a resource: Read with the prior outputs and inputs.
    True when the token is still there."""
    return host.read(resource.id, resource.urn, resource.outputs, resource.inputs).id == resource.id


def new_inputs(kind: str, tenant_id: str, name: str) -> dict[str, Any]:
    """A ScimToken's inputs as the program sends them."""
    return {
        PROVIDER_KEY: PROVIDERS[kind],
        "tenant_id": tenant_id,
        "name": name,
        "expires_in_days": 90,
    }


def create_resources(
    bench: Bench, host: ProviderHost, tenant_id: str, count: int, prefix: str = "token"
) -> list[Resource]:
    """Check then Create ``count`` tokens through ``host`` (this package), as `pulumi up` does."""

    def up(index: int) -> Resource:
        resource_urn = urn(SCIM_TOKEN_TYPE, f"{prefix}-{index}")
        checked = host.check(resource_urn, {}, new_inputs(OURS, tenant_id, f"team-{index}"))
        if checked.failures:
            raise RuntimeError(f"check failed: {checked.failures}")
        id_, outputs = host.create(resource_urn, checked.inputs)
        return Resource(id_, resource_urn, outputs, checked.inputs)

    return bench.fan_out(up, range(count))


def timed(fn: Callable[[], T]) -> tuple[float, T]:
    """Seconds taken by ``fn`` and its result."""
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def alternating(kinds: Sequence[str], rep: int) -> list[str]:
    """The kinds in an order that rotates with the repetition, so none always runs first."""
    shift = rep % len(kinds)
    return list(kinds[shift:]) + list(kinds[:shift])


def median(values: Sequence[float]) -> float:
    """The median (the figure reported for every timed run)."""
    return float(statistics.median(values))


def peak_memory_kib(pid: int | None) -> int | None:
    """The peak resident memory of a running process (``VmHWM``, KiB); None where ``/proc``
    does not say (not Linux)."""
    if pid is None:
        return None
    try:
        status = Path(f"/proc/{pid}/status").read_text(encoding="ascii")
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return None


def load_average() -> list[float] | None:
    """The 1, 5 and 15 minute load averages, where the platform has them."""
    try:
        return [round(value, 2) for value in os.getloadavg()]
    except OSError:
        return None


def table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A markdown table."""
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines)
