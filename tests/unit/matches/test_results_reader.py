"""The identity-resolution results reader: every format and naming it tolerates, and a clear refusal."""

from __future__ import annotations

import csv
import gzip
import io
import json
from datetime import datetime, timezone

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from airflow_provider_customerprofiles.matches.location import resolve
from airflow_provider_customerprofiles.matches.results_reader import UnreadableResultsError, stream_results
from airflow_provider_customerprofiles.matches.schema import MATCHES_SCHEMA, SOURCE_S3_RESULTS
from tests.plain_ids import plain_id

GENERATED = datetime(2026, 11, 14, 6, 30, tzinfo=timezone.utc)
# Digit-only ids on purpose: a reader that guesses types would turn them into numbers.
GROUPS = [
    (f"m{g}", [f"{g:03d}{member:029d}" for member in range(size)], score)
    for g, size, score in [(1, 2, 0.91), (2, 3, 0.75), (3, 2, 0.5), (4, 4, 0.99)]
]
EXPECTED = sorted((m, p, s, len(ids)) for m, ids, s in GROUPS for p in ids)


def per_profile(names=("MatchId", "ProfileId", "ConfidenceScore", "MatchGroupSize", "MatchGenerationDate"), date=None):
    date = GENERATED.isoformat() if date is None else date
    values = [[m, p, s, len(ids), date] for m, ids, s in GROUPS for p in ids]
    return [dict(zip(names, row, strict=False)) for row in values]


def csv_bytes(records, delimiter=","):
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(records[0]), delimiter=delimiter)
    writer.writeheader()
    writer.writerows(records)
    return out.getvalue().encode()


def parquet_bytes(records):
    out = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(records), out)
    return out.getvalue()


def grouped(id_key="ProfileIds", as_text=False):
    return [{"MatchId": m, id_key: ";".join(ids) if as_text else ids, "ConfidenceScore": s} for m, ids, s in GROUPS]


SNAKE = ("match_id", "profile_id", "score", "match_group_size", "match_generation_date")
CAMEL = ("matchId", "profileId", "confidenceScore", "groupSize", "generatedAt")

VARIANTS = {
    "emulator.csv": lambda: csv_bytes(per_profile()),
    "epoch_seconds.csv": lambda: csv_bytes(per_profile(date=str(int(GENERATED.timestamp())))),
    "snake_no_size.csv.gz": lambda: gzip.compress(
        csv_bytes([{k: v for k, v in r.items() if k != "match_group_size"} for r in per_profile(SNAKE)])
    ),
    "tabs.tsv": lambda: csv_bytes(per_profile(CAMEL), delimiter="\t"),
    "gzip_without_extension.csv": lambda: gzip.compress(csv_bytes(per_profile(SNAKE))),
    "ids_as_text.csv": lambda: csv_bytes(
        [{**g, "MatchGenerationDate": GENERATED.isoformat()} for g in grouped(as_text=True)]
    ),
    "camel.jsonl": lambda: "\n".join(
        json.dumps({**g, "matchGenerationDate": int(GENERATED.timestamp() * 1000)}) for g in grouped("profileIds")
    ).encode(),
    "lines_without_extension": lambda: "\n".join(json.dumps(r) for r in per_profile(CAMEL)).encode(),
    "array.json": lambda: json.dumps(per_profile(SNAKE)).encode(),
    "object.json.gz": lambda: gzip.compress(json.dumps({"DomainName": "d", "Matches": grouped()}).encode()),
    "snake.parquet": lambda: parquet_bytes([{**r, "match_generation_date": GENERATED} for r in per_profile(SNAKE)]),
    "lists.parquet.gz": lambda: gzip.compress(parquet_bytes(grouped("profile_ids"))),
}


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_reads_every_supported_format(tmp_path, name):
    (tmp_path / "job").mkdir()
    (tmp_path / "job" / name).write_bytes(VARIANTS[name]())
    (tmp_path / "job" / "_manifest").write_text("ignored")

    stream = stream_results(resolve(str(tmp_path / "job")), "a" * 32, default_generated_at=lambda: GENERATED)
    table = pa.Table.from_batches(list(stream.batches), schema=MATCHES_SCHEMA)

    assert stream.generated_at == GENERATED and stream.source == SOURCE_S3_RESULTS
    rows = sorted(
        zip(
            *(table.column(c).to_pylist() for c in ("match_id", "profile_id", "confidence_score", "match_group_size")),
            strict=True,
        )
    )
    assert rows == EXPECTED
    assert set(table.column("match_generated_at").to_pylist()) == {GENERATED}
    assert set(table.column("job_id").to_pylist()) == {"a" * 32}
    assert set(table.column("source").to_pylist()) == {SOURCE_S3_RESULTS}


def test_several_files_are_read_in_order(tmp_path):
    (tmp_path / "part-1.csv").write_bytes(VARIANTS["emulator.csv"]())
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "part-2.jsonl").write_bytes(VARIANTS["camel.jsonl"]())

    stream = stream_results(resolve(str(tmp_path)), None)

    assert sum(batch.num_rows for batch in stream.batches) == 2 * len(EXPECTED)


def test_a_missing_generation_date_comes_from_the_job(tmp_path):
    (tmp_path / "m.json").write_text(json.dumps(grouped()))
    asked = []

    def from_job():
        asked.append(1)
        return GENERATED

    stream = stream_results(resolve(str(tmp_path)), None, default_generated_at=from_job)

    assert stream.generated_at == GENERATED and len(asked) == 1
    assert sum(batch.num_rows for batch in stream.batches) == len(EXPECTED)


SECRET = "jane.doe@example.com"


@pytest.mark.parametrize(
    ("name", "content", "mentions"),
    [
        ("people.csv", f"email,phone\n{SECRET},555-0100\n".encode(), ["people.csv (csv)", "email", "phone"]),
        ("wrapped.json", json.dumps({"owner": SECRET, "count": 3}).encode(), ["wrapped.json (json)", "owner", "count"]),
        ("broken.parquet.gz", gzip.compress(b"PAR1" + SECRET.encode()), ["broken.parquet.gz (parquet, gzip)"]),
        ("corrupt.csv.gz", b"\x1f\x8b\x08\x00garbage" + SECRET.encode(), ["corrupt.csv.gz (csv, gzip)"]),
        ("lines.jsonl", f'{{"a": "{SECRET}"}}\n{{"a": [1, \n'.encode(), ["lines.jsonl (jsonl)"]),
    ],
    ids=plain_id,
)
def test_unknown_content_fails_with_names_and_formats_but_no_values(tmp_path, name, content, mentions):
    (tmp_path / name).write_bytes(content)
    (tmp_path / "fine.csv").write_bytes(VARIANTS["emulator.csv"]())

    with pytest.raises(UnreadableResultsError) as failure:
        list(stream_results(resolve(str(tmp_path)), None).batches)

    message = str(failure.value)
    for expected in mentions:
        assert expected in message
    assert "fine.csv" in message and "Supported:" in message
    assert SECRET not in message and "555-0100" not in message


def test_no_files_is_an_error(tmp_path):
    (tmp_path / "_SUCCESS").write_text("")
    with pytest.raises(UnreadableResultsError, match="No result files"):
        stream_results(resolve(str(tmp_path)), None)
