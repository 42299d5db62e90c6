"""Hostile input to the emulator, over real sockets: every answer is a clean 4xx, never a 500.

Nesting, huge numbers, lone surrogates, broken framing, truncated bodies, odd paths and
clock moves to the end of time each get a 400 (or 404, 413, 414, 431) in the envelope of the
API that was called, nothing is stored, and the emulator keeps working afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from localskills_pulumi.emulator.messages import MAX_JSON_DEPTH
from localskills_pulumi.testing.emulator import DEMO_API_TOKEN, Emulator
from tests.emulator.support import Connection, RawAnswer, exchange, request_bytes

TIMEOUT = 10
AUTH = {"Authorization": f"Bearer {DEMO_API_TOKEN}"}
JSON = {"Content-Type": "application/json"}
SCIM_TYPE = "application/scim+json"
SCIM_ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
BEYOND_RECURSION = 100_000
"""A nesting depth far past Python's recursion limit."""


def nested(depth: int) -> bytes:
    """A JSON object whose ``extra`` member nests arrays so that the body is ``depth`` deep."""
    arrays = depth - 1
    return b'{"name": "deep", "extra": ' + b"[" * arrays + b"0" + b"]" * arrays + b"}"


def _parts(response: requests.Response | RawAnswer) -> tuple[int, str | None, Any]:
    """(status, Content-Type, JSON body) of either kind of answer."""
    if isinstance(response, RawAnswer):
        return response.status, response.header("Content-Type"), response.json()
    return response.status_code, response.headers.get("Content-Type"), response.json()


def assert_api_error(response: requests.Response | RawAnswer, status: int) -> str:
    """The API envelope with ``status``; returns the message."""
    code, kind, body = _parts(response)
    assert code == status, body
    assert kind == "application/json"
    assert body["success"] is False and set(body) == {"success", "error"}
    return str(body["error"])


def assert_scim_error(
    response: requests.Response | RawAnswer, status: int, scim_type: str | None
) -> str:
    """A SCIM error with ``status`` and ``scimType``; returns the detail."""
    code, kind, body = _parts(response)
    assert code == status, body
    assert kind == SCIM_TYPE
    assert body["schemas"] == [SCIM_ERROR] and body["status"] == str(status)
    assert body.get("scimType") == scim_type
    return str(body["detail"])


def assert_admin_error(response: requests.Response | RawAnswer, status: int) -> str:
    """An admin error ``{"error": ...}`` with ``status``; returns the message."""
    code, kind, body = _parts(response)
    assert code == status, body
    assert kind == "application/json"
    assert set(body) == {"error"}
    return str(body["error"])


@pytest.fixture
def secret(emulator: Emulator, tenant_id: str) -> str:
    """A SCIM token of the test's tenant."""
    return str(emulator.create_token(tenant_id, "Okta")["token"])


def scim_users(emulator: Emulator, secret: str, **params: Any) -> requests.Response:
    return requests.get(
        f"{emulator.base_url}/scim/v2/Users",
        params=params,
        headers={"Authorization": f"Bearer {secret}"},
        timeout=TIMEOUT,
    )


def post_user(emulator: Emulator, secret: str, body: bytes) -> requests.Response:
    return requests.post(
        f"{emulator.base_url}/scim/v2/Users",
        data=body,
        headers={"Authorization": f"Bearer {secret}", "Content-Type": SCIM_TYPE},
        timeout=TIMEOUT,
    )


def post_create(emulator: Emulator, tenant_id: str, body: bytes) -> requests.Response:
    return requests.post(
        emulator.tokens_url(tenant_id), data=body, headers={**AUTH, **JSON}, timeout=TIMEOUT
    )


# -- deeply nested JSON --------------------------------------------------------------------


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, BEYOND_RECURSION])
def test_deeply_nested_create_body_is_400_in_the_api_envelope_and_stores_nothing(
    emulator: Emulator, tenant_id: str, depth: int
) -> None:
    message = assert_api_error(post_create(emulator, tenant_id, nested(depth)), 400)
    assert "nested" in message and str(MAX_JSON_DEPTH) in message
    assert emulator.list_tokens(tenant_id) == []


