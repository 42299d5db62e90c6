"""Fault injection, the request log and the admin API of the emulator (``/_emulator/``)."""

from __future__ import annotations

import concurrent.futures
import threading
import time
from typing import Any

import pytest
import requests

from localskills_pulumi.testing.emulator import DEMO_API_TOKEN, Emulator

TIMEOUT = 10
AUTH = {"Authorization": f"Bearer {DEMO_API_TOKEN}"}


def create(emulator: Emulator, tenant: str, timeout: float = TIMEOUT) -> requests.Response:
    return requests.post(
        emulator.tokens_url(tenant), json={"name": "f"}, headers=AUTH, timeout=timeout
    )


def wait_for_tokens(emulator: Emulator, tenant: str, count: int) -> list[dict[str, Any]]:
    """Poll (no timing assertion) until the tenant has ``count`` tokens, at most 10 s."""
    deadline = time.monotonic() + 10
    while True:
        tokens = emulator.list_tokens(tenant)
        if len(tokens) >= count or time.monotonic() > deadline:
            return tokens
        time.sleep(0.05)


# -- actions -------------------------------------------------------------------------------


def test_status_fault_answers_without_doing_the_work(
    clean_emulator: Emulator, tenant_id: str
) -> None:
    clean_emulator.add_faults([{"action": "status", "status": 503, "retry_after": 7}])
    response = create(clean_emulator, tenant_id)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "7"
    assert response.headers["Content-Type"] == "application/json"
    body = response.json()
    assert body["success"] is False and body["error"]
    assert clean_emulator.list_tokens(tenant_id) == []


def test_status_fault_without_retry_after_sends_no_header(
    clean_emulator: Emulator, tenant_id: str
) -> None:
    clean_emulator.add_faults([{"action": "status", "status": 429}])
    response = create(clean_emulator, tenant_id)
    assert response.status_code == 429
    assert "Retry-After" not in response.headers


def test_commit_then_status_does_the_work_and_hides_the_answer(
    clean_emulator: Emulator, tenant_id: str
) -> None:
    clean_emulator.add_faults([{"action": "commit_then_status", "status": 502}])
    response = create(clean_emulator, tenant_id)
    assert response.status_code == 502
    assert response.json()["success"] is False
    assert len(clean_emulator.list_tokens(tenant_id)) == 1


def test_reset_closes_the_connection_without_the_work(
    clean_emulator: Emulator, tenant_id: str
) -> None:
    clean_emulator.add_faults([{"action": "reset"}])
    with pytest.raises(requests.ConnectionError):
        create(clean_emulator, tenant_id)
    assert clean_emulator.list_tokens(tenant_id) == []


def test_commit_then_reset_does_the_work_and_closes_the_connection(
    clean_emulator: Emulator, tenant_id: str
) -> None:
    clean_emulator.add_faults([{"action": "commit_then_reset"}])
    with pytest.raises(requests.ConnectionError):
        create(clean_emulator, tenant_id)
    assert len(clean_emulator.list_tokens(tenant_id)) == 1


def test_reset_is_recorded_with_status_zero(clean_emulator: Emulator, tenant_id: str) -> None:
    clean_emulator.add_faults([{"action": "reset"}, {"action": "commit_then_reset"}])
    for _ in range(2):
        with pytest.raises(requests.ConnectionError):
            create(clean_emulator, tenant_id)
    assert [entry["status"] for entry in clean_emulator.requests_log()] == [0, 0]


def test_keep_alive_client_recovers_on_a_new_connection_after_reset(
    clean_emulator: Emulator, tenant_id: str
) -> None:
    with requests.Session() as session:
        assert session.get(clean_emulator.tokens_url(tenant_id), headers=AUTH).status_code == 200
        clean_emulator.add_faults([{"action": "reset"}])
        with pytest.raises(requests.ConnectionError):
            session.get(clean_emulator.tokens_url(tenant_id), headers=AUTH, timeout=TIMEOUT)
        assert session.get(clean_emulator.tokens_url(tenant_id), headers=AUTH).status_code == 200
    assert clean_emulator.connections() == 2


