"""What a server answers is hostile too.

Each test points the real host at a server that answers one way wrong, and asserts the error
the engine gets: one exception, of the package's tree, naming the field or the fix, and no raw
Python error or secret in it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import pytest

from localskills_pulumi.client import LocalskillsClient
from localskills_pulumi.errors import (
    ApiError,
    LocalskillsError,
    MalformedResponseError,
    NotFoundError,
    OrphanedTokenError,
    RedirectError,
    TenantNotFoundError,
    TransportError,
)
from localskills_pulumi.settings import Credentials, Settings
from localskills_pulumi.testing.provider_client import ProviderError
from tests.host.scim import props, scim_urn
from tests.hostile.servers import (
    Connection,
    HostileServer,
    Request,
    Responder,
    Router,
    answer,
    json_answer,
    token_item,
)
from tests.hostile.support import (
    API_TOKEN,
    TENANT,
    TOKEN_ID,
    HostPair,
    afresh,
    assert_clean_error,
    create,
    delete,
    hostile,
    read,
    token_outputs,
)


def listing(*items: Any) -> bytes:
    return json_answer(200, {"success": True, "data": list(items)})


EMPTY_LISTING = Router.fixed(listing())


# -- malformed 2xx data ----------------------------------------------------------------------------

MALFORMED_LISTINGS: dict[str, tuple[bytes, str]] = {
    "item without id": (listing(token_item(id=None)), "field 'id' is missing"),
    "item without createdAt": (listing(token_item(createdAt=None)), "'createdAt' is missing"),
    "item a string": (listing("tok1"), "a SCIM token must be a JSON object, got str"),
    "createdAt yesterday": (
        listing(token_item(createdAt="yesterday")),
        "field 'createdAt' is not an ISO 8601 timestamp: 'yesterday'",
    ),
    "numeric expiresAt": (
        listing(token_item(expiresAt=1767225600)),
        "field 'expiresAt' must be an ISO 8601 timestamp string, got int",
    ),
    "expiresAt past year 9999 in UTC": (
        listing(token_item(expiresAt="9999-12-31T23:59:59-23:59")),
        "field 'expiresAt' is not an ISO 8601 timestamp",
    ),
    "id with a slash": (listing(token_item(token_id="a/b")), "field 'id' must not contain '/'"),
    "id a dot segment": (listing(token_item(token_id="..")), "field 'id' must not be '..'"),
    "id a number": (listing(token_item(token_id=7)), "field 'id' must be a string, not int"),
    "name a list": (listing(token_item(name=["Okta"])), "field 'name' must be a string"),
    "data an object": (
        json_answer(200, {"success": True, "data": {"id": "tok1"}}),
        "its data must be a list",
    ),
    "envelope a list": (json_answer(200, []), "not the API's JSON envelope"),
    "not JSON": (answer(200, b"<html>hello</html>", content_type="text/html"), "<html>hello"),
    "not UTF-8": (answer(200, b'{"success": true, "data": ["\xff\xfe"]}'), "not the API's"),
    "nested 100000 deep": (answer(200, b"[" * 100_000 + b"]" * 100_000), "not the API's"),
    "number with 100000 digits": (answer(200, b"1" * 100_000), "not the API's JSON envelope"),
}


@pytest.mark.parametrize("case", list(MALFORMED_LISTINGS), ids=list(MALFORMED_LISTINGS))
def test_a_malformed_listing_fails_the_read_naming_the_field(case: str) -> None:
    body, words = MALFORMED_LISTINGS[case]
    with hostile(Router.fixed(body)) as (_server, host), pytest.raises(ProviderError) as raised:
        read(host)
    assert_clean_error(raised.value, MalformedResponseError, "list SCIM tokens", words)


def issued(*, token: str | None = "lsk_scim_" + "5" * 40, **fields: Any) -> dict[str, Any]:
    """A create's ``data``: a token item with its secret (``token=None`` leaves it out)."""
    item = token_item(**fields)
    item.pop("lastUsedAt", None)
    if token is not None:
        item["token"] = token
    return item


MALFORMED_CREATES: dict[str, tuple[Any, str]] = {
    "id with a slash": (issued(token_id="a/b"), "field 'id' must not contain '/'"),
    "id empty": (issued(token_id=""), "field 'id' must not be blank"),
    "id a dot segment": (issued(token_id=".."), "field 'id' must not be '..'"),
    "no secret": (issued(token=None), "field 'token' is missing"),
    "data a string": ("tok1", "a SCIM token must be a JSON object, got str"),
    "createdAt yesterday": (issued(createdAt="yesterday"), "'createdAt' is not an ISO 8601"),
}


