"""What a written partition records and how it is laid out: the marker, row groups, compression, refusals."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from airflow_provider_customerprofiles.matches.dataset import (
    IncompletePartitionError,
    read_partition,
    write_partition,
)
from airflow_provider_customerprofiles.matches.location import resolve
from airflow_provider_customerprofiles.matches.normalize import page_to_batch, stream_get_matches
from tests.unit.matches.pages import GENERATED_AT, make_pages

PARTITION = "match_generation_date=2026-11-21"


def test_the_marker_names_the_generation_its_source_and_job_and_when_it_was_written(tmp_path):
    stream = replace(stream_get_matches(make_pages(4)), job_id="job-7")
    before = datetime.now(timezone.utc)

    result = write_partition(stream, resolve(str(tmp_path)))

    after = datetime.now(timezone.utc)
    marker, _ = read_partition(resolve(result.uri))
    written_at = datetime.fromisoformat(marker.pop("written_at"))
    assert before <= written_at <= after and written_at.utcoffset() == timedelta(0)
    assert marker == {
        "rows": 8,
        "files": ["part-00000.parquet"],
        "summary": result.summary,
        "match_generated_at": GENERATED_AT.isoformat(),
        "source": "get_matches",
        "job_id": "job-7",
    }
    text = (tmp_path / PARTITION / "_SUCCESS").read_text()
    assert text == json.dumps(json.loads(text), sort_keys=True), "the marker is written with sorted keys"


def test_results_say_whether_the_partition_was_written_or_skipped(tmp_path):
    root = resolve(str(tmp_path))

    written = write_partition(stream_get_matches(make_pages(3)), root)
    skipped = write_partition(stream_get_matches(make_pages(3)), root)

    assert written.as_dict() == {
        "uri": f"file://{tmp_path}/{PARTITION}",
        "rows": 6,
        "match_generation_date": "2026-11-21",
        "skipped": False,
        "summary": written.summary,
    }
    assert skipped.as_dict() == {**written.as_dict(), "skipped": True}


def test_a_row_group_closes_as_soon_as_it_reaches_row_group_rows(tmp_path):
    write_partition(
        stream_get_matches(make_pages(30, group_size=2, page_size=5)), resolve(str(tmp_path)), row_group_rows=10
    )

    metadata = pq.ParquetFile(tmp_path / PARTITION / "part-00000.parquet").metadata
    assert [metadata.row_group(i).num_rows for i in range(metadata.num_row_groups)] == [10] * 6
    assert {metadata.row_group(0).column(c).compression for c in range(metadata.num_columns)} == {"SNAPPY"}


def test_a_batch_of_another_schema_is_refused(tmp_path):
    stream = stream_get_matches(make_pages(2))
    batch = page_to_batch(next(make_pages(2)), 1)
    columns = [
        column.cast(pa.int64()) if name == "match_group_size" else column
        for name, column in zip(batch.schema.names, batch.columns, strict=True)
    ]
    other = pa.RecordBatch.from_arrays(columns, names=batch.schema.names)  # sizes as int64, not int32

    with pytest.raises(TypeError, match=r"^record batch does not have the match dataset schema$"):
        write_partition(replace(stream, batches=iter([other])), resolve(str(tmp_path)))


def test_a_new_generation_mid_export_is_refused_with_what_to_do(tmp_path):
    pages = list(make_pages(4, page_size=2))
    pages[1]["MatchGenerationDate"] = GENERATED_AT + timedelta(hours=1)

    with pytest.raises(RuntimeError) as refused:
        write_partition(stream_get_matches(pages), resolve(str(tmp_path)))

    assert str(refused.value) == (
        "The match generation changed during the export (a new identity-resolution run finished, or "
        "the result files mix runs); run the export again"
    )


def test_reading_a_partition_without_its_marker_says_the_export_did_not_finish(tmp_path):
    (tmp_path / PARTITION).mkdir()
    partition = resolve(str(tmp_path / PARTITION))

    with pytest.raises(IncompletePartitionError) as refused:
        read_partition(partition)

    assert str(refused.value) == (
        f"{partition.uri} has no _SUCCESS marker: the export did not finish (or is still running)"
    )
