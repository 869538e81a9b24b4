"""Checkpoint round trips and the row-range arithmetic that resume relies on."""

from __future__ import annotations

import json

import pytest

from airflow_provider_customerprofiles.ingest.checkpoint import Checkpoint, RangeSet
from airflow_provider_customerprofiles.storage import MissingSettingsError, S3Settings
from tests.conftest import s3_client


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
    with pytest.raises(ValueError, match=r"unknown format version 99$"):
        Checkpoint(str(path))


def test_an_empty_range_is_always_covered():
    assert RangeSet().covers(5, 5)
    assert RangeSet([(0, 3)]).covers(7, 7)
    assert not RangeSet().covers(5, 6)


def test_the_saved_document_lists_files_with_no_ranges_yet(tmp_path):
    path = tmp_path / "cp.json"
    checkpoint = Checkpoint(str(path))
    checkpoint.finished("s3://b/z.parquet", 7)
    done = checkpoint.finished("s3://b/a.parquet", 100)
    done.add(10, 20)
    done.add(0, 5)
    checkpoint.record("s3://b/a.parquet", done)
    checkpoint.save()
    # Keys are sorted, so the same progress always saves the same bytes.
    assert path.read_text() == (
        '{"files": {"s3://b/a.parquet": {"done": [[0, 5], [10, 20]], "rows": 100}, '
        '"s3://b/z.parquet": {"done": [], "rows": 7}}, '
        '"totals": {"accepted": 0, "rejected": 0}, "version": 1}'
    )


def test_totals_accumulate_across_ranges_and_retries(tmp_path):
    uri = str(tmp_path / "cp.json")
    first = Checkpoint(uri)
    first.add_totals(accepted=10, rejected=1)
    first.add_totals(accepted=5, rejected=2)
    assert first.totals == {"accepted": 15, "rejected": 3}
    first.save()

    retry = Checkpoint(uri)
    retry.add_totals(accepted=1, rejected=0)
    assert retry.totals == {"accepted": 16, "rejected": 3}


def test_round_trip_through_an_s3_object(moto_s3_server, s3_bucket):
    settings = S3Settings("testing", "testing", region="us-east-1", endpoint_url=moto_s3_server)
    uri = f"s3://{s3_bucket}/progress/cp.json"
    first = Checkpoint(uri, settings)
    assert first.finished("s3://b/a.parquet", 50).ranges == []
    done = RangeSet([(0, 30)])
    first.record("s3://b/a.parquet", done)
    first.add_totals(accepted=29, rejected=1)
    first.save()

    stored = s3_client(moto_s3_server).get_object(Bucket=s3_bucket, Key="progress/cp.json")
    assert stored["ServerSideEncryption"] == "AES256"
    assert json.loads(stored["Body"].read())["files"] == {"s3://b/a.parquet": {"done": [[0, 30]], "rows": 50}}

    second = Checkpoint(uri, settings)
    assert second.finished("s3://b/a.parquet", 50).ranges == [(0, 30)]
    assert second.totals == {"accepted": 29, "rejected": 1}


def test_a_read_mark_is_saved_at_once_and_survives_a_retry(tmp_path):
    path = tmp_path / "cp.json"
    checkpoint = Checkpoint(str(path))
    checkpoint.finished("f.parquet", 100)
    assert checkpoint.read_mark("f.parquet") == 0
    checkpoint.mark_read("f.parquet", 40)
    assert json.loads(path.read_text())["files"]["f.parquet"] == {"rows": 100, "done": [], "read": 40}

    retry = Checkpoint(str(path))
    retry.finished("f.parquet", 100)
    assert retry.read_mark("f.parquet") == 40


def test_a_read_mark_only_moves_forward(tmp_path):
    path = tmp_path / "cp.json"
    checkpoint = Checkpoint(str(path))
    checkpoint.finished("f.parquet", 100)
    checkpoint.mark_read("f.parquet", 60)
    path.unlink()
    checkpoint.mark_read("f.parquet", 60)
    checkpoint.mark_read("f.parquet", 20)
    assert not path.exists()  # nothing new to save
    assert checkpoint.read_mark("f.parquet") == 60


def test_a_replaced_file_loses_its_read_mark(tmp_path):
    uri = str(tmp_path / "cp.json")
    checkpoint = Checkpoint(uri)
    checkpoint.finished("f.parquet", 100)
    checkpoint.mark_read("f.parquet", 100)
    retry = Checkpoint(uri)
    retry.finished("f.parquet", 90)
    assert retry.read_mark("f.parquet") == 0


def test_a_read_mark_of_one_row_is_saved(tmp_path):
    path = tmp_path / "cp.json"
    checkpoint = Checkpoint(str(path))
    checkpoint.finished("f.parquet", 100)
    checkpoint.mark_read("f.parquet", 1)
    assert json.loads(path.read_text())["files"]["f.parquet"]["read"] == 1


def test_a_checkpoint_location_error_names_the_argument():
    with pytest.raises(MissingSettingsError, match=r"^s3://bucket/cp\.json \(checkpoint_uri\): "):
        Checkpoint("s3://bucket/cp.json")