@pytest.mark.parametrize("case", list(MALFORMED_CREATES), ids=list(MALFORMED_CREATES))
def test_a_malformed_create_answer_is_refused_and_its_token_looked_for(case: str) -> None:
    data, words = MALFORMED_CREATES[case]
    router = Router(
        {
            ("POST", r".*"): Router.fixed(json_answer(201, {"success": True, "data": data})),
            ("GET", r".*"): EMPTY_LISTING,
        }
    )
    with hostile(router) as (server, host), pytest.raises(ProviderError) as raised:
        create(host)
    message = assert_clean_error(
        raised.value, MalformedResponseError, "create SCIM token 'Okta'", words, "2 attempts"
    )
    assert "lsk_scim_" not in message
    # An unreadable 2xx may have created a token: the tenant is looked at before the retry.
    assert [r.method for r in server.requests] == ["POST", "GET", "POST", "GET"]


def test_a_numeric_expires_at_left_in_state_does_not_crash_diff() -> None:
    # The token is live (the plan's liveness check finds it): only expiry could replace it.
    with hostile(Router.fixed(listing(token_item()))) as (_server, host):
        olds = token_outputs(expires_in_days=30, rotate_before_days=5, expires_at=1767225600)
        news = props(tenant_id=TENANT, name="Okta", expires_in_days=30, rotate_before_days=5)
        diff = host.diff(f"{TENANT}/{TOKEN_ID}", scim_urn(), olds, news)
    assert diff.changes == "DIFF_NONE"


def test_an_absurd_server_date_does_not_break_expiry_arithmetic() -> None:
    # A Date in the year 9999: expiry is judged by the server's clock, but not by one that
    # cannot be a real clock (adding a rotation window to it would overflow).
    def respond(request: Request, conn: Connection) -> bool:
        body = json.dumps({"success": True, "data": [token_item()]}).encode()
        conn.send(answer(200, body, [("Date", "Fri, 31 Dec 9999 23:59:59 GMT")]))
        return True

    with hostile(respond) as (_server, host):
        outputs = token_outputs(expires_in_days=365, rotate_before_days=30)
        assert read(host).id == f"{TENANT}/{TOKEN_ID}"
        news = props(tenant_id=TENANT, name="Okta", expires_in_days=365, rotate_before_days=30)
        diff = host.diff(f"{TENANT}/{TOKEN_ID}", scim_urn(), outputs, news)
    assert diff.changes == "DIFF_NONE"  # the token expires in 2027, judged by this machine


# -- Retry-After that is neither seconds nor a date ------------------------------------------------

BAD_RETRY_AFTER = ["soon", "-1", "1e3", "Fri, 99 Foo 2025", "", "1" + "0" * 400 + "x"]


def unavailable(retry_after: str, status: int = 503) -> bytes:
    return json_answer(status, {"success": False, "error": "busy"}, [("Retry-After", retry_after)])


@pytest.mark.parametrize("retry_after", BAD_RETRY_AFTER)
def test_an_unreadable_retry_after_is_ignored_and_the_read_retried(retry_after: str) -> None:
    responder = Router.sequence(
        Router.fixed(unavailable(retry_after)), Router.fixed(listing(token_item()))
    )
    with hostile(responder) as (server, host):
        assert read(host).id == f"{TENANT}/{TOKEN_ID}"
    assert len(server.requests) == 2


def test_an_unreadable_retry_after_on_every_answer_ends_in_the_api_error() -> None:
    with (
        hostile(Router.fixed(unavailable("soon"))) as (server, host),
        pytest.raises(ProviderError) as raised,
    ):
        read(host)
    assert_clean_error(raised.value, ApiError, "HTTP 503", "busy")
    assert len(server.requests) == 2


def test_a_rate_limited_create_with_an_unreadable_retry_after_is_resent() -> None:
    responder = Router.sequence(
        Router.fixed(unavailable("soon", 429)),
        Router.fixed(json_answer(201, {"success": True, "data": issued()})),
    )
    with hostile(responder) as (server, host):
        id_, _ = create(host)
    assert id_ == f"{TENANT}/{TOKEN_ID}"
    assert [r.method for r in server.requests] == ["POST", "POST"]


# -- redirects -------------------------------------------------------------------------------------


def redirect_to(location: str, status: int) -> Router:
    headers = [("Location", location)]
    return Router({("*", r".*"): Router.fixed(json_answer(status, {}, headers))})


CALLS = {"read": read, "create": create, "delete": delete}


