"""The dynamic provider behind ``ScimToken``: Pulumi's CRUD contract over ``LocalskillsClient``.

The engine runs it in its own process (``python -m pulumi.dynamic``), unpickled from the
``__provider`` property. The pickle holds the class by reference and no instance state, so it
stays tens of bytes and never carries a credential: everything the provider needs is built in
that process, from ``configure`` and the environment, on first use.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    ConfigureRequest,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
    UpdateResult,
)
from pulumi.runtime.rpc import is_rpc_secret, unwrap_rpc_secret, wrap_rpc_secret

from .client import DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT_SECONDS, LocalskillsClient, ScimTokenRecord
from .credentials import CONFIG_API_TOKEN, CONFIG_BASE_URL, resolve_credentials
from .model import (
    IMPORT_ID,
    ScimTokenInputs,
    changed_inputs,
    composite_id,
    is_unknown,
    lifetime_days,
    normalize_inputs,
    parse_composite_id,
    rotation_due,
    validate_inputs,
    whole_number,
)

__all__ = ["ScimTokenProvider"]

# Stack config keys read by the provider, besides the credentials.
CONFIG_REQUEST_TIMEOUT = "localskills:requestTimeout"
CONFIG_MAX_RETRIES = "localskills:maxRetries"
CONFIG_LISTING_CACHE = "localskills:listingCacheSeconds"
CONFIG_KEYS = (
    CONFIG_API_TOKEN,
    CONFIG_BASE_URL,
    CONFIG_REQUEST_TIMEOUT,
    CONFIG_MAX_RETRIES,
    CONFIG_LISTING_CACHE,
)
DEFAULT_LISTING_CACHE_SECONDS = 5.0
HOST_WORKERS = 4  # the dynamic provider host serves 4 calls at once


class ScimTokenProvider(ResourceProvider):
    """
    Creates, reads and revokes localskills.sh SCIM tokens.

    Every input forces replacement (there is no update API); a token that has expired, or
    expires within ``rotate_before_days``, is planned for replacement; replacement is
    create-before-delete. ``token_value`` is returned as a secret.
    """

    # The pickle carries no secret (see __getstate__), so it need not be encrypted in state.
    serialize_as_secret_always = False

    def __getstate__(self) -> dict[str, Any]:
        # Whatever this object holds at run time stays in this process.
        return {}

    def __setstate__(self, state: dict[str, Any]) -> None:
        pass

    # -- process-local state, built on first use -------------------------------------------

    def configure(self, req: ConfigureRequest) -> None:
        """Keep the stack configuration; credentials are resolved on first use."""
        self._config = {key: req.config.get(key) for key in CONFIG_KEYS}

    def _runtime(self) -> _Runtime:
        runtime: _Runtime | None = self.__dict__.get("_runtime_state")
        if runtime is None:
            with _RUNTIME_LOCK:
                runtime = self.__dict__.get("_runtime_state")
                if runtime is None:
                    runtime = _Runtime(self.__dict__.get("_config", {}))
                    self.__dict__["_runtime_state"] = runtime
        return runtime

    # -- the CRUD contract -----------------------------------------------------------------

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """Validate inputs before any request; the import marker may not ride a replacement."""
        failures = [CheckFailure(prop, reason) for prop, reason in validate_inputs(news)]
        if news.get(IMPORT_ID) is not None and _managed(olds):
            changed = changed_inputs(olds, news)
            if changed:
                failures.append(
                    CheckFailure(
                        IMPORT_ID,
                        f"changing {', '.join(changed)} replaces this token, but import_ is "
                        "still set and would adopt the token being replaced: remove import_ "
                        "from the resource options so a new token can be issued.",
                    )
                )
        return CheckResult(normalize_inputs(news) if not failures else news, failures)

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        """
        Every changed input replaces; so does expiry. ``__provider`` and import_ never do.

        A rotation while import_ is still set is refused here, at preview, rather than let the
        replacement adopt the token it replaces (input changes are refused by ``check``).
        """
        replaces = changed_inputs(olds, news)
        rotate = news.get("rotate_before_days")
        if not is_unknown(rotate) and rotation_due(olds.get("expires_at"), rotate):
            replaces.append("expires_at")
            if news.get(IMPORT_ID) is not None:
                raise ValueError(
                    f"ScimToken {id_!r} expires at {olds.get('expires_at')} and is due for "
                    "rotation, but import_ is still set and would adopt the very token being "
                    "replaced: remove import_ from the resource options so a new token can be "
                    "issued."
                )
        return DiffResult(changes=bool(replaces), replaces=replaces, delete_before_replace=False)

    def create(self, props: dict[str, Any]) -> CreateResult:
        """Issue a token, or adopt the one named by import_ without sending a POST."""
        inputs = ScimTokenInputs.from_props(props)
        if inputs.import_id is not None:
            return self._adopt(inputs)
        runtime = self._runtime()
        issued = runtime.client.create_scim_token(
            inputs.tenant_id, inputs.name, inputs.expires_in_days
        )
        runtime.listings.invalidate(inputs.tenant_id)
        return CreateResult(
            composite_id(inputs.tenant_id, issued.id),
            inputs.outputs(issued, wrap_rpc_secret(issued.token)),
        )

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """Refresh (or ``ScimToken.get``): find the token in its tenant's list."""
        tenant_id, token_id = parse_composite_id(id_, "ScimToken ID")
        record = self._runtime().listings.find(tenant_id, token_id)
        if record is None:
            return ReadResult("", {})
        expires_in_days = whole_number(props.get("expires_in_days"))
        inputs = ScimTokenInputs(
            tenant_id=tenant_id,
            name=record.name,
            expires_in_days=lifetime_days(record) if expires_in_days is None else expires_in_days,
            rotate_before_days=whole_number(props.get("rotate_before_days")),
            import_id=props.get(IMPORT_ID),
        )
        token_value = props.get("token_value")
        if is_rpc_secret(token_value):
            token_value = unwrap_rpc_secret(token_value)
        outputs = inputs.outputs(
            record, wrap_rpc_secret(token_value) if token_value is not None else None
        )
        return ReadResult(id_, outputs, inputs.as_inputs())

    def update(self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]) -> UpdateResult:
        raise RuntimeError(
            "ScimToken cannot be updated in place: every input forces replacement. "
            "Reaching update is a bug in localskills-pulumi; please report it."
        )

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        """Revoke the token; one that is already gone counts as revoked."""
        tenant_id, token_id = parse_composite_id(id_, "ScimToken ID")
        runtime = self._runtime()
        runtime.client.delete_scim_token(tenant_id, token_id)
        runtime.listings.invalidate(tenant_id)

    # -- import ----------------------------------------------------------------------------

    def _adopt(self, inputs: ScimTokenInputs) -> CreateResult:
        assert inputs.import_id is not None
        tenant_id, token_id = parse_composite_id(inputs.import_id, "import_")
        record = self._runtime().listings.find(tenant_id, token_id)
        where = f"import_ {inputs.import_id!r}"
        if record is None:
            raise ValueError(
                f"Cannot import: {where}: tenant {tenant_id!r} has no SCIM token "
                f"{token_id!r}. List its tokens with "
                f"`localskills-pulumi tokens list --tenant {tenant_id}`."
            )
        problems = []
        if record.name != inputs.name:
            problems.append(
                f"the live token is named {record.name!r} but name is {inputs.name!r}: "
                f"set name={record.name!r}"
            )
        live_days = lifetime_days(record)
        if live_days != inputs.expires_in_days:
            fix = (
                "remove expires_in_days"
                if live_days is None
                else f"set expires_in_days={live_days}"
            )
            problems.append(
                f"the live token's lifetime is "
                f"{'unlimited' if live_days is None else f'{live_days} days'} but "
                f"expires_in_days is {inputs.expires_in_days!r}: {fix}"
            )
        if problems:
            raise ValueError(
                f"Cannot import: {where}: "
                + "; ".join(problems)
                + ". Every input is immutable, so the program must match the live token."
            )
        if rotation_due(record.expires_at, inputs.rotate_before_days):
            raise ValueError(
                f"Cannot import: {where}: the token expires at {record.expires_at}, so it "
                "is expired or due for rotation. If this resource is being replaced, import_ "
                "would adopt the very token being replaced: remove import_ from the resource "
                "options so a new token can be issued."
            )
        return CreateResult(composite_id(tenant_id, record.id), inputs.outputs(record, None))


