"""A fresh domain on the local service (real HTTP, in-process) whose profiles and match run each test sets up."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest

PREVIEW_SETTINGS = {
    "consolidation": {"MatchingAttributesList": [["EmailAddress"]]},
    "conflict_resolution": {"ConflictResolvingModel": "RECENCY"},
}


@dataclass
class MergeDomain:
    """A domain with matching enabled; profiles made with :meth:`profiles` and a match run with :meth:`publish`."""

    emulator: Any
    client: Any
    name: str

    def profiles(self, count: int, email: str = "one@example.com") -> list[str]:
        """``count`` new profiles sharing ``email``; their ProfileIds sorted (the first is a group's main profile)."""
        created = [
            self.client.create_profile(DomainName=self.name, EmailAddress=email)["ProfileId"] for _ in range(count)
        ]
        return sorted(created)

    def publish(self, *matches: dict[str, Any]) -> list[dict[str, Any]]:
        """Make ``matches`` the domain's latest match run; returns them as GetMatches items."""
        self.emulator.admin("POST", f"domains/{self.name}/matches", {"Matches": list(matches)})
        return self.client.get_matches(DomainName=self.name)["Matches"]

    def delete(self, *profile_ids: str) -> None:
        for profile_id in profile_ids:
            self.client.delete_profile(DomainName=self.name, ProfileId=profile_id)

    def existing(self, profile_ids: list[str]) -> set[str]:
        found = set()
        for start in range(0, len(profile_ids), 20):
            chunk = profile_ids[start : start + 20]
            found |= {
                p["ProfileId"]
                for p in self.client.batch_get_profile(DomainName=self.name, ProfileIds=chunk)["Profiles"]
            }
        return found

    def calls(self, operation: str) -> int:
        """Successful calls of ``operation`` the service has seen."""
        return self.emulator.metrics()["operations"].get(operation, {}).get("succeeded", 0)


def new_domain(emulator: Any, **matching: Any) -> MergeDomain:
    # CreateDomain and GetAutoMergingPreview are limited to 1 TPS, and tests call them back to back: wait out
    # throttles as a caller of those APIs must (3 standard attempts can all land within the same second).
    client = emulator.client(retries={"mode": "standard", "max_attempts": 10})
    name = "d_" + uuid.uuid4().hex[:12]
    client.create_domain(DomainName=name, DefaultExpirationDays=30, Matching={"Enabled": True, **matching})
    return MergeDomain(emulator, client, name)


@pytest.fixture
def merge_domain(customer_profiles_emulator) -> MergeDomain:
    return new_domain(customer_profiles_emulator)