def test_delay_provokes_a_read_timeout_and_then_does_the_work(
    clean_emulator: Emulator, tenant_id: str
) -> None:
    clean_emulator.add_faults([{"action": "delay", "delay_ms": 800}])
    with pytest.raises(requests.ReadTimeout):
        create(clean_emulator, tenant_id, timeout=0.2)
    # The work happens after the delay, even though the client gave up.
    assert len(wait_for_tokens(clean_emulator, tenant_id, 1)) == 1
    # The log entry is written just after the work: poll for it too.
    deadline = time.monotonic() + 10
    posts: list[dict[str, Any]] = []
    while not posts and time.monotonic() < deadline:
        posts = [e for e in clean_emulator.requests_log() if e["method"] == "POST"]
    [entry] = posts
    assert entry["status"] == 201
    assert entry["duration_ms"] >= 800


def test_delay_then_answers_normally(clean_emulator: Emulator, tenant_id: str) -> None:
    clean_emulator.add_faults([{"action": "delay", "delay_ms": 50}])
    assert create(clean_emulator, tenant_id).status_code == 201
    assert clean_emulator.requests_log()[0]["duration_ms"] >= 50


def test_scim_requests_are_faulted_with_scim_errors(
    clean_emulator: Emulator, tenant_id: str
) -> None:
    secret = clean_emulator.create_token(tenant_id, "okta")["token"]
    clean_emulator.add_faults([{"path_prefix": "/scim/v2/", "action": "status", "status": 500}])
    response = clean_emulator.scim_get_users(secret)
    assert response.status_code == 500
    assert response.headers["Content-Type"] == "application/scim+json"
    assert response.json()["status"] == "500"
    assert clean_emulator.scim_get_users(secret).status_code == 200


# -- matching and bookkeeping --------------------------------------------------------------


def test_rule_fires_times_then_stops(clean_emulator: Emulator, tenant_id: str) -> None:
    clean_emulator.add_faults([{"action": "status", "status": 500, "times": 2}])
    statuses = [create(clean_emulator, tenant_id).status_code for _ in range(3)]
    assert statuses == [500, 500, 201]


def test_rules_apply_in_order(clean_emulator: Emulator, tenant_id: str) -> None:
    clean_emulator.add_faults([{"action": "status", "status": 500}])
    clean_emulator.add_faults([{"action": "status", "status": 429}])
    statuses = [create(clean_emulator, tenant_id).status_code for _ in range(3)]
    assert statuses == [500, 429, 201]


def test_method_and_path_prefix_select_requests(clean_emulator: Emulator, tenant_id: str) -> None:
    other = clean_emulator.new_tenant()
    clean_emulator.add_faults(
        [
            {
                "method": "post",
                "path_prefix": f"/api/tenants/{tenant_id}/",
                "action": "status",
                "status": 503,
            }
        ]
    )
    assert requests.get(clean_emulator.tokens_url(tenant_id), headers=AUTH).status_code == 200
    assert create(clean_emulator, other).status_code == 201
    assert create(clean_emulator, tenant_id).status_code == 503


def test_get_faults_lists_remaining_times(clean_emulator: Emulator, tenant_id: str) -> None:
    clean_emulator.add_faults([{"action": "status", "status": 500, "times": 3}])
    create(clean_emulator, tenant_id)
    [rule] = clean_emulator.faults()
    assert rule["times"] == 2
    assert rule["action"] == "status"
    assert rule["method"] is None and rule["path_prefix"] is None


def test_spent_rules_leave_the_list(clean_emulator: Emulator, tenant_id: str) -> None:
    clean_emulator.add_faults([{"action": "status", "status": 500}])
    create(clean_emulator, tenant_id)
    assert clean_emulator.faults() == []


def test_delete_faults_clears_rules(clean_emulator: Emulator, tenant_id: str) -> None:
    clean_emulator.add_faults([{"action": "reset", "times": 5}])
    clean_emulator.clear_faults()
    assert clean_emulator.faults() == []
    assert create(clean_emulator, tenant_id).status_code == 201


def test_admin_api_is_never_faulted_or_logged(clean_emulator: Emulator) -> None:
    clean_emulator.add_faults([{"action": "reset", "times": 3}])
    for _ in range(3):
        clean_emulator.faults()
        clean_emulator.requests_log()
    assert clean_emulator.faults()[0]["times"] == 3
    assert clean_emulator.requests_log() == []


