"""The baseline: the Terraform resource's list-per-read strategy.

The Terraform resource ``localskills_scim_token`` reads a token by listing its whole tenant and
looking for the token in the list, once per token: a refresh of N tokens costs N full listings,
and so does a ``terraform plan`` (which refreshes first). ``ListPerReadProvider`` is
``ScimTokenProvider`` with exactly that one thing changed: every find (a Read, and the liveness
check of a Diff) is a listing of its own. Everything else is the same: the client (one pooled
session per host process), checks, creates, deletes and outputs, so the benchmark compares the
listing strategy and nothing else.

It lives in ``benchmarks/`` and never in the product package.
"""

from __future__ import annotations

from localskills_pulumi.listings import TenantListings
from localskills_pulumi.provider import ScimTokenProvider
from localskills_pulumi.records import ScimTokenRecord

__all__ = ["ListEveryTime", "ListPerReadProvider"]


class ListEveryTime(TenantListings):
    """``TenantListings`` that shares nothing: each find is one full listing."""

    def find(self, tenant_id: str, token_id: str) -> ScimTokenRecord | None:
        """List the tenant and scan the list for the token."""
        for record in self._fetch(tenant_id):
            if record.id == token_id:
                return record
        return None

    def invalidate(self, tenant_id: str) -> None:
        """Nothing is kept, so there is nothing to forget."""


class ListPerReadProvider(ScimTokenProvider):
    """``ScimTokenProvider`` finding tokens the way the Terraform resource does: one listing per
    token. It swaps the product's ``listings_class`` and nothing else."""

    listings_class = ListEveryTime
