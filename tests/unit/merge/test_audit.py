"""The merge audit: proven writable before any merge, then one sorted JSON object a line, replacing the old file."""

from __future__ import annotations

import json
import re

import pytest

from airflow_provider_customerprofiles.merge.audit import AuditLocationError, AuditLog
from airflow_provider_customerprofiles.storage import S3Settings, StorageError
from tests.conftest import s3_client


def test_the_write_check_leaves_nothing_behind_beside_a_relative_audit_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    AuditLog("merges.jsonl").check_writable()

    assert list(tmp_path.iterdir()) == []


def test_an_unwritable_location_is_refused_naming_the_audit_uri_and_the_reason(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    uri = str(blocker / "merges.jsonl")

    with pytest.raises(AuditLocationError) as refused:
        AuditLog(uri).check_writable()

    assert re.fullmatch(
        rf"The audit location {re.escape(uri)} \(audit_uri\) is not writable, so nothing was merged: \S.*",
        str(refused.value),
    )


def test_records_are_written_one_sorted_json_object_a_line_and_replace_an_earlier_audit(tmp_path):
    audit = tmp_path / "audit" / "merges.jsonl"
    log = AuditLog(str(audit))
    log.write([{"old": 1}])

    log.write([{"outcome": "merged", "match_id": "m1"}, {"outcome": "skipped_stale", "match_id": "m2"}])

    assert audit.read_text() == (
        json.dumps({"match_id": "m1", "outcome": "merged"})
        + "\n"
        + json.dumps({"match_id": "m2", "outcome": "skipped_stale"})
        + "\n"
    )


def test_an_s3_audit_is_checked_and_written_with_the_settings_given(moto_s3_server, s3_bucket):
    uri = f"s3://{s3_bucket}/merges/run.jsonl"
    log = AuditLog(uri, S3Settings("testing", "testing", endpoint_url=moto_s3_server))

    log.check_writable()
    log.write([{"match_id": "m1"}])

    stored = s3_client(moto_s3_server).get_object(Bucket=s3_bucket, Key="merges/run.jsonl")
    assert stored["Body"].read() == b'{"match_id": "m1"}\n'
    assert stored["ServerSideEncryption"] == "AES256"


def test_storage_failures_name_the_audit_uri_argument(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    log = AuditLog(str(blocker / "merges.jsonl"))

    with pytest.raises(AuditLocationError) as refused:
        log.check_writable()
    with pytest.raises(StorageError, match=r"\(audit_uri\)"):
        log.write([{"match_id": "m1"}])

    assert "(audit_uri)" in str(refused.value.__cause__), "the chained storage error names the argument too"


def test_an_s3_audit_without_settings_is_refused_before_any_merge(s3_bucket):
    with pytest.raises(AuditLocationError, match=r"\(audit_uri\) is not writable"):
        AuditLog(f"s3://{s3_bucket}/merges/run.jsonl").check_writable()