@pytest.mark.parametrize(
    ("rules", "field"),
    [
        ({"action": "reset"}, "rules"),
        ([{"action": "explode"}], "action"),
        ([{}], "action"),
        (["reset"], "rules[0]"),
        ([{"action": "status"}], "status"),
        ([{"action": "status", "status": "500"}], "status"),
        ([{"action": "status", "status": 99}], "status"),
        ([{"action": "reset", "status": 500}], "status"),
        ([{"action": "reset", "times": 0}], "times"),
        ([{"action": "reset", "times": True}], "times"),
        ([{"action": "reset", "method": 5}], "method"),
        ([{"action": "reset", "path_prefix": "api"}], "path_prefix"),
        ([{"action": "status", "status": 503, "retry_after": -1}], "retry_after"),
        ([{"action": "status", "status": 503, "retry_after": "soon"}], "retry_after"),
        ([{"action": "delay"}], "delay_ms"),
        ([{"action": "delay", "delay_ms": -5}], "delay_ms"),
        ([{"action": "reset", "delay_ms": 5}], "delay_ms"),
        ([{"action": "reset", "tims": 2}], "tims"),
        ([{"action": "reset"}, {"action": "nope"}], "rules[1].action"),
    ],
)
def test_bad_fault_rule_is_400_naming_the_field(
    clean_emulator: Emulator, rules: Any, field: str
) -> None:
    response = requests.post(
        f"{clean_emulator.base_url}/_emulator/faults", json=rules, timeout=TIMEOUT
    )
    assert response.status_code == 400
    assert field in response.json()["error"]
    assert clean_emulator.faults() == []  # nothing of a bad batch is kept


def test_request_log_records_method_path_status_duration(
    clean_emulator: Emulator, tenant_id: str
) -> None:
    create(clean_emulator, tenant_id)
    requests.get(clean_emulator.tokens_url(tenant_id) + "?x=1", timeout=TIMEOUT)
    log = clean_emulator.requests_log()
    assert [(e["method"], e["path"], e["status"]) for e in log] == [
        ("POST", f"/api/tenants/{tenant_id}/scim-tokens", 201),
        ("GET", f"/api/tenants/{tenant_id}/scim-tokens", 401),
    ]
    assert all(isinstance(e["duration_ms"], float) and e["duration_ms"] >= 0 for e in log)


def test_every_request_is_in_the_log_when_its_answer_arrives(
    clean_emulator: Emulator, tenant_id: str
) -> None:
    """The log is written before the answer leaves: a read right after an answer finds it."""
    url = clean_emulator.tokens_url(tenant_id)
    admin = f"{clean_emulator.base_url}/_emulator/requests"
    with requests.Session() as api, requests.Session() as reader:

        def logged() -> list[dict[str, Any]]:
            entries: list[dict[str, Any]] = reader.get(admin, timeout=TIMEOUT).json()["requests"]
            return entries

        for round_ in range(40):
            clean_emulator.add_faults(
                [
                    {"method": "PUT", "action": "status", "status": 503},
                    {"method": "PATCH", "action": "reset"},
                ]
            )
            steps = [("GET", 200), ("POST", 201), ("PUT", 503), ("PATCH", 0)]
            for step, (method, status) in enumerate(steps):
                if status == 0:
                    with pytest.raises(requests.ConnectionError):
                        api.request(method, url, headers=AUTH, timeout=TIMEOUT)
                else:
                    answer = api.request(method, url, json={"name": "n"}, headers=AUTH)
                    assert answer.status_code == status
                # Read at once, on another connection: the entry must already be there.
                entries = logged()
                assert len(entries) == len(steps) * round_ + step + 1
                assert (entries[-1]["method"], entries[-1]["status"]) == (method, status)
    assert len(clean_emulator.list_tokens(tenant_id)) == 40


def test_keep_alive_session_uses_one_connection(clean_emulator: Emulator, tenant_id: str) -> None:
    with requests.Session() as session:
        for _ in range(2):
            response = session.get(clean_emulator.tokens_url(tenant_id), headers=AUTH)
            assert response.status_code == 200
    assert clean_emulator.connections() == 1
    assert len(clean_emulator.requests_log()) == 2


def test_separate_requests_use_separate_connections(
    clean_emulator: Emulator, tenant_id: str
) -> None:
    for _ in range(3):
        requests.get(clean_emulator.tokens_url(tenant_id), headers=AUTH, timeout=TIMEOUT)
    assert clean_emulator.connections() == 3


