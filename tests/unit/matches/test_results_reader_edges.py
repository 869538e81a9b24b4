"""What the results reader promises beyond the common layouts: where each column comes from, and each refusal."""

from __future__ import annotations

import gzip
import io
import json
from datetime import date, datetime, timezone

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from airflow_provider_customerprofiles.matches.location import resolve
from airflow_provider_customerprofiles.matches.results_reader import (
    UnreadableResultsError,
    exporting_location_uri,
    stream_results,
)
from airflow_provider_customerprofiles.matches.schema import MATCHES_SCHEMA

GENERATED = datetime(2026, 11, 14, 6, 30, tzinfo=timezone.utc)
FROM_JOB = datetime(2026, 11, 15, 0, 0, tzinfo=timezone.utc)
COLUMNS = ("match_id", "profile_id", "confidence_score", "match_group_size", "match_generated_at", "job_id")


def read(tmp_path, name: str, content: bytes, job_id: str | None = None, from_job=None) -> list[tuple]:
    """The rows stream_results makes of one file, as (match, profile, score, size, generated at, job) tuples."""
    (tmp_path / name).write_bytes(content)
    stream = stream_results(resolve(str(tmp_path)), job_id, default_generated_at=lambda: from_job)
    table = pa.Table.from_batches(list(stream.batches), schema=MATCHES_SCHEMA)
    return list(zip(*(table.column(c).to_pylist() for c in COLUMNS), strict=True))


def refusal(tmp_path, name: str, content: bytes, from_job=None) -> str:
    (tmp_path / name).write_bytes(content)
    with pytest.raises(UnreadableResultsError) as refused:
        list(stream_results(resolve(str(tmp_path)), None, default_generated_at=lambda: from_job).batches)
    return str(refused.value)


def lines(*records: dict) -> bytes:
    return "".join(json.dumps(record) + "\n" for record in records).encode()


def parquet(table: pa.Table) -> bytes:
    out = io.BytesIO()
    pq.write_table(table, out)
    return out.getvalue()


GROUP = {
    "MatchId": "m1",
    "ProfileIds": ["p1", "p2"],
    "ConfidenceScore": 0.9,
    "MatchGenerationDate": GENERATED.isoformat(),
}
GROUP_ROWS = [("m1", "p1", 0.9, 2, GENERATED, None), ("m1", "p2", 0.9, 2, GENERATED, None)]


# -- format detection


@pytest.mark.parametrize("name", ["lines.jsonl.gz", "LINES.NDJSON.GZIP", "no-extension-gzipped"])
def test_gzipped_json_lines_are_read_whatever_the_name(tmp_path, name):
    assert read(tmp_path, name, gzip.compress(lines(GROUP, GROUP))) == GROUP_ROWS * 2


@pytest.mark.parametrize("name", ["one-line.JSONL", "one-line.ndjson", "one-line.ndjson.gz"])
def test_a_single_object_line_is_json_lines_when_the_name_says_so(tmp_path, name):
    content = lines(GROUP)
    assert read(tmp_path, name, gzip.compress(content) if name.endswith(".gz") else content) == GROUP_ROWS


@pytest.mark.parametrize(
    "content",
    [
        json.dumps({"Matches": [GROUP]}).encode() + b"\n",  # one line, then only a newline
        json.dumps({"Matches": [GROUP]}, indent=2).encode(),  # pretty-printed: the first line is not JSON
        b"\xef\xbb\xbf \r\n\t" + json.dumps([GROUP]).encode(),  # byte order mark and blanks before the array
    ],
)
def test_a_json_document_without_an_extension_is_recognised(tmp_path, content):
    assert read(tmp_path, "results", content) == GROUP_ROWS


@pytest.mark.parametrize("name", ["results.json", "results"])
def test_gzipped_json_is_recognised_by_its_bytes(tmp_path, name):
    assert read(tmp_path, name, gzip.compress(json.dumps([GROUP]).encode())) == GROUP_ROWS


def test_gzipped_parquet_without_an_extension_is_read(tmp_path):
    table = pa.Table.from_pylist([{**GROUP, "MatchGenerationDate": GENERATED}])
    assert read(tmp_path, "results", gzip.compress(parquet(table))) == GROUP_ROWS


# -- JSON documents


def test_the_list_named_like_records_is_taken_from_an_object_holding_several(tmp_path):
    document = {"Warnings": [{"Code": "w"}], "Results": [GROUP], "Count": 1}
    assert read(tmp_path, "r.json", json.dumps(document).encode()) == GROUP_ROWS