@pytest.fixture(scope="module")
def one_host() -> Iterator[HostPair]:
    """One server and one host for the redirect and echo cases, each of which sets the
    server's responder (:func:`afresh`): they fail before anything is cached or handed back,
    so no case sees another's."""
    with hostile(Router.fixed(listing())) as pair:
        yield pair


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
@pytest.mark.parametrize("call", list(CALLS))
def test_a_cross_origin_redirect_is_not_followed_and_names_the_location(
    call: str, status: int, one_host: HostPair
) -> None:
    with HostileServer(Router.fixed(listing())) as elsewhere:
        location = f"{elsewhere.base_url}/api/tenants/{TENANT}/scim-tokens/{TOKEN_ID}"
        server, host = afresh(one_host, redirect_to(location, status))
        with pytest.raises(ProviderError) as raised:
            CALLS[call](host)
        assert elsewhere.requests == [], "the redirect was followed"
    assert_clean_error(raised.value, RedirectError, f"HTTP {status}", location, "never followed")
    assert len(server.requests) == 1


def test_a_same_origin_redirect_is_not_followed_either() -> None:
    with (
        hostile(redirect_to("/api/v2/elsewhere", 307)) as (server, host),
        pytest.raises(ProviderError) as raised,
    ):
        delete(host)
    assert_clean_error(raised.value, RedirectError, "/api/v2/elsewhere")
    assert [r.path for r in server.requests] == [f"/api/tenants/{TENANT}/scim-tokens/{TOKEN_ID}"]


def test_a_redirect_location_holding_a_secret_is_redacted() -> None:
    location = f"https://evil.example/?key={API_TOKEN}&scim=lsk_scim_{'7' * 40}"
    with (
        hostile(redirect_to(location, 302)) as (_server, host),
        pytest.raises(ProviderError) as raised,
    ):
        read(host)
    message = assert_clean_error(raised.value, RedirectError, "https://evil.example/?key=")
    assert API_TOKEN not in raised.value.details and "lsk_scim_" not in raised.value.details
    assert "[redacted]" in message


# -- servers that echo what they were sent ---------------------------------------------------------


def echo_headers(status: int, *, enveloped: bool) -> Router:
    def respond(request: Request, conn: Connection) -> bool:
        text = " ".join(f"{name}: {value}" for name, value in request.headers.items())
        if enveloped:
            conn.send(json_answer(status, {"success": False, "error": f"bad request {text}"}))
        else:
            conn.send(answer(status, f"bad request {text}".encode(), content_type="text/plain"))
        return True

    return Router({("*", r".*"): respond})


@pytest.mark.parametrize("enveloped", [True, False], ids=["envelope", "plain text"])
@pytest.mark.parametrize("status", [400, 500])
@pytest.mark.parametrize("call", list(CALLS))
def test_a_server_echoing_the_authorization_header_never_gets_it_into_an_error(
    call: str, status: int, enveloped: bool, one_host: HostPair
) -> None:
    server, host = afresh(one_host, echo_headers(status, enveloped=enveloped))
    with pytest.raises(ProviderError) as raised:
        CALLS[call](host)
    stderr = host.stderr_text()
    if call == "create" and status >= 500:
        # The POST may have made a token; looking for it lists the tenant, which fails too.
        expected: type[LocalskillsError] = OrphanedTokenError
    else:
        expected = ApiError
    message = assert_clean_error(raised.value, expected, f"HTTP {status}", "bad request")
    assert server.requests[0].headers["authorization"] == f"Bearer {API_TOKEN}"
    assert API_TOKEN not in raised.value.details and API_TOKEN not in stderr
    assert "Bearer [redacted]" in message


def echo_in_a_header_line(request: Request, conn: Connection) -> bool:
    """A listing whose head holds a line that is no header: the request's Authorization."""
    echoed = request.headers["authorization"]
    body = json.dumps({"success": True, "data": [token_item()]}).encode()
    head = (
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n{echoed} is not a header\r\n\r\n"
    )
    conn.send(head.encode() + body)
    return True


def test_a_header_line_echoing_the_token_stays_out_of_the_hosts_log() -> None:
    with hostile(echo_in_a_header_line) as (_server, host):
        assert read(host).id == f"{TENANT}/{TOKEN_ID}"
        stderr = host.stderr_text()
    assert API_TOKEN not in stderr


def test_urllib3_logs_of_server_text_are_redacted(caplog: pytest.LogCaptureFixture) -> None:
    # urllib3 logs the raw text of a header line it cannot parse. The host configures no
    # logging, but a program (or the CLI's user) may: the records are redacted at the source.
    with HostileServer(echo_in_a_header_line) as server:
        credentials = Credentials(API_TOKEN, server.base_url, "test")
        client = LocalskillsClient(Settings(credentials, request_timeout=5, max_retries=0))
        with client, caplog.at_level(logging.DEBUG, logger="urllib3"):
            assert [t.id for t in client.list_scim_tokens(TENANT)] == [TOKEN_ID]
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "is not a header" in logged  # urllib3 did log the line
    assert API_TOKEN not in logged and "Bearer [redacted] is not a header" in logged


# -- 404s on delete --------------------------------------------------------------------------------


