"""Profiles in match groups on the local service, for the merge engine and its operator."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from tests.eventually import found_profile_id
from tests.integration.provider_support import CUSTOMER_TYPE

# crm ids per match group, and the group's confidence score; profiles in a group share an email
GROUPS = {"a": (["a1", "a2"], 0.99), "b": (["b1", "b2", "b3"], 0.95), "c": (["c1", "c2"], 0.80)}


@dataclass
class MatchedDomain:
    """A domain whose latest match run holds ``GROUPS``; ``ids`` maps crm id to ProfileId."""

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
        return sorted(self.ids[crm_id] for crm_id in GROUPS[group][0])

    def merge_calls(self) -> int | None:
        """Successful MergeProfiles calls the service has seen (None: never called)."""
        return self.emulator.metrics()["operations"].get("MergeProfiles", {}).get("succeeded")


@pytest.fixture
def matched_domain(customer_profiles_emulator) -> MatchedDomain:
    client = customer_profiles_emulator.client()
    name = "d_" + uuid.uuid4().hex[:12]
    client.create_domain(DomainName=name, DefaultExpirationDays=30, Matching={"Enabled": True})
    client.put_profile_object_type(DomainName=name, ObjectTypeName="Customer", **CUSTOMER_TYPE)
    for group, (crm_ids, _) in GROUPS.items():
        for crm_id in crm_ids:
            record = {"id": crm_id, "email": f"{group}@example.com"}
            client.put_profile_object(DomainName=name, ObjectTypeName="Customer", Object=json.dumps(record))
    every_crm_id = [crm_id for group_ids, _ in GROUPS.values() for crm_id in group_ids]
    ids = {crm_id: found_profile_id(client, name, "crm_id", crm_id) for crm_id in every_crm_id}
    matches = [
        {"MatchId": f"match-{group}", "ProfileIds": [ids[c] for c in crm_ids], "ConfidenceScore": score}
        for group, (crm_ids, score) in GROUPS.items()
    ]
    customer_profiles_emulator.admin("POST", f"domains/{name}/matches", {"Matches": matches})
    return MatchedDomain(customer_profiles_emulator, client, name, ids)
