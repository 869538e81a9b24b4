"""Dead letters: one part file per group, whole, in JSON Lines or Parquet, and nothing for a group without any."""

from __future__ import annotations

import json
import re
import threading
from dataclasses import asdict

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from airflow_provider_customerprofiles.ingest.dead_letter import DeadLetter, DeadLetterWriter
from airflow_provider_customerprofiles.storage import S3Settings, StorageError

REFUSED = [
    DeadLetter("s3://in/a.parquet", 7, "400", "BadRequestException: bad email", '{"Email": "ä@x"}'),
    DeadLetter("s3://in/a.parquet", 9, "REJECTED", "row too large", '{"Notes": "…"}'),
]


def parts(directory) -> list[str]:
    return sorted(path.name for path in directory.iterdir())


def test_each_group_is_one_json_lines_part_with_every_field(tmp_path):
    writer = DeadLetterWriter(str(tmp_path))
    writer.add("0-99", REFUSED[:1])
    writer.add("0-99", REFUSED[1:])
    writer.add("100-199", REFUSED[:1])

    writer.flush(["0-99"])

    assert parts(tmp_path) == ["part-0-99.jsonl"]
    text = (tmp_path / "part-0-99.jsonl").read_text(encoding="utf-8")
    assert "ä@x" in text  # kept as written, not \\u-escaped
    assert [json.loads(line) for line in text.splitlines()] == [asdict(r) for r in REFUSED]
    writer.flush(["100-199"])
    assert parts(tmp_path) == ["part-0-99.jsonl", "part-100-199.jsonl"]


def test_parquet_parts_have_the_documented_schema(tmp_path):
    writer = DeadLetterWriter(str(tmp_path), "parquet")
    writer.add("0-99", REFUSED)

    writer.flush(["0-99"])

    table = pq.read_table(tmp_path / "part-0-99.parquet")
    assert table.schema == pa.schema(
        [
            ("source_file", pa.string()),
            ("row_index", pa.int64()),
            ("error_code", pa.string()),
            ("error_message", pa.string()),
            ("row", pa.string()),
        ]
    )
    assert table.to_pylist() == [asdict(r) for r in REFUSED]


def test_a_group_is_written_once_and_a_group_without_dead_letters_not_at_all(tmp_path):
    writer = DeadLetterWriter(str(tmp_path))
    writer.add("0-99", REFUSED)
    writer.add("100-199", [])
    writer.flush(["0-99", "100-199", "200-299"])
    (tmp_path / "part-0-99.jsonl").unlink()

    writer.flush(["0-99"])

    assert parts(tmp_path) == []


def test_groups_added_from_many_threads_keep_every_record(tmp_path):
    writer = DeadLetterWriter(str(tmp_path))
    record = REFUSED[0]

    def add_many() -> None:
        for _ in range(500):
            writer.add("0-99", [record])

    threads = [threading.Thread(target=add_many) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    writer.flush(["0-99"])

    assert len((tmp_path / "part-0-99.jsonl").read_text().splitlines()) == 2000


def test_an_unknown_format_is_refused():
    with pytest.raises(
        ValueError, match=re.escape("dead_letter_format must be one of ('jsonl', 'parquet'), not 'csv'")
    ):
        DeadLetterWriter("/tmp/dead", "csv")


def test_an_unwritable_location_fails_the_check_naming_the_argument(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    writer = DeadLetterWriter(str(blocker / "dead"))

    with pytest.raises(StorageError, match=re.escape(f"{blocker / 'dead'} (dead_letter_uri): cannot write")):
        writer.check_writable()


def test_an_s3_location_uses_the_given_settings():
    writer = DeadLetterWriter("s3://bucket/dead/", "parquet", S3Settings("key", "secret", region="us-east-1"))
    assert (writer.uri, writer.fmt) == ("s3://bucket/dead/", "parquet")
