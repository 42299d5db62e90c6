"""The rotation drill: does a token rotation drop provisioning requests?

An identity provider's SCIM client provisions a user every ``period`` seconds against the
emulator's ``/scim/v2/Users``, always with the token that the consuming resource holds: an
Okta-connection stand-in, a mocked resource of the program that reads ``token_value``, whose
recorded inputs the client switches to as soon as the mock receives them. Meanwhile the stack,
run by the stand-in engine through Pulumi's own dynamic-provider host, rotates the token: by
the ``rotate_before_days`` window (the emulator's clock moved forward: expiry is judged by the
server's clock), or by an input change (``name``). The figure is the number of provisioning
requests that failed.

With create-before-delete (the default) it is 0: the new token exists before the consumer gets
it, and the old one is revoked after every registration, so after the consumer switched. With
``delete_before_replace=True`` forced the old token is revoked before the new one exists, and
the drill counts the failures. Two rules make both results certain rather than likely:

- a request holds the client's lock from reading the token to the answer, and the consumer
  switches under that lock: no request with the old token is in flight once it has switched;
- when the consumer receives a new token, the client first sends one request with the token it
  still holds. Under create-before-delete that token is live (the engine revokes it only after
  the program has registered everything); under delete-before-replace it was revoked before the
  new one was created, so that request fails whatever the timing.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pulumi
import requests
from pulumi.runtime import MockCallArgs, MockResourceArgs, Mocks

from benchmarks.common import ROOT
from localskills_pulumi import ScimToken
from localskills_pulumi.emulator.scim import SCIM_TYPE, SCIM_USER
from localskills_pulumi.model import SCIM_TOKEN_TYPE
from localskills_pulumi.settings import CONFIG_API_TOKEN, CONFIG_BASE_URL
from localskills_pulumi.testing import Emulator, HostPool, Stack, unwrap

__all__ = [
    "CONSUMER_TYPE",
    "MODES",
    "TRIGGERS",
    "Attempt",
    "Provisioner",
    "drill_figure",
    "run_drill",
]

CONSUMER_TYPE = "okta:app/connection:Connection"
MODES = ("create-before-delete", "delete-before-replace")
TRIGGERS = ("window", "input")
EXPIRES_IN_DAYS = 30
ROTATE_BEFORE_DAYS = 7
DAY = 86_400
SETTLE_REQUESTS = 3
"""Requests the client makes before the rotation starts, and again after it ends."""
WAIT_SECONDS = 30.0
"""The most the drill waits for the client's requests (a bound, never a sleep)."""


@dataclass(frozen=True)
class Attempt:
    """One provisioning request: when (seconds since the client started), the HTTP status (0:
    no answer), which token it carried (0 the first, 1 the next...), and whether it was the
    request sent at the moment the consumer received a new token."""

    at: float
    status: int
    token: int
    at_switch: bool = False

    @property
    def ok(self) -> bool:
        """The user was provisioned."""
        return self.status == 201


