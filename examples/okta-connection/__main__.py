"""Issue a localskills.sh SCIM token and hand it to an Okta app's provisioning connection.

A rotation is safe: every input of the token forces a replacement, and a replacement creates
the new token first, updates Okta's connection with it, and revokes the old token last.
"""

import pulumi
import pulumi_okta as okta

from localskills_pulumi import ScimToken

config = pulumi.Config()
# Read every setting before declaring anything, so that a missing one stops the program
# before a token is issued.
tenant_id = config.require("tenantId")
okta_app_id = config.require("oktaAppId")
scim_base_url = config.require("scimBaseUrl")
token_name = config.get("tokenName") or "Okta SCIM Provisioning"

token = ScimToken(
    "okta-scim-token",
    tenant_id=tenant_id,
    name=token_name,
    expires_in_days=365,
    rotate_before_days=30,
)

connection = okta.app.Connection(
    "localskills-provisioning",
    id_property=okta_app_id,
    base_url=scim_base_url,
    action="activate",
    # token_value is a secret output, so the whole profile stays encrypted in state.
    profile={"auth_scheme": "TOKEN", "token": token.token_value},
)

pulumi.export("scim_token_id", token.token_id)
pulumi.export("scim_token_expires_at", token.expires_at)
pulumi.export("okta_connection_status", connection.status)