def test_create_body_nested_to_the_limit_is_accepted(emulator: Emulator, tenant_id: str) -> None:
    response = post_create(emulator, tenant_id, nested(MAX_JSON_DEPTH))
    assert response.status_code == 201


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, BEYOND_RECURSION])
def test_deeply_nested_scim_user_is_a_scim_400_invalid_syntax(
    emulator: Emulator, secret: str, depth: int
) -> None:
    body = b'{"userName": "deep", "name": ' + nested(depth - 1) + b"}"
    assert "nested" in assert_scim_error(post_user(emulator, secret, body), 400, "invalidSyntax")
    assert scim_users(emulator, secret).json()["totalResults"] == 0


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, BEYOND_RECURSION])
@pytest.mark.parametrize("route", ["faults", "tenants", "clock"])
def test_deeply_nested_admin_body_is_400_admin_json(
    clean_emulator: Emulator, route: str, depth: int
) -> None:
    before = clean_emulator.now()
    response = requests.post(
        f"{clean_emulator.base_url}/_emulator/{route}", data=nested(depth), timeout=TIMEOUT
    )
    message = assert_admin_error(response, 400)
    assert message.startswith("body: ") and "nested" in message
    assert clean_emulator.faults() == []
    assert clean_emulator.now()[:4] == before[:4]


# -- SCIM paging ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("startIndex", 2**64),
        ("startIndex", 2**63),
        ("startIndex", -(2**64)),
        ("count", 2**64),
        ("count", -(2**64)),
    ],
)
def test_out_of_range_paging_is_a_scim_400_invalid_value(
    emulator: Emulator, secret: str, name: str, value: int
) -> None:
    detail = assert_scim_error(scim_users(emulator, secret, **{name: value}), 400, "invalidValue")
    assert name in detail


def test_largest_start_index_answers_an_empty_page(emulator: Emulator, secret: str) -> None:
    body = scim_users(emulator, secret, startIndex=2**63 - 1, count=2**63 - 1).json()
    assert body["startIndex"] == 2**63 - 1
    assert body["Resources"] == [] and body["itemsPerPage"] == 0


# -- the clock -----------------------------------------------------------------------------


@pytest.fixture
def own_emulator() -> Iterator[Emulator]:
    """An emulator of its own: these tests move its clock to the ends of time."""
    with Emulator() as running:
        yield running


def move_clock(emulator: Emulator, body: bytes) -> requests.Response:
    return requests.post(f"{emulator.base_url}/_emulator/clock", data=body, timeout=TIMEOUT)


def test_clock_moves_past_the_latest_date_are_refused_and_creates_keep_working(
    own_emulator: Emulator,
) -> None:
    responses = []
    for _ in range(40):  # 40 x 9.9e9 s is 12 500 years: far past 9999
        responses.append(move_clock(own_emulator, b'{"advance_seconds": 9.9e9}'))
        if responses[-1].status_code != 200:
            break
    refused = responses[-1]
    message = assert_admin_error(refused, 400)
    assert message.startswith("advance_seconds: ") and "9899-" in message
    now = own_emulator.now()
    assert "9000" < now < "9990"  # it stopped at the last allowed move
    tenant = own_emulator.new_tenant()
    token = own_emulator.create_token(tenant, "late", expires_in_days=3650)
    assert token["createdAt"][:4] == now[:4]
    assert token["expiresAt"][:4] <= "9999" and len(token["expiresAt"]) == 20
    assert own_emulator.scim_get_users(token["token"]).status_code == 200
    assert [t["id"] for t in own_emulator.list_tokens(tenant)] == [token["id"]]
    assert move_clock(own_emulator, b'{"advance_seconds": -9.9e9}').status_code == 200


