"""`python -m localskills_pulumi` end to end, as subprocesses against the emulator."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests

from localskills_pulumi.testing.emulator import Emulator

ROOT = Path(__file__).resolve().parents[2]
HEADER = ["ID", "NAME", "CREATED", "EXPIRES", "STATE", "LAST USED"]


def cli_env(emulator: Emulator, **overrides: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOCALSKILLS_", "PULUMI_"))}
    env.update(
        LOCALSKILLS_API_TOKEN=emulator.api_token,
        LOCALSKILLS_BASE_URL=emulator.base_url,
        PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p),
    )
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def run_cli(
    emulator: Emulator, *args: str, **env_overrides: str | None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "localskills_pulumi", *args],
        env=cli_env(emulator, **env_overrides),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )


def table(stdout: str) -> list[dict[str, str]]:
    """Parse the `tokens list` table by the header's column positions."""
    lines = stdout.splitlines()
    header = lines[0]
    starts = [header.index(column) for column in HEADER]
    rows = []
    for line in lines[1:]:
        cells = [
            line[start : (starts[i + 1] if i + 1 < len(starts) else None)].strip()
            for i, start in enumerate(starts)
        ]
        rows.append(dict(zip(HEADER, cells, strict=True)))
    return rows


@pytest.fixture(scope="module")
def tokens(emulator: Emulator) -> dict[str, Any]:
    """A tenant with a year-long token (used once), a week-long one and one that never expires."""
    tenant_id = emulator.new_tenant("cli")
    year = emulator.create_token(tenant_id, "Okta SCIM Provisioning", expires_in_days=365)
    week = emulator.create_token(tenant_id, "Short-lived", expires_in_days=7)
    never = emulator.create_token(tenant_id, "Forever")
    assert emulator.scim_get_users(year["token"]).status_code == 200  # sets lastUsedAt
    return {"tenant_id": tenant_id, "year": year, "week": week, "never": never}


def assert_one_line_error(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert result.returncode != 0
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert len(result.stderr.splitlines()) == 1, result.stderr
    for needle in needles:
        assert needle in result.stderr, result.stderr


def assert_no_secrets(emulator: Emulator, text: str, tokens: dict[str, Any]) -> None:
    assert emulator.api_token not in text
    for key in ("year", "week", "never"):
        assert tokens[key]["token"] not in text


# -- tokens list -------------------------------------------------------------------------------


def test_tokens_list_prints_a_table_with_expiry_state_and_last_use(
    emulator: Emulator, tokens: dict[str, Any]
) -> None:
    result = run_cli(emulator, "tokens", "list", "--tenant", tokens["tenant_id"])
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0].split() == [
        "ID",
        "NAME",
        "CREATED",
        "EXPIRES",
        "STATE",
        "LAST",
        "USED",
    ]
    rows = {row["ID"]: row for row in table(result.stdout)}
    live = {t["id"]: t for t in emulator.list_tokens(tokens["tenant_id"])}
    assert set(rows) == set(live)

    year, week, never = (rows[tokens[k]["id"]] for k in ("year", "week", "never"))
    assert year["NAME"] == "Okta SCIM Provisioning"
    assert year["STATE"] == "ok"
    assert year["EXPIRES"] == tokens["year"]["expiresAt"]
    assert year["CREATED"] == tokens["year"]["createdAt"]
    assert year["LAST USED"] == live[tokens["year"]["id"]]["lastUsedAt"] != "never"
    assert week["STATE"] == "expiring"  # within 30 days
    assert week["LAST USED"] == "never"
    assert never["EXPIRES"] == "never"
    assert never["STATE"] == "ok"
    assert_no_secrets(emulator, result.stdout + result.stderr, tokens)


def test_expiring_days_moves_the_threshold(emulator: Emulator, tokens: dict[str, Any]) -> None:
    result = run_cli(
        emulator, "tokens", "list", "--tenant", tokens["tenant_id"], "--expiring-days", "3"
    )
    assert result.returncode == 0, result.stderr
    rows = {row["ID"]: row for row in table(result.stdout)}
    assert rows[tokens["week"]["id"]]["STATE"] == "ok"


def test_tokens_list_json_prints_records(emulator: Emulator, tokens: dict[str, Any]) -> None:
    result = run_cli(emulator, "tokens", "list", "--tenant", tokens["tenant_id"], "--json")
    assert result.returncode == 0, result.stderr
    records = json.loads(result.stdout)
    live = emulator.list_tokens(tokens["tenant_id"])
    assert [r["id"] for r in records] == [t["id"] for t in live]
    for record, token in zip(records, live, strict=True):
        assert set(record) == {
            "id",
            "name",
            "created_at",
            "last_used_at",
            "expires_at",
            "expired",
            "state",
        }
        assert record["name"] == token["name"]
        assert record["created_at"] == token["createdAt"]
        assert record["expires_at"] == token.get("expiresAt")
        assert record["last_used_at"] == token.get("lastUsedAt")
        assert record["expired"] is False
    states = {r["id"]: r["state"] for r in records}
    assert states[tokens["week"]["id"]] == "expiring"
    assert states[tokens["never"]["id"]] == "ok"
    assert_no_secrets(emulator, result.stdout, tokens)