def test_error_answers_keep_the_connection_alive(clean_emulator: Emulator, tenant_id: str) -> None:
    with requests.Session() as session:
        assert (
            session.post(
                clean_emulator.tokens_url(tenant_id), data=b"bad", headers=AUTH
            ).status_code
            == 400
        )
        assert session.get(clean_emulator.tokens_url(tenant_id)).status_code == 401
        assert session.get(clean_emulator.base_url + "/nope").status_code == 404
        assert (
            session.post(
                clean_emulator.tokens_url(tenant_id), json={"name": "ok"}, headers=AUTH
            ).status_code
            == 201
        )
    assert clean_emulator.connections() == 1


def test_delete_requests_clears_log_and_connection_count(
    clean_emulator: Emulator, tenant_id: str
) -> None:
    create(clean_emulator, tenant_id)
    clean_emulator.clear_requests()
    assert clean_emulator.requests_log() == []
    assert clean_emulator.connections() == 0


def test_fifty_concurrent_creates_make_fifty_tokens(
    clean_emulator: Emulator, tenant_id: str
) -> None:
    barrier = threading.Barrier(50)

    def one(i: int) -> int:
        barrier.wait()
        response = requests.post(
            clean_emulator.tokens_url(tenant_id),
            json={"name": f"c{i}"},
            headers=AUTH,
            timeout=30,
        )
        return response.status_code

    with concurrent.futures.ThreadPoolExecutor(max_workers=50) as pool:
        statuses = list(pool.map(one, range(50)))
    assert statuses == [201] * 50
    assert clean_emulator.connections() == 50
    tokens = clean_emulator.list_tokens(tenant_id)
    assert len(tokens) == 50
    assert len({t["id"] for t in tokens}) == 50
    assert sorted(t["name"] for t in tokens) == sorted(f"c{i}" for i in range(50))


# -- admin tenants ---------------------------------------------------------------------------


def test_admin_tenant_grants_new_and_existing_tokens(emulator: Emulator) -> None:
    fresh = "lsk_" + "cd" * 32
    tenant = f"adm-{emulator.new_tenant()}"
    response = requests.post(
        f"{emulator.base_url}/_emulator/tenants",
        json={"id": tenant, "name": "Admin", "api_tokens": [fresh, DEMO_API_TOKEN]},
        timeout=TIMEOUT,
    )
    assert response.status_code == 201
    for token in (fresh, DEMO_API_TOKEN):
        listed = requests.get(
            emulator.tokens_url(tenant),
            headers={"Authorization": f"Bearer {token}"},
            timeout=TIMEOUT,
        )
        assert listed.status_code == 200


def test_admin_tenant_that_exists_is_409(emulator: Emulator, tenant_id: str) -> None:
    response = requests.post(
        f"{emulator.base_url}/_emulator/tenants",
        json={"id": tenant_id, "name": "again"},
        timeout=TIMEOUT,
    )
    assert response.status_code == 409


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x"}, "id"),
        ({"id": "a/b", "name": "x"}, "id"),
        ({"id": "a b", "name": "x"}, "id"),
        ({"id": "", "name": "x"}, "id"),
        ({"id": ".", "name": "x"}, "id"),
        ({"id": "..", "name": "x"}, "id"),
        ({"id": "a\\b", "name": "x"}, "id"),
        ({"id": "a\u0000b", "name": "x"}, "id"),
        ({"id": "a\u007fb", "name": "x"}, "id"),
        ({"id": "x" * 201, "name": "x"}, "id"),
        ({"id": "ok-id-1", "name": 5}, "name"),
        ({"id": "ok-id-2", "name": "x", "api_tokens": "lsk_"}, "api_tokens"),
        ({"id": "ok-id-3", "name": "x", "api_tokens": ["lsk_123"]}, "api_tokens[0]"),
        ([], "body"),
    ],
)
def test_bad_admin_tenant_is_400_naming_the_field(
    emulator: Emulator, body: Any, field: str
) -> None:
    response = requests.post(f"{emulator.base_url}/_emulator/tenants", json=body, timeout=TIMEOUT)
    assert response.status_code == 400
    assert response.json()["error"].startswith(field)


def test_unknown_admin_route_is_404_and_wrong_method_405(emulator: Emulator) -> None:
    assert requests.get(f"{emulator.base_url}/_emulator/nope", timeout=TIMEOUT).status_code == 404
    response = requests.put(f"{emulator.base_url}/_emulator/faults", timeout=TIMEOUT)
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, POST, DELETE"
