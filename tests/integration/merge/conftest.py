"""Profiles in match groups on the local service, for the merge engine and its operator."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from tests.integration.provider_support import CUSTOMER_TYPE, MATCH_GROUPS, seed_match_groups

# crm ids per match group, and the group's confidence score; profiles in a group share an email


@dataclass
class MatchedDomain:
    """A domain whose latest match run holds ``MATCH_GROUPS``; ``ids`` maps crm id to ProfileId."""

    emulator: Any
    client: Any
    name: str
    ids: dict[str, str]
    # the auto-merging preview's settings (the domain has no AutoMerging of its own)
    preview_settings = {
        "consolidation": {"MatchingAttributesList": [["EmailAddress"]]},
        "conflict_resolution": {"ConflictResolvingModel": "RECENCY"},
    }

    def matches(self) -> list[dict[str, Any]]:
        """The GetMatches items (one page holds them all here; paging is the hook's job)."""
        response = self.client.get_matches(DomainName=self.name)
        assert "NextToken" not in response, "the seeded run should fit one page"
        return response["Matches"]

    def existing(self) -> set[str]:
        found = self.client.batch_get_profile(DomainName=self.name, ProfileIds=list(self.ids.values()))["Profiles"]
        return {profile["ProfileId"] for profile in found}

    def group_ids(self, group: str) -> list[str]:
        """The group's ProfileIds, smallest (the main profile) first."""
        return sorted(self.ids[crm_id] for crm_id in MATCH_GROUPS[group][0])

    def merge_calls(self) -> int | None:
        """Successful MergeProfiles calls the service has seen (None: never called)."""
        return self.emulator.metrics()["operations"].get("MergeProfiles", {}).get("succeeded")


@pytest.fixture
def matched_domain(customer_profiles_emulator) -> MatchedDomain:
    client = customer_profiles_emulator.client()
    name = "d_" + uuid.uuid4().hex[:12]
    client.create_domain(DomainName=name, DefaultExpirationDays=30, Matching={"Enabled": True})
    client.put_profile_object_type(DomainName=name, ObjectTypeName="Customer", **CUSTOMER_TYPE)
    ids = seed_match_groups(customer_profiles_emulator, name)
    return MatchedDomain(customer_profiles_emulator, client, name, ids)
