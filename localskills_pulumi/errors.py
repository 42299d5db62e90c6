r"""Every error localskills-pulumi raises, in one tree: catch :class:`LocalskillsError` to catch
them all. Messages name the operation, the property or setting at fault and the fix, and never
hold a secret (the API token, a SCIM token's value).

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
    └── OrphanedTokenError           a create may have issued a token that was not revoked

:class:`ConfigError` and :class:`InputError` are also :class:`ValueError`\ s. The emulator's and
the test kit's errors, and the client's internal carriers, are ``LocalskillsError``\ s too.
"""


class LocalskillsError(Exception):
    """The base of every error this package raises."""


class ConfigError(LocalskillsError, ValueError):
    """A setting is unusable; the message names it, where it came from and what is allowed."""


class CredentialsError(ConfigError):
    """The API token or the base URL is missing or malformed (the token is never shown)."""


class InputError(LocalskillsError, ValueError):
    """A value from the user that the rules refuse, found before any request is sent."""


class ImportIdError(InputError):
    """A composite ID that is not ``<tenant_id>/<token_id>``."""


class AdoptionError(InputError):
    """``import_`` names a token whose name or lifetime differ, or that is expired or due."""


class ImportFileError(AdoptionError):
    """A token that would fail ``check``, or be replaced as soon as it is imported."""


class TransportError(LocalskillsError):
    """No usable HTTP answer: the connection was refused or reset, or timed out."""


class DeadlineExceededError(TransportError):
    """The whole answer did not arrive within the deadline (a server that trickles or stalls)."""


class ApiError(LocalskillsError):
    """The API answered with an error: what was being done (``operation``), the HTTP
    ``status``, the API's own ``api_message`` (redacted) and a ``hint`` at the fix."""

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
    """404 that the API did not explain (a base URL with a wrong path answers so)."""


class TenantNotFoundError(NotFoundError):
    """404: the tenant does not exist (or the base URL points at another service)."""


class TokenNotFoundError(NotFoundError):
    """404: the SCIM token does not exist; it was revoked, or never existed."""


class RateLimitError(ApiError):
    """429, and the retries (which honour ``Retry-After``) ran out."""


class ResponseError(ApiError):
    """An answer that cannot be used."""


class MalformedResponseError(ResponseError):
    """Data not of the documented shape: a field missing, of the wrong type or form."""


class ResponseTooLargeError(ResponseError):
    """A body larger than the limit for that kind of answer."""


class RedirectError(ResponseError):
    """A redirect: never followed, so the API token never travels to another origin."""


class OrphanedTokenError(LocalskillsError):
    """A create that may have issued a token, which could not be found and revoked."""


__all__ = sorted(
    name for name, value in dict(globals()).items() if isinstance(value, type) and name[0] != "_"
)
