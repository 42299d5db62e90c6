"""The test kit's emulator helper (``localskills_pulumi.testing.emulator``): where its
subprocess imports the package from, how it builds URLs, and that it calls the API through the
package's own client."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import uuid
from pathlib import Path

import pytest
import requests

import localskills_pulumi
from localskills_pulumi.testing.emulator import (
    DEMO_API_TOKEN,
    Emulator,
    EmulatorError,
    import_root,
    subprocess_environment,
)

TIMEOUT = 10
SOURCE_ROOT = Path(localskills_pulumi.__file__).resolve().parent.parent


def test_subprocess_imports_the_package_from_where_this_process_did() -> None:
    assert import_root() == SOURCE_ROOT
    env = subprocess_environment({"PYTHONPATH": "/elsewhere", "KEEP": "1"})
    assert env["PYTHONPATH"].split(os.pathsep) == [str(SOURCE_ROOT), "/elsewhere"]
    assert env["KEEP"] == "1"
    assert subprocess_environment({})["PYTHONPATH"] == str(SOURCE_ROOT)


def test_an_installed_copy_runs_its_own_emulator_without_pythonpath(tmp_path: Path) -> None:
    """A wheel-like install: the package in a virtualenv's site-packages, nothing on
    PYTHONPATH. The helper must start the emulator of that copy (its demo seed is marked)
    and must not put the site directory on PYTHONPATH (ahead of the standard library)."""
    venv = tmp_path / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120
    )
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout.strip()
    site_dir = Path(purelib).resolve()
    copy = site_dir / "localskills_pulumi"
    shutil.copytree(
        SOURCE_ROOT / "localskills_pulumi", copy, ignore=shutil.ignore_patterns("__pycache__")
    )
    seed = copy / "emulator" / "demo_seed.yaml"
    seed.write_text(
        seed.read_text()
        .replace(
            "    name: Engineering\n", "    name: Engineering\n  - {id: installed-copy, name: C}\n"
        )
        .replace("tenants: [engineering]", "tenants: [engineering, installed-copy]")
    )
    # The dependencies (requests, PyYAML, ...) come from this interpreter's library, as a
    # plain path: its own .pth files (this checkout's editable install) are not run.
    (site_dir / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    script = (
        "import json, localskills_pulumi\n"
        "from localskills_pulumi.testing.emulator import Emulator, import_root,"
        " subprocess_environment\n"
        "with Emulator() as emulator:\n"
        "    tokens = emulator.list_tokens('installed-copy')\n"
        "print(json.dumps({'package': localskills_pulumi.__file__, 'root': str(import_root()),"
        " 'pythonpath': subprocess_environment().get('PYTHONPATH', ''), 'tokens': tokens}))\n"
    )
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    result = subprocess.run(
        [str(python), "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    assert Path(seen["package"]).resolve().is_relative_to(copy)
    assert Path(seen["root"]) == site_dir
    assert str(site_dir) not in seen["pythonpath"].split(os.pathsep)
    assert seen["tokens"] == []  # the tenant only the copy's demo seed has


def test_tokens_url_percent_encodes_the_tenant(emulator: Emulator) -> None:
    suffix = uuid.uuid4().hex[:8]
    tenant = f"odd?#%-{suffix}"
    created = requests.post(
        f"{emulator.base_url}/_emulator/tenants",
        json={"id": tenant, "api_tokens": [DEMO_API_TOKEN]},
        timeout=TIMEOUT,
    )
    assert created.status_code == 201
    assert emulator.tokens_url(tenant).endswith(f"/api/tenants/odd%3F%23%25-{suffix}/scim-tokens")
    token = emulator.create_token(tenant, "odd")
    listed = requests.get(
        emulator.tokens_url(tenant),
        headers={"Authorization": f"Bearer {DEMO_API_TOKEN}"},
        timeout=TIMEOUT,
    )
    assert listed.status_code == 200
    assert [t["id"] for t in listed.json()["data"]] == [token["id"]]
    assert emulator.delete_token(tenant, token["id"]) == 200


def test_list_and_create_read_the_state_past_faults_and_the_request_log(
    clean_emulator: Emulator, tenant_id: str
) -> None:
    clean_emulator.add_faults([{"method": "GET", "action": "status", "status": 503, "times": 5},
                               {"method": "POST", "action": "reset", "times": 5}])  # fmt: skip
    created = clean_emulator.create_token(tenant_id, "seen")
    assert [t["id"] for t in clean_emulator.list_tokens(tenant_id)] == [created["id"]]
    assert clean_emulator.requests_log() == []
    assert [rule["times"] for rule in clean_emulator.faults()] == [5, 5]  # none was used


def test_create_and_list_keep_the_api_json_shape(emulator: Emulator, tenant_id: str) -> None:
    created = emulator.create_token(tenant_id, "shape", expires_in_days=7)
    assert set(created) == {"id", "name", "token", "createdAt", "expiresAt"}
    [listed] = emulator.list_tokens(tenant_id)
    assert listed == {
        "id": created["id"],
        "name": "shape",
        "createdAt": created["createdAt"],
        "lastUsedAt": None,
        "expiresAt": created["expiresAt"],
    }


def test_a_token_of_an_unknown_tenant_is_an_emulator_error_naming_it(emulator: Emulator) -> None:
    with pytest.raises(EmulatorError, match="no-such-tenant"):
        emulator.create_token("no-such-tenant", "x")