def not_found(message: str | None) -> Router:
    if message is None:
        body = answer(404, b"<html>Not Found</html>", content_type="text/html")
    else:
        body = json_answer(404, {"success": False, "error": message})
    return Router.fixed(body)


def test_deleting_in_a_tenant_the_api_does_not_know_says_what_to_do() -> None:
    with (
        hostile(not_found("Tenant not found")) as (_server, host),
        pytest.raises(ProviderError) as raised,
    ):
        delete(host)
    assert_clean_error(
        raised.value,
        TenantNotFoundError,
        "Tenant not found",
        "base URL",
        "pulumi state delete",
    )


def test_a_404_that_names_nothing_on_delete_is_not_counted_as_revoked() -> None:
    with hostile(not_found(None)) as (_server, host), pytest.raises(ProviderError) as raised:
        delete(host)
    assert_clean_error(raised.value, NotFoundError, "HTTP 404", "check the base URL")


@pytest.mark.parametrize(
    "body",
    [
        json_answer(404, {"success": False, "error": "SCIM token not found"}),
        answer(204, b""),
        answer(200, b""),
        json_answer(200, {"success": True}),
    ],
    ids=["token not found", "204", "empty 200", "envelope"],
)
def test_a_delete_answered_gone_or_done_succeeds(body: bytes) -> None:
    with hostile(Router.fixed(body)) as (server, host):
        delete(host)
    assert [r.method for r in server.requests] == ["DELETE"]


# -- the search for the token an ambiguous create may have made, against a hostile listing ---------


def now_iso() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def failing_create_then(listing_responder: Responder, delete_responder: Responder) -> Router:
    return Router(
        {
            ("POST", r".*"): Router.fixed(json_answer(500, {"success": False, "error": "oops"})),
            ("GET", r".*"): listing_responder,
            ("DELETE", r".*"): delete_responder,
        }
    )


def test_a_listing_full_of_same_named_new_tokens_is_not_revoked_blindly() -> None:
    def crowded(request: Request, conn: Connection) -> bool:
        items = [token_item(f"t{n}", createdAt=now_iso()) for n in range(17)]
        conn.send(listing(*items))
        return True

    gone = Router.fixed(json_answer(200, {"success": True}))
    responder = failing_create_then(crowded, gone)
    with hostile(responder) as (server, host), pytest.raises(ProviderError) as raised:
        create(host)
    assert_clean_error(raised.value, OrphanedTokenError, "17 tokens named 'Okta'", "none was")
    assert server.requests_to("DELETE") == []
    assert len(server.requests_to("POST")) == 1


def test_a_token_the_search_cannot_revoke_is_named_in_the_error() -> None:
    def one_new(request: Request, conn: Connection) -> bool:
        conn.send(listing(token_item("t9", createdAt=now_iso())))
        return True

    refused = Router.fixed(json_answer(403, {"success": False, "error": "Forbidden"}))
    responder = failing_create_then(one_new, refused)
    with hostile(responder) as (_, host), pytest.raises(ProviderError) as raised:
        create(host)
    assert_clean_error(
        raised.value, OrphanedTokenError, "token 't9' named 'Okta'", "could not be revoked", "403"
    )


# -- answers broken at the protocol level ----------------------------------------------------------


def raw(data: bytes, *, then_reset: bool = False) -> Responder:
    def respond(request: Request, conn: Connection) -> bool:
        conn.send(data)
        if then_reset:
            conn.reset()
        return False

    return respond


BROKEN_ANSWERS: dict[str, Responder] = {
    "garbage status line": raw(b"HTTP/1.1 abc OK\r\n\r\n"),
    "not HTTP at all": raw(b"SSH-2.0-OpenSSH_9.6\r\n"),
    "200 header lines": raw(
        b"HTTP/1.1 200 OK\r\n" + b"".join(b"X-%d: y\r\n" % n for n in range(200)) + b"\r\n"
    ),
    "a 100 KB header line": raw(b"HTTP/1.1 200 OK\r\nX-Big: " + b"y" * 100_000 + b"\r\n\r\n"),
    "bad chunk size": raw(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n"
    ),
    "body shorter than Content-Length": raw(
        b'HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n{"success": true, "data": []}'
    ),
    "reset mid-body": raw(
        b'HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n{"success": true', then_reset=True
    ),
    "reset before any answer": raw(b"", then_reset=True),
}


@pytest.mark.parametrize("case", list(BROKEN_ANSWERS), ids=list(BROKEN_ANSWERS))
def test_a_broken_answer_is_retried_then_a_transport_error(case: str) -> None:
    with hostile(BROKEN_ANSWERS[case]) as (server, host):
        with pytest.raises(ProviderError) as raised:
            read(host)
        assert_clean_error(raised.value, TransportError, "list SCIM tokens")
        assert len(server.requests_to("GET")) == 2  # the first attempt and one retry
