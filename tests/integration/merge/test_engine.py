"""The merge engine against the local service over HTTP and moto's S3 server, with no Airflow involved: planning over
a real match run, caps across runs, and the audit's storage checks (dry runs and the preview guard are in
tests/unit/merge/test_engine.py, against the same service)."""

from __future__ import annotations

import json
import re

import pytest

from airflow_provider_customerprofiles.merge import (
    AuditLocationError,
    MergeOptions,
    merge_matches,
)
from airflow_provider_customerprofiles.merge.plan import match_groups, plan_merges
from airflow_provider_customerprofiles.storage import S3Settings
from tests.conftest import s3_client

AUDIT_KEYS = {"match_id", "confidence_score", "main_profile_id", "merged_profile_ids", "outcome"}


def options(domain, audit_uri, **overrides) -> MergeOptions:
    settings = {"min_confidence": 0.9, **domain.preview_settings, **overrides}
    return MergeOptions(domain.name, audit_uri=str(audit_uri), **settings)


def moto_settings(moto_s3_server) -> S3Settings:
    return S3Settings(access_key="testing", secret_key="testing", endpoint_url=moto_s3_server)


def read_audit(text: str) -> list[dict]:
    lines = [json.loads(line) for line in text.splitlines()]
    assert all(set(line) == AUDIT_KEYS for line in lines)
    return lines


def test_plan_takes_the_best_groups_up_to_the_cap_into_their_smallest_profile_id(matched_domain):
    groups = match_groups(matched_domain.matches(), min_confidence=0.9)

    plan = plan_merges(matched_domain.client, matched_domain.name, groups, max_merges=1)

    assert [group.match_id for group in groups] == ["match-a", "match-b"], "0.80 is below the bar; best first"
    a_main, *a_others = matched_domain.group_ids("a")
    assert [(g.match_id, g.main_profile_id, g.merged_profile_ids) for g in plan.planned] == [
        ("match-a", a_main, tuple(a_others))
    ]
    assert (plan.groups_considered, len(plan.stale), plan.groups_deferred, plan.profiles_planned) == (2, 0, 1, 1)


def test_cap_merges_max_merges_groups_and_the_next_run_skips_them(matched_domain, tmp_path):
    audit = tmp_path / "merges.jsonl"
    real = {"dry_run": False, "check_preview": False}

    first = merge_matches(
        matched_domain.client, matched_domain.matches(), options(matched_domain, audit, max_merges=1, **real)
    )
    second = merge_matches(
        matched_domain.client, matched_domain.matches(), options(matched_domain, audit, max_merges=5, **real)
    )

    assert (first.groups_merged, first.profiles_merged, first.groups_deferred) == (1, 1, 1)
    assert (second.groups_skipped, second.groups_merged, second.profiles_merged, second.groups_deferred) == (1, 1, 2, 0)
    a_main, _ = matched_domain.group_ids("a")
    b_main = matched_domain.group_ids("b")[0]
    c_ids = set(matched_domain.group_ids("c"))
    assert matched_domain.existing() == {a_main, b_main} | c_ids
    assert matched_domain.merge_calls() == 2
    assert [(line["match_id"], line["outcome"]) for line in read_audit(audit.read_text())] == [
        ("match-a", "skipped_stale"),
        ("match-b", "merged"),
    ]


def test_audit_on_s3_holds_ids_scores_and_outcomes_only(matched_domain, moto_s3_server, s3_bucket):
    uri = f"s3://{s3_bucket}/merges/run.jsonl"

    merge_matches(
        matched_domain.client,
        matched_domain.matches(),
        options(matched_domain, uri, dry_run=False),
        moto_settings(moto_s3_server),
    )

    s3 = s3_client(moto_s3_server)
    stored = s3.get_object(Bucket=s3_bucket, Key="merges/run.jsonl")
    assert stored["ServerSideEncryption"] == "AES256"
    text = stored["Body"].read().decode()
    assert "@" not in text
    a_main, *a_others = matched_domain.group_ids("a")
    b_main, *b_others = matched_domain.group_ids("b")
    assert read_audit(text) == [
        {
            "match_id": "match-a",
            "confidence_score": 0.99,
            "main_profile_id": a_main,
            "merged_profile_ids": a_others,
            "outcome": "merged",
        },
        {
            "match_id": "match-b",
            "confidence_score": 0.95,
            "main_profile_id": b_main,
            "merged_profile_ids": b_others,
            "outcome": "merged",
        },
    ]
    assert [item["Key"] for item in s3.list_objects_v2(Bucket=s3_bucket)["Contents"]] == ["merges/run.jsonl"], (
        "the write check leaves no marker behind"
    )


def test_missing_audit_bucket_fails_before_any_merge_naming_the_uri_and_argument(matched_domain, moto_s3_server):
    uri = "s3://no-such-audit-bucket/merges/run.jsonl"

    with pytest.raises(AuditLocationError) as failure:
        merge_matches(
            matched_domain.client,
            matched_domain.matches(),
            options(matched_domain, uri, dry_run=False, check_preview=False),
            moto_settings(moto_s3_server),
        )

    message = str(failure.value)
    assert uri in message and "(audit_uri)" in message and "NoSuchBucket" in message
    assert matched_domain.merge_calls() is None
    assert matched_domain.existing() == set(matched_domain.ids.values())


def test_s3_audit_without_credentials_fails_before_any_merge(matched_domain, s3_bucket):
    uri = f"s3://{s3_bucket}/merges/run.jsonl"

    with pytest.raises(AuditLocationError, match=r"\(audit_uri\) is not writable.*no S3 credentials were given"):
        merge_matches(
            matched_domain.client,
            matched_domain.matches(),
            options(matched_domain, uri, dry_run=False, check_preview=False),
        )

    assert matched_domain.merge_calls() is None


def test_unwritable_local_audit_path_fails_before_any_merge(matched_domain, tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    uri = str(blocker / "merges.jsonl")

    with pytest.raises(AuditLocationError, match=re.escape(f"{uri} (audit_uri) is not writable")):
        merge_matches(
            matched_domain.client,
            matched_domain.matches(),
            options(matched_domain, uri, dry_run=False, check_preview=False),
        )

    assert matched_domain.merge_calls() is None
