"""The dynamic provider behind ``ScimToken``: Pulumi's CRUD contract over ``LocalskillsClient``.

The engine runs it in its own process (``python -m pulumi.dynamic``), unpickled from the
``__provider`` property. The pickle holds the class by reference and no instance state, so it
stays tens of bytes and never carries a credential: everything the provider needs is built in
that process, from ``configure`` and the environment, on first use.
"""

from __future__ import annotations

import functools
import sys
import threading
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any, NamedTuple, TypeVar, cast

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

from .client import LocalskillsClient
from .diagnostics import warn
from .errors import (
    AdoptionError,
    ConfigError,
    CredentialsError,
    InputError,
    LocalskillsError,
    TenantNotFoundError,
)
from .listings import TenantListings
from .model import (
    IMPORT_ID,
    IN_PLACE_INPUTS,
    ScimTokenInputs,
    changed_inputs,
    composite_id,
    is_unknown,
    normalize_inputs,
    parse_composite_id,
    replacing_changes,
    rotation_due,
    validate_inputs,
    whole_number,
)
from .records import parse_timestamp
from .settings import (
    CONFIG_KEYS,
    check_liveness_setting,
    resolve_credentials,
    resolve_settings,
    unknown_config_keys,
    unknown_environment_variables,
)

__all__ = ["HOST_WORKERS", "ScimTokenProvider"]

HOST_WORKERS = 4
"""The dynamic provider host serves this many calls at once (``pulumi/dynamic/__main__.py``:
``futures.ThreadPoolExecutor(max_workers=4)``); the client pools as many connections."""


class _Connection(NamedTuple):
    """Built in the host process on first use, from the resolved settings."""

    client: LocalskillsClient
    listings: TenantListings


_Method = TypeVar("_Method", bound=Callable[..., Any])


def _short_traceback(method: _Method) -> _Method:
    """The host prints the traceback of every error: start the package's own at the method."""

    @functools.wraps(method)
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except LocalskillsError as exc:
            raise exc.with_traceback(None) from None

    return cast(_Method, call)


