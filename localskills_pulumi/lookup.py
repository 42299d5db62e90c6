"""``get_scim_tokens``: the SCIM tokens of a tenant, for audits and checks.

What the Terraform provider's ``localskills_scim_tokens`` data source gives: one typed record
per token, without secrets. It works in a Pulumi program (where it reads the stack
configuration) and outside one (the command line, scripts); it does not import Pulumi itself.
Expiry is judged by the server's clock (the ``Date`` of the listing's answer).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, NamedTuple

from .client import LocalskillsClient
from .errors import InputError
from .identifiers import id_problem
from .records import ScimTokenRecord
from .settings import CONFIG_KEYS, Settings, resolve_settings

__all__ = ["ScimTokenInfo", "ScimTokenListing", "fetch_scim_tokens", "get_scim_tokens"]


@dataclass(frozen=True)
class ScimTokenInfo(ScimTokenRecord):
    """
    A SCIM token of a tenant, as listed by the localskills.sh API. It never holds the secret
    token value, which the API returns only once, when the token is created.

    Fields: ``id`` (a ``ScimToken``'s ``token_id``; its Pulumi ID is ``<tenant_id>/<id>``),
    ``name``, ``created_at``, ``last_used_at`` (None if never used) and ``expires_at`` (None if
    it never expires), ISO 8601 UTC; and ``expired``.
    """

    expired: bool = False
    """Whether the token had expired when it was listed, by the server's clock."""

    @classmethod
    def from_record(cls, record: ScimTokenRecord, now: datetime | None = None) -> ScimTokenInfo:
        """The info for an API record; ``expired`` as of ``now`` (default: this machine's
        clock)."""
        values = {f.name: getattr(record, f.name) for f in fields(ScimTokenRecord)}
        return cls(**values, expired=record.is_expired(now))


class ScimTokenListing(NamedTuple):
    """A tenant's tokens and the server's clock when they were listed."""

    tokens: list[ScimTokenInfo]
    server_now: datetime


def fetch_scim_tokens(tenant_id: str, settings: Settings) -> ScimTokenListing:
    """List a tenant's SCIM tokens with resolved ``settings``; see :func:`get_scim_tokens`."""
    if not isinstance(tenant_id, str) or not tenant_id.strip():
        raise InputError("tenant_id is required: the team's tenant ID, e.g. 'engineering'.")
    problem = id_problem(tenant_id)
    if problem:
        raise InputError(
            f"tenant_id {tenant_id!r} {problem}: the team's tenant ID, e.g. 'engineering'."
        )
    with LocalskillsClient(settings, pool_size=1) as client:
        records = client.list_scim_tokens(tenant_id)
        now = client.server_now()
    return ScimTokenListing([ScimTokenInfo.from_record(r, now) for r in records], now)


def get_scim_tokens(
    tenant_id: str,
    *,
    api_token: str | None = None,
    base_url: str | None = None,
) -> list[ScimTokenInfo]:
    """
    List the SCIM tokens of a localskills.sh tenant (team), in the API's order, without secrets.

    Settings are resolved as the ``ScimToken`` provider resolves them: the arguments, then
    (inside a Pulumi program) the stack configuration (``localskills:apiToken``,
    ``localskills:baseUrl``, ``localskills:requestTimeout``, ``localskills:maxRetries``), then
    the environment variables (``LOCALSKILLS_API_TOKEN``, ``LOCALSKILLS_BASE_URL``, ...), then
    the defaults.

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
    :raises InputError: ``tenant_id`` is not a tenant ID.
    :raises CredentialsError: no API token is configured, or the token or URL is malformed.
    :raises ConfigError: a timeout or retry setting is out of range.
    :raises AuthenticationError: the API token is refused, or has no access to the tenant.
    :raises TenantNotFoundError: the tenant does not exist.
    :raises TransportError: the API cannot be reached, or did not answer in time.
    :raises ApiError: any other failure the API reports.
    """
    settings = resolve_settings(config=_program_config(), api_token=api_token, base_url=base_url)
    return fetch_scim_tokens(tenant_id, settings).tokens


def _program_config() -> Mapping[str, Any]:
    """
    The running Pulumi program's stack configuration of this package's keys, if any.

    Pulumi is loaded by every program before it can call this, so it is looked up rather than
    imported: outside a program (the command line) nothing is loaded and nothing is read.
    """
    runtime_config = sys.modules.get("pulumi.runtime.config")
    if runtime_config is None:
        return {}
    return {key: runtime_config.get_config(key) for key in CONFIG_KEYS}