def test_an_empty_tenant(emulator: Emulator) -> None:
    tenant_id = emulator.new_tenant("empty")
    result = run_cli(emulator, "tokens", "list", "--tenant", tenant_id)
    assert result.returncode == 0
    assert result.stdout == f"Tenant {tenant_id!r} has no SCIM tokens.\n"
    result = run_cli(emulator, "tokens", "list", "--tenant", tenant_id, "--json")
    assert json.loads(result.stdout) == []


def test_base_url_option_wins_over_the_environment(
    emulator: Emulator, tokens: dict[str, Any]
) -> None:
    result = run_cli(
        emulator,
        "tokens",
        "list",
        "--tenant",
        tokens["tenant_id"],
        "--json",
        "--base-url",
        emulator.base_url,
        LOCALSKILLS_BASE_URL="http://127.0.0.1:9",
    )
    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout)) == 3


# -- user errors: one line on stderr, no traceback ---------------------------------------------


def test_unknown_tenant(emulator: Emulator) -> None:
    result = run_cli(emulator, "tokens", "list", "--tenant", "no-such-tenant")
    assert_one_line_error(result, "no-such-tenant", "does not exist")
    assert result.returncode == 1


def test_refused_api_token(emulator: Emulator, tokens: dict[str, Any]) -> None:
    wrong = "lsk_" + "f" * 64
    result = run_cli(
        emulator, "tokens", "list", "--tenant", tokens["tenant_id"], LOCALSKILLS_API_TOKEN=wrong
    )
    assert_one_line_error(result, "HTTP 401", "LOCALSKILLS_API_TOKEN")
    assert wrong not in result.stderr


def test_api_token_of_another_team(emulator: Emulator) -> None:
    tenant_id = f"other-{os.getpid()}"
    response = requests.post(
        f"{emulator.base_url}/_emulator/tenants",
        json={"id": tenant_id, "name": "Other team", "api_tokens": ["lsk_" + "a" * 64]},
        timeout=10,
    )
    assert response.status_code < 300, response.text
    result = run_cli(emulator, "tokens", "list", "--tenant", tenant_id)
    assert_one_line_error(result, "HTTP 403", f"no access to tenant {tenant_id!r}")


def test_malformed_api_token(emulator: Emulator, tokens: dict[str, Any]) -> None:
    result = run_cli(
        emulator,
        "tokens",
        "list",
        "--tenant",
        tokens["tenant_id"],
        LOCALSKILLS_API_TOKEN="not-an-api-token",
    )
    assert_one_line_error(result, "does not start with 'lsk_'")
    assert "not-an-api-token" not in result.stderr


def test_no_api_token_configured(emulator: Emulator, tokens: dict[str, Any]) -> None:
    result = run_cli(
        emulator, "tokens", "list", "--tenant", tokens["tenant_id"], LOCALSKILLS_API_TOKEN=None
    )
    assert_one_line_error(result, "No localskills API token is configured", "LOCALSKILLS_API_TOKEN")


@pytest.mark.parametrize("bad_id", ["engineering", "a/b/c", "/abc", "engineering/", "a b/c"])
def test_malformed_id(emulator: Emulator, bad_id: str) -> None:
    emulator.clear_requests()
    result = run_cli(emulator, "import-file", bad_id)
    assert_one_line_error(result, "expected <tenant_id>/<token_id>")
    assert result.returncode == 2
    assert emulator.requests_log() == []  # refused before any request


def test_unreachable_api(emulator: Emulator, tokens: dict[str, Any]) -> None:
    result = run_cli(
        emulator,
        "tokens",
        "list",
        "--tenant",
        tokens["tenant_id"],
        LOCALSKILLS_BASE_URL="http://127.0.0.1:9",
    )
    assert_one_line_error(
        result,
        "cannot reach http://127.0.0.1:9",
        "The base URL is from environment variable LOCALSKILLS_BASE_URL: check it",
    )


def test_a_malformed_base_url_is_a_usage_error_naming_the_option(
    emulator: Emulator, tokens: dict[str, Any]
) -> None:
    emulator.clear_requests()
    result = run_cli(
        emulator, "tokens", "list", "--tenant", tokens["tenant_id"], "--base-url", "ftp://x"
    )
    assert_one_line_error(result, "error: argument --base-url: the base URL", "ftp://x")
    assert result.returncode == 2
    assert "base_url" not in result.stderr
    assert emulator.requests_log() == []  # refused before any request


