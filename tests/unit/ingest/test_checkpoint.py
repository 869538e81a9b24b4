"""Checkpoint round trips and the row-range arithmetic that resume relies on."""

from __future__ import annotations

import json

import pytest

from airflow_provider_customerprofiles.ingest.checkpoint import Checkpoint, RangeSet


def test_rangeset_merges_adjacent_and_overlapping_ranges():
    ranges = RangeSet()
    for start, end in [(10, 20), (0, 5), (5, 10), (30, 40), (35, 45), (50, 50)]:
        ranges.add(start, end)
    assert ranges.ranges == [(0, 20), (30, 45)]
    assert ranges.total() == 35


def test_rangeset_covers_and_contains():
    ranges = RangeSet([(0, 20), (30, 45)])
    assert ranges.covers(0, 20)
    assert ranges.covers(31, 44)
    assert not ranges.covers(15, 35)
    assert ranges.contains(0) and ranges.contains(44)
    assert not ranges.contains(20) and not ranges.contains(29) and not ranges.contains(45)


def test_round_trip_through_a_local_file(tmp_path):
    uri = str(tmp_path / "nested" / "cp.json")
    first = Checkpoint(uri)
    done = first.finished("s3://b/a.parquet", 100)
    done.add(0, 40)
    first.record("s3://b/a.parquet", done)
    first.add_totals(accepted=38, rejected=2)
    first.save()

    second = Checkpoint(uri)
    assert second.finished("s3://b/a.parquet", 100).ranges == [(0, 40)]
    assert second.totals == {"accepted": 38, "rejected": 2}
    assert second.finished("s3://b/other.parquet", 7).ranges == []


def test_a_file_with_a_different_row_count_starts_over(tmp_path):
    uri = str(tmp_path / "cp.json")
    checkpoint = Checkpoint(uri)
    done = checkpoint.finished("f.parquet", 100)
    done.add(0, 100)
    checkpoint.record("f.parquet", done)
    checkpoint.save()
    assert Checkpoint(uri).finished("f.parquet", 101).ranges == []


def test_without_uri_nothing_is_written(tmp_path):
    checkpoint = Checkpoint(None)
    checkpoint.finished("f.parquet", 1).add(0, 1)
    checkpoint.save()
    assert list(tmp_path.iterdir()) == []


def test_unknown_format_version_is_refused(tmp_path):
    path = tmp_path / "cp.json"
    path.write_text(json.dumps({"version": 99, "files": {}, "totals": {}}))
    with pytest.raises(ValueError, match="format version"):
        Checkpoint(str(path))