def _managed(olds: Mapping[str, Any]) -> bool:
    """True when the prior state describes a resource that already exists."""
    return any(olds.get(prop) is not None for prop in ("tenant_id", "name", "token_id"))


_RUNTIME_LOCK = threading.Lock()


class _Runtime:
    """What a provider builds in the host process: the client and the listing cache."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        credentials = resolve_credentials(config=config)
        self.client = LocalskillsClient(
            credentials,
            timeout=_number(config, CONFIG_REQUEST_TIMEOUT, DEFAULT_TIMEOUT_SECONDS),
            max_retries=int(_number(config, CONFIG_MAX_RETRIES, DEFAULT_MAX_RETRIES)),
            pool_size=HOST_WORKERS,
        )
        self.listings = TenantListings(
            self.client.list_scim_tokens,
            ttl=_number(config, CONFIG_LISTING_CACHE, DEFAULT_LISTING_CACHE_SECONDS),
        )


def _number(config: Mapping[str, Any], key: str, default: float) -> float:
    raw = config.get(key)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise ValueError(f"stack config {key} must be a number, got {raw!r}") from None
    if value < 0:
        raise ValueError(f"stack config {key} must not be negative, got {raw!r}")
    return value


class TenantListings:
    """
    One listing of a tenant's tokens shared by the reads that come close together.

    A refresh reads every token; listing the tenant once per token (what the Terraform
    resource does) costs N listings for N tokens. Here concurrent reads wait for one listing
    in flight, later reads within ``ttl`` seconds reuse it, and this process's own creates and
    deletes invalidate it. A token missing from a reused listing is looked for once more in a
    fresh one before it is reported gone.
    """

    def __init__(
        self,
        fetch: Callable[[str], list[ScimTokenRecord]],
        ttl: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self._ttl = ttl
        self._clock = clock
        self._guard = threading.Lock()
        self._tenant_locks: dict[str, threading.Lock] = {}
        self._cached: dict[str, tuple[float, dict[str, ScimTokenRecord]]] = {}
        self._generation: dict[str, int] = {}

    def find(self, tenant_id: str, token_id: str) -> ScimTokenRecord | None:
        """The token, or None when the tenant's current list does not hold it."""
        tokens, fresh = self._tokens(tenant_id, allow_cached=True)
        record = tokens.get(token_id)
        if record is None and not fresh:
            tokens, _ = self._tokens(tenant_id, allow_cached=False)
            record = tokens.get(token_id)
        return record

    def invalidate(self, tenant_id: str) -> None:
        """Forget the tenant's listing (this process changed the tenant)."""
        with self._guard:
            self._cached.pop(tenant_id, None)
            self._generation[tenant_id] = self._generation.get(tenant_id, 0) + 1

    def _tokens(
        self, tenant_id: str, *, allow_cached: bool
    ) -> tuple[dict[str, ScimTokenRecord], bool]:
        """The tenant's tokens by id, and whether this call fetched them."""
        with self._guard:
            lock = self._tenant_locks.setdefault(tenant_id, threading.Lock())
        requested_at = self._clock()
        with lock:
            with self._guard:
                cached = self._cached.get(tenant_id)
                generation = self._generation.get(tenant_id, 0)
            if cached is not None:
                fetched_at, tokens = cached
                # A listing fetched while this call waited is as fresh as one of its own.
                if fetched_at >= requested_at or (
                    allow_cached and self._clock() - fetched_at < self._ttl
                ):
                    return tokens, fetched_at >= requested_at
            fetched_at = self._clock()
            tokens = {record.id: record for record in self._fetch(tenant_id)}
            with self._guard:
                # A create or delete that ran meanwhile makes this listing unsafe to share.
                if self._generation.get(tenant_id, 0) == generation and self._ttl > 0:
                    self._cached[tenant_id] = (fetched_at, tokens)
            return tokens, True
