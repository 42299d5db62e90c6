"""A server that trickles bytes cannot keep a call alive.

Each server here would trickle one byte every quarter second for two minutes. Through the real
host, with ``requestTimeout`` 1 s and ``maxRetries`` 1, every read, create and delete ends with
:class:`DeadlineExceededError` while the server is still willing to send; the client hangs up
each connection after at most about 1 s of bytes, and sends at most ``maxRetries + 1`` attempts
of a request. (Wall-clock figures: ``benchmarks/hostile.py``.)
"""

from __future__ import annotations

import shutil
import ssl
import subprocess
from pathlib import Path

import pytest

from localskills_pulumi.errors import DeadlineExceededError, OrphanedTokenError, TransportError
from localskills_pulumi.testing.provider_client import ProviderError
from tests.hostile.servers import (
    OK_HEAD,
    TRICKLE_INTERVAL,
    TRICKLES,
    Connection,
    HostileServer,
    Request,
    Router,
    endless,
    json_answer,
    trickle_in_body,
)
from tests.hostile.support import (
    assert_clean_error,
    create,
    delete,
    hostile,
    read,
    running_host,
)

# The deadline is 1 s, so an attempt sees about 4 trickled bytes. A bound 3 times that leaves
# room for a slow machine and still proves the client hung up.
MAX_TRICKLED = 12


def empty_listing(request: Request, conn: Connection) -> bool:
    conn.send(json_answer(200, {"success": True, "data": []}))
    return True


def assert_hung_up_early(server: HostileServer, method: str, head: int) -> None:
    """Every answer to ``method`` ended because the client hung up, after few trickled
    bytes."""
    for request in server.requests_to(method):
        assert request.answered.wait(10)
        assert request.hung_up, f"the client did not hang up on {request}"
        assert request.sent - head <= MAX_TRICKLED, request


@pytest.mark.parametrize("trickle", list(TRICKLES), ids=list(TRICKLES))
def test_a_read_from_a_trickling_server_ends_at_the_deadline(trickle: str) -> None:
    with hostile(TRICKLES[trickle]) as (server, host):
        with pytest.raises(ProviderError) as raised:
            read(host)
        assert_clean_error(raised.value, DeadlineExceededError, "list SCIM tokens", "within 1 s")
        assert len(server.requests_to("GET")) == 2  # the first attempt and one retry
        assert_hung_up_early(server, "GET", head=len(OK_HEAD) + 60)


@pytest.mark.parametrize("trickle", list(TRICKLES), ids=list(TRICKLES))
def test_a_delete_on_a_trickling_server_ends_at_the_deadline(trickle: str) -> None:
    with hostile(TRICKLES[trickle]) as (server, host):
        with pytest.raises(ProviderError) as raised:
            delete(host)
        assert_clean_error(raised.value, DeadlineExceededError, "delete SCIM token 'tok1'")
        assert len(server.requests_to("DELETE")) == 2
        assert_hung_up_early(server, "DELETE", head=len(OK_HEAD) + 60)


@pytest.mark.parametrize("trickle", list(TRICKLES), ids=list(TRICKLES))
def test_a_create_answered_by_a_trickle_ends_at_the_deadline_and_looks_for_its_token(
    trickle: str,
) -> None:
    # The POST trickles; the listings the client makes to look for the token it may have
    # created answer at once, and show none.
    router = Router({("POST", r".*"): TRICKLES[trickle], ("GET", r".*"): empty_listing})
    with hostile(router) as (server, host):
        with pytest.raises(ProviderError) as raised:
            create(host)
        assert_clean_error(
            raised.value, DeadlineExceededError, "create SCIM token 'Okta'", "2 attempts failed"
        )
        assert len(server.requests_to("POST")) == 2
        assert server.requests_to("GET"), "the client never looked for the token it may have made"
        assert_hung_up_early(server, "POST", head=len(OK_HEAD) + 60)


def test_a_create_on_a_server_that_trickles_everything_says_a_token_may_be_left() -> None:
    with hostile(trickle_in_body) as (server, host):
        with pytest.raises(ProviderError) as raised:
            create(host)
        assert_clean_error(
            raised.value,
            OrphanedTokenError,
            "looking for the token it may have created failed",
            "within 1 s",
            "list the tenant's tokens",
        )
        # One POST, then the listing's two attempts; no second POST while a token may be left.
        assert [r.method for r in server.requests] == ["POST", "GET", "GET"]
        assert_hung_up_early(server, "POST", head=len(OK_HEAD) + 60)
        assert_hung_up_early(server, "GET", head=len(OK_HEAD) + 60)


def test_a_server_that_accepts_and_never_answers_ends_at_the_deadline() -> None:
    def silent(request: Request, conn: Connection) -> bool:
        conn.trickle(endless(b""), TRICKLE_INTERVAL)  # sends nothing, forever
        return False

    with hostile(silent) as (server, host):
        with pytest.raises(ProviderError) as raised:
            read(host)
        # The socket's read timeout and the deadline are both 1 s: either may end it.
        assert_clean_error(raised.value, TransportError, "within 1 s")
        assert len(server.requests_to("GET")) == 2


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[ssl.SSLContext, Path]:
    """A server TLS context for 127.0.0.1 with a throwaway self-signed certificate, and the
    certificate's path (the client's CA bundle)."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    command = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2"]
    command += ["-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"]
    subprocess.run(
        [*command, "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context, cert


@pytest.mark.parametrize("trickle", list(TRICKLES), ids=list(TRICKLES))
def test_a_read_over_https_from_a_trickling_server_ends_at_the_deadline(
    trickle: str, tls: tuple[ssl.SSLContext, Path]
) -> None:
    context, cert = tls
    with (
        HostileServer(TRICKLES[trickle], tls=context) as server,
        running_host(server.base_url, env={"REQUESTS_CA_BUNDLE": str(cert)}) as host,
    ):
        with pytest.raises(ProviderError) as raised:
            read(host)
        assert server.base_url.startswith("https://")
        assert_clean_error(raised.value, DeadlineExceededError, "list SCIM tokens", "within 1 s")
        assert len(server.requests_to("GET")) == 2
        assert_hung_up_early(server, "GET", head=len(OK_HEAD) + 60)