def test_the_only_list_of_records_is_taken_whatever_its_name(tmp_path):
    document = {"Groups": [GROUP], "Tags": ["a", "b"], "Empty": []}
    assert read(tmp_path, "r.json", json.dumps(document).encode()) == GROUP_ROWS


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ({"First": [GROUP], "Second": [GROUP]}, "a JSON object with keys ['First', 'Second'] and no single list"),
        ([GROUP, "not a record"], "a JSON list, not a list of records"),
    ],
)
def test_a_json_document_without_one_list_of_records_is_refused(tmp_path, document, problem):
    assert f"r.json (json) holds {problem}" in refusal(tmp_path, "r.json", json.dumps(document).encode())


# -- CSV


def test_a_csv_with_a_byte_order_mark_keeps_ids_as_text(tmp_path):
    content = "\ufeffMatchId;ProfileId;MatchGenerationDate\n0007;00012;2026-11-14T06:30:00+00:00\n".encode()
    assert read(tmp_path, "r.csv", content) == [("0007", "00012", None, 1, GENERATED, None)]


def test_a_pipe_separated_file_is_read(tmp_path):
    content = b"MatchId|ProfileId|Score\nm1|p1|0.5\nm1|p2|0.5\n"
    assert [row[:4] for row in read(tmp_path, "r.txt", content, from_job=GENERATED)] == [
        ("m1", "p1", 0.5, 2),
        ("m1", "p2", 0.5, 2),
    ]


def test_text_that_is_not_utf8_is_refused_as_unparseable(tmp_path):
    content = b"MatchId,ProfileId\nm1,caf\xe9\n"
    assert "unparseable content" in refusal(tmp_path, "r.csv", content, from_job=GENERATED)


@pytest.mark.parametrize(
    "content", [b"MatchId,ProfileId\nm1,p1\nm1,\n", b"MatchId,ProfileId\nm1,p1\n,p2\n"], ids=["profile", "match"]
)
def test_rows_with_an_empty_id_are_refused(tmp_path, content):
    assert "holds rows without a match id or profile id" in refusal(tmp_path, "r.csv", content, from_job=GENERATED)


# -- columns


@pytest.mark.parametrize(
    ("header", "shown"),
    [("MatchId,Score", "['MatchId', 'Score']"), ("ProfileId,Score", "['ProfileId', 'Score']")],
)
def test_a_file_without_a_match_id_and_a_profile_id_is_refused_naming_its_columns(tmp_path, header, shown):
    message = refusal(tmp_path, "r.csv", f"{header}\nx,0.5\n".encode(), from_job=GENERATED)
    assert f"holds columns {shown} (need a match id and a profile id or id list)" in message


def test_group_sizes_and_job_ids_in_the_file_are_kept_per_profile(tmp_path):
    # One file of a larger export: the group has 3 profiles, 2 of them in this file.
    content = b"MatchId,ProfileId,GroupSize,JobId,GeneratedAt\nm1,p1,3,job-9,1794637800\nm1,p2,3,job-9,1794637800\n"
    assert read(tmp_path, "r.csv", content) == [
        ("m1", "p1", None, 3, GENERATED, "job-9"),
        ("m1", "p2", None, 3, GENERATED, "job-9"),
    ]


def test_group_sizes_and_job_ids_in_the_file_are_kept_per_group(tmp_path):
    record = {**GROUP, "NumberOfProfiles": 5, "JobId": "job-9"}
    assert read(tmp_path, "r.jsonl", lines(record)) == [
        ("m1", "p1", 0.9, 5, GENERATED, "job-9"),
        ("m1", "p2", 0.9, 5, GENERATED, "job-9"),
    ]


def test_the_job_id_given_wins_over_the_files(tmp_path):
    record = {**GROUP, "JobId": "job-9"}
    assert {row[5] for row in read(tmp_path, "r.jsonl", lines(record), job_id="job-1")} == {"job-1"}


def test_a_score_that_is_not_a_number_is_refused_naming_the_column(tmp_path):
    content = b"MatchId,ProfileId,MatchScore\nm1,p1,high\n"
    assert "holds a MatchScore column that is not numeric" in refusal(tmp_path, "r.csv", content, from_job=GENERATED)


# -- profile id lists


def test_id_lists_written_as_text_are_split_on_anything_but_id_characters(tmp_path):
    records = [
        {"MatchId": "m1", "ProfileIds": '["Ab-1", "cD_2"]', "Score": 0.9},
        {"MatchId": "m2", "ProfileIds": " x9 | Y8 ", "Score": 0.8},
        {"MatchId": "m3", "ProfileIds": "", "Score": 0.7},
        {"MatchId": "m4", "ProfileIds": "[]", "Score": 0.6},
    ]
    assert [row[:4] for row in read(tmp_path, "r.jsonl", lines(*records), from_job=GENERATED)] == [
        ("m1", "Ab-1", 0.9, 2),
        ("m1", "cD_2", 0.9, 2),
        ("m2", "x9", 0.8, 2),
        ("m2", "Y8", 0.8, 2),
    ]


