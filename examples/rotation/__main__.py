"""A 90-day SCIM token, replaced by the first ``pulumi up`` that runs within 14 days of its
expiry. Run ``pulumi up`` on a schedule (at least weekly) and the token never expires.
"""

from datetime import datetime, timedelta

import pulumi

from localskills_pulumi import ScimToken

EXPIRES_IN_DAYS = 90
ROTATE_BEFORE_DAYS = 14

config = pulumi.Config()
tenant_id = config.require("tenantId")
token_name = config.get("tokenName") or "SCIM Provisioning (rotated)"

token = ScimToken(
    "scim-token",
    tenant_id=tenant_id,
    name=token_name,
    expires_in_days=EXPIRES_IN_DAYS,
    rotate_before_days=ROTATE_BEFORE_DAYS,
)


def _rotation_window_opens(expires_at: str | None) -> str | None:
    if not expires_at:
        return None
    expiry = datetime.fromisoformat(expires_at.replace("Z", "+00:00"))
    return (expiry - timedelta(days=ROTATE_BEFORE_DAYS)).strftime("%Y-%m-%dT%H:%M:%SZ")


pulumi.export("scim_token", token.token_value)
pulumi.export("scim_token_id", token.token_id)
pulumi.export("scim_token_expires_at", token.expires_at)
pulumi.export("scim_token_rotates_after", token.expires_at.apply(_rotation_window_opens))
