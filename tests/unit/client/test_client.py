"""LocalskillsClient against the emulator, over real sockets, fault rules included."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from localskills_pulumi.client import LocalskillsClient
from localskills_pulumi.errors import ApiError, AuthenticationError, NotFoundError, TransportError
from localskills_pulumi.retry import RetryPolicy
from localskills_pulumi.settings import Credentials, Settings
from localskills_pulumi.testing.emulator import Emulator
from tests.helpers import live_ids
from tests.unit.client.late_commit import LateCommitProxy

UNKNOWN_API_TOKEN = "lsk_" + "f" * 64


def make_client(
    emulator: Emulator | None = None,
    token: str | None = None,
    *,
    base_url: str | None = None,
    timeout: float = 30.0,
    max_retries: int = 3,
    backoff_factor: float = 0.05,
) -> LocalskillsClient:
    creds = Credentials(
        api_token=token or (emulator.api_token if emulator else UNKNOWN_API_TOKEN),
        base_url=base_url or (emulator.base_url if emulator else ""),
        token_source="environment variable LOCALSKILLS_API_TOKEN",
    )
    settings = Settings(creds, request_timeout=timeout, max_retries=max_retries)
    return LocalskillsClient(settings, retry=RetryPolicy.default(max_retries, backoff_factor))


@pytest.fixture
def client(clean_emulator: Emulator) -> Iterator[LocalskillsClient]:
    with make_client(clean_emulator) as client:
        yield client


def api_calls(emulator: Emulator) -> list[tuple[str, int]]:
    return [(r["method"], r["status"]) for r in emulator.requests_log()]


def test_create_list_delete_round_trip(client: LocalskillsClient, tenant_id: str) -> None:
    issued = client.create_scim_token(tenant_id, "Okta", 30)
    assert issued.token.startswith("lsk_scim_")
    assert issued.expires_at is not None and issued.last_used_at is None
    listed = client.list_scim_tokens(tenant_id)
    assert [t.id for t in listed] == [issued.id]
    assert listed[0].name == "Okta"
    assert client.delete_scim_token(tenant_id, issued.id) is True
    assert client.list_scim_tokens(tenant_id) == []


def test_issued_token_repr_hides_the_secret(client: LocalskillsClient, tenant_id: str) -> None:
    issued = client.create_scim_token(tenant_id, "Okta")
    assert issued.token not in repr(issued)
    assert issued.expires_at is None


def test_deleting_a_missing_token_reports_false(client: LocalskillsClient, tenant_id: str) -> None:
    assert client.delete_scim_token(tenant_id, "0" * 32) is False


def test_unknown_tenant_says_so(client: LocalskillsClient) -> None:
    with pytest.raises(NotFoundError, match="Tenant 'no-such-team' does not exist"):
        client.list_scim_tokens("no-such-team")


def test_refused_token_names_where_it_came_from(emulator: Emulator, tenant_id: str) -> None:
    with (
        make_client(emulator, UNKNOWN_API_TOKEN) as client,
        pytest.raises(AuthenticationError) as raised,
    ):
        client.list_scim_tokens(tenant_id)
    assert raised.value.status == 401
    assert "LOCALSKILLS_API_TOKEN" in str(raised.value)
    assert UNKNOWN_API_TOKEN not in str(raised.value)


def test_token_without_membership_gets_403_naming_the_tenant(
    emulator: Emulator, client: LocalskillsClient
) -> None:
    outsiders = f"outsiders-{uuid.uuid4().hex[:8]}"
    outsider_token = "lsk_" + uuid.uuid4().hex * 2  # a member of that tenant only
    response = requests.post(
        f"{emulator.base_url}/_emulator/tenants",
        json={"id": outsiders, "name": "Outsiders", "api_tokens": [outsider_token]},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    with pytest.raises(AuthenticationError) as raised:
        client.create_scim_token(outsiders, "x")
    assert raised.value.status == 403
    assert f"no access to tenant {outsiders!r}" in str(raised.value)


def test_api_validation_error_carries_operation_and_message(
    client: LocalskillsClient, tenant_id: str
) -> None:
    with pytest.raises(ApiError) as raised:
        client.create_scim_token(tenant_id, "x" * 257)
    message = str(raised.value)
    assert raised.value.status == 400
    assert f"tenant {tenant_id!r}" in message and "HTTP 400" in message


def test_get_retries_5xx_until_it_succeeds(
    clean_emulator: Emulator, client: LocalskillsClient, tenant_id: str
) -> None:
    clean_emulator.add_faults(
        [{"method": "GET", "path_prefix": "/api/", "times": 2, "action": "status", "status": 503}]
    )
    assert client.list_scim_tokens(tenant_id) == []
    assert api_calls(clean_emulator) == [("GET", 503), ("GET", 503), ("GET", 200)]


def test_get_honours_retry_after_on_429(
    clean_emulator: Emulator, client: LocalskillsClient, tenant_id: str
) -> None:
    clean_emulator.add_faults(
        [{"method": "GET", "times": 1, "action": "status", "status": 429, "retry_after": 1}]
    )
    assert client.list_scim_tokens(tenant_id) == []
    assert api_calls(clean_emulator) == [("GET", 429), ("GET", 200)]


def test_get_gives_up_after_max_retries(clean_emulator: Emulator, tenant_id: str) -> None:
    clean_emulator.add_faults([{"method": "GET", "times": 10, "action": "status", "status": 502}])
    with make_client(clean_emulator, max_retries=2) as client, pytest.raises(ApiError) as raised:
        client.list_scim_tokens(tenant_id)
    assert raised.value.status == 502
    assert len(api_calls(clean_emulator)) == 3


def test_post_rate_limited_is_resent_as_is(
    clean_emulator: Emulator, client: LocalskillsClient, tenant_id: str
) -> None:
    clean_emulator.add_faults([{"method": "POST", "action": "status", "status": 429}])
    issued = client.create_scim_token(tenant_id, "Okta")
    assert api_calls(clean_emulator) == [("POST", 429), ("POST", 201)]
    assert live_ids(clean_emulator, tenant_id) == {issued.id}


@pytest.mark.parametrize(
    "rule",
    [{"action": "commit_then_status", "status": 500}, {"action": "commit_then_reset"}],
    ids=["commit_then_status", "commit_then_reset"],
)
def test_ambiguous_post_revokes_what_it_created_then_retries(
    clean_emulator: Emulator, client: LocalskillsClient, tenant_id: str, rule: dict[str, Any]
) -> None:
    clean_emulator.add_faults([{"method": "POST", **rule}])
    issued = client.create_scim_token(tenant_id, "Okta")
    methods = [m for m, _ in api_calls(clean_emulator)]
    assert methods == ["POST", "GET", "DELETE", "POST"]
    assert live_ids(clean_emulator, tenant_id) == {issued.id}


def test_reset_before_work_retries_without_revoking(
    clean_emulator: Emulator, client: LocalskillsClient, tenant_id: str
) -> None:
    clean_emulator.add_faults([{"method": "POST", "action": "reset"}])
    issued = client.create_scim_token(tenant_id, "Okta")
    assert [m for m, _ in api_calls(clean_emulator)] == ["POST", "GET", "POST"]
    assert live_ids(clean_emulator, tenant_id) == {issued.id}


def test_ambiguous_post_keeps_tokens_of_the_same_name_issued_earlier(
    clean_emulator: Emulator, client: LocalskillsClient, tenant_id: str
) -> None:
    first = client.create_scim_token(tenant_id, "Okta")
    clean_emulator.add_faults([{"method": "POST", "action": "commit_then_status", "status": 502}])
    second = client.create_scim_token(tenant_id, "Okta")
    assert live_ids(clean_emulator, tenant_id) == {first.id, second.id}


def test_timed_out_post_finds_the_late_token_and_revokes_it(
    clean_emulator: Emulator, tenant_id: str
) -> None:
    # The POST times out; the server creates its token only after the client's first look
    # (LateCommitProxy orders the steps, no timing involved): the client keeps looking, finds
    # it, revokes it, and creates the token it returns.
    with (
        LateCommitProxy(clean_emulator.base_url) as proxy,
        make_client(clean_emulator, base_url=proxy.base_url, timeout=1.0) as client,
    ):
        issued = client.create_scim_token(tenant_id, "Okta")
    assert proxy.listings == 2
    # As the emulator saw them: the first look, the late POST, the second look, the revocation,
    # the retried POST.
    assert api_calls(clean_emulator) == [
        ("GET", 200),
        ("POST", 201),
        ("GET", 200),
        ("DELETE", 200),
        ("POST", 201),
    ]
    assert live_ids(clean_emulator, tenant_id) == {issued.id}


def test_persistent_ambiguous_failure_fails_and_leaves_no_token(
    clean_emulator: Emulator, tenant_id: str
) -> None:
    clean_emulator.add_faults(
        [{"method": "POST", "times": 3, "action": "commit_then_status", "status": 500}]
    )
    with make_client(clean_emulator, max_retries=2) as client, pytest.raises(ApiError) as raised:
        client.create_scim_token(tenant_id, "Okta")
    assert "3 revoked" in str(raised.value)
    assert live_ids(clean_emulator, tenant_id) == set()


def test_unreachable_server_is_a_transport_error() -> None:
    tenant_id = "engineering"
    with make_client(base_url="http://127.0.0.1:9", max_retries=1, backoff_factor=0.01) as client:
        with pytest.raises(TransportError, match="cannot reach"):
            client.list_scim_tokens(tenant_id)
        with pytest.raises(TransportError, match="cannot reach"):
            client.create_scim_token(tenant_id, "x")


def test_concurrent_calls_reuse_pooled_connections(
    clean_emulator: Emulator, client: LocalskillsClient, tenant_id: str
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda _: client.list_scim_tokens(tenant_id), range(40)))
    assert len(clean_emulator.requests_log()) == 40
    assert clean_emulator.connections() <= 4


def test_a_create_that_succeeds_sends_exactly_one_request(
    clean_emulator: Emulator, client: LocalskillsClient, tenant_id: str
) -> None:
    client.create_scim_token(tenant_id, "Okta", 30)
    assert api_calls(clean_emulator) == [("POST", 201)]


def test_delete_retries_5xx_and_a_repeat_that_finds_nothing_still_succeeds(
    clean_emulator: Emulator, client: LocalskillsClient, tenant_id: str
) -> None:
    issued = client.create_scim_token(tenant_id, "Okta")
    clean_emulator.clear_requests()
    clean_emulator.add_faults([{"method": "DELETE", "action": "commit_then_status", "status": 503}])
    assert client.delete_scim_token(tenant_id, issued.id) is False
    assert api_calls(clean_emulator) == [("DELETE", 503), ("DELETE", 404)]
    assert live_ids(clean_emulator, tenant_id) == set()


def test_deadlines_of_many_requests_share_one_watchdog_thread(
    client: LocalskillsClient, tenant_id: str
) -> None:
    def deadline_threads() -> int:
        return sum(t.name == "localskills-deadlines" for t in threading.enumerate())

    before = threading.active_count()
    for _ in range(20):
        client.list_scim_tokens(tenant_id)
    assert deadline_threads() == 1
    assert threading.active_count() <= before + 1


def test_an_ambiguous_create_answered_with_retry_after_waits_that_long_before_the_next_post(
    clean_emulator: Emulator, tenant_id: str
) -> None:
    clean_emulator.add_faults(
        [{"method": "POST", "action": "commit_then_status", "status": 503, "retry_after": 1}]
    )
    with make_client(clean_emulator) as client:  # backoff 0.05 s: only Retry-After waits 1 s
        started = time.monotonic()
        issued = client.create_scim_token(tenant_id, "Okta", 30)
        waited = time.monotonic() - started

    assert waited >= 1.0  # the server asked for 1 s
    assert [m for m, _ in api_calls(clean_emulator)].count("POST") == 2
    assert live_ids(clean_emulator, tenant_id) == {issued.id}  # the orphan was revoked


def test_an_ambiguous_create_never_revokes_another_clients_fresh_token_of_the_same_name(
    clean_emulator: Emulator, tenant_id: str, capsys: pytest.CaptureFixture[str]
) -> None:
    other_stack = clean_emulator.create_token(tenant_id, "Okta", 30)["id"]  # seconds before
    clean_emulator.add_faults([{"method": "POST", "action": "commit_then_status", "status": 503}])

    with make_client(clean_emulator) as client:
        issued = client.create_scim_token(tenant_id, "Okta", 30)

    live = live_ids(clean_emulator, tenant_id)
    assert other_stack in live and issued.id in live
    assert len(live) == 3  # the other stack's, ours, and the reported orphan
    (orphan,) = live - {other_stack, issued.id}
    warning = capsys.readouterr().err
    assert "none was revoked" in warning
    assert other_stack in warning and orphan in warning
    assert [m for m, _ in api_calls(clean_emulator)].count("DELETE") == 0
