"""The guarded merge operator over real profiles and a seeded match run, against the local service."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from airflow.sdk import DAG

from airflow_provider_customerprofiles.operators.customer_profiles import CustomerProfilesMergeMatchesOperator
from airflow_provider_customerprofiles.testing import run_dag, xcom
from tests.conftest import s3_client
from tests.integration.provider_support import MATCH_GROUPS, seed_match_groups

# crm ids per match group, the group's confidence score; profiles in a group share an email
CONSOLIDATION = {"MatchingAttributesList": [["EmailAddress"]]}
AUDIT_KEYS = {"match_id", "confidence_score", "main_profile_id", "merged_profile_ids", "outcome"}


@pytest.fixture
def profiles(emulator, domain) -> dict[str, str]:
    """One profile per crm id (created by its object), and the match run over them; crm id -> ProfileId."""
    return seed_match_groups(emulator, domain)


def merge_dag(dag_id: str, conn_id: str, domain: str, **kwargs) -> DAG:
    with DAG(dag_id, schedule=None, start_date=dt.datetime(2026, 1, 1), catchup=False) as dag:
        CustomerProfilesMergeMatchesOperator(
            task_id="merge",
            domain_name=domain,
            consolidation=CONSOLIDATION,
            conflict_resolution={"ConflictResolvingModel": "RECENCY"},
            aws_conn_id=conn_id,
            **kwargs,
        )
    return dag


def existing(emulator, domain: str, profile_ids) -> set[str]:
    found = emulator.client().batch_get_profile(DomainName=domain, ProfileIds=list(profile_ids))["Profiles"]
    return {profile["ProfileId"] for profile in found}


def read_audit(path) -> list[dict]:
    text = path.read_text() if hasattr(path, "read_text") else path
    assert "@" not in text, "the audit file must hold ids and scores only"
    lines = [json.loads(line) for line in text.splitlines()]
    assert all(set(line) == AUDIT_KEYS for line in lines)
    return lines


def test_dry_run_merges_nothing_and_reports_what_would(airflow_db, emulator, domain, profiles, tmp_path, task_log):
    audit = tmp_path / "audit" / "merges.jsonl"

    tis = run_dag(merge_dag("merge_dry", emulator.conn_id, domain, min_confidence=0.9, audit_uri=str(audit)))

    assert xcom(tis["merge"]) == {
        "groups_considered": 2,
        "groups_merged": 2,
        "profiles_merged": 3,
        "groups_skipped": 0,
        "groups_deferred": 0,
        "preview_profiles_to_merge": 3,
        "dry_run": True,
        "audit_uri": str(audit),
    }
    assert existing(emulator, domain, profiles.values()) == set(profiles.values())
    assert emulator.metrics()["operations"].get("MergeProfiles") is None
    lines = read_audit(audit)
    assert [(line["match_id"], line["confidence_score"], line["outcome"]) for line in lines] == [
        ("match-a", 0.99, "would_merge"),
        ("match-b", 0.95, "would_merge"),
    ]
    b_ids = sorted(profiles[c] for c in MATCH_GROUPS["b"][0])
    assert (lines[1]["main_profile_id"], lines[1]["merged_profile_ids"]) == (b_ids[0], b_ids[1:])
    log = task_log()
    assert "Auto-merging preview: {'NumberOfMatchesInSample': 3" in log
    assert "@example.com" not in log, "no profile data in the task log"


def test_real_run_merges_the_best_groups_up_to_max_merges(
    airflow_db, emulator, domain, profiles, moto_s3_server, s3_bucket, monkeypatch
):
    # one connection for both services: Customer Profiles on the local service, S3 on moto
    endpoints = {"customer-profiles": {"endpoint_url": emulator.url}, "s3": {"endpoint_url": moto_s3_server}}
    monkeypatch.setenv("AIRFLOW_CONN_CP_AND_S3", emulator.connection_uri({"service_config": endpoints}))
    client = emulator.client()
    uri = f"s3://{s3_bucket}/merges/run-1.jsonl"
    options = {"min_confidence": 0.9, "dry_run": False, "check_preview": False}

    tis = run_dag(merge_dag("merge_one", "cp_and_s3", domain, max_merges=1, audit_uri=uri, **options))

    result = xcom(tis["merge"])
    assert (result["groups_merged"], result["profiles_merged"], result["groups_deferred"]) == (1, 1, 1)
    main, other = sorted(profiles[c] for c in MATCH_GROUPS["a"][0])
    assert existing(emulator, domain, profiles.values()) == set(profiles.values()) - {other}
    # the merged profile's key and object now belong to the main profile
    found = client.search_profiles(DomainName=domain, KeyName="crm_id", Values=["a2"])["Items"]
    assert [profile["ProfileId"] for profile in found] == [main]
    objects = client.list_profile_objects(DomainName=domain, ObjectTypeName="Customer", ProfileId=main)["Items"]
    assert len(objects) == 2
    body = s3_client(moto_s3_server).get_object(Bucket=s3_bucket, Key="merges/run-1.jsonl")["Body"].read().decode()
    assert read_audit(body) == [
        {
            "match_id": "match-a",
            "confidence_score": 0.99,
            "main_profile_id": main,
            "merged_profile_ids": [other],
            "outcome": "merged",
        }
    ]

    # the next run skips the group already merged and takes the next one; 0.80 stays below the bar
    again = run_dag(merge_dag("merge_two", "cp_and_s3", domain, max_merges=5, audit_uri=uri, **options))

    result = xcom(again["merge"])
    assert (result["groups_skipped"], result["groups_merged"], result["profiles_merged"]) == (1, 1, 2)
    b_main = min(profiles[c] for c in MATCH_GROUPS["b"][0])
    c_ids = {profiles[c] for c in MATCH_GROUPS["c"][0]}
    assert existing(emulator, domain, profiles.values()) == {main, b_main} | c_ids
    assert emulator.metrics()["operations"]["MergeProfiles"]["succeeded"] == 2


def test_preview_guard_refuses_a_backlog_bigger_than_max_merges(
    airflow_db, emulator, domain, profiles, tmp_path, task_log
):
    audit = tmp_path / "merges.jsonl"

    tis = run_dag(
        merge_dag(
            "merge_guard",
            emulator.conn_id,
            domain,
            min_confidence=0.9,
            max_merges=1,
            dry_run=False,
            audit_uri=str(audit),
        )
    )

    assert tis["merge"].state == "failed"
    assert "GetAutoMergingPreview says 3 profiles would be merged, more than the 1 this run plans" in task_log()
    assert existing(emulator, domain, profiles.values()) == set(profiles.values())
    assert emulator.metrics()["operations"].get("MergeProfiles") is None


@pytest.mark.parametrize(("rendered", "merges"), [("False", 2), ("maybe", None)])
def test_templated_dry_run_is_read_strictly(airflow_db, emulator, domain, profiles, tmp_path, rendered, merges):
    """``{{ params.x }}`` renders "False" as a string: it must mean False, and junk must not merge."""
    dag = merge_dag(
        f"merge_flag_{rendered}",
        emulator.conn_id,
        domain,
        min_confidence=0.9,
        dry_run="{{ params.dry_run }}",
        params={"dry_run": rendered},
        audit_uri=str(tmp_path / "merges.jsonl"),
    )

    tis = run_dag(dag)

    assert tis["merge"].state == ("success" if merges else "failed")
    assert emulator.metrics()["operations"].get("MergeProfiles", {}).get("succeeded") == merges
