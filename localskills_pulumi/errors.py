r"""Every error localskills-pulumi raises, in one tree.

Catch :class:`LocalskillsError` to catch them all; no other exception type leaves the package
on purpose. Messages name the operation, the property or setting at fault and the fix, and
never hold a secret (the API token, a SCIM token's value).

.. code-block:: text

    LocalskillsError
    ├── ConfigError                  a setting is missing, malformed or out of range
    │   └── CredentialsError         the API token or the base URL
    ├── InputError                   a ScimToken input, ID or command-line value is refused
    │   ├── ImportIdError            a composite ID that is not <tenant_id>/<token_id>
    │   └── AdoptionError            import_ names a token that differs from the program
    │       └── ImportFileError      a token that import-file cannot write as asked
    ├── TransportError               no usable HTTP answer: refused, reset, timed out
    │   └── DeadlineExceededError    the answer did not arrive whole within the deadline
    ├── ApiError                     the API answered with an error (status, api_message)
    │   ├── AuthenticationError      401 or 403: the API token is refused or lacks access
    │   ├── NotFoundError            404 (neither of the two below: e.g. a wrong base URL)
    │   │   ├── TenantNotFoundError  the tenant does not exist
    │   │   └── TokenNotFoundError   the SCIM token does not exist (revoked)
    │   ├── RateLimitError           429, and the retries ran out
    │   └── ResponseError            an answer that cannot be used
    │       ├── MalformedResponseError  a field missing or of the wrong type or form
    │       ├── ResponseTooLargeError   a body over the size limit
    │       └── RedirectError           a redirect (never followed)
    └── OrphanedTokenError           a create failed and the token it may have made
                                     could not be found and revoked

:class:`ConfigError` and :class:`InputError` are also :class:`ValueError`, as the errors
they replace were. The emulator's and the test kit's errors (``SeedError``, ``StoreError``,
``EmulatorError``, ``ProviderError``, ``EngineError``, ``CheckFailedError``) and the client's
internal carriers are ``LocalskillsError``\ s too; ``tests/unit/test_error_tree.py`` walks every
module and checks each exception class.
"""

from __future__ import annotations

__all__ = [
    "AdoptionError",
    "ApiError",
    "AuthenticationError",
    "ConfigError",
    "CredentialsError",
    "DeadlineExceededError",
    "ImportFileError",
    "ImportIdError",
    "InputError",
    "LocalskillsError",
    "MalformedResponseError",
    "NotFoundError",
    "OrphanedTokenError",
    "RateLimitError",
    "RedirectError",
    "ResponseError",
    "ResponseTooLargeError",
    "TenantNotFoundError",
    "TokenNotFoundError",
    "TransportError",
]


class LocalskillsError(Exception):
    """The base of every error this package raises. Messages never hold a secret."""


class ConfigError(LocalskillsError, ValueError):
    """A setting (stack config, environment variable or argument) is missing or unusable.

    The message names the setting, where its value came from, and the allowed values.
    """


class CredentialsError(ConfigError):
    """The API token or the base URL is missing or malformed. The message never holds the
    token."""


class InputError(LocalskillsError, ValueError):
    """A value from the user (a ScimToken input, an ID, a command-line argument) that the
    rules refuse, found before any request is sent."""


class ImportIdError(InputError):
    """A composite ID that is not ``<tenant_id>/<token_id>``."""


class AdoptionError(InputError):
    """``import_`` names a token that cannot be adopted as declared: its name or lifetime
    differ from the program's, or it is expired or due for rotation."""


class ImportFileError(AdoptionError):
    """A token that cannot be imported as asked (its inputs would fail ``check``, or it is due
    for replacement as soon as it is imported)."""


class TransportError(LocalskillsError):
    """The request got no usable HTTP answer: the connection was refused or reset, or the
    server did not answer in time."""


class DeadlineExceededError(TransportError):
    """The whole answer did not arrive within the request's deadline (a server that trickles
    bytes, or one that stalls)."""


class ApiError(LocalskillsError):
    """The API answered with an error.

    :param operation: What was being done, e.g. ``list SCIM tokens of tenant 'engineering'``.
    :param status: The HTTP status.
    :param api_message: The API's own message (the envelope's ``error``), redacted.
    :param hint: What the user can do about it.
    """

    def __init__(self, operation: str, status: int, api_message: str, hint: str = "") -> None:
        self.operation = operation
        self.status = status
        self.api_message = api_message
        self.hint = hint
        text = f"{operation} failed: HTTP {status}: {api_message}"
        super().__init__(f"{text}. {hint}" if hint else text)

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.operation, self.status, self.api_message, self.hint))


class AuthenticationError(ApiError):
    """401 or 403: the API token is wrong, or is not a member of the tenant."""


class NotFoundError(ApiError):
    """404. The subclasses say what is missing; this class alone means the API did not say
    (a base URL with a wrong path answers like this)."""


class TenantNotFoundError(NotFoundError):
    """404: the tenant does not exist (or the base URL points at another service)."""


class TokenNotFoundError(NotFoundError):
    """404: the SCIM token does not exist; it was revoked, or never existed."""


class RateLimitError(ApiError):
    """429, and the retries (which honour ``Retry-After``) ran out."""


class ResponseError(ApiError):
    """An answer that cannot be used: malformed, too large, or a redirect."""


class MalformedResponseError(ResponseError):
    """An answer whose data does not have the shape the API documents: a field missing, of
    the wrong type, or of the wrong form (a timestamp that does not parse, an unsafe ID)."""


class ResponseTooLargeError(ResponseError):
    """An answer whose body is larger than the limit for that kind of answer."""


class RedirectError(ResponseError):
    """The server answered with a redirect. Redirects are never followed: the API token must
    not travel to another origin, and an answer from elsewhere must not be trusted."""


class OrphanedTokenError(LocalskillsError):
    """A create failed in a way that leaves open whether the server issued the token, and
    looking for that token (to revoke it) failed too: a token may exist that nobody holds.
    The message says which tenant, which name and when."""
