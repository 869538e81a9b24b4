"""One guarded merge run against the local service: caps, the preview guard, chunked merges, the audit and its log."""

from __future__ import annotations

import json
import logging

import pytest

from airflow_provider_customerprofiles.merge import MergeOptions, PreviewExceedsPlan, merge_matches
from airflow_provider_customerprofiles.storage import S3Settings
from tests.conftest import s3_client
from tests.unit.merge.conftest import PREVIEW_SETTINGS

LOGGER = "airflow_provider_customerprofiles.merge"


def options(domain, audit, **overrides) -> MergeOptions:
    return MergeOptions(
        domain.name, **{"min_confidence": 0.9, "audit_uri": str(audit), **PREVIEW_SETTINGS, **overrides}
    )


def group(match_id: str, score: float, ids: list[str]) -> dict:
    return {"MatchId": match_id, "ProfileIds": ids, "ConfidenceScore": score}


def outcomes(audit) -> list[tuple[str, str]]:
    return [(line["match_id"], line["outcome"]) for line in map(json.loads, audit.read_text().splitlines())]


def test_a_run_merges_nothing_unless_asked_and_at_most_a_hundred_groups():
    defaults = MergeOptions("domain", 0.9, "audit.jsonl")
    assert (defaults.dry_run, defaults.max_merges, defaults.check_preview) == (True, 100, True)


def test_a_dry_run_calls_no_merge_and_audits_what_would_merge(merge_domain, tmp_path):
    a, b = merge_domain.profiles(2, "a@example.com"), merge_domain.profiles(3, "b@example.com")
    matches = merge_domain.publish(group("a", 0.99, a), group("b", 0.95, b))
    audit = tmp_path / "merges.jsonl"

    result = merge_matches(merge_domain.client, matches, options(merge_domain, audit))

    assert result.as_dict() == {
        "groups_considered": 2,
        "groups_merged": 2,
        "profiles_merged": 3,
        "groups_skipped": 0,
        "groups_deferred": 0,
        "preview_profiles_to_merge": 3,
        "dry_run": True,
        "audit_uri": str(audit),
    }
    assert merge_domain.calls("MergeProfiles") == 0
    assert merge_domain.existing(a + b) == set(a + b)
    assert outcomes(audit) == [("a", "would_merge"), ("b", "would_merge")]


def test_a_real_run_merges_big_groups_twenty_profiles_a_call_and_skips_merged_groups(merge_domain, tmp_path):
    big, small, stale = merge_domain.profiles(42), merge_domain.profiles(2, "s@example.com"), merge_domain.profiles(2)
    merge_domain.delete(stale[0])
    matches = merge_domain.publish(group("stale", 1.0, stale), group("big", 0.99, big), group("small", 0.95, small))
    audit = tmp_path / "merges.jsonl"

    result = merge_matches(merge_domain.client, matches, options(merge_domain, audit, dry_run=False))

    assert (result.groups_merged, result.profiles_merged, result.groups_skipped, result.dry_run) == (2, 42, 1, False)
    assert merge_domain.calls("MergeProfiles") == 4  # 41 profiles in three calls, 1 in one
    assert merge_domain.existing(big + small + stale) == {big[0], small[0], stale[1]}
    assert outcomes(audit) == [("stale", "skipped_stale"), ("big", "merged"), ("small", "merged")]


def test_the_preview_guard_refuses_a_real_run_before_any_merge_and_audit(merge_domain, tmp_path):
    a, b = merge_domain.profiles(2, "a@example.com"), merge_domain.profiles(3, "b@example.com")
    matches = merge_domain.publish(group("a", 0.99, a), group("b", 0.95, b))
    audit = tmp_path / "merges.jsonl"

    with pytest.raises(
        PreviewExceedsPlan, match=r"says 3 profiles would be merged, more than the 1 .* \(max_merges=1\)"
    ):
        merge_matches(merge_domain.client, matches, options(merge_domain, audit, dry_run=False, max_merges=1))

    assert merge_domain.calls("MergeProfiles") == 0
    assert not audit.exists()


