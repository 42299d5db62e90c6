"""The emulator as a process: command line, signals, persistence, storage, clock, latency."""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from localskills_pulumi.testing.emulator import DEMO_API_TOKEN, DEMO_TENANT_ID, Emulator

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 10


def popen(*args: str, stderr_path: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with stderr_path.open("wb") as stderr:
        return subprocess.Popen(
            [sys.executable, "-m", "localskills_pulumi.emulator", *args],
            stdout=subprocess.PIPE,
            stderr=stderr,
            stdin=subprocess.DEVNULL,
            env=env,
        )


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_first_stdout_line_is_the_base_url_and_signals_stop_cleanly(
    tmp_path: Path, signum: signal.Signals
) -> None:
    process = popen("--port", "0", stderr_path=tmp_path / "stderr")
    assert process.stdout is not None
    url = process.stdout.readline().decode().rstrip("\n")
    try:
        host, port = url.removeprefix("http://").split(":")
        assert url.startswith("http://") and host == "127.0.0.1" and int(port) > 0
        response = requests.get(
            f"{url}/api/tenants/{DEMO_TENANT_ID}/scim-tokens",
            headers={"Authorization": f"Bearer {DEMO_API_TOKEN}"},
            timeout=TIMEOUT,
        )
        assert response.status_code == 200
    finally:
        process.send_signal(signum)
        rest, _ = process.communicate(timeout=15)
    assert process.returncode == 0
    assert rest == b""  # nothing but the URL, ever
    stderr = (tmp_path / "stderr").read_text()
    assert "Traceback" not in stderr
    assert "demo seed" in stderr  # without --seed, it says it loaded the demo seed


def test_idle_keep_alive_connection_does_not_block_shutdown(tmp_path: Path) -> None:
    emulator = Emulator().start()
    session = requests.Session()
    session.get(emulator.tokens_url(DEMO_TENANT_ID), timeout=TIMEOUT)  # leaves a connection open
    emulator.stop()
    session.close()
    assert emulator.returncode == 0  # SIGTERM through the helper: a clean exit
    assert "stopped" in emulator.stderr_text()


def test_busy_port_exits_2_with_one_line(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        process = popen("--port", str(port), stderr_path=tmp_path / "stderr")
        out, _ = process.communicate(timeout=15)
    assert process.returncode == 2
    assert out == b""
    errors = [line for line in (tmp_path / "stderr").read_text().splitlines() if "error" in line]
    assert len(errors) == 1 and str(port) in errors[0]


def test_unusable_database_exits_2(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not a sqlite database" * 100)
    process = popen("--port", "0", "--db", str(junk), stderr_path=tmp_path / "stderr")
    out, _ = process.communicate(timeout=15)
    assert process.returncode == 2
    assert out == b""
    stderr = (tmp_path / "stderr").read_text()
    assert str(junk) in stderr and "Traceback" not in stderr


def test_state_survives_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    with Emulator(db=db) as first:
        tenant = first.new_tenant()
        created = first.create_token(tenant, "persisted", expires_in_days=90)
        user = requests.post(
            f"{first.base_url}/scim/v2/Users",
            json={"userName": "kept@example.com"},
            headers={"Authorization": f"Bearer {created['token']}"},
            timeout=TIMEOUT,
        ).json()
        before = first.list_tokens(tenant)
    assert before[0]["lastUsedAt"] is not None
    with Emulator(db=db) as second:
        assert second.list_tokens(tenant) == before  # tenant, membership and token survived
        response = second.scim_get_users(created["token"])  # the secret still works
        assert response.status_code == 200
        assert [u["id"] for u in response.json()["Resources"]] == [user["id"]]
        assert second.delete_token(tenant, created["id"]) == 200


def test_database_keeps_only_hashes_of_secrets(tmp_path: Path) -> None:
    db = tmp_path / "state.db"

    def contents() -> bytes:
        files = sorted(tmp_path.glob("state.db*"))
        assert db in files
        return b"".join(path.read_bytes() for path in files)

    with Emulator(db=db) as emulator:
        tenant = emulator.new_tenant()
        secret = emulator.create_token(tenant, "hashed")["token"]
        assert emulator.scim_get_users(secret).status_code == 200
        assert any(p.name == "state.db-wal" for p in tmp_path.iterdir())
        while_running = contents()
    after_stop = contents()
    digest = hashlib.sha256(secret.encode()).hexdigest().encode()
    for blob in (while_running, after_stop):
        assert secret.encode() not in blob
        assert secret.removeprefix("lsk_scim_").encode() not in blob
        assert DEMO_API_TOKEN.encode() not in blob
        assert DEMO_API_TOKEN.removeprefix("lsk_").encode() not in blob
    assert digest in while_running + after_stop  # what is kept is the SHA-256


def test_clock_advance_expires_tokens_and_dates_new_ones(tmp_path: Path) -> None:
    with Emulator() as emulator:
        tenant = emulator.new_tenant()
        short = emulator.create_token(tenant, "one day", expires_in_days=1)
        forever = emulator.create_token(tenant, "forever")
        assert emulator.scim_get_users(short["token"]).status_code == 200
        emulator.advance_clock(86_400 - 120)
        assert emulator.scim_get_users(short["token"]).status_code == 200  # not yet expired
        emulator.advance_clock(240)
        assert emulator.now() > short["expiresAt"]
        expired = emulator.scim_get_users(short["token"])
        assert expired.status_code == 401
        assert expired.json()["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
        assert "expired" in expired.json()["detail"]
        assert emulator.scim_get_users(forever["token"]).status_code == 200
        later = emulator.create_token(tenant, "later")
        assert later["createdAt"] > short["expiresAt"]


@pytest.mark.parametrize("body", [{"advance_seconds": "60"}, {"advance_seconds": True}, {}, []])
def test_bad_clock_advance_is_400(emulator: Emulator, body: object) -> None:
    before = emulator.now()
    response = requests.post(f"{emulator.base_url}/_emulator/clock", json=body, timeout=TIMEOUT)
    assert response.status_code == 400
    assert "advance_seconds" in response.json()["error"]
    assert emulator.now() >= before


def test_latency_is_added_to_api_and_scim_answers(tmp_path: Path) -> None:
    with Emulator(latency_ms=120) as emulator:
        tenant = emulator.new_tenant()
        auth = {"Authorization": f"Bearer {emulator.api_token}"}
        url = emulator.tokens_url(tenant)
        secret = requests.post(url, json={"name": "slow"}, headers=auth, timeout=30).json()
        emulator.scim_get_users(secret["data"]["token"])
        requests.get(url, headers=auth, timeout=30)
        emulator.list_tokens(tenant)  # admin calls are neither delayed nor logged
        log = emulator.requests_log()
    assert [entry["method"] for entry in log] == ["POST", "GET", "GET"]
    assert all(entry["duration_ms"] >= 120 for entry in log)


def test_emulator_helper_reports_a_process_that_dies(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("tenants: 5\n")
    emulator = Emulator(seed=bad)
    start = time.monotonic()
    with pytest.raises(RuntimeError, match="missing key 'api_tokens'"):
        emulator.start()
    assert time.monotonic() - start < 15  # it did not wait for the full start timeout
    emulator.stop()  # idempotent after a failed start
