"""Seed files: validation (in process, every case) and the command line's handling of them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from localskills_pulumi.emulator.command import main
from localskills_pulumi.emulator.seed import SeedError, load_demo_seed, load_seed
from localskills_pulumi.testing.emulator import DEMO_API_TOKEN, DEMO_TENANT_ID, Emulator

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "lsk_" + "9" * 64
GOOD = f"""
tenants:
  - id: platform
    name: Platform
  - id: data
    name: Data
api_tokens:
  - token: {TOKEN}
    tenants: [platform]
  - token: lsk_{"AB" * 32}
    tenants: [platform, data]
"""

BAD_SEEDS = {
    "invalid-yaml": ("tenants: [\n", "invalid YAML"),
    "tab-yaml": ("tenants:\n\t- id: x\n", "invalid YAML"),
    "empty-file": ("", "top level: must be a mapping"),
    "top-level-list": ("- a\n", "top level: must be a mapping"),
    "missing-tenants": ("api_tokens: []\n", "missing key 'tenants'"),
    "missing-api-tokens": ("tenants: []\n", "missing key 'api_tokens'"),
    "unknown-top-key": ("tenants: []\napi_tokens: []\nusers: []\n", "unknown key 'users'"),
    "tenants-not-list": ("tenants: {}\napi_tokens: []\n", "tenants: must be a list"),
    "tenant-not-mapping": ("tenants: [x]\napi_tokens: []\n", "tenants[0]: must be a mapping"),
    "tenant-missing-name": (
        "tenants: [{id: a}]\napi_tokens: []\n",
        "tenants[0]: missing key 'name'",
    ),
    "tenant-id-int": (
        "tenants: [{id: 5, name: A}]\napi_tokens: []\n",
        "tenants[0].id: must be a string",
    ),
    "tenant-id-blank": (
        "tenants: [{id: ' ', name: A}]\napi_tokens: []\n",
        "tenants[0].id: must not be blank",
    ),
    "tenant-id-slash": (
        "tenants: [{id: a/b, name: A}]\napi_tokens: []\n",
        "tenants[0].id: must not contain",
    ),
    "tenant-id-space": (
        "tenants: [{id: 'a b', name: A}]\napi_tokens: []\n",
        "tenants[0].id: must not contain",
    ),
    "tenant-id-dot": (
        "tenants: [{id: '.', name: A}]\napi_tokens: []\n",
        "tenants[0].id: must not be '.'",
    ),
    "tenant-id-dot-dot": (
        "tenants: [{id: '..', name: A}]\napi_tokens: []\n",
        "tenants[0].id: must not be '..'",
    ),
    "tenant-id-backslash": (
        "tenants: [{id: 'a\\b', name: A}]\napi_tokens: []\n",
        "tenants[0].id: must not contain '/' or '\\'",
    ),
    "tenant-id-control-character": (
        'tenants: [{id: "a\\x01b", name: A}]\napi_tokens: []\n',
        "tenants[0].id: must not contain white space or control characters",
    ),
    "tenant-id-too-long": (
        f"tenants: [{{id: {'a' * 201}, name: A}}]\napi_tokens: []\n",
        "tenants[0].id: must be at most 200 characters",
    ),
    "tenant-name-int": ("tenants: [{id: a, name: 5}]\napi_tokens: []\n", "tenants[0].name"),
    "duplicate-tenant": (
        "tenants: [{id: a, name: A}, {id: a, name: B}]\napi_tokens: []\n",
        "duplicate",
    ),
    "token-short": (
        "tenants: []\napi_tokens: [{token: lsk_abc, tenants: []}]\n",
        "api_tokens[0].token",
    ),
    "token-no-prefix": (
        f"tenants: []\napi_tokens: [{{token: {'a' * 68}, tenants: []}}]\n",
        "api_tokens[0].token",
    ),
    "token-non-hex": (
        f"tenants: []\napi_tokens: [{{token: lsk_{'g' * 64}, tenants: []}}]\n",
        "api_tokens[0].token",
    ),
    "token-int": (
        "tenants: []\napi_tokens: [{token: 5, tenants: []}]\n",
        "api_tokens[0].token: must be a string",
    ),
    "token-tenants-not-list": (
        f"tenants: []\napi_tokens: [{{token: {TOKEN}, tenants: x}}]\n",
        "api_tokens[0].tenants",
    ),
    "token-unknown-tenant": (
        f"tenants: [{{id: a, name: A}}]\napi_tokens: [{{token: {TOKEN}, tenants: [a, b]}}]\n",
        "api_tokens[0].tenants[1]: unknown tenant 'b'",
    ),
}


def write(tmp_path: Path, text: str, name: str = "seed.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "localskills_pulumi.emulator", "--port", "0", *args],
        capture_output=True,
        text=True,
        timeout=30,
        env=env,
        stdin=subprocess.DEVNULL,
    )


# -- validation, in process ------------------------------------------------------------------


@pytest.mark.parametrize(("text", "problem"), BAD_SEEDS.values(), ids=BAD_SEEDS.keys())
def test_bad_seed_is_refused_naming_file_and_problem(
    tmp_path: Path, text: str, problem: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(SeedError) as caught:
        load_seed(path)
    message = str(caught.value)
    assert message.startswith(f"seed file {path}: ")
    assert problem in message
    assert "\n" not in message


def test_missing_seed_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SeedError, match="no such file"):
        load_seed(tmp_path / "absent.yaml")


def test_good_seed_is_loaded(tmp_path: Path) -> None:
    seed = load_seed(write(tmp_path, GOOD))
    assert [(t.id, t.name) for t in seed.tenants] == [("platform", "Platform"), ("data", "Data")]
    assert [t.tenants for t in seed.api_tokens] == [("platform",), ("platform", "data")]


def test_demo_seed_is_the_documented_one() -> None:
    seed = load_demo_seed()
    assert [(t.id, t.name) for t in seed.tenants] == [(DEMO_TENANT_ID, "Engineering")]
    assert [(t.token, t.tenants) for t in seed.api_tokens] == [(DEMO_API_TOKEN, (DEMO_TENANT_ID,))]
    assert DEMO_API_TOKEN == "lsk_" + "0123456789abcdef" * 4


def test_main_returns_2_for_a_bad_seed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--seed", str(tmp_path / "absent.yaml")]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and "absent.yaml" in captured.err


# -- through the command line ----------------------------------------------------------------


@pytest.mark.parametrize(
    "case",
    [
        "invalid-yaml",
        "missing-api-tokens",
        "tenant-id-int",
        "tenant-id-slash",
        "tenant-id-dot-dot",
        "token-short",
        "token-unknown-tenant",
    ],
)
def test_cli_exits_2_with_one_line_for_a_bad_seed(tmp_path: Path, case: str) -> None:
    text, problem = BAD_SEEDS[case]
    path = write(tmp_path, text)
    result = run_cli("--seed", str(path))
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert str(path) in lines[0]
    assert problem in lines[0]
    assert "Traceback" not in result.stderr


def test_cli_exits_2_for_a_missing_seed_file(tmp_path: Path) -> None:
    result = run_cli("--seed", str(tmp_path / "nope.yaml"))
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"localskills_pulumi.emulator: error: seed file {tmp_path / 'nope.yaml'}: no such file"
    ]


def test_seed_tenants_and_tokens_are_served(tmp_path: Path) -> None:
    with Emulator(seed=write(tmp_path, GOOD)) as emulator:
        assert emulator.api_token == TOKEN
        assert emulator.list_tokens("platform") == []
        upper = {"Authorization": f"Bearer lsk_{'AB' * 32}"}
        assert (
            requests.get(emulator.tokens_url("data"), headers=upper, timeout=10).status_code == 200
        )
        forbidden = requests.get(
            emulator.tokens_url("data"), headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
        )
        assert forbidden.status_code == 403
        demo = requests.get(
            emulator.tokens_url("platform"),
            headers={"Authorization": f"Bearer {DEMO_API_TOKEN}"},
            timeout=10,
        )
        assert demo.status_code == 401  # no demo seed when a seed is given
        assert "demo seed" not in emulator.stderr_text()
        assert "loaded seed file" in emulator.stderr_text()


def test_loading_the_same_seed_twice_into_a_database_works(tmp_path: Path) -> None:
    seed, db = write(tmp_path, GOOD), tmp_path / "state.db"
    with Emulator(seed=seed, db=db) as emulator:
        created = emulator.create_token("platform", "kept")
    with Emulator(seed=seed, db=db) as emulator:
        assert [t["id"] for t in emulator.list_tokens("platform")] == [created["id"]]
