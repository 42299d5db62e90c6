"""get_scim_tokens against the emulator: records, credentials resolution (arguments, a Pulumi
program's stack config, the environment), errors; and expiry, with the clock moved."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import pytest

import localskills_pulumi
from localskills_pulumi import cli
from localskills_pulumi.errors import (
    AuthenticationError,
    CredentialsError,
    NotFoundError,
    TransportError,
)
from localskills_pulumi.lookup import ScimTokenInfo, get_scim_tokens
from localskills_pulumi.testing import NoMocks
from localskills_pulumi.testing.emulator import Emulator
from localskills_pulumi.testing.engine import EngineMonitor, run_program
from localskills_pulumi.testing.host import ProviderHost
from localskills_pulumi.testing.wire import is_secret, unwrap

WRONG_TOKEN = "lsk_" + "f" * 64


@pytest.fixture(autouse=True)
def no_env_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("LOCALSKILLS_API_TOKEN", "LOCALSKILLS_BASE_URL", "PULUMI_CONFIG"):
        monkeypatch.delenv(key, raising=False)


@pytest.fixture(scope="module")
def tokens(emulator: Emulator) -> dict[str, Any]:
    tenant_id = emulator.new_tenant("lookup")
    year = emulator.create_token(tenant_id, "Okta SCIM Provisioning", expires_in_days=365)
    never = emulator.create_token(tenant_id, "Forever")
    emulator.scim_get_users(year["token"])
    return {"tenant_id": tenant_id, "year": year, "never": never}


def test_lists_typed_records_without_secrets(emulator: Emulator, tokens: dict[str, Any]) -> None:
    infos = get_scim_tokens(
        tokens["tenant_id"], api_token=emulator.api_token, base_url=emulator.base_url
    )
    live = emulator.list_tokens(tokens["tenant_id"])
    assert [i.id for i in infos] == [t["id"] for t in live]
    for info, token in zip(infos, live, strict=True):
        assert isinstance(info, ScimTokenInfo)
        assert info == ScimTokenInfo(
            id=token["id"],
            name=token["name"],
            created_at=token["createdAt"],
            last_used_at=token.get("lastUsedAt"),
            expires_at=token.get("expiresAt"),
            expired=False,
        )
    assert [f.name for f in dataclasses.fields(ScimTokenInfo)] == [
        "id",
        "name",
        "created_at",
        "last_used_at",
        "expires_at",
        "expired",
    ]
    text = repr(infos)
    assert tokens["year"]["token"] not in text and emulator.api_token not in text
    year = next(i for i in infos if i.id == tokens["year"]["id"])
    assert year.last_used_at is not None
    with pytest.raises(dataclasses.FrozenInstanceError):
        year.name = "x"  # type: ignore[misc]


def test_exported_lazily_from_the_package() -> None:
    assert localskills_pulumi.get_scim_tokens is get_scim_tokens
    assert localskills_pulumi.ScimTokenInfo is ScimTokenInfo
    assert {"get_scim_tokens", "ScimTokenInfo"} <= set(localskills_pulumi.__all__)


def test_reads_the_environment(
    emulator: Emulator, tokens: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOCALSKILLS_API_TOKEN", emulator.api_token)
    monkeypatch.setenv("LOCALSKILLS_BASE_URL", emulator.base_url)
    assert len(get_scim_tokens(tokens["tenant_id"])) == 2


def test_arguments_win_over_the_environment(
    emulator: Emulator, tokens: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOCALSKILLS_API_TOKEN", WRONG_TOKEN)
    monkeypatch.setenv("LOCALSKILLS_BASE_URL", "http://127.0.0.1:9")
    infos = get_scim_tokens(
        tokens["tenant_id"], api_token=emulator.api_token, base_url=emulator.base_url
    )
    assert len(infos) == 2


def run_in_program(emulator: Emulator, config: dict[str, Any], body: Any) -> dict[str, Any]:
    """Run ``body`` as a Pulumi program with ``config``; returns the stack's exports."""
    # No dynamic resource is registered, so the host is never started.
    monitor = EngineMonitor(NoMocks(), ProviderHost())
    result = run_program(
        body,
        monitor=monitor,
        project="audit",
        config=config,
        secret_config_keys={"localskills:apiToken"},
    )
    return result.outputs


def test_in_a_program_it_reads_the_stack_config(emulator: Emulator, tokens: dict[str, Any]) -> None:
    def program() -> None:
        import pulumi

        found = localskills_pulumi.get_scim_tokens(tokens["tenant_id"])
        pulumi.export("ids", sorted(t.id for t in found))
        pulumi.export("expired", [t.id for t in found if t.expired])

    outputs = run_in_program(
        emulator,
        {"localskills:apiToken": emulator.api_token, "localskills:baseUrl": emulator.base_url},
        program,
    )
    assert outputs["ids"] == sorted([tokens["year"]["id"], tokens["never"]["id"]])
    assert outputs["expired"] == []
    assert not is_secret(outputs["ids"])


