"""
One guarded merge run: check the audit location, plan, check the preview, merge (or not), audit.

Results are counts and ids (XCom-safe). Logs name counts, ids and the preview's counts only.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from airflow_provider_customerprofiles.merge.audit import AuditLog
from airflow_provider_customerprofiles.merge.plan import (
    PROFILE_IDS_PER_CALL,
    GroupMerge,
    match_groups,
    plan_merges,
)
from airflow_provider_customerprofiles.merge.preview import PreviewExceedsPlan, auto_merging_preview, preview_excess
from airflow_provider_customerprofiles.storage import S3Settings

log = logging.getLogger(__name__)

# A run merges nothing unless asked to, and at most this many groups, so a first run is a review.
DRY_RUN_BY_DEFAULT = True
DEFAULT_MAX_MERGES = 100


@dataclass(frozen=True)
class MergeOptions:
    """What to merge: groups of ``domain_name`` at ``min_confidence`` or better, audited to ``audit_uri``."""

    domain_name: str
    min_confidence: float
    audit_uri: str
    dry_run: bool = DRY_RUN_BY_DEFAULT
    max_merges: int = DEFAULT_MAX_MERGES
    consolidation: dict[str, Any] | None = None
    conflict_resolution: dict[str, Any] | None = None
    check_preview: bool = True


@dataclass(frozen=True)
class MergeResult:
    """Counts of one run; in a dry run ``groups_merged``/``profiles_merged`` count what would have merged."""

    groups_considered: int
    groups_merged: int
    profiles_merged: int
    groups_skipped: int
    groups_deferred: int
    preview_profiles_to_merge: int
    dry_run: bool
    audit_uri: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def merge_matches(
    client: Any, matches: Iterable[dict[str, Any]], options: MergeOptions, s3: S3Settings | None = None
) -> MergeResult:
    """
    Merge the best match groups of ``matches`` (GetMatches items, every page) within the caps.

    ``client`` is a boto3 ``customer-profiles`` client; ``s3`` reaches an ``s3://`` audit_uri.
    Raises AuditLocationError or PreviewExceedsPlan before any MergeProfiles call. The audit is
    written even when a merge fails midway, for what was done until then.
    """
    audit = AuditLog(options.audit_uri, s3)
    audit.check_writable()
    groups = match_groups(matches, options.min_confidence)
    plan = plan_merges(client, options.domain_name, groups, options.max_merges)
    log.info(
        "%d match groups at confidence >= %s: %d planned (%d profiles), %d already merged, %d left for later",
        plan.groups_considered,
        options.min_confidence,
        len(plan.planned),
        plan.profiles_planned,
        len(plan.stale),
        plan.groups_deferred,
    )
    preview = auto_merging_preview(
        client, options.domain_name, options.min_confidence, options.consolidation, options.conflict_resolution
    )
    log.info("Auto-merging preview: %s", preview)
    refusal = preview_excess(preview, plan.profiles_planned, options.max_merges) if options.check_preview else None
    if refusal and not options.dry_run:
        raise PreviewExceedsPlan(refusal)
    if refusal:
        log.warning("%s (dry run: continuing)", refusal)
    records = [group.audit_line("skipped_stale") for group in plan.stale]
    done: list[GroupMerge] = []
    try:
        for group in plan.planned:
            if not options.dry_run:
                _merge(client, options.domain_name, group)
            records.append(group.audit_line("would_merge" if options.dry_run else "merged"))
            done.append(group)
    finally:
        audit.write(records)
    return MergeResult(
        groups_considered=plan.groups_considered,
        groups_merged=len(done),
        profiles_merged=sum(len(group.merged_profile_ids) for group in done),
        groups_skipped=len(plan.stale),
        groups_deferred=plan.groups_deferred,
        preview_profiles_to_merge=preview["NumberOfProfilesWillBeMerged"],
        dry_run=options.dry_run,
        audit_uri=options.audit_uri,
    )


def _merge(client: Any, domain_name: str, group: GroupMerge) -> None:
    """MergeProfiles for one group, 20 profiles a call (the API's limit)."""
    ids = group.merged_profile_ids
    for start in range(0, len(ids), PROFILE_IDS_PER_CALL):
        client.merge_profiles(
            DomainName=domain_name,
            MainProfileId=group.main_profile_id,
            ProfileIdsToBeMerged=list(ids[start : start + PROFILE_IDS_PER_CALL]),
        )
