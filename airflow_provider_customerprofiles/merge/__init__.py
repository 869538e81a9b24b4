"""
Guarded merges of identity-resolution match groups (no Airflow import).

Merges cannot be undone, so every check that can refuse a run happens before the first
MergeProfiles call: the audit location is writable, the plan fits ``max_merges``, and the
auto-merging preview is no bigger than the plan. Usable from a plain script::

    merge_matches(client, matches, MergeOptions("my-domain", 0.9, "audit/merges.jsonl"))

where ``matches`` are GetMatches items, every page (the hook's ``iterate_items("get_matches", ...)``).
"""

from __future__ import annotations

from airflow_provider_customerprofiles.merge.audit import AuditLocationError
from airflow_provider_customerprofiles.merge.engine import MergeOptions, MergeResult, merge_matches
from airflow_provider_customerprofiles.merge.preview import PreviewExceedsPlan

__all__ = ["AuditLocationError", "MergeOptions", "MergeResult", "PreviewExceedsPlan", "merge_matches"]