def test_clock_move_before_1970_is_refused_and_leaves_the_clock(own_emulator: Emulator) -> None:
    before = own_emulator.now()
    message = assert_admin_error(move_clock(own_emulator, b'{"advance_seconds": -9.9e9}'), 400)
    assert "1970-01-01T00:00:00Z" in message
    assert own_emulator.now()[:10] == before[:10]
    tenant = own_emulator.new_tenant()
    assert (
        own_emulator.create_token(tenant, "now", expires_in_days=1)["createdAt"][:10]
        == (before[:10])
    )


@pytest.mark.parametrize(
    "body",
    [b'{"advance_seconds": 1e400}', b'{"advance_seconds": NaN}', b'{"advance_seconds": 1e10}'],
    ids=["overflows-to-infinity", "nan", "too-large"],
)
def test_clock_move_by_a_non_finite_or_huge_number_is_400(emulator: Emulator, body: bytes) -> None:
    before = emulator.now()
    assert_admin_error(move_clock(emulator, body), 400)
    assert emulator.now()[:10] == before[:10]


def test_clock_move_by_minus_zero_is_no_move(emulator: Emulator) -> None:
    before = emulator.now()
    response = move_clock(emulator, b'{"advance_seconds": -0.0}')
    assert response.status_code == 200
    assert response.json()["now"][:10] == before[:10]


# -- truncated and malformed bodies --------------------------------------------------------


def test_body_shorter_than_its_content_length_then_eof_is_400_and_stores_nothing(
    emulator: Emulator, tenant_id: str
) -> None:
    body = b'{"name": "half"}'  # complete JSON, but 20 bytes fewer than announced
    path = f"/api/tenants/{tenant_id}/scim-tokens"
    headers = {**AUTH, **JSON, "Content-Length": str(len(body) + 20)}
    answer = exchange(emulator.base_url, request_bytes("POST", path, headers, body))
    assert "shorter" in assert_api_error(answer, 400)
    assert answer.header("Connection") == "close"
    assert emulator.list_tokens(tenant_id) == []


def test_chunked_body_cut_short_then_eof_is_400_and_stores_nothing(
    emulator: Emulator, tenant_id: str
) -> None:
    body = b'{"name": "half"}'
    chunked = f"{len(body) + 20:x}\r\n".encode() + body  # the chunk promises 20 more bytes
    headers = {**AUTH, **JSON, "Transfer-Encoding": "chunked"}
    path = f"/api/tenants/{tenant_id}/scim-tokens"
    answer = exchange(emulator.base_url, request_bytes("POST", path, headers, chunked))
    assert_api_error(answer, 400)
    assert emulator.list_tokens(tenant_id) == []


def test_truncated_scim_user_body_is_a_scim_400_and_stores_nothing(
    emulator: Emulator, secret: str
) -> None:
    body = b'{"userName": "half"}'
    headers = {"Authorization": f"Bearer {secret}", "Content-Length": str(len(body) + 5)}
    answer = exchange(emulator.base_url, request_bytes("POST", "/scim/v2/Users", headers, body))
    assert_scim_error(answer, 400, None)
    assert scim_users(emulator, secret).json()["totalResults"] == 0


@pytest.mark.parametrize(
    ("length", "status"),
    [("-1", 400), ("1e3", 400), ("\u00b2", 400), ("5, 5", 400), ("9" * 30, 413)],
    ids=["negative", "float", "superscript-two", "list", "huge"],
)
def test_unusable_content_length_is_refused_in_the_envelope(
    emulator: Emulator, tenant_id: str, length: str, status: int
) -> None:
    headers = {**AUTH, **JSON, "Content-Length": length}
    path = f"/api/tenants/{tenant_id}/scim-tokens"
    answer = exchange(emulator.base_url, request_bytes("POST", path, headers, b'{"name": "x"}'))
    assert_api_error(answer, status)
    assert emulator.list_tokens(tenant_id) == []


