"""How ``answers.exchange_failure`` names what requests raised, for exceptions raised for real by
``requests`` against a socket on 127.0.0.1 that accepts and never answers."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from localskills_pulumi.answers import exchange_failure
from localskills_pulumi.errors import DeadlineExceededError, TransportError

TIMEOUT = 0.2


@pytest.fixture
def silent_url() -> Iterator[str]:
    # The kernel completes the handshake for the backlog; nobody ever reads or answers.
    with socket.create_server(("127.0.0.1", 0), backlog=8) as server:
        yield f"http://127.0.0.1:{server.getsockname()[1]}"


def _raised_by_a_read_timeout(url: str, retry: Retry | int) -> requests.RequestException:
    with requests.Session() as session:
        session.mount("http://", HTTPAdapter(max_retries=retry))
        with pytest.raises(requests.RequestException) as raised:
            session.get(url, timeout=TIMEOUT)
    return raised.value


@pytest.mark.parametrize(
    "retry",
    [0, Retry(total=1, read=1, backoff_factor=0)],
    ids=["as ReadTimeout", "as ConnectionError after the retries"],
)
def test_a_socket_read_timeout_is_named_as_no_answer_within_the_timeout(
    silent_url: str, retry: Retry | int
) -> None:
    exc = _raised_by_a_read_timeout(silent_url, retry)
    failure = exchange_failure("read it", exc, expired=False, base_url=silent_url, timeout=TIMEOUT)
    assert type(failure.error) is TransportError
    assert str(failure.error) == f"read it failed: no answer from {silent_url} within 0.2 s"
    assert failure.reached_server and failure.may_still_run


def test_a_passed_deadline_is_named_as_the_requests_deadline(silent_url: str) -> None:
    exc = _raised_by_a_read_timeout(silent_url, 0)
    failure = exchange_failure("read it", exc, expired=True, base_url=silent_url, timeout=TIMEOUT)
    assert isinstance(failure.error, DeadlineExceededError)
    assert "within 0.2 s (the request's deadline)" in str(failure.error)