def test_a_base_url_with_a_wrong_path_says_to_check_the_base_url(
    emulator: Emulator, tokens: dict[str, Any]
) -> None:
    result = run_cli(
        emulator,
        "tokens",
        "list",
        "--tenant",
        tokens["tenant_id"],
        "--base-url",
        f"{emulator.base_url}/api",
    )
    assert_one_line_error(result, "HTTP 404", "check the base URL", f"{emulator.base_url}/api")
    assert result.returncode == 1


def test_the_missing_token_message_names_only_the_environment_variable(
    emulator: Emulator, tokens: dict[str, Any]
) -> None:
    result = run_cli(
        emulator, "tokens", "list", "--tenant", tokens["tenant_id"], LOCALSKILLS_API_TOKEN=None
    )
    assert_one_line_error(result, "LOCALSKILLS_API_TOKEN")
    assert "pulumi config" not in result.stderr
    assert result.returncode == 1


def test_the_emulator_on_a_busy_port_fails_with_the_clis_one_line(
    emulator: Emulator,
) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_cli(emulator, "emulator", "--port", str(port))
    assert_one_line_error(result, "localskills-pulumi: error: emulator: cannot listen", str(port))
    assert result.returncode == 2


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        ([], "required: COMMAND"),
        (["frob"], "invalid choice: 'frob'"),
        (["tokens"], "required: COMMAND"),
        (["tokens", "list"], "required: --tenant"),
        (["tokens", "list", "--tenant", "x", "--expiring-days", "soon"], "whole number"),
        (["import-file"], "required: TENANT/TOKEN_ID"),
        (["import-file", "a/b", "--rotate-before-days", "0"], "must be from 1 to"),
        (["emulator", "--port", "x"], "invalid int value: 'x'"),
    ],
)
def test_usage_errors(emulator: Emulator, args: list[str], needle: str) -> None:
    result = run_cli(emulator, *args)
    assert_one_line_error(result, needle, "--help")
    assert result.returncode == 2


# -- help on every level -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        ([], ["tokens", "import-file", "emulator", "LOCALSKILLS_API_TOKEN"]),
        (["tokens"], ["list"]),
        (["tokens", "list"], ["--tenant", "--json", "--base-url", "--expiring-days"]),
        (
            ["import-file"],
            ["TENANT/TOKEN_ID", "--resource-name", "--rotate-before-days", "token_value"],
        ),
        (["emulator"], ["--port", "--seed", "--db", "--latency-ms"]),
    ],
)
def test_help(emulator: Emulator, args: list[str], needles: list[str]) -> None:
    result = run_cli(emulator, *args, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: localskills-pulumi")
    for needle in needles:
        assert needle in result.stdout


# -- emulator ----------------------------------------------------------------------------------


def test_emulator_starts_on_port_0_and_stops_on_sigterm(emulator: Emulator) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "localskills_pulumi", "emulator", "--port", "0", "--quiet"],
        env=cli_env(emulator),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert process.stdout is not None
        base_url = process.stdout.readline().strip()
        assert base_url.startswith("http://127.0.0.1:")
        assert base_url != emulator.base_url
        response = requests.get(
            f"{base_url}/api/tenants/engineering/scim-tokens",
            headers={"Authorization": f"Bearer {emulator.api_token}"},
            timeout=10,
        )
        assert response.status_code == 200
        assert response.json() == {"success": True, "data": []}
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=15)
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr


def test_the_console_script_runs_the_same_cli(emulator: Emulator, tokens: dict[str, Any]) -> None:
    script = Path(sys.executable).parent / "localskills-pulumi"
    if not script.exists():
        pytest.skip("the package is not installed (pip install -e .) in this environment")
    result = subprocess.run(
        [str(script), "tokens", "list", "--tenant", tokens["tenant_id"], "--json"],
        env=cli_env(emulator),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout)) == 3


def test_the_cli_does_not_load_pulumi_to_list_tokens(emulator: Emulator) -> None:
    code = (
        "import sys, localskills_pulumi.cli, localskills_pulumi.lookup;"
        "print(sorted(m for m in sys.modules if m == 'pulumi' or m.startswith('pulumi.')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=cli_env(emulator),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.strip() == "[]", result.stderr


def test_version_prints_the_packages_version(emulator: Emulator) -> None:
    from localskills_pulumi._version import __version__

    done = run_cli(emulator, "--version")

    assert done.returncode == 0
    assert done.stdout == f"localskills-pulumi {__version__}\n"


def test_the_changelog_names_this_version() -> None:
    from localskills_pulumi._version import __version__

    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert f"## {__version__}" in changelog
