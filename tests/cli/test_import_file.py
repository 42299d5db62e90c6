"""`localskills-pulumi import-file`: a `pulumi import --file` file for existing tokens, replayed
through the real dynamic-provider host as the engine uses it (pulumi/pulumi v3.259,
`pkg/resource/deploy/step.go` `ImportStep.Apply` for an entry that supplies outputs), followed by
the next `pulumi up` of the program the command prints."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from localskills_pulumi.importfile import MIN_PULUMI_VERSION
from localskills_pulumi.model import SCIM_TOKEN_TYPE
from localskills_pulumi.provider import ScimTokenProvider
from localskills_pulumi.testing.emulator import Emulator
from localskills_pulumi.testing.engine import (
    EngineMonitor,
    EngineState,
    NoMocks,
    ProgramResult,
    ResourceState,
    run_program,
)
from localskills_pulumi.testing.host import ProviderHost
from localskills_pulumi.testing.wire import provider_property, unwrap

ROOT = Path(__file__).resolve().parents[2]

PROJECT = "imported"
PROVIDER = provider_property(ScimTokenProvider())


def cli(emulator: Emulator, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOCALSKILLS_", "PULUMI_"))}
    env.update(
        LOCALSKILLS_API_TOKEN=emulator.api_token,
        LOCALSKILLS_BASE_URL=emulator.base_url,
        PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p),
    )
    return subprocess.run(
        [sys.executable, "-m", "localskills_pulumi", "import-file", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )


def import_file(emulator: Emulator, *args: str) -> tuple[list[dict[str, Any]], str]:
    """The entries of the printed import file, and the Python printed on stderr."""
    result = cli(emulator, *args)
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert list(document) == ["resources"]
    return document["resources"], result.stderr


def config(emulator: Emulator) -> dict[str, Any]:
    return {"localskills:apiToken": emulator.api_token, "localskills:baseUrl": emulator.base_url}


SECRET_KEYS = {"localskills:apiToken"}


@pytest.fixture(scope="module")
def host(emulator: Emulator) -> Iterator[ProviderHost]:
    """The provider host, configured from the stack config as the engine configures the default
    provider before its import step."""
    with ProviderHost(cwd=ROOT) as running:
        running.configure(config(emulator), SECRET_KEYS)
        yield running


def urn(name: str) -> str:
    return f"urn:pulumi:dev::{PROJECT}::{SCIM_TOKEN_TYPE}::{name}"


def engine_import(host: ProviderHost, entries: list[dict[str, Any]]) -> EngineState:
    """`ImportStep.Apply` for entries with outputs: no Read; the state takes the entry's id,
    inputs and outputs as given; then one Check with the inputs as olds and news, whose failures
    the engine would only print as warnings (here they fail the test)."""
    state = EngineState()
    for entry in entries:
        resource_urn = urn(entry["name"])
        checked = host.check(resource_urn, entry["inputs"], entry["inputs"])
        assert checked.failures == [], checked.failures
        state.resources[resource_urn] = ResourceState(
            resource_urn, entry["type"], entry["id"], dict(entry["inputs"]), dict(entry["outputs"])
        )
    return state


def up(host: ProviderHost, emulator: Emulator, python: str, state: EngineState) -> ProgramResult:
    """`pulumi up` of a program made of the given Python."""

    def program() -> None:
        exec(compile(python, "<import-file stderr>", "exec"), {"__name__": "__main__"})

    monitor = EngineMonitor(
        NoMocks(), host, config=config(emulator), secret_config_keys=SECRET_KEYS, state=state
    )
    return run_program(program, monitor=monitor, project=PROJECT)


def changes(emulator: Emulator) -> list[dict[str, Any]]:
    return [r for r in emulator.requests_log() if r["method"] in ("POST", "DELETE")]


def test_entries_hold_what_a_create_of_the_token_stores_without_its_value(
    host: ProviderHost, emulator: Emulator, tenant_id: str
) -> None:
    created_urn = urn("okta-scim")
    checked = host.check(
        created_urn,
        {},
        {
            "__provider": PROVIDER,
            "tenant_id": tenant_id,
            "name": "Okta SCIM",
            "expires_in_days": 90,
            "rotate_before_days": 14,
        },
    )
    token_id, created = host.create(created_urn, checked.inputs)
    secret = unwrap(created["token_value"])

    [entry], python = import_file(emulator, token_id, "--rotate-before-days", "14")

    assert entry["type"] == SCIM_TOKEN_TYPE
    assert entry["name"] == "okta-scim"
    assert entry["id"] == token_id
    assert entry["inputs"] == checked.inputs
    assert entry["outputs"] == {k: v for k, v in created.items() if k != "token_value"}
    assert entry["inputs"]["__provider"] == entry["outputs"]["__provider"] == PROVIDER
    assert "import_id" not in entry["inputs"] and "import_id" not in entry["outputs"]
    assert secret not in json.dumps(entry) and secret not in python


def test_the_import_check_passes_and_the_next_up_of_the_printed_program_plans_no_change(
    host: ProviderHost, clean_emulator: Emulator, tenant_id: str
) -> None:
    live = clean_emulator.create_token(tenant_id, "Entra ID SCIM", 180)
    composite = f"{tenant_id}/{live['id']}"
    [entry], python = import_file(clean_emulator, composite, "--rotate-before-days", "30")
    assert entry["id"] == composite
    clean_emulator.clear_requests()

    state = engine_import(host, [entry])
    result = up(host, clean_emulator, python, state)

    assert result.steps == [("same", urn("entra-id-scim"))]
    assert changes(clean_emulator) == []
    kept = state.resources[urn("entra-id-scim")]
    assert kept.id == composite
    assert unwrap(kept.outputs)["token_id"] == live["id"]
    assert [t["id"] for t in clean_emulator.list_tokens(tenant_id)] == [live["id"]]


def test_several_tokens_of_two_tenants_import_together_with_distinct_names(
    host: ProviderHost, clean_emulator: Emulator, tenant_id: str
) -> None:
    other_tenant = clean_emulator.new_tenant()
    first = clean_emulator.create_token(tenant_id, "Okta", 30)
    second = clean_emulator.create_token(tenant_id, "Okta", None)
    third = clean_emulator.create_token(other_tenant, "Okta", 365)
    ids = [f"{tenant_id}/{first['id']}", f"{tenant_id}/{second['id']}"]
    ids.append(f"{other_tenant}/{third['id']}")

    entries, python = import_file(clean_emulator, *ids)

    assert [e["name"] for e in entries] == ["okta", "okta-2", "okta-3"]
    assert [e["id"] for e in entries] == ids
    # The token that never expires has no lifetime and no expiry.
    assert "expires_in_days" not in entries[1]["inputs"]
    assert "expires_at" not in entries[1]["outputs"]
    clean_emulator.clear_requests()
    state = engine_import(host, entries)
    result = up(host, clean_emulator, python, state)
    # The program registers its resources concurrently: the order of steps is not fixed.
    assert sorted(result.steps) == [("same", urn(name)) for name in ("okta", "okta-2", "okta-3")]
    assert changes(clean_emulator) == []


def test_an_imported_token_refreshes_and_is_revoked_like_a_created_one(
    host: ProviderHost, clean_emulator: Emulator, tenant_id: str
) -> None:
    live = clean_emulator.create_token(tenant_id, "Okta", 90)
    [entry], _ = import_file(
        clean_emulator, f"{tenant_id}/{live['id']}", "--resource-name", "okta-prod"
    )
    state = engine_import(host, [entry])
    imported = state.resources[urn("okta-prod")]

    refreshed = host.read(imported.id, imported.urn, imported.outputs, imported.inputs)
    assert refreshed.id == entry["id"]
    assert refreshed.outputs == entry["outputs"]

    # `pulumi destroy` (a program without the token): Delete needs __provider in the outputs.
    result = up(host, clean_emulator, "", state)
    assert result.steps == [("delete", urn("okta-prod"))]
    assert clean_emulator.list_tokens(tenant_id) == []


def test_the_printed_python_names_the_minimum_cli_and_the_command(
    clean_emulator: Emulator, tenant_id: str
) -> None:
    live = clean_emulator.create_token(tenant_id, "Okta", 90)
    _, python = import_file(clean_emulator, f"{tenant_id}/{live['id']}")
    assert MIN_PULUMI_VERSION == "3.254.0"
    assert "Pulumi CLI 3.254.0 or later" in python
    assert "pulumi import --file scim-tokens.json --generate-code=false --protect=false" in python
    assert "import_" not in python.split("# Then import it")[0]


@pytest.mark.parametrize(
    ("args", "status", "message"),
    [
        (
            ["{tenant}/nope"],
            1,
            "tenant '{tenant}' has no SCIM token 'nope'. List its tokens with "
            "`localskills-pulumi tokens list --tenant {tenant}`.",
        ),
        (["{tenant}"], 2, "TENANT/TOKEN_ID is malformed"),
        (["{live}", "{live}"], 2, "{live} is given twice"),
        (["{live}", "{tenant}/other", "--resource-name", "x"], 2, "--resource-name takes one"),
        (["{live}", "--resource-name", " "], 2, "--resource-name takes one non-blank name"),
        (
            ["{live}", "--rotate-before-days", "90"],
            1,
            "(declared with rotate_before_days=90): rotate_before_days (90) must be smaller "
            "than expires_in_days (90)",
        ),
        (
            ["{forever}", "--rotate-before-days", "7"],
            1,
            "rotate_before_days needs expires_in_days",
        ),
        (["no-such-tenant/x"], 1, "no-such-tenant"),
    ],
    ids=[
        "unknown-token",
        "malformed-id",
        "twice",
        "name-with-two-ids",
        "blank-name",
        "rotation-not-below-lifetime",
        "rotation-without-expiry",
        "unknown-tenant",
    ],
)
def test_errors_print_one_line_and_no_file(
    clean_emulator: Emulator, tenant_id: str, args: list[str], status: int, message: str
) -> None:
    live = clean_emulator.create_token(tenant_id, "Okta", 90)
    forever = clean_emulator.create_token(tenant_id, "Forever", None)
    values = {
        "tenant": tenant_id,
        "live": f"{tenant_id}/{live['id']}",
        "forever": f"{tenant_id}/{forever['id']}",
    }
    result = cli(clean_emulator, *(a.format(**values) for a in args))
    assert result.returncode == status
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert message.format(**values) in result.stderr


def test_an_expired_token_is_refused_as_it_would_be_replaced_at_once() -> None:
    with Emulator() as emulator:  # its own: the test moves the clock
        tenant = emulator.new_tenant()
        token = emulator.create_token(tenant, "Okta", 1)
        # Two days later by the server's clock (this machine's says it has a day left).
        emulator.advance_clock(2 * 86400)
        result = cli(emulator, f"{tenant}/{token['id']}")
    assert result.returncode == 1
    assert result.stdout == ""
    assert "it has expired, so the next `pulumi up` would replace it at once" in result.stderr
