"""Adopt an existing localskills.sh SCIM token by its composite ID ``<tenant_id>/<token_id>``.

The first ``pulumi up`` looks the token up and records it in the stack's state; it issues no
new token and revokes nothing. The inputs must match the live token: ``localskills-pulumi
import-file <tenant_id>/<token_id>`` prints them (on stderr).
"""

import pulumi

from localskills_pulumi import ScimToken

config = pulumi.Config()
tenant_id = config.require("tenantId")
token_id = config.require("tokenId")
token_name = config.require("tokenName")
expires_in_days = config.get_int("expiresInDays")

token = ScimToken(
    "scim-token",
    tenant_id=tenant_id,
    name=token_name,
    expires_in_days=expires_in_days,
    # Harmless once the token is in the state; remove it before any change that replaces
    # the token (the provider stops and says so).
    opts=pulumi.ResourceOptions(import_=f"{tenant_id}/{token_id}"),
)

pulumi.export("scim_token_id", token.token_id)
pulumi.export("scim_token_created_at", token.created_at)
pulumi.export("scim_token_expires_at", token.expires_at)
pulumi.export("scim_token_last_used_at", token.last_used_at)
