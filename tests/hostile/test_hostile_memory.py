"""A huge answer cannot grow the host.

Each server offers 50 MB: an error body of short words (with and without ``Content-Length``,
and gzip-compressed), a listing. Through the real host, the call ends with the package's error,
the server managed to send at most a few megabytes of it (what the client read, plus what the
kernel's socket buffers took before the client hung up), and the host's peak resident memory
(``VmHWM``) grew by less than :data:`MAX_RSS_GROWTH`.
"""

from __future__ import annotations

import contextlib
import gzip
from collections.abc import Callable

import pytest

from localskills_pulumi.client import LISTING_BODY_LIMIT
from localskills_pulumi.errors import ApiError, ResponseTooLargeError
from localskills_pulumi.testing.host import ProviderHost
from localskills_pulumi.testing.provider_client import ProviderError
from tests.hostile.servers import (
    Connection,
    HostileServer,
    Request,
    Responder,
    Router,
    answer,
    json_answer,
)
from tests.hostile.support import (
    assert_clean_error,
    create,
    hostile,
    peak_rss_bytes,
    read,
)

MB = 1024 * 1024
OFFERED = 50 * MB
MAX_RSS_GROWTH = 24 * MB
"""The host may grow by this much at most while it refuses 50 MB (it grew by 1.37 GB)."""
MAX_SENT = 8 * MB
"""Bytes a server may get into the socket before the client hangs up on an error: the client
reads at most 64 KiB of it, the kernel's socket buffers take the rest of this."""
MAX_SENT_LISTING = LISTING_BODY_LIMIT + 16 * MB
"""The same for a listing, of which the client reads 4 MiB (while it reads this fast, the
kernel grows the socket's receive buffer)."""

WORDS = b"ab cd ef gh ij kl mn op qr st uv wx yz " * 1024  # 39 KiB of short words


def huge(status: int, *, content_length: bool, prefix: bytes = b"") -> Responder:
    """A responder that sends a 50 MB body of short words after ``prefix``."""

    def respond(request: Request, conn: Connection) -> bool:
        head = [f"HTTP/1.1 {status} Whatever", "Content-Type: text/plain"]
        head.append(f"Content-Length: {OFFERED}" if content_length else "Connection: close")
        conn.send(("\r\n".join(head) + "\r\n\r\n").encode() + prefix)
        sent = len(prefix)
        while sent < OFFERED:
            conn.send(WORDS)
            sent += len(WORDS)
        return False

    return respond


class WarmUpFirst:
    """A responder that answers like ``small`` until armed, then like ``big``: the warm-up
    call walks the same path with a small answer, so its imports and buffers are in the
    baseline while the big answer's cost is not (``VmHWM`` is the peak since the start)."""

    def __init__(self, small: Responder, big: Responder) -> None:
        self.small, self.big = small, big
        self.armed = False

    def __call__(self, request: Request, conn: Connection) -> bool:
        return (self.big if self.armed else self.small)(request, conn)


def measure(
    host: ProviderHost,
    server: HostileServer,
    call: Callable[[ProviderHost], object],
    max_sent: int = MAX_SENT,
) -> tuple[ProviderError, int]:
    """Make ``call`` once with small answers (a warm-up), then again with big ones; returns
    the second call's error and the growth of the host's peak resident memory. Every answer
    the server sent in the measured call was cut short."""
    assert host.pid is not None
    responder = server.responder
    assert isinstance(responder, WarmUpFirst)
    with contextlib.suppress(ProviderError):
        call(host)
    responder.armed = True
    server.requests.clear()
    before = peak_rss_bytes(host.pid)
    with pytest.raises(ProviderError) as raised:
        call(host)
    growth = peak_rss_bytes(host.pid) - before
    sent = [request.sent for request in server.requests]
    print(f"host peak RSS growth {growth / MB:.1f} MB; bytes sent per answer {sent}")
    for request in server.requests:
        assert request.answered.wait(10)
        assert request.sent <= max_sent, f"the server sent {request.sent} bytes of {OFFERED}"
    return raised.value, growth


SMALL_ERROR = Router.fixed(answer(500, b"small", content_type="text/plain"))
EMPTY_LISTING = Router.fixed(json_answer(200, {"success": True, "data": []}))


