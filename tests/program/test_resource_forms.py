"""ScimToken's two forms, `ScimToken(name, ScimTokenArgs(...), opts)` and keyword arguments, run
as programs under the engine stand-in with the real dynamic-provider host and the emulator."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pulumi
import pytest

from localskills_pulumi import ScimToken, ScimTokenArgs
from localskills_pulumi.model import SCIM_TOKEN_TYPE
from localskills_pulumi.testing.emulator import Emulator
from localskills_pulumi.testing.engine import (
    EngineMonitor,
    EngineState,
    NoMocks,
    ProgramResult,
    run_program,
)
from localskills_pulumi.testing.host import ProviderHost
from localskills_pulumi.testing.wire import is_secret, unwrap
from tests.helpers import posts

ROOT = Path(__file__).resolve().parents[2]
PROJECT = "forms"


@pytest.fixture(scope="module")
def host() -> Iterator[ProviderHost]:
    with ProviderHost(cwd=ROOT) as running:
        yield running


@pytest.fixture(scope="module")
def tenant(emulator: Emulator) -> str:
    return emulator.new_tenant("forms")


def up(
    host: ProviderHost, emulator: Emulator, program: Callable[[], None], state: EngineState
) -> ProgramResult:
    monitor = EngineMonitor(
        NoMocks(),
        host,
        config={
            "localskills:apiToken": emulator.api_token,
            "localskills:baseUrl": emulator.base_url,
        },
        secret_config_keys={"localskills:apiToken"},
        state=state,
    )
    return run_program(program, monitor=monitor, project=PROJECT)


def urn(name: str) -> str:
    return f"urn:pulumi:dev::{PROJECT}::{SCIM_TOKEN_TYPE}::{name}"


def test_the_args_form_and_the_keyword_form_register_the_same_token(
    host: ProviderHost, emulator: Emulator, tenant: str
) -> None:
    def keywords() -> None:
        ScimToken("okta", tenant_id=tenant, name="Okta", expires_in_days=90, rotate_before_days=14)

    def args() -> None:
        token_args = ScimTokenArgs(tenant_id=tenant, name="Okta", expires_in_days=90)
        token_args.rotate_before_days = 14  # the args are settable, as in generated SDKs
        token = ScimToken("okta", token_args)
        pulumi.export("token_value", token.token_value)

    by_keywords, by_args = EngineState(), EngineState()
    up(host, emulator, keywords, by_keywords)
    result = up(host, emulator, args, by_args)

    assert result.steps == [("create", urn("okta"))]
    assert by_args.resources[urn("okta")].inputs == by_keywords.resources[urn("okta")].inputs
    assert by_args.resources[urn("okta")].inputs["rotate_before_days"] == 14
    # Options still apply in the args form: token_value is a secret, and it works.
    assert is_secret(result.outputs["token_value"])
    assert emulator.scim_get_users(unwrap(result.outputs["token_value"])).status_code == 200


def test_switching_a_program_from_keywords_to_args_plans_no_change(
    host: ProviderHost, clean_emulator: Emulator, tenant: str
) -> None:
    state = EngineState()

    def keywords() -> None:
        ScimToken("switch", tenant_id=tenant, name="Switch", expires_in_days=30)

    def args() -> None:
        ScimToken("switch", args=ScimTokenArgs(tenant_id=tenant, name="Switch", expires_in_days=30))

    up(host, clean_emulator, keywords, state)
    clean_emulator.clear_requests()
    assert up(host, clean_emulator, args, state).steps == [("same", urn("switch"))]
    assert posts(clean_emulator) == 0


def test_options_given_after_the_args_are_honoured(
    host: ProviderHost, clean_emulator: Emulator, tenant: str
) -> None:
    live = clean_emulator.create_token(tenant, "Adopted", 60)
    composite = f"{tenant}/{live['id']}"
    clean_emulator.clear_requests()

    def program() -> None:
        token = ScimToken(
            "adopted",
            ScimTokenArgs(tenant_id=tenant, name="Adopted", expires_in_days=60),
            pulumi.ResourceOptions(import_=composite),
        )
        pulumi.export("token_id", token.token_id)

    result = up(host, clean_emulator, program, EngineState())
    assert result.outputs["token_id"] == live["id"]
    assert posts(clean_emulator) == 0


@pytest.mark.parametrize(
    ("call", "message"),
    [
        pytest.param(
            lambda t: ScimToken("x", ScimTokenArgs(tenant_id=t, name="A"), name="B"),
            r"got its inputs twice, as ScimTokenArgs and as keyword arguments \(name\)",
            id="args-and-keywords",
        ),
        pytest.param(
            lambda t: ScimToken("x", args=ScimTokenArgs(tenant_id=t, name="A"), tenant_id=t),
            r"got its inputs twice",
            id="args-keyword-and-keywords",
        ),
        pytest.param(
            lambda t: ScimToken("x"),
            r"got no inputs: pass ScimTokenArgs\(tenant_id=\.\.\., name=\.\.\.\) or the keyword",
            id="neither",
        ),
        pytest.param(
            lambda t: ScimToken("x", opts=pulumi.ResourceOptions()),
            r"got no inputs",
            id="only-options",
        ),
        pytest.param(
            lambda t: ScimToken("x", tenant_id=t),
            r"missing the required input\(s\) name",
            id="missing-name",
        ),
        pytest.param(
            lambda t: ScimToken("x", {"tenant_id": t, "name": "A"}),
            r"unexpected positional argument of type dict",
            id="a-dict-for-args",
        ),
        pytest.param(
            lambda t: ScimToken("x", tenant_id=t, name="A", expires_days=30),
            r"unexpected keyword argument 'expires_days'",
            id="misspelt-input",
        ),
        pytest.param(
            lambda t: ScimToken("x", ScimTokenArgs(tenant_id=t, name="A"), {"protect": True}),
            r"unexpected positional argument of type dict",
            id="a-dict-for-options",
        ),
    ],
)
def test_inputs_given_both_ways_or_not_at_all_are_a_type_error_and_nothing_is_registered(
    host: ProviderHost,
    clean_emulator: Emulator,
    tenant: str,
    call: Callable[[str], Any],
    message: str,
) -> None:
    state = EngineState()
    with pytest.raises(TypeError, match=message):
        up(host, clean_emulator, lambda: call(tenant), state)
    assert state.resources == {}
    assert state.last_steps == []
    assert clean_emulator.requests_log() == []
