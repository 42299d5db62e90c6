"""Issue a localskills.sh SCIM token and hand it to Microsoft Entra ID provisioning.

Entra ID keeps an enterprise application's provisioning credentials as synchronization
secrets of its service principal: ``BaseAddress`` (the "Tenant URL") and ``SecretToken`` (the
"Secret Token"). A synchronization job based on the application's provisioning template then
provisions users with them. The token stays secret from the ScimToken to the secret.
"""

import pulumi
import pulumi_azuread as azuread

from localskills_pulumi import ScimToken

config = pulumi.Config()
# Read every setting before declaring anything, so that a missing one stops the program
# before a token is issued.
tenant_id = config.require("tenantId")
service_principal_id = config.require("servicePrincipalId")
scim_base_url = config.require("scimBaseUrl")
template_id = config.get("synchronizationTemplateId") or "scim"
token_name = config.get("tokenName") or "Entra ID SCIM Provisioning"

token = ScimToken(
    "entra-id-scim-token",
    tenant_id=tenant_id,
    name=token_name,
    expires_in_days=365,
    rotate_before_days=30,
)

credentials = azuread.SynchronizationSecret(
    "localskills-provisioning",
    service_principal_id=service_principal_id,
    credentials=[
        azuread.SynchronizationSecretCredentialArgs(key="BaseAddress", value=scim_base_url),
        # token_value is a secret output: it stays encrypted in state and masked in output.
        azuread.SynchronizationSecretCredentialArgs(key="SecretToken", value=token.token_value),
    ],
)

job = azuread.SynchronizationJob(
    "localskills-provisioning",
    service_principal_id=service_principal_id,
    template_id=template_id,
    enabled=True,
    # Start provisioning only once Entra ID holds the credentials.
    opts=pulumi.ResourceOptions(depends_on=[credentials]),
)

pulumi.export("scim_token_id", token.token_id)
pulumi.export("scim_token_expires_at", token.expires_at)
pulumi.export("synchronization_job_id", job.id)