@pytest.mark.parametrize(
    ("size", "status"), [("-5", 400), ("0x5", 400), ("", 400), ("f" * 20, 413)]
)
def test_unusable_chunk_size_is_refused(
    emulator: Emulator, tenant_id: str, size: str, status: int
) -> None:
    chunked = f"{size}\r\n".encode() + b'{"name": "x"}\r\n0\r\n\r\n'
    headers = {**AUTH, **JSON, "Transfer-Encoding": "chunked"}
    path = f"/api/tenants/{tenant_id}/scim-tokens"
    assert_api_error(
        exchange(emulator.base_url, request_bytes("POST", path, headers, chunked)), status
    )
    assert emulator.list_tokens(tenant_id) == []


def test_endless_chunked_trailers_are_refused(emulator: Emulator, tenant_id: str) -> None:
    trailers = b"".join(b"X-T%d: v\r\n" % i for i in range(200))
    chunked = b'd\r\n{"name": "x"}\r\n0\r\n' + trailers + b"\r\n"
    headers = {**AUTH, **JSON, "Transfer-Encoding": "chunked"}
    path = f"/api/tenants/{tenant_id}/scim-tokens"
    answer = exchange(emulator.base_url, request_bytes("POST", path, headers, chunked))
    assert_api_error(answer, 431)
    assert emulator.list_tokens(tenant_id) == []


def test_chunked_body_with_a_few_trailers_is_read(emulator: Emulator, tenant_id: str) -> None:
    chunked = b'd\r\n{"name": "x"}\r\n0\r\nX-Checksum: 1\r\n\r\n'
    headers = {**AUTH, **JSON, "Transfer-Encoding": "chunked"}
    path = f"/api/tenants/{tenant_id}/scim-tokens"
    answer = exchange(emulator.base_url, request_bytes("POST", path, headers, chunked))
    assert answer.status == 201


def test_framing_errors_on_scim_and_admin_paths_use_their_envelopes(emulator: Emulator) -> None:
    bad = {"Content-Length": "nope"}
    scim = exchange(emulator.base_url, request_bytes("POST", "/scim/v2/Users", bad, b"{}"))
    assert_scim_error(scim, 400, None)
    admin = exchange(emulator.base_url, request_bytes("POST", "/_emulator/faults", bad, b"[]"))
    assert_admin_error(admin, 400)


# -- oversized request lines and headers ---------------------------------------------------


def test_overlong_request_line_is_414_in_the_envelope(emulator: Emulator) -> None:
    path = "/api/tenants/" + "a" * 70_000 + "/scim-tokens"
    answer = exchange(emulator.base_url, request_bytes("GET", path, AUTH))
    assert_api_error(answer, 414)


def test_oversized_header_line_is_431_in_the_envelope(emulator: Emulator, tenant_id: str) -> None:
    headers = {**AUTH, "X-Padding": "x" * 70_000}
    path = f"/api/tenants/{tenant_id}/scim-tokens"
    assert_api_error(exchange(emulator.base_url, request_bytes("GET", path, headers)), 431)


def test_too_many_headers_is_431_in_the_envelope(emulator: Emulator, tenant_id: str) -> None:
    headers = {**AUTH, **{f"X-H{i}": "v" for i in range(150)}}
    path = f"/api/tenants/{tenant_id}/scim-tokens"
    assert_api_error(exchange(emulator.base_url, request_bytes("GET", path, headers)), 431)


# -- odd paths -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "segment", ["%zz", "%ff%fe", "%", "%00", "%E2%82", "%2e%2e", "%5C"], ids=repr
)
def test_malformed_or_odd_percent_encoding_in_the_tenant_is_404_tenant_not_found(
    emulator: Emulator, segment: str
) -> None:
    path = f"/api/tenants/{segment}/scim-tokens"
    answer = exchange(emulator.base_url, request_bytes("GET", path, AUTH))
    assert assert_api_error(answer, 404) == "Tenant not found"


