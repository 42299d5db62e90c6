"""The one retry policy of the client: which failures are retried, and how long to wait.

:class:`RetryPolicy` is urllib3's ``Retry`` with the API's rules added. urllib3 applies it to
every request (through ``requests``' ``HTTPAdapter``); the client's create loop, which must
look for an orphaned token between two attempts, asks the same object how long to back off,
so there is one backoff formula. Pass one to :class:`~localskills_pulumi.client.LocalskillsClient`
as ``retry`` to change it.
"""

from __future__ import annotations

from urllib3.exceptions import InvalidHeader
from urllib3.util.retry import RequestHistory, Retry

__all__ = ["MAX_RETRY_AFTER_SECONDS", "RETRY_STATUSES", "RetryPolicy"]

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
"""Statuses retried for GET and DELETE (POST: only 429, see :meth:`RetryPolicy.is_retry`)."""
MAX_RETRY_AFTER_SECONDS = 60.0
"""The longest ``Retry-After`` honoured; a longer one is cut to this."""
DEFAULT_BACKOFF_FACTOR = 0.5


class RetryPolicy(Retry):
    """urllib3's ``Retry``, with the rules of the localskills API.

    - GET and DELETE retry 429, 500, 502, 503, 504 and connection errors.
    - POST (a create) is re-sent by urllib3 only when the server certainly did not act on it:
      on 429, or when the connection was never established. The client handles the
      ambiguous failures (timeout, reset, 5xx) itself, see ``create_scim_token``.
    - ``Retry-After`` is honoured up to :data:`MAX_RETRY_AFTER_SECONDS`; one that is neither
      seconds nor an HTTP date counts as absent (the usual backoff applies).
    - Backoff: ``backoff_factor * 2 ** (n - 1)`` seconds before the n-th retry (none before
      the first), plus up to ``backoff_jitter`` seconds of jitter, at most ``backoff_max``.
    """

    @classmethod
    def default(
        cls, max_retries: int, backoff_factor: float = DEFAULT_BACKOFF_FACTOR
    ) -> RetryPolicy:
        """The policy for ``max_retries`` retries after the first attempt."""
        return cls(
            total=max_retries,
            status_forcelist=sorted(RETRY_STATUSES),
            allowed_methods=frozenset({"GET", "DELETE"}),
            backoff_factor=backoff_factor,
            backoff_jitter=backoff_factor / 2,
            respect_retry_after_header=True,
            raise_on_status=False,
            redirect=False,
        )

    @property
    def attempts(self) -> int:
        """How many times a request may be sent in all (the first attempt and the retries)."""
        total = self.total
        if isinstance(total, bool) or not isinstance(total, int):
            return 1
        return 1 + max(0, total)

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        """Whether an answer with ``status_code`` is retried: POST only on 429."""
        if method.upper() == "POST":
            return status_code == 429 and bool(self.total)
        return super().is_retry(method, status_code, has_retry_after)

    def parse_retry_after(self, retry_after: str) -> float:
        """Seconds to wait for a ``Retry-After`` value, capped; 0 (back off as usual) when the
        value is neither seconds nor an HTTP date."""
        try:
            seconds = super().parse_retry_after(retry_after)
        except (InvalidHeader, ValueError, OverflowError):
            return 0.0
        return min(seconds, MAX_RETRY_AFTER_SECONDS)

    def backoff_before(self, retry: int) -> float:
        """Seconds to wait before the ``retry``-th retry (1 for the first), by the same
        formula urllib3 uses between its own retries."""
        history = tuple(RequestHistory("POST", None, None, None, None) for _ in range(retry))
        return float(self.new(history=history).get_backoff_time())
