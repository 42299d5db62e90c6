"""Running an example program under set_mocks: ScimToken through the real dynamic-provider host
(against the emulator), everything else (Okta, StackReference) through recording mocks."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from pulumi.runtime import MockCallArgs, MockResourceArgs, Mocks

from localskills_pulumi.model import SCIM_TOKEN_TYPE
from localskills_pulumi.testing.emulator import Emulator
from localskills_pulumi.testing.engine import EngineMonitor, EngineState, ProgramResult, run_program
from localskills_pulumi.testing.host import HostPool
from localskills_pulumi.testing.wire import contains_secrets, is_secret, unwrap
from tests.helpers import live_ids

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
OKTA_CONNECTION_TYPE = "okta:app/connection:Connection"
STACK_REFERENCE_TYPE = "pulumi:pulumi:StackReference"


@dataclass
class Registration:
    """One resource the program sent to the mocks, with its inputs as they arrived (secret
    markers kept), and whatever the test wanted to note at that moment."""

    type: str
    name: str
    inputs: dict[str, Any]
    seen: Any = None


@dataclass
class RecordingMocks(Mocks):
    """Echoes a resource's inputs as its state; a StackReference answers with ``stacks``
    (name -> the exports as the engine keeps them, secret ones as secret markers).
    ``on_register`` is called for each resource; its return value is kept as ``seen``."""

    stacks: dict[str, dict[str, Any]] = field(default_factory=dict)
    on_register: Callable[[MockResourceArgs], Any] | None = None
    registrations: list[Registration] = field(default_factory=list)

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        seen = self.on_register(args) if self.on_register is not None else None
        self.registrations.append(Registration(args.typ, args.name, dict(args.inputs), seen))
        if args.typ == STACK_REFERENCE_TYPE:
            name = args.inputs["name"]
            if name not in self.stacks:
                raise KeyError(f"unknown stack {name}")
            exports = self.stacks[name]
            return name, {
                "name": name,
                "outputs": exports,
                "secretOutputNames": [k for k, v in exports.items() if is_secret(v)],
            }
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        raise AssertionError(f"unexpected call {args.token}")

    def of_type(self, type_: str) -> list[Registration]:
        """The registrations of one type, in order."""
        return [r for r in self.registrations if r.type == type_]


def emulator_config(emulator: Emulator) -> dict[str, Any]:
    """The provider's stack config for the emulator (the API token is a secret key)."""
    return {"localskills:apiToken": emulator.api_token, "localskills:baseUrl": emulator.base_url}


@dataclass
class ExampleStack:
    """One stack of an example project: its config, its state, and a run per `pulumi up`.

    Each run takes a fresh provider host from ``host``, as the engine starts one per run.
    """

    example: str
    project: str
    emulator: Emulator
    host: HostPool
    config: dict[str, Any]
    mocks: RecordingMocks = field(default_factory=RecordingMocks)
    state: EngineState = field(default_factory=EngineState)

    @property
    def program(self) -> Path:
        return EXAMPLES / self.example / "__main__.py"

    def up(
        self, *, preview: bool = False, program: Path | Callable[[], Any] | None = None
    ) -> ProgramResult:
        """`pulumi up` (or `pulumi preview`) of the example, against :attr:`state`."""
        monitor = EngineMonitor(
            self.mocks,
            self.host,
            config=emulator_config(self.emulator),
            secret_config_keys={"localskills:apiToken"},
            state=self.state,
        )
        return run_program(
            program or self.program,
            monitor=monitor,
            project=self.project,
            config=self.config,
            preview=preview,
        )

    def urn(self, type_: str, name: str) -> str:
        return f"urn:pulumi:dev::{self.project}::{type_}::{name}"


def secret_at(value: Any, *path: str) -> tuple[Any, bool]:
    """The plain value at ``path`` in ``value``, and whether it, or an object holding it, is
    marked secret (the SDK may mark the enclosing object rather than the leaf)."""
    secret = False
    for key in path:
        if is_secret(value):
            secret = True
            value = value["value"]
        assert isinstance(value, Mapping), f"no {key!r} in {value!r}"
        value = value[key]
    return unwrap(value), secret or contains_secrets(value)


def tenant_posts(emulator: Emulator, tenant_id: str) -> list[dict[str, Any]]:
    """The POSTs (token creations) the emulator served for a tenant since its log was cleared."""
    return [
        r
        for r in emulator.requests_log()
        if r["method"] == "POST" and r["path"].startswith(f"/api/tenants/{tenant_id}/")
    ]


def assert_rotation_hands_over(
    stack: ExampleStack,
    emulator: Emulator,
    tenant_id: str,
    token_resource: str,
    consumer_type: str,
    token_of: Callable[[Registration], tuple[Any, bool]],
) -> None:
    """An example's rotation: after a first ``up``, the token comes inside its 30-day rotation
    window, and the next ``up`` replaces it create-before-delete. The consumer (the one
    resource of ``consumer_type``; ``token_of`` reads the token it was given, and whether as a
    secret) gets the new token as a secret while the old one is still live, so provisioning
    never breaks; only then is the old one revoked (401), and the new one works (200). One
    token is issued."""
    first = stack.up()
    old_id = first.outputs["scim_token_id"]
    token_urn = stack.urn(SCIM_TOKEN_TYPE, token_resource)
    old_token = unwrap(first.resources[token_urn].state["token_value"])

    # What was live at the moment the consumer got its token.
    def live_when_the_consumer_updates(args: MockResourceArgs) -> Any:
        return live_ids(emulator, tenant_id) if args.typ == consumer_type else None

    stack.mocks = RecordingMocks(on_register=live_when_the_consumer_updates)
    # Time passes: the token now expires in 20 days, inside the 30-day rotation window.
    in_twenty_days = datetime.now(timezone.utc) + timedelta(days=20)
    stack.state.resources[token_urn].outputs["expires_at"] = in_twenty_days.strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    emulator.clear_requests()
    result = stack.up()

    assert result.steps == [
        ("replace", token_urn, ("expires_at",)),
        ("delete-replaced", token_urn),
    ]
    new_id = result.outputs["scim_token_id"]
    assert new_id != old_id
    [consumer] = stack.mocks.of_type(consumer_type)
    new_token, given_as_secret = token_of(consumer)
    assert given_as_secret
    assert new_token != old_token
    assert {old_id, new_id} <= consumer.seen
    assert old_id not in live_ids(emulator, tenant_id)
    assert emulator.scim_get_users(old_token).status_code == 401
    assert emulator.scim_get_users(new_token).status_code == 200
    assert len(tenant_posts(emulator, tenant_id)) == 1
