"""``ScimToken``: the resource a Pulumi program declares."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, overload

import pulumi
from pulumi.dynamic import Resource

from ._pickler import pristine_pickler
from .model import IMPORT_ID, INPUT_NAMES, OUTPUT_NAMES
from .provider import ScimTokenProvider

__all__ = ["ScimToken", "ScimTokenArgs"]


@dataclass(kw_only=True)
class ScimTokenArgs:
    """
    The set of arguments for constructing a ScimToken resource.

    :param pulumi.Input[str] tenant_id: The tenant (team) ID. Changing it replaces the token.
    :param pulumi.Input[str] name: The name of the SCIM token. Changing it replaces the token.
    :param pulumi.Input[int] expires_in_days: Number of days until the token expires; omit
           for a token that never expires. Changing it replaces the token.
    :param pulumi.Input[int] rotate_before_days: Replace the token this many days before it
           expires. Needs ``expires_in_days``, and must be smaller than it.
    """

    tenant_id: pulumi.Input[str]
    name: pulumi.Input[str]
    expires_in_days: pulumi.Input[int] | None = None
    rotate_before_days: pulumi.Input[int] | None = None


class ScimToken(Resource, module="localskills", name="ScimToken"):
    """
    A SCIM provisioning token for a team (tenant) on localskills.sh, for an identity provider
    such as Okta or Microsoft Entra ID to provision users with.

    Every input is immutable: changing one replaces the token, creating the new one before
    revoking the old, so an identity provider that reads ``token_value`` is switched over
    first. With ``expires_in_days`` and ``rotate_before_days`` a token is replaced when it
    comes within ``rotate_before_days`` of its expiry (on the next ``pulumi up``).

    The secret, ``token_value``, is returned by the API only when the token is created; it is
    a secret output, encrypted in state. An imported token has none.

    ## Example Usage

    ```python
    import pulumi
    from localskills_pulumi import ScimToken

    token = ScimToken(
        "okta-provisioning",
        tenant_id="engineering",
        name="Okta SCIM Provisioning",
        expires_in_days=365,
        rotate_before_days=30,
    )
    pulumi.export("scim_token", token.token_value)
    ```

    The inputs may also come as one ``ScimTokenArgs``, as with Pulumi's generated SDKs:

    ```python
    from localskills_pulumi import ScimToken, ScimTokenArgs

    args = ScimTokenArgs(tenant_id="engineering", name="Okta SCIM Provisioning",
                         expires_in_days=365, rotate_before_days=30)
    token = ScimToken("okta-provisioning", args, pulumi.ResourceOptions(protect=True))
    ```

    Give the inputs one way or the other: both, or neither, is a ``TypeError``.

    ## Import

    Adopt an existing token by its composite ID ``<tenant_id>/<token_id>``; no new token is
    issued, and the program's inputs must match the live token:

    ```python
    ScimToken(
        "okta-provisioning",
        tenant_id="engineering",
        name="Okta SCIM Provisioning",
        expires_in_days=365,
        opts=pulumi.ResourceOptions(import_="engineering/3f2a9c..."),
    )
    ```
    """

    tenant_id: pulumi.Output[str]
    """The tenant (team) ID."""
    name: pulumi.Output[str]
    """The name of the SCIM token."""
    expires_in_days: pulumi.Output[int | None]
    """Number of days the token lives; None for a token that never expires."""
    rotate_before_days: pulumi.Output[int | None]
    """How many days before expiry the token is replaced; None to replace it only once expired."""
    token_id: pulumi.Output[str]
    """The token's ID at localskills.sh (the Pulumi ID is ``<tenant_id>/<token_id>``)."""
    token_value: pulumi.Output[str | None]
    """The secret token value; only known for a token this stack created."""
    created_at: pulumi.Output[str]
    """When the token was created (ISO 8601, UTC)."""
    expires_at: pulumi.Output[str | None]
    """When the token expires (ISO 8601, UTC), or None."""
    last_used_at: pulumi.Output[str | None]
    """When an identity provider last used the token (ISO 8601, UTC), or None."""

    @overload
    def __init__(
        self,
        resource_name: str,
        args: ScimTokenArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None: ...

    @overload
    def __init__(
        self,
        resource_name: str,
        opts: pulumi.ResourceOptions | None = None,
        *,
        tenant_id: pulumi.Input[str],
        name: pulumi.Input[str],
        expires_in_days: pulumi.Input[int] | None = None,
        rotate_before_days: pulumi.Input[int] | None = None,
    ) -> None: ...

    def __init__(
        self,
        resource_name: str,
        *positional: Any,
        args: ScimTokenArgs | None = None,
        opts: pulumi.ResourceOptions | None = None,
        tenant_id: pulumi.Input[str] | None = None,
        name: pulumi.Input[str] | None = None,
        expires_in_days: pulumi.Input[int] | None = None,
        rotate_before_days: pulumi.Input[int] | None = None,
    ) -> None:
        """
        Create a ScimToken resource with the given unique name, arguments and options: either
        ``ScimToken(resource_name, ScimTokenArgs(...), opts)`` or
        ``ScimToken(resource_name, tenant_id=..., name=..., ..., opts=opts)``.

        :param str resource_name: The name of the resource.
        :param ScimTokenArgs args: The inputs as one object (or give them as keywords).
        :param pulumi.ResourceOptions opts: Options for the resource. ``import_`` takes a
               composite ID ``<tenant_id>/<token_id>`` and adopts that token instead of
               creating one.
        :param tenant_id, name, expires_in_days, rotate_before_days: The inputs, as described
               on :class:`ScimTokenArgs`.
        :raises TypeError: the inputs given both ways, or not at all, or without ``tenant_id``
               or ``name``.
        """
        this = f"ScimToken({resource_name!r}, ...)"
        rest = list(positional)
        if rest and isinstance(rest[0], ScimTokenArgs):
            if args is not None:
                raise TypeError(f"{this} got ScimTokenArgs twice: positionally and as args=")
            args = rest.pop(0)
        if rest and (rest[0] is None or isinstance(rest[0], pulumi.ResourceOptions)):
            if opts is not None:
                raise TypeError(f"{this} got opts twice: positionally and as opts=")
            opts = rest.pop(0)
        if rest:
            raise TypeError(
                f"{this} got an unexpected positional argument of type {type(rest[0]).__name__}:"
                " pass ScimTokenArgs(...) and then pulumi.ResourceOptions, or the inputs as "
                "keyword arguments"
            )
        if args is not None and not isinstance(args, ScimTokenArgs):
            raise TypeError(f"{this}: args must be a ScimTokenArgs, not {type(args).__name__}")
        if opts is not None and not isinstance(opts, pulumi.ResourceOptions):
            raise TypeError(
                f"{this}: opts must be a pulumi.ResourceOptions, not {type(opts).__name__}"
            )
        given = {
            key: value
            for key, value in (
                ("tenant_id", tenant_id),
                ("name", name),
                ("expires_in_days", expires_in_days),
                ("rotate_before_days", rotate_before_days),
            )
            if value is not None
        }
        if args is not None:
            if given:
                raise TypeError(
                    f"{this} got its inputs twice, as ScimTokenArgs and as keyword arguments "
                    f"({', '.join(given)}): give them one way, either "
                    f"ScimToken({resource_name!r}, ScimTokenArgs(tenant_id=..., name=...), opts) "
                    f"or ScimToken({resource_name!r}, tenant_id=..., name=..., opts=opts)"
                )
            given = {key: getattr(args, key) for key in INPUT_NAMES}
        elif not given:
            raise TypeError(
                f"{this} got no inputs: pass ScimTokenArgs(tenant_id=..., name=...) or the "
                "keyword arguments tenant_id=... and name=..."
            )
        missing = [key for key in ("tenant_id", "name") if given.get(key) is None]
        if missing:
            raise TypeError(f"{this} is missing the required input(s) {', '.join(missing)}")
        self._internal_init(resource_name, opts, **given)

    def _internal_init(
        self, resource_name: str, opts: pulumi.ResourceOptions | None, **inputs: Any
    ) -> None:
        opts = pulumi.ResourceOptions.merge(
            pulumi.ResourceOptions(additional_secret_outputs=["token_value"]), opts
        )
        props: dict[str, Any] = {key: None for key in OUTPUT_NAMES}
        props.update(inputs)
        if opts.import_ is not None:
            # The engine cannot import a dynamic resource (it calls Read without
            # `__provider`; pulumi/pulumi#16175), so the ID travels as an input and the
            # provider adopts the token in `create`.
            props[IMPORT_ID] = opts.import_
            opts = copy.copy(opts)
            opts.import_ = None
        with pristine_pickler():  # the SDK's serialize_provider nests wrappers (_pickler.py)
            super().__init__(ScimTokenProvider(), resource_name, props, opts)

    @staticmethod
    def get(
        resource_name: str,
        id: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> ScimToken:
        """
        Get an existing ScimToken's state by its composite ID, without managing it.

        :param str resource_name: The unique name of the resulting resource.
        :param pulumi.Input[str] id: ``<tenant_id>/<token_id>``.
        :param pulumi.ResourceOptions opts: Options for the resource.
        """
        opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(id=id))
        token = ScimToken.__new__(ScimToken)
        token._internal_init(resource_name, opts)
        return token
