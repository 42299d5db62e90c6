"""Hand the SCIM token issued by another stack (the localskills-scim root program) to Okta.

The token is read from that stack's ``scim_token`` output with a StackReference; it was
exported as a secret there and stays one here.
"""

from typing import Any

import pulumi
import pulumi_okta as okta

config = pulumi.Config()
root_stack = config.require("rootStack")
okta_app_id = config.require("oktaAppId")
scim_base_url = config.require("scimBaseUrl")

root = pulumi.StackReference(root_stack)


def _present(value: Any) -> str:
    if not value:
        raise ValueError(
            f"stack {root_stack} has no scim_token output: run `pulumi up` there first (a "
            "token adopted with import_ has no value to hand over)"
        )
    return str(value)


# get_output keeps the secret bit: the value is secret because the root stack exported it so.
scim_token = root.get_output("scim_token").apply(_present)

connection = okta.app.Connection(
    "localskills-provisioning",
    id_property=okta_app_id,
    base_url=scim_base_url,
    action="activate",
    profile={"auth_scheme": "TOKEN", "token": scim_token},
)

pulumi.export("scim_token_id", root.get_output("scim_token_id"))
pulumi.export("okta_connection_status", connection.status)