def test_without_the_preview_check_a_capped_run_merges_its_share(merge_domain, tmp_path):
    a, b = merge_domain.profiles(2, "a@example.com"), merge_domain.profiles(3, "b@example.com")
    matches = merge_domain.publish(group("a", 0.99, a), group("b", 0.95, b))
    audit = tmp_path / "merges.jsonl"

    result = merge_matches(
        merge_domain.client, matches, options(merge_domain, audit, dry_run=False, max_merges=1, check_preview=False)
    )

    assert (result.groups_merged, result.groups_deferred, result.preview_profiles_to_merge) == (1, 1, 3)
    assert merge_domain.existing(a + b) == {a[0], *b}


def test_a_dry_run_over_the_preview_warns_and_logs_counts_never_profile_data(merge_domain, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger=LOGGER)
    a, b = merge_domain.profiles(2, "a@example.com"), merge_domain.profiles(3, "b@example.com")
    stale = merge_domain.profiles(2, "gone@example.com")
    merge_domain.delete(stale[0])
    matches = merge_domain.publish(group("stale", 1.0, stale), group("a", 0.99, a), group("b", 0.95, b))

    result = merge_matches(merge_domain.client, matches, options(merge_domain, tmp_path / "a.jsonl", max_merges=1))

    assert (result.groups_merged, result.groups_skipped, result.groups_deferred) == (1, 1, 1)
    messages = [(record.levelno, record.getMessage()) for record in caplog.records]
    assert messages[0] == (
        logging.INFO,
        "3 match groups at confidence >= 0.9: 1 planned (1 profiles), 1 already merged, 1 left for later",
    )
    assert messages[1] == (
        logging.INFO,
        "Auto-merging preview: {'NumberOfMatchesInSample': 3, 'NumberOfProfilesInSample': 7, "
        "'NumberOfProfilesWillBeMerged': 3}",
    )
    assert messages[2][0] == logging.WARNING
    assert messages[2][1].startswith("GetAutoMergingPreview says 3 profiles would be merged, more than the 1")
    assert messages[2][1].endswith("set check_preview=False. (dry run: continuing)")
    assert len(messages) == 3
    assert "@example.com" not in caplog.text


def test_a_merge_failing_midway_still_audits_the_merges_done(merge_domain, tmp_path):
    # Two groups sharing a profile: merging the first removes the second's main profile before its turn.
    first, middle, last = merge_domain.profiles(3)
    matches = merge_domain.publish(group("first", 0.99, [first, middle]), group("second", 0.95, [middle, last]))
    audit = tmp_path / "merges.jsonl"

    with pytest.raises(merge_domain.client.exceptions.ResourceNotFoundException):
        merge_matches(merge_domain.client, matches, options(merge_domain, audit, dry_run=False, check_preview=False))

    assert outcomes(audit) == [("first", "merged")]
    assert merge_domain.existing([first, middle, last]) == {first, last}


def test_the_preview_is_asked_with_the_runs_settings_and_the_audit_goes_to_s3(
    merge_domain, tmp_path, moto_s3_server, s3_bucket
):
    a = merge_domain.profiles(2, "a@example.com")
    matches = merge_domain.publish(group("a", 0.99, a))
    sent = []
    merge_domain.client.meta.events.register(
        "provide-client-params.customer-profiles.GetAutoMergingPreview", lambda params, **_: sent.append(params)
    )
    source = {"ConflictResolvingModel": "SOURCE", "SourceName": "Customer"}
    settings = S3Settings("testing", "testing", endpoint_url=moto_s3_server)
    uri = f"s3://{s3_bucket}/merges/run.jsonl"

    merge_matches(merge_domain.client, matches, options(merge_domain, uri, conflict_resolution=source), settings)

    assert [params["ConflictResolution"] for params in sent] == [source]
    body = s3_client(moto_s3_server).get_object(Bucket=s3_bucket, Key="merges/run.jsonl")["Body"].read()
    assert [json.loads(line)["outcome"] for line in body.decode().splitlines()] == ["would_merge"]
