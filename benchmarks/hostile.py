"""How long a call takes against a server that trickles, next to the bound the README states.

Run from the project root::

    python -m benchmarks.hostile                 # requestTimeout 2 s, maxRetries 1
    python -m benchmarks.hostile --timeout 1 --retries 2 --out /tmp/H.md

Each figure drives the provider through Pulumi's own dynamic-provider host (as the engine
does) against a small server on 127.0.0.1 (``tests/hostile/servers.py``) that sends one byte
every 0.25 s for as long as the client listens: in the answer's head, in its body, or in a body
that only the server's closing would end. A create is measured twice: its POST answered by a
trickle while listings answer at once (the client looks for the token it may have made, for up
to one more timeout), and every answer a trickle (the search itself cannot finish). Nothing is
asserted; the tests assert counts (attempts, bytes) and the error type.
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # also runnable as `python benchmarks/hostile.py`
    sys.path.insert(0, str(ROOT))

from localskills_pulumi.model import SCIM_TOKEN_TYPE  # noqa: E402
from localskills_pulumi.provider import ScimTokenProvider  # noqa: E402
from localskills_pulumi.retry import RetryPolicy  # noqa: E402
from localskills_pulumi.settings import (  # noqa: E402
    CONFIG_API_TOKEN,
    CONFIG_BASE_URL,
    CONFIG_MAX_RETRIES,
    CONFIG_REQUEST_TIMEOUT,
)
from localskills_pulumi.testing.emulator import DEMO_API_TOKEN  # noqa: E402
from localskills_pulumi.testing.host import ProviderHost  # noqa: E402
from localskills_pulumi.testing.provider_client import ProviderError  # noqa: E402
from localskills_pulumi.testing.wire import PROVIDER_KEY, provider_property, urn  # noqa: E402
from tests.hostile.servers import (  # noqa: E402
    TRICKLE_INTERVAL,
    HostileServer,
    Responder,
    Router,
    json_answer,
    trickle_close_delimited,
    trickle_in_body,
    trickle_in_headers,
)

URN = urn(SCIM_TOKEN_TYPE, "token")
PROVIDER = provider_property(ScimTokenProvider())
TENANT, TOKEN_ID = "engineering", "tok1"


EMPTY_LISTING = Router.fixed(json_answer(200, {"success": True, "data": []}))


def props(**values: Any) -> dict[str, Any]:
    return {PROVIDER_KEY: PROVIDER, **values}


def outputs() -> dict[str, Any]:
    return props(
        tenant_id=TENANT, name="Okta", token_id=TOKEN_ID, created_at="2026-01-01T00:00:00Z"
    )


def do_read(host: ProviderHost) -> None:
    host.read(f"{TENANT}/{TOKEN_ID}", URN, outputs())


def do_delete(host: ProviderHost) -> None:
    host.delete(f"{TENANT}/{TOKEN_ID}", URN, outputs())


def do_create(host: ProviderHost) -> None:
    checked = host.check(URN, {}, props(tenant_id=TENANT, name="Okta"))
    host.create(URN, checked.inputs)


def request_bound(timeout: float, retries: int) -> float:
    """The README's bound for one request with no Retry-After: every attempt at its deadline,
    and the longest backoff before each retry (jitter included)."""
    policy = RetryPolicy.default(retries)
    waits = sum(policy.backoff_before(n) + policy.backoff_jitter for n in range(1, retries + 1))
    return (retries + 1) * timeout + waits


def create_bound(timeout: float, retries: int, *, search_can_list: bool) -> float:
    """The README's bound for a create whose POSTs all time out (no token found, no 429):
    each attempt is a POST and a search; the search lists once and, after a timeout, goes on
    listing until one more timeout has passed; if the listing cannot finish, the create ends
    at the first search."""
    policy = RetryPolicy.default(retries)
    listing = request_bound(timeout, retries)
    if not search_can_list:
        return timeout + listing
    search = timeout + listing  # polls for one timeout, the last listing may start just before
    waits = sum(policy.backoff_before(n) + policy.backoff_jitter for n in range(1, retries + 1))
    return (retries + 1) * (timeout + search) + waits


def measure(
    responder: Responder, call: Callable[[ProviderHost], None], config: dict[str, Any]
) -> tuple[float, str, int]:
    """Seconds the call took, the error class it ended with, and the requests sent."""
    with HostileServer(responder) as server:
        host = ProviderHost(cwd=ROOT).start()
        try:
            host.configure({**config, CONFIG_BASE_URL: server.base_url})
            started = time.monotonic()
            try:
                call(host)
                ended = "no error"
            except ProviderError as exc:
                last = exc.details.strip().splitlines()[-1]
                ended = last.split(":", 1)[0].rsplit(".", 1)[-1]
            seconds = time.monotonic() - started
        finally:
            host.stop()
        return seconds, ended, len(server.requests)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--timeout", type=float, default=2.0, help=CONFIG_REQUEST_TIMEOUT)
    parser.add_argument("--retries", type=int, default=1, help=CONFIG_MAX_RETRIES)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "HOSTILE.md")
    args = parser.parse_args(argv)
    config = {
        CONFIG_API_TOKEN: DEMO_API_TOKEN,
        CONFIG_REQUEST_TIMEOUT: str(args.timeout),
        CONFIG_MAX_RETRIES: str(args.retries),
    }
    t, r = args.timeout, args.retries
    rows: list[tuple[str, str, float, str, int]] = []
    cases: list[tuple[str, Responder, Callable[[ProviderHost], None], float]] = [
        ("read: trickle in the head", trickle_in_headers, do_read, request_bound(t, r)),
        ("read: trickle in the body", trickle_in_body, do_read, request_bound(t, r)),
        ("read: close-delimited body", trickle_close_delimited, do_read, request_bound(t, r)),
        ("delete: trickle in the body", trickle_in_body, do_delete, request_bound(t, r)),
        (
            "create: POST trickles, listings answer",
            Router({("POST", r".*"): trickle_in_body, ("GET", r".*"): EMPTY_LISTING}),
            do_create,
            create_bound(t, r, search_can_list=True),
        ),
        (
            "create: every answer trickles",
            trickle_in_body,
            do_create,
            create_bound(t, r, search_can_list=False),
        ),
    ]
    for name, responder, call, bound in cases:
        seconds, ended, requests = measure(responder, call, config)
        rows.append((name, ended, seconds, f"{bound:.2f}", requests))
        print(f"{name}: {seconds:.2f} s (bound {bound:.2f} s), {ended}, {requests} requests")
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# Hostile servers: time per call",
        "",
        f"Generated by `python -m benchmarks.hostile --timeout {t:g} --retries {r}` on {now}.",
        f"`localskills:requestTimeout` {t:g} s, `localskills:maxRetries` {r}; each server",
        f"sends one byte every {TRICKLE_INTERVAL} s for as long as the client listens. "
        "*Bound*: the",
        "README's formula for that call (every attempt at its deadline, the longest backoff).",
        "",
        "| call | ended with | measured s | bound s | requests |",
        "| --- | --- | --- | --- | --- |",
    ]
    lines += [f"| {n} | {e} | {s:.2f} | {b} | {q} |" for n, e, s, b, q in rows]
    lines += [
        "",
        f"Machine: {platform.platform()}, Python {platform.python_version()}.",
        "",
    ]
    args.out.write_text("\n".join(lines))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
