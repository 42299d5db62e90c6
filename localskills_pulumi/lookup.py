"""``get_scim_tokens``: the SCIM tokens of a tenant, for audits and checks.

What the Terraform provider's ``localskills_scim_tokens`` data source gives: one typed record
per token, without secrets. It works in a Pulumi program (where it reads the stack
configuration) and outside one (the command line, scripts); it does not import Pulumi itself.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from .client import LocalskillsClient, ScimTokenRecord, parse_timestamp
from .credentials import CONFIG_API_TOKEN, CONFIG_BASE_URL, resolve_credentials

__all__ = ["ScimTokenInfo", "get_scim_tokens"]


def _now() -> datetime:
    """The current time, UTC (one place, so tests can move it)."""
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class ScimTokenInfo:
    """
    A SCIM token of a tenant, as listed by the localskills.sh API. It never holds the secret
    token value, which the API returns only once, when the token is created.
    """

    id: str
    """The token's ID (a ``ScimToken``'s ``token_id``; its Pulumi ID is ``<tenant_id>/<id>``)."""
    name: str
    """The token's name."""
    created_at: str
    """When the token was created (ISO 8601, UTC)."""
    last_used_at: str | None
    """When an identity provider last used the token (ISO 8601, UTC), or None if never."""
    expires_at: str | None
    """When the token expires (ISO 8601, UTC), or None for a token that never expires."""
    expired: bool
    """Whether the token had expired when it was listed."""

    @classmethod
    def from_record(cls, record: ScimTokenRecord, now: datetime | None = None) -> ScimTokenInfo:
        """The info for an API record; ``expired`` as of ``now`` (default: the current time)."""
        expired = record.expires_at is not None and parse_timestamp(record.expires_at) <= (
            now or _now()
        )
        return cls(
            id=record.id,
            name=record.name,
            created_at=record.created_at,
            last_used_at=record.last_used_at,
            expires_at=record.expires_at,
            expired=expired,
        )

    def expires_within(self, days: float, now: datetime | None = None) -> bool:
        """
        Whether the token expires within ``days`` days of ``now`` (default: the current time).
        True for an expired token; False for one that never expires.
        """
        if self.expires_at is None:
            return False
        return parse_timestamp(self.expires_at) <= (now or _now()) + timedelta(days=days)


def get_scim_tokens(
    tenant_id: str,
    *,
    api_token: str | None = None,
    base_url: str | None = None,
) -> list[ScimTokenInfo]:
    """
    List the SCIM tokens of a localskills.sh tenant (team), in the API's order, without secrets.

    Credentials are resolved as the ``ScimToken`` provider resolves them: the arguments, then
    (inside a Pulumi program) the stack configuration ``localskills:apiToken`` and
    ``localskills:baseUrl``, then the environment variables ``LOCALSKILLS_API_TOKEN`` and
    ``LOCALSKILLS_BASE_URL``, then ``https://localskills.sh``.

    ## Example Usage

    ```python
    import pulumi
    from localskills_pulumi import get_scim_tokens

    tokens = get_scim_tokens("engineering")
    pulumi.export("expired_scim_tokens", [t.id for t in tokens if t.expired])
    ```

    :param str tenant_id: The tenant (team) ID.
    :param str api_token: A localskills API token (``lsk_...``); wins over config and
           environment. Prefer the secret stack config or the environment variable.
    :param str base_url: The API's base URL; wins over config and environment.
    :raises CredentialsError: no API token is configured, or the token or URL is malformed.
    :raises AuthenticationError: the API token is refused, or has no access to the tenant.
    :raises NotFoundError: the tenant does not exist.
    :raises TransportError: the API cannot be reached.
    :raises ApiError: any other failure the API reports.
    """
    if not isinstance(tenant_id, str) or not tenant_id.strip():
        raise ValueError("tenant_id is required: the team's tenant ID, e.g. 'engineering'.")
    credentials = resolve_credentials(api_token, base_url, config=_program_config())
    with LocalskillsClient(credentials) as client:
        records = client.list_scim_tokens(tenant_id)
    now = _now()
    return [ScimTokenInfo.from_record(record, now) for record in records]


def _program_config() -> Mapping[str, Any]:
    """
    The credentials in the running Pulumi program's stack configuration, if any.

    Pulumi is loaded by every program before it can call this, so it is looked up rather than
    imported: outside a program (the command line) nothing is loaded and nothing is read.
    """
    runtime_config = sys.modules.get("pulumi.runtime.config")
    if runtime_config is None:
        return {}
    return {key: runtime_config.get_config(key) for key in (CONFIG_API_TOKEN, CONFIG_BASE_URL)}
