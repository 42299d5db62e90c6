"""Issue a SCIM provisioning token for a localskills.sh tenant and export it for an IdP."""

import pulumi

from localskills_pulumi import ScimToken

config = pulumi.Config()

token = ScimToken(
    "scim-token",
    tenant_id=config.require("tenantId"),
    name=config.get("tokenName") or "Okta SCIM Provisioning",
    expires_in_days=config.get_int("expiresInDays") or 365,
    rotate_before_days=config.get_int("rotateBeforeDays"),
)

pulumi.export("scim_token", token.token_value)
pulumi.export("scim_token_id", token.token_id)
pulumi.export("scim_token_expires_at", token.expires_at)