class ScimTokenProvider(ResourceProvider):
    """
    Creates, reads and revokes localskills.sh SCIM tokens.

    Every input forces replacement (there is no update API); a token that has expired, or
    expires within ``rotate_before_days``, is planned for replacement; replacement is
    create-before-delete. ``token_value`` is returned as a secret.
    """

    # The pickle carries no secret (see __getstate__), so it need not be encrypted in state.
    serialize_as_secret_always = False

    listings_class: type[TenantListings] = TenantListings
    """How tokens are found: one shared listing per tenant. The benchmarks' list-per-read
    baseline swaps it for a listing per find."""

    def __init__(self) -> None:
        self.__setstate__({})

    def __getstate__(self) -> dict[str, Any]:
        # Whatever this object holds at run time stays in this process.
        return {}

    def __setstate__(self, state: dict[str, Any]) -> None:
        # Unpickled in the host from `__provider`, as requests rebuilds a Session: the process
        # state starts empty, and `configure` and the first call fill it.
        self._config: dict[str, Any] = {}
        self._config_problem: str | None = None
        self._connection_state: _Connection | None = None

    # -- process-local state, built on first use -------------------------------------------

    def configure(self, req: ConfigureRequest) -> None:
        """Keep the stack configuration; credentials are resolved on first use."""
        self._config = {key: req.config.get(key) for key in CONFIG_KEYS}
        # pulumi.dynamic.Config offers no listing of its keys; its raw dict is all of them.
        self._config_problem = unknown_config_keys(vars(req.config).get("_props") or {})

    def _connection(self) -> _Connection:
        connection = self._connection_state
        if connection is None:
            with _CONNECTION_LOCK:
                connection = self._connection_state
                if connection is None:
                    self._refuse_unknown_config()
                    for warning in unknown_environment_variables():
                        warn(warning)
                    settings = resolve_settings(config=self._config)
                    client = LocalskillsClient(settings, pool_size=HOST_WORKERS, on_warning=warn)
                    listings = self.listings_class(
                        client.list_scim_tokens, ttl=settings.listing_cache_seconds
                    )
                    connection = self._connection_state = _Connection(client, listings)
        return connection

    def _warn_without_credentials(self) -> None:
        # A preview only checks a new token: a missing API token would pass it silently.
        try:
            resolve_credentials(config=self._config)
        except CredentialsError as exc:
            warn(f"{exc} Nothing can be issued, read or revoked without it.")

    def _refuse_unknown_config(self) -> None:
        if self._config_problem:
            raise ConfigError(self._config_problem)

    # -- the CRUD contract -----------------------------------------------------------------

    @_short_traceback
    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """Validate inputs before any request; the import marker may not ride a replacement."""
        first_check = _RUN.checked()
        self._refuse_unknown_config()
        if first_check:
            self._warn_without_credentials()
        failures = [CheckFailure(prop, reason) for prop, reason in validate_inputs(news)]
        if news.get(IMPORT_ID) is not None and _managed(olds):
            changed = replacing_changes(olds, news)
            if changed:
                failures.append(
                    CheckFailure(
                        IMPORT_ID,
                        f"changing {', '.join(changed)} replaces this token, but import_ is "
                        "still set and would adopt the token being replaced: remove import_ "
                        "from the resource options so a new token can be issued.",
                    )
                )
        import_id = news.get(IMPORT_ID)
        if import_id is not None and not failures and not _managed(olds):
            # The plan shows `+ create` for it: say that nothing is issued, and what is lost.
            warn(
                f"SCIM token {import_id} is adopted, not issued: no token is created, and "
                "token_value stays unset (the API never shows a secret again), so whatever "
                "reads it (an Okta connection) receives nothing. For a token with a value, "
                "remove import_ and run `pulumi up --replace <urn>`."
            )
        return CheckResult(normalize_inputs(news) if not failures else news, failures)

    @_short_traceback
    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        """
        Every changed input of the token replaces it; so do expiry and a revocation outside
        Pulumi. A changed ``rotate_before_days`` alone is an update in place. Never raises on a
        live token: a refresh calls it on the refreshed state, and would fail with it.
        """
        replaces = replacing_changes(olds, news)
        if not replaces:
            # The liveness listing comes first: its answer's Date gives the server's clock, by
            # which the rotation window is judged.
            if self._revoked(id_):
                replaces.append("token_id")
                # The CLI shows such a replacement with no reason (the host sends no detailed
                # diff, and no input changed): this warning is the reason.
                warn(f"SCIM token {id_} was revoked outside Pulumi: replacing it.")
            else:
                rotate = news.get("rotate_before_days")
                expires_at = olds.get("expires_at")
                now = self._now()
                if not is_unknown(rotate) and rotation_due(expires_at, rotate, now):
                    replaces.append("expires_at")
                    warn(_rotation_reason(id_, expires_at, rotate, now))
        _RUN.diffed(id_, kept=not replaces)
        changes = bool(replaces) or bool(changed_inputs(olds, news))
        return DiffResult(changes=changes, replaces=replaces, delete_before_replace=False)

    def _revoked(self, id_: str) -> bool:
        """Whether the token is missing from its tenant's listing (one per tenant per run).
        Never raises: a tenant that cannot be listed gets one warning and no replacement."""
        try:
            tenant_id, token_id = parse_composite_id(id_, "ScimToken ID")
        except InputError:
            return False
        if _RUN.liveness_off(tenant_id):
            return False
        try:
            if not check_liveness_setting(self._config):
                return False
            return self._connection().listings.find(tenant_id, token_id) is None
        except LocalskillsError as exc:
            if _RUN.turn_liveness_off(tenant_id):
                warn(
                    f"could not list the SCIM tokens of tenant {tenant_id!r} to check that "
                    f"they are still live ({exc}). Planning no replacement for a token revoked "
                    "outside Pulumi in this tenant; run `pulumi refresh` once the API answers."
                )
            return False

    @_short_traceback
    def create(self, props: dict[str, Any]) -> CreateResult:
        """Issue a token, or adopt the one named by import_ without sending a POST."""
        inputs = ScimTokenInputs.from_props(props)
        if inputs.import_id is not None:
            result = self._adopt(inputs)
        else:
            issued = self._connection().client.create_scim_token(
                inputs.tenant_id, inputs.name, inputs.expires_in_days
            )
            result = CreateResult(
                composite_id(inputs.tenant_id, issued.id),
                inputs.outputs(issued, wrap_rpc_secret(issued.token)),
            )
        _RUN.handed_back(result.id)
        return result

    @_short_traceback
    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """
        Refresh (or ``ScimToken.get``): find the token in its tenant's list. A refresh of a
        token that is gone answers an empty ID (the engine drops it); a ``.get`` (no prior
        outputs) raises, naming the ID, since the host would hand the program Nones.
        """
        tenant_id, token_id = parse_composite_id(id_, "ScimToken ID")
        record = self._connection().listings.find(tenant_id, token_id)
        if record is None:
            if props.get("token_id") is None:
                raise InputError(
                    f"ScimToken.get: tenant {tenant_id!r} has no SCIM token {token_id!r} "
                    f"(ID {id_!r}): it never existed or was revoked. List its tokens with "
                    f"`localskills-pulumi tokens list --tenant {tenant_id}`."
                )
            return ReadResult("", {})
        expires_in_days = whole_number(props.get("expires_in_days"))
        inputs = ScimTokenInputs(
            tenant_id=tenant_id,
            name=record.name,
            expires_in_days=record.lifetime_days if expires_in_days is None else expires_in_days,
            rotate_before_days=whole_number(props.get("rotate_before_days")),
        )
        outputs = inputs.outputs(record, _secret(props.get("token_value")))
        return ReadResult(id_, outputs, inputs.as_inputs())

    @_short_traceback
    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        """A new ``rotate_before_days`` (the only input :meth:`diff` updates in place): the
        state takes it, and nothing is sent to the API."""
        outputs = {key: value for key, value in olds.items() if key != "__provider"}
        for prop in IN_PLACE_INPUTS:
            outputs[prop] = whole_number(news.get(prop))
        outputs["token_value"] = _secret(outputs.get("token_value"))
        return UpdateResult(outputs)

    @_short_traceback
    def delete(self, id_: str, props: dict[str, Any]) -> None:
        """
        Revoke the token; one that is already gone counts as revoked. A token this run keeps in
        state (see ``_RunMemory``) is never revoked: the delete succeeds without a request and
        says so on stderr.
        """
        tenant_id, token_id = parse_composite_id(id_, "ScimToken ID")
        if _RUN.keeps(id_):
            print(
                f"localskills-pulumi: not revoking SCIM token {id_}: this run keeps it in the "
                "stack (import_ adopted it again, or a resource still holds it). Remove import_ "
                "from the resource options for a replacement to issue a new token.",
                file=sys.stderr,
                flush=True,
            )
            return
        connection = self._connection()
        try:
            connection.client.delete_scim_token(tenant_id, token_id)
        except TenantNotFoundError as exc:
            raise TenantNotFoundError(
                exc.operation,
                exc.status,
                exc.api_message,
                f"{exc.hint} The token cannot be revoked through a tenant the API does not "
                "know. If the base URL is right and the tenant is truly gone, remove the "
                "resource from the stack's state with `pulumi state delete <urn>`.",
            ) from None
        connection.listings.invalidate(tenant_id)

    def _now(self) -> datetime | None:
        connection = self._connection_state  # None: this machine's clock
        return connection.client.server_now() if connection is not None else None

    # -- import ----------------------------------------------------------------------------

    def _adopt(self, inputs: ScimTokenInputs) -> CreateResult:
        assert inputs.import_id is not None
        tenant_id, token_id = parse_composite_id(inputs.import_id, "import_")
        record = self._connection().listings.find(tenant_id, token_id)
        where = f"import_ {inputs.import_id!r}"
        if record is None:
            raise AdoptionError(
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
        live_days = record.lifetime_days
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
            raise AdoptionError(
                f"Cannot import: {where}: "
                + "; ".join(problems)
                + ". Every input is immutable, so the program must match the live token."
            )
        if record.due_for_rotation(
            inputs.rotate_before_days, self._connection().client.server_now()
        ):
            raise AdoptionError(
                f"Cannot import: {where}: the token expires at {record.expires_at}, so it "
                "is expired or due for rotation. If this resource is being replaced, import_ "
                "would adopt the very token being replaced: remove import_ from the resource "
                "options so a new token can be issued."
            )
        return CreateResult(composite_id(tenant_id, record.id), inputs.outputs(record, None))


def _rotation_reason(id_: str, expires_at: Any, rotate: Any, now: datetime | None) -> str:
    left = parse_timestamp(str(expires_at)) - (now or datetime.now(timezone.utc))
    if left.total_seconds() <= 0:
        return f"SCIM token {id_} expired at {expires_at}: replacing it."
    return (
        f"SCIM token {id_} expires in {left.days} days, at {expires_at} "
        f"(rotate_before_days={rotate}): rotating it."
    )


def _secret(token_value: Any) -> Any:
    """``token_value`` marked secret once (None stays None: an adopted token has no value)."""
    if is_rpc_secret(token_value):
        token_value = unwrap_rpc_secret(token_value)
    return None if token_value is None else wrap_rpc_secret(token_value)


def _managed(olds: Mapping[str, Any]) -> bool:
    """True when the prior state describes a resource that already exists."""
    return any(olds.get(prop) is not None for prop in ("tenant_id", "name", "token_id"))


_CONNECTION_LOCK = threading.Lock()


class _RunMemory:
    """
    What this engine run (one provider process) keeps in state, so that ``delete`` never
    revokes a token the stack goes on holding: every ID ``create`` returned (a replacement the
    engine starts itself, with import_ still set, adopts the very token it then deletes), and
    every ID a Diff after the first Check planned to keep (a failed run's pending delete names
    the live token). A Diff before any Check is a refresh's, which plans nothing.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._handed_back: set[str] = set()
        self._kept: set[str] = set()
        self._checking = False
        self._liveness_off: set[str] = set()

    def checked(self) -> bool:
        """Note a Check; True for this run's first."""
        with self._lock:
            first = not self._checking
            self._checking = True
            return first

    def diffed(self, id_: str, *, kept: bool) -> None:
        with self._lock:
            if not kept:
                self._kept.discard(id_)
            elif self._checking:
                self._kept.add(id_)

    def liveness_off(self, tenant_id: str) -> bool:
        with self._lock:
            return tenant_id in self._liveness_off

    def turn_liveness_off(self, tenant_id: str) -> bool:
        """Stop checking the tenant's liveness for this run; True the first time."""
        with self._lock:
            first = tenant_id not in self._liveness_off
            self._liveness_off.add(tenant_id)
            return first

    def handed_back(self, id_: str) -> None:
        with self._lock:
            self._handed_back.add(id_)

    def keeps(self, id_: str) -> bool:
        with self._lock:
            return id_ in self._handed_back or id_ in self._kept


_RUN = _RunMemory()