def test_in_a_program_arguments_win_over_the_stack_config(
    emulator: Emulator, tokens: dict[str, Any]
) -> None:
    def program() -> None:
        import pulumi

        found = get_scim_tokens(
            tokens["tenant_id"], api_token=emulator.api_token, base_url=emulator.base_url
        )
        pulumi.export("count", len(found))

    outputs = run_in_program(
        emulator,
        {"localskills:apiToken": WRONG_TOKEN, "localskills:baseUrl": "http://127.0.0.1:9"},
        program,
    )
    assert unwrap(outputs["count"]) == 2


def test_in_a_program_without_credentials_the_error_names_the_settings(
    emulator: Emulator, tokens: dict[str, Any]
) -> None:
    def program() -> None:
        get_scim_tokens(tokens["tenant_id"])

    with pytest.raises(CredentialsError, match=r"localskills:apiToken.*LOCALSKILLS_API_TOKEN"):
        run_in_program(emulator, {}, program)


def test_outside_a_program_without_credentials() -> None:
    with pytest.raises(CredentialsError, match="No localskills API token is configured"):
        get_scim_tokens("engineering")


def test_errors_are_the_providers(emulator: Emulator, tokens: dict[str, Any]) -> None:
    with pytest.raises(NotFoundError, match="does not exist"):
        get_scim_tokens("no-such-tenant", api_token=emulator.api_token, base_url=emulator.base_url)
    with pytest.raises(AuthenticationError, match="HTTP 401"):
        get_scim_tokens(tokens["tenant_id"], api_token=WRONG_TOKEN, base_url=emulator.base_url)
    with pytest.raises(CredentialsError, match="does not start with 'lsk_'"):
        get_scim_tokens(tokens["tenant_id"], api_token="scim-secret", base_url=emulator.base_url)
    emulator.clear_requests()
    with pytest.raises(ValueError, match=r"tenant_id ' ' must not be blank"):
        get_scim_tokens(" ", api_token=emulator.api_token, base_url=emulator.base_url)
    assert emulator.requests_log() == []  # refused before any request


def test_an_unreachable_api() -> None:
    # Port 9 (discard) is closed on the test machine; the client's retries make this ~3 s.
    with pytest.raises(TransportError, match="cannot reach"):
        get_scim_tokens("engineering", api_token=WRONG_TOKEN, base_url="http://127.0.0.1:9")


# -- expiry ------------------------------------------------------------------------------------


def info(expires_at: str | None) -> ScimTokenInfo:
    return ScimTokenInfo("id", "n", "2026-01-01T00:00:00Z", None, expires_at, False)


def test_expires_within() -> None:
    now = datetime(2026, 6, 1, tzinfo=timezone.utc)
    assert info("2026-06-20T00:00:00Z").expires_within(30, now=now)
    assert not info("2026-06-20T00:00:00Z").expires_within(10, now=now)
    assert info("2026-05-01T00:00:00Z").expires_within(0, now=now)  # already expired
    assert not info(None).expires_within(10_000, now=now)


@pytest.fixture(scope="module")
def later_emulator() -> Iterator[tuple[Emulator, dict[str, Any]]]:
    """An emulator of its own whose clock runs 400 days ahead of this machine's, with a
    year-long token and one that never expires, issued before the clock moved."""
    with Emulator() as running:
        tenant_id = running.new_tenant("later")
        year = running.create_token(tenant_id, "Okta SCIM Provisioning", expires_in_days=365)
        never = running.create_token(tenant_id, "Forever")
        running.advance_clock(400 * 86400)
        yield running, {"tenant_id": tenant_id, "year": year, "never": never}


def test_expired_is_judged_by_the_servers_clock(
    later_emulator: tuple[Emulator, dict[str, Any]],
) -> None:
    emulator, tokens = later_emulator
    infos = {
        i.id: i
        for i in get_scim_tokens(
            tokens["tenant_id"], api_token=emulator.api_token, base_url=emulator.base_url
        )
    }
    # By this machine's clock the year-long token has 365 days left; the server says expired.
    assert infos[tokens["year"]["id"]].is_expired() is False
    assert infos[tokens["year"]["id"]].expired is True
    assert infos[tokens["never"]["id"]].expired is False


def test_cli_shows_tokens_expired_by_the_servers_clock_and_refuses_to_import_them(
    later_emulator: tuple[Emulator, dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    emulator, tokens = later_emulator
    monkeypatch.setenv("LOCALSKILLS_API_TOKEN", emulator.api_token)
    monkeypatch.setenv("LOCALSKILLS_BASE_URL", emulator.base_url)

    assert cli.main(["tokens", "list", "--tenant", tokens["tenant_id"]]) == 0
    lines = capsys.readouterr().out.splitlines()
    [year_line] = [line for line in lines if line.startswith(tokens["year"]["id"])]
    [never_line] = [line for line in lines if line.startswith(tokens["never"]["id"])]
    assert " expired " in year_line
    assert " ok " in never_line

    assert cli.main(["tokens", "list", "--tenant", tokens["tenant_id"], "--json"]) == 0
    records = {r["id"]: r for r in json.loads(capsys.readouterr().out)}
    assert records[tokens["year"]["id"]]["expired"] is True
    assert records[tokens["year"]["id"]]["state"] == "expired"

    composite = f"{tokens['tenant_id']}/{tokens['year']['id']}"
    assert cli.main(["import-file", composite]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "it has expired, so the next `pulumi up` would replace it" in captured.err
    assert len(captured.err.splitlines()) == 1
