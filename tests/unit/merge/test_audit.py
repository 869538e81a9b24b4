"""The merge audit: proven writable before any merge, then one sorted JSON object a line, replacing the old file."""

from __future__ import annotations

import json
import re

import pytest

from airflow_provider_customerprofiles.merge.audit import AuditLocationError, AuditLog


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