@pytest.mark.parametrize("content_length", [True, False], ids=["content-length", "close"])
def test_a_50_mb_error_body_is_read_to_64_kib_and_the_host_stays_small(
    content_length: bool,
) -> None:
    responder = WarmUpFirst(SMALL_ERROR, huge(500, content_length=content_length))
    with hostile(responder) as (server, host):
        error, growth = measure(host, server, read)
    message = assert_clean_error(error, ApiError, "HTTP 500", "ab cd ef")
    assert len(message) < 1000
    assert growth < MAX_RSS_GROWTH, f"the host grew by {growth / MB:.1f} MB"
    # GET retries a 500: two answers, each cut short.
    assert len(server.requests) == 2


def test_a_50_mb_gzip_bomb_error_is_decoded_to_64_kib_at_most() -> None:
    bomb = gzip.compress(b"ab cd " * (OFFERED // 6), compresslevel=9)
    big = Router.fixed(answer(500, bomb, [("Content-Encoding", "gzip")], content_type="text/plain"))
    with hostile(WarmUpFirst(SMALL_ERROR, big)) as (server, host):
        error, growth = measure(host, server, read)
    assert_clean_error(error, ApiError, "HTTP 500", "ab cd")
    assert growth < MAX_RSS_GROWTH, f"the host grew by {growth / MB:.1f} MB"


@pytest.mark.parametrize("content_length", [True, False], ids=["content-length", "close"])
def test_a_50_mb_listing_is_refused_as_too_large(content_length: bool) -> None:
    big = huge(200, content_length=content_length, prefix=b'{"success": true, "data": ["')
    with hostile(WarmUpFirst(EMPTY_LISTING, big)) as (server, host):
        error, growth = measure(host, server, read, max_sent=MAX_SENT_LISTING)
    assert_clean_error(
        error, ResponseTooLargeError, "list SCIM tokens", f"limit of {LISTING_BODY_LIMIT} bytes"
    )
    # Without a Content-Length, the limit is read before the answer is refused.
    assert growth < MAX_RSS_GROWTH + LISTING_BODY_LIMIT, f"the host grew by {growth / MB:.1f} MB"


def test_a_50_mb_create_error_is_cut_short_and_the_create_looks_for_its_token() -> None:
    router = Router(
        {
            ("POST", r".*"): WarmUpFirst(SMALL_ERROR, huge(502, content_length=True)),
            ("GET", r".*"): EMPTY_LISTING,
        }
    )
    posts = router.routes[0][2]
    with hostile(router) as (server, host):
        with pytest.raises(ProviderError):
            create(host)
        assert isinstance(posts, WarmUpFirst)
        posts.armed = True
        server.requests.clear()
        assert host.pid is not None
        before = peak_rss_bytes(host.pid)
        with pytest.raises(ProviderError) as raised:
            create(host)
        growth = peak_rss_bytes(host.pid) - before
    assert_clean_error(raised.value, ApiError, "HTTP 502", "2 attempts failed")
    assert growth < MAX_RSS_GROWTH, f"the host grew by {growth / MB:.1f} MB"
    assert [r.method for r in server.requests].count("POST") == 2
    assert all(r.sent <= MAX_SENT for r in server.requests)


WORST_LISTING_RSS_GROWTH = 160 * MB
"""What a listing at the size limit may cost at most while it is parsed and refused."""


def test_a_listing_at_the_size_limit_of_the_worst_shape_stays_within_its_memory_bound() -> None:
    # 4 MiB of empty objects is the listing that costs the most memory to parse (about 1.4
    # million dicts); it is refused (an item without fields) once parsed.
    items = b"{}," * ((LISTING_BODY_LIMIT - 64) // 3)
    body = b'{"success": true, "data": [' + items[:-1] + b"]}"
    assert len(body) <= LISTING_BODY_LIMIT
    big = Router.fixed(answer(200, body))
    with hostile(WarmUpFirst(EMPTY_LISTING, big), listingCacheSeconds="0") as (server, host):
        error, growth = measure(host, server, read)
    assert_clean_error(error, ApiError, "field 'id' is missing")
    assert growth < WORST_LISTING_RSS_GROWTH, f"the host grew by {growth / MB:.1f} MB"