class Provisioner:
    """The identity provider's SCIM client, holding the token the consumer was last handed."""

    def __init__(self, base_url: str, period: float) -> None:
        self.url = f"{base_url}/scim/v2/Users"
        self.period = period
        self.attempts: list[Attempt] = []
        self.token: str | None = None
        self.generation = -1
        self._session = requests.Session()
        self._lock = threading.Lock()
        self._changed = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._numbers = itertools.count()
        self._started = time.monotonic()

    def hand(self, token: str) -> None:
        """The consumer received ``token``: one request with the token it holds, then switch."""
        with self._lock:
            if token == self.token:
                return
            if self.token is not None:
                self._provision(at_switch=True)
            self.token = token
            self.generation += 1

    def provision(self) -> None:
        """One request with the token held now (none before the consumer has one)."""
        with self._lock:
            if self.token is not None:
                self._provision(at_switch=False)

    def _provision(self, *, at_switch: bool) -> None:
        number = next(self._numbers)
        try:
            response = self._session.post(
                self.url,
                json={"schemas": [SCIM_USER], "userName": f"drill-user-{number}@example.com"},
                headers={"Authorization": f"Bearer {self.token}", "Content-Type": SCIM_TYPE},
                timeout=10,
            )
            status = response.status_code
        except requests.RequestException:
            status = 0
        attempt = Attempt(time.monotonic() - self._started, status, self.generation, at_switch)
        with self._changed:
            self.attempts.append(attempt)
            self._changed.notify_all()

    def start(self) -> None:
        """Provision every ``period`` seconds, in a thread of its own, until :meth:`stop`."""
        self._started = time.monotonic()
        self._thread = threading.Thread(target=self._run, name="scim-client", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        for tick in itertools.count(1):
            self.provision()
            if self._stop.wait(max(0.0, self._started + tick * self.period - time.monotonic())):
                return

    def stop(self) -> None:
        """Stop provisioning and close the session."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=WAIT_SECONDS)
        self._session.close()

    def wait_for(self, count: int, *, token: int) -> None:
        """Wait (bounded) until ``count`` requests carried token ``token`` or a later one."""
        with self._changed:
            if not self._changed.wait_for(
                lambda: sum(a.token >= token for a in self.attempts) >= count, WAIT_SECONDS
            ):
                raise RuntimeError(f"the SCIM client made fewer than {count} requests")


class ConsumerMocks(Mocks):
    """The program's other resources: the consumer hands its ``token`` input to the client."""

    def __init__(self, provisioner: Provisioner) -> None:
        self.provisioner = provisioner

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        if args.typ != CONSUMER_TYPE:
            raise AssertionError(f"unexpected resource {args.typ} {args.name!r}")
        self.provisioner.hand(str(unwrap(args.inputs["token"])))
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        raise AssertionError(f"unexpected call {args.token}")


def drill_program(tenant_id: str, name: str, mode: str) -> Callable[[], None]:
    """A 30-day token rotated 7 days before expiry, and the connection that reads it."""
    options = pulumi.ResourceOptions(delete_before_replace=mode == "delete-before-replace")

    def program() -> None:
        token = ScimToken(
            "okta-scim",
            tenant_id=tenant_id,
            name=name,
            expires_in_days=EXPIRES_IN_DAYS,
            rotate_before_days=ROTATE_BEFORE_DAYS,
            opts=options,
        )
        pulumi.CustomResource(CONSUMER_TYPE, "okta-scim", {"token": token.token_value})

    return program


def run_drill(
    emulator: Emulator, hosts: HostPool, *, trigger: str, mode: str, period: float = 0.02
) -> dict[str, Any]:
    """One drill: ``up``, the client provisioning, the rotating ``up``, the client again.

    ``trigger`` is ``"window"`` (the emulator's clock moved into the rotation window; it moves
    that emulator's clock forward for good) or ``"input"`` (``name`` changed); ``mode`` one of
    :data:`MODES`. Raises ``RuntimeError`` when the stack does not end on one live token, the
    one the consumer holds.
    """
    if trigger not in TRIGGERS or mode not in MODES:
        raise ValueError(f"trigger must be one of {TRIGGERS}, mode one of {MODES}")
    tenant_id = emulator.new_tenant("drill")
    client = Provisioner(emulator.base_url, period)
    stack = Stack(
        hosts,
        project="rotation-drill",
        config={CONFIG_API_TOKEN: emulator.api_token, CONFIG_BASE_URL: emulator.base_url},
        secret_config_keys={CONFIG_API_TOKEN},
        mocks=ConsumerMocks(client),
    )
    stack.up(drill_program(tenant_id, "Okta SCIM", mode))
    old_token = client.token
    client.start()
    try:
        client.wait_for(SETTLE_REQUESTS, token=0)
        if trigger == "window":
            emulator.advance_clock((EXPIRES_IN_DAYS - ROTATE_BEFORE_DAYS + 1) * DAY)
        name = "Okta SCIM (renamed)" if trigger == "input" else "Okta SCIM"
        started = time.monotonic()
        # `--refresh` for the window: see docs/benchmarks.md, "The rotation drill".
        result = stack.up(drill_program(tenant_id, name, mode), refresh=trigger == "window")
        rotation_seconds = time.monotonic() - started
        client.wait_for(SETTLE_REQUESTS, token=1)
    finally:
        client.stop()
    kinds = [step[0] for step in result.steps]
    if "delete-replaced" not in kinds or "replace" not in kinds:
        raise RuntimeError(f"the drill's up did not rotate the token: {result.steps}")
    held_id = unwrap(
        stack.state.resources[stack.urn(SCIM_TOKEN_TYPE, "okta-scim")].outputs["token_id"]
    )
    live = {t["id"] for t in emulator.list_tokens(tenant_id)}
    if live != {held_id}:
        raise RuntimeError(f"after the rotation the tenant holds {live}, the state {held_id}")
    if old_token is None or emulator.scim_get_users(old_token).status_code != 401:
        raise RuntimeError("the old token still opens the SCIM endpoint after the rotation")
    assert client.token is not None
    if emulator.scim_get_users(client.token).status_code != 200:
        raise RuntimeError("the token the consumer holds does not open the SCIM endpoint")
    failed = [a for a in client.attempts if not a.ok]
    [switch] = [a for a in client.attempts if a.at_switch]
    return {
        "trigger": trigger,
        "mode": mode,
        "steps": kinds,
        "requests": len(client.attempts),
        "failures": len(failed),
        "failed_statuses": sorted({a.status for a in failed}),
        "at_switch_status": switch.status,
        "failing_seconds": (failed[-1].at - failed[0].at) if failed else 0.0,
        "rotation_seconds": rotation_seconds,
    }


def drill_figure(latency_ms: int, reps: int, period: float) -> dict[str, Any]:
    """Every mode and trigger, ``reps`` times, against an emulator of its own (its clock moves)."""
    runs: list[dict[str, Any]] = []
    with (
        Emulator(latency_ms=latency_ms, extra_args=["--quiet"]) as emulator,
        HostPool(cwd=ROOT) as hosts,
    ):
        for _ in range(reps):
            for mode in MODES:
                for trigger in TRIGGERS:
                    runs.append(
                        run_drill(emulator, hosts, trigger=trigger, mode=mode, period=period)
                    )
    summary = {
        mode: {
            trigger: {
                "drills": len(rows),
                "requests": sum(r["requests"] for r in rows),
                "failures": sum(r["failures"] for r in rows),
                "min_failures": min(r["failures"] for r in rows),
                "max_failures": max(r["failures"] for r in rows),
                "max_failing_seconds": max(r["failing_seconds"] for r in rows),
                "median_rotation_seconds": sorted(r["rotation_seconds"] for r in rows)[
                    len(rows) // 2
                ],
            }
            for trigger in TRIGGERS
            for rows in [[r for r in runs if r["mode"] == mode and r["trigger"] == trigger]]
        }
        for mode in MODES
    }
    for mode in MODES:
        print(
            f"  rotation drill, {mode}: "
            + ", ".join(
                f"{trigger} {summary[mode][trigger]['failures']} failed of "
                f"{summary[mode][trigger]['requests']}"
                for trigger in TRIGGERS
            ),
            flush=True,
        )
    return {"period_ms": round(period * 1000), "reps": reps, "runs": runs, "summary": summary}
