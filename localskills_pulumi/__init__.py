"""Pulumi dynamic provider for localskills.sh SCIM provisioning tokens."""
