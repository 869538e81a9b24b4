"""The preview guard: GetAutoMergingPreview must not promise more merges than this run plans."""

from __future__ import annotations

from typing import Any

PREVIEW_COUNTS = ("NumberOfMatchesInSample", "NumberOfProfilesInSample", "NumberOfProfilesWillBeMerged")


class PreviewExceedsPlan(Exception):
    """The backlog is bigger than ``max_merges`` allows: a person should look before anything merges."""


def auto_merging_preview(
    client: Any,
    domain_name: str,
    min_confidence: float,
    consolidation: dict[str, Any] | None = None,
    conflict_resolution: dict[str, Any] | None = None,
) -> dict[str, int]:
    """
    GetAutoMergingPreview's counts for these settings.

    ``consolidation`` and ``conflict_resolution`` default to the domain's own
    ``Matching.AutoMerging`` settings; without either, consolidation is an error and
    conflict resolution falls back to ``RECENCY``.
    """
    if consolidation is None or conflict_resolution is None:
        domain = client.get_domain(DomainName=domain_name)
        auto_merging = (domain.get("Matching") or {}).get("AutoMerging") or {}
        consolidation = consolidation or auto_merging.get("Consolidation")
        conflict_resolution = (
            conflict_resolution or auto_merging.get("ConflictResolution") or {"ConflictResolvingModel": "RECENCY"}
        )
    if not consolidation:
        raise ValueError(
            f"Domain {domain_name} has no Matching.AutoMerging.Consolidation: pass consolidation "
            '(for example {"MatchingAttributesList": [["EmailAddress"]]}).'
        )
    preview = client.get_auto_merging_preview(
        DomainName=domain_name,
        Consolidation=consolidation,
        ConflictResolution=conflict_resolution,
        MinAllowedConfidenceScoreForMerging=min_confidence,
    )
    return {key: int(preview.get(key) or 0) for key in PREVIEW_COUNTS}


def preview_excess(preview: dict[str, int], profiles_planned: int, max_merges: int) -> str | None:
    """Why the preview refuses this run (it would merge more profiles than planned), or None."""
    previewed = preview["NumberOfProfilesWillBeMerged"]
    if previewed <= profiles_planned:
        return None
    return (
        f"GetAutoMergingPreview says {previewed} profiles would be merged, more than the {profiles_planned} "
        f"this run plans to merge (max_merges={max_merges}). "
        "Review the matches, then raise max_merges or set check_preview=False."
    )