def test_raw_non_utf8_bytes_in_the_path_are_404_tenant_not_found(emulator: Emulator) -> None:
    payload = request_bytes("GET", "/api/tenants/\xff\xfe/scim-tokens", AUTH)  # latin-1 bytes
    answer = exchange(emulator.base_url, payload)
    assert assert_api_error(answer, 404) == "Tenant not found"


def test_malformed_percent_encoding_in_a_scim_user_id_is_a_scim_404(
    emulator: Emulator, secret: str
) -> None:
    headers = {"Authorization": f"Bearer {secret}"}
    answer = exchange(emulator.base_url, request_bytes("GET", "/scim/v2/Users/%ff%zz", headers))
    assert assert_scim_error(answer, 404, None) == "User not found"


# -- strings and numbers -------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b'{"name": "\\ud800"}',
        b'{"name": "ok", "x": "\\udfff"}',
        b'{"name": "ok", "\\ud800": 1}',
        b'{"name": "x", "expiresInDays": 1e308}',
        b'{"name": "x", "expiresInDays": 1e400}',
        b'{"name": "x", "expiresInDays": -0}',
        b'{"name": "x", "expiresInDays": -0.0}',
        b'{"name": "x", "expiresInDays": 1E1}',
        b'{"name": "x", "expiresInDays": ' + b"9" * 5000 + b"}",
        b'{"name": "x", "expiresInDays": -Infinity}',
    ],
    ids=[
        "lone-high-surrogate",
        "lone-low-surrogate-elsewhere",
        "surrogate-key",
        "1e308",
        "1e400",
        "minus-zero",
        "minus-zero-float",
        "float-ten",
        "5000-digits",
        "minus-infinity",
    ],
)
def test_unusable_strings_and_numbers_in_a_create_are_400(
    emulator: Emulator, tenant_id: str, body: bytes
) -> None:
    assert_api_error(post_create(emulator, tenant_id, body), 400)
    assert emulator.list_tokens(tenant_id) == []


def test_lone_surrogate_in_a_scim_user_is_a_scim_400(emulator: Emulator, secret: str) -> None:
    response = post_user(emulator, secret, b'{"userName": "\\ud800x"}')
    assert_scim_error(response, 400, "invalidSyntax")
    assert scim_users(emulator, secret).json()["totalResults"] == 0


def test_lone_surrogate_in_a_scim_filter_is_a_scim_400(emulator: Emulator, secret: str) -> None:
    response = scim_users(emulator, secret, filter='userName eq "\\ud800"')
    assert_scim_error(response, 400, "invalidFilter")


def test_lone_surrogate_in_an_admin_tenant_is_400(emulator: Emulator) -> None:
    response = requests.post(
        f"{emulator.base_url}/_emulator/tenants",
        data=b'{"id": "surrogate-tenant", "name": "\\ud800"}',
        timeout=TIMEOUT,
    )
    assert_admin_error(response, 400)
    retry = requests.post(
        f"{emulator.base_url}/_emulator/tenants",
        json={"id": "surrogate-tenant", "name": "fine"},
        timeout=TIMEOUT,
    )
    assert retry.status_code == 201  # nothing of the refused one was stored


# -- faults with a status that carries no body ---------------------------------------------


@pytest.mark.parametrize("status", [204, 304])
def test_bodiless_fault_status_sends_no_body_and_the_connection_stays_usable(
    clean_emulator: Emulator, tenant_id: str, status: int
) -> None:
    clean_emulator.add_faults([{"method": "GET", "action": "status", "status": status}])
    request = request_bytes("GET", f"/api/tenants/{tenant_id}/scim-tokens", AUTH)
    with Connection(clean_emulator.base_url) as connection:
        first = connection.send(request)
        assert first.status == status
        assert first.header("Content-Length") is None and first.body == b""
        second = connection.send(request)  # would read the first body's bytes as its head
        assert second.status == 200
        assert second.json() == {"success": True, "data": []}
    assert clean_emulator.connections() == 1