def test_numeric_id_lists_become_text(tmp_path):
    table = pa.table({"MatchId": ["m1"], "ProfileIds": pa.array([[7, 8]], pa.large_list(pa.int64()))})
    assert [row[:2] for row in read(tmp_path, "r.parquet", parquet(table), from_job=GENERATED)] == [
        ("m1", "7"),
        ("m1", "8"),
    ]


def test_an_id_list_column_of_another_type_is_refused_naming_the_type(tmp_path):
    table = pa.table({"MatchId": ["m1"], "ProfileIds": pa.array([7], pa.int64())})
    message = refusal(tmp_path, "r.parquet", parquet(table), from_job=GENERATED)
    assert "holds a profile id list column of type int64" in message


# -- the generation date


def test_missing_dates_in_the_file_are_filled_from_the_job(tmp_path):
    records = [{**GROUP, "MatchId": "m1"}, {**GROUP, "MatchId": "m2", "MatchGenerationDate": None}]
    assert {(row[0], row[4]) for row in read(tmp_path, "r.jsonl", lines(*records), from_job=FROM_JOB)} == {
        ("m1", GENERATED),
        ("m2", FROM_JOB),
    }


def test_without_a_date_in_the_file_or_from_the_job_the_file_is_refused(tmp_path):
    content = b"MatchId,ProfileId\nm1,p1\n"
    message = refusal(tmp_path, "r.csv", content)
    assert "holds columns ['MatchId', 'ProfileId'] (no match generation date, and none known for the job)" in message


@pytest.mark.parametrize(
    ("value", "instant"),
    [
        ("2026-11-14T06:30:00", GENERATED),  # no offset: UTC
        ("2026-11-14T07:30:00+01:00", GENERATED),
        ("1794637800000", GENERATED),  # epoch milliseconds
        ("99999999999", datetime(5138, 11, 16, 9, 46, 39, tzinfo=timezone.utc)),  # seconds, just below the cut
        ("1794637800.5", GENERATED.replace(microsecond=500_000)),
    ],
)
def test_dates_as_text_are_iso_8601_or_epoch_seconds_or_milliseconds(tmp_path, value, instant):
    content = f"MatchId,ProfileId,MatchGenerationDate\nm1,p1,{value}\n".encode()
    assert read(tmp_path, "r.csv", content, from_job=FROM_JOB)[0][4] == instant


def test_an_empty_date_cell_takes_the_jobs_date(tmp_path):
    content = b"MatchId,ProfileId,MatchGenerationDate\nm1,p1,\nm2,p2,2026-11-14T06:30:00Z\n"
    assert [row[4] for row in read(tmp_path, "r.csv", content, from_job=FROM_JOB)] == [FROM_JOB, GENERATED]


def test_a_date_typed_column_is_midnight_utc(tmp_path):
    table = pa.table({"MatchId": ["m1"], "ProfileId": ["p1"], "GenerationDate": pa.array([date(2026, 11, 14)])})
    expected = datetime(2026, 11, 14, tzinfo=timezone.utc)
    assert read(tmp_path, "r.parquet", parquet(table))[0][4] == expected


def test_a_date_that_is_neither_iso_nor_epoch_is_refused(tmp_path):
    content = b"MatchId,ProfileId,MatchGenerationDate\nm1,p1,last tuesday\n"
    message = refusal(tmp_path, "r.csv", content)
    assert "holds a match generation date column that is neither a timestamp nor epoch seconds" in message


# -- where a job's results are


@pytest.mark.parametrize(
    ("location", "uri"),
    [
        ("s3://bucket/prefix", "s3://bucket/prefix"),
        ({"S3Exporting": {"S3BucketName": "bucket", "S3KeyName": "/jobs/j1/"}}, "s3://bucket/jobs/j1"),
        ({"S3BucketName": "bucket", "S3KeyName": "jobs"}, "s3://bucket/jobs"),
        ({"S3Exporting": {"S3BucketName": "bucket"}}, "s3://bucket/"),
    ],
)
def test_an_exporting_location_names_its_bucket_and_key(location, uri):
    assert exporting_location_uri(location) == uri


def test_an_exporting_location_without_a_bucket_is_refused_naming_its_keys():
    with pytest.raises(ValueError, match=r"has no S3BucketName \(keys found: \['S3Exporting'\]\)"):
        exporting_location_uri({"S3Exporting": {"S3KeyName": "jobs"}})
