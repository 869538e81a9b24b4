"""Which match groups auto-merge would merge, and into which profile (no changes made here).

Shared by identity-resolution jobs (which then merge) and GetAutoMergingPreview (which counts).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from customer_profiles_local.matching import MatchGroup
from customer_profiles_local.normalize import profile_attribute
from customer_profiles_local.state import Domain

_NEVER = dt.datetime.min.replace(tzinfo=dt.timezone.utc)


@dataclass(frozen=True)
class MergePlan:
    """Merge ``others`` into ``main``."""

    main: str
    others: tuple[str, ...]


def plan_merges(domain: Domain, groups: Iterable[MatchGroup], settings: Mapping[str, Any]) -> list[MergePlan]:
    """
    The merges auto-merge ``settings`` (an ``AutoMerging`` shape) allow on ``groups``.

    A group is merged when its confidence reaches ``MinAllowedConfidenceScoreForMerging`` and its
    profiles that still exist agree, after normalization, on every attribute of at least one
    ``Consolidation.MatchingAttributesList`` rule (no Consolidation: every group qualifies).
    ``ConflictResolution`` picks the main profile: RECENCY, the most recently updated; SOURCE, the
    one holding objects of type ``SourceName`` (RECENCY among several, or when none has them).
    """
    threshold = settings.get("MinAllowedConfidenceScoreForMerging") or 0.0
    rules = (settings.get("Consolidation") or {}).get("MatchingAttributesList")
    resolution = settings.get("ConflictResolution") or {"ConflictResolvingModel": "RECENCY"}
    sourced = _profiles_with_objects(domain, resolution.get("SourceName"), resolution["ConflictResolvingModel"])
    plans = []
    for group in groups:
        members = [pid for pid in group.profile_ids if pid in domain.profiles]
        if len(members) < 2 or group.confidence_score < threshold:
            continue
        if rules and not any(_agree(domain.profiles, members, rule) for rule in rules):
            continue
        main = _main_profile(domain, [pid for pid in members if pid in sourced] or members)
        plans.append(MergePlan(main, tuple(pid for pid in members if pid != main)))
    return plans


def _agree(profiles: Mapping[str, Mapping[str, Any]], members: list[str], rule: list[str]) -> bool:
    for attribute in rule:
        values = {profile_attribute(profiles[pid], attribute) for pid in members}
        if None in values or len(values) != 1:
            return False
    return True


def _profiles_with_objects(domain: Domain, source_name: str | None, model: str) -> set[str]:
    if model != "SOURCE" or not source_name:
        return set()
    return {obj["ProfileId"] for obj in domain.objects.get(source_name, {}).values()}


def _main_profile(domain: Domain, candidates: list[str]) -> str:
    return max(candidates, key=lambda pid: (domain.profile_updated_at.get(pid, _NEVER), pid))
