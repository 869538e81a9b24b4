"""Which match groups a run merges, and into which profile: ids and scores only."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

# BatchGetProfile takes at most this many ProfileIds, and MergeProfiles this many ProfileIdsToBeMerged.
PROFILE_IDS_PER_CALL = 20


@dataclass(frozen=True)
class MatchGroup:
    """One GetMatches item: its profile ids are sorted and distinct."""

    match_id: str | None
    confidence_score: float
    profile_ids: tuple[str, ...]


@dataclass(frozen=True)
class GroupMerge:
    """A group's merge: the profiles still existing, the smallest id being the main one."""

    match_id: str | None
    confidence_score: float
    main_profile_id: str | None
    merged_profile_ids: tuple[str, ...]

    def audit_line(self, outcome: str) -> dict[str, Any]:
        """The group's audit record: ids, score and ``outcome``, never profile data."""
        return {
            "match_id": self.match_id,
            "confidence_score": self.confidence_score,
            "main_profile_id": self.main_profile_id,
            "merged_profile_ids": list(self.merged_profile_ids),
            "outcome": outcome,
        }


@dataclass(frozen=True)
class MergePlan:
    """The groups this run merges (``planned``), finds already merged (``stale``) and leaves for later."""

    groups_considered: int
    planned: tuple[GroupMerge, ...]
    stale: tuple[GroupMerge, ...]

    @property
    def profiles_planned(self) -> int:
        return sum(len(group.merged_profile_ids) for group in self.planned)

    @property
    def groups_deferred(self) -> int:
        return self.groups_considered - len(self.planned) - len(self.stale)


def match_groups(matches: Iterable[dict[str, Any]], min_confidence: float) -> list[MatchGroup]:
    """
    The groups with ``ConfidenceScore >= min_confidence`` and at least two profiles.

    Best score first, ties by match id, so every run over the same matches sees the same order.
    """
    groups = [
        MatchGroup(
            match.get("MatchId"), float(match["ConfidenceScore"]), tuple(sorted(set(match.get("ProfileIds") or [])))
        )
        for match in matches
        if match.get("ConfidenceScore") is not None and match["ConfidenceScore"] >= min_confidence
    ]
    groups = [group for group in groups if len(group.profile_ids) > 1]
    return sorted(groups, key=lambda group: (-group.confidence_score, group.match_id or ""))


def existing_profile_ids(client: Any, domain_name: str, profile_ids: Sequence[str]) -> list[str]:
    """Those of ``profile_ids`` that still exist (BatchGetProfile), in the given order."""
    found: set[str] = set()
    for start in range(0, len(profile_ids), PROFILE_IDS_PER_CALL):
        response = client.batch_get_profile(
            DomainName=domain_name, ProfileIds=list(profile_ids[start : start + PROFILE_IDS_PER_CALL])
        )
        found.update(profile["ProfileId"] for profile in response.get("Profiles", []))
    return [profile_id for profile_id in profile_ids if profile_id in found]


def plan_merges(client: Any, domain_name: str, groups: Sequence[MatchGroup], max_merges: int) -> MergePlan:
    """
    Walk ``groups`` in order until ``max_merges`` are planned.

    A group with fewer than two profiles still existing was merged by an earlier run: it is
    stale, not planned, so re-runs are safe. The main profile is the smallest existing id, so
    the same group always merges into the same profile.
    """
    planned: list[GroupMerge] = []
    stale: list[GroupMerge] = []
    for group in groups:
        if len(planned) >= max_merges:
            break
        existing = existing_profile_ids(client, domain_name, group.profile_ids)
        merge = GroupMerge(
            group.match_id, group.confidence_score, existing[0] if existing else None, tuple(existing[1:])
        )
        (planned if len(existing) >= 2 else stale).append(merge)
    return MergePlan(len(groups), tuple(planned), tuple(stale))
