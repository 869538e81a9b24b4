"""The loader end to end against the local service: accounting, dead letters, options, outputs and preflight."""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from airflow_provider_customerprofiles.ingest.loader import (
    FailedRatioExceeded,
    LoadOptions,
    PreflightError,
    client_config,
    load,
)
from airflow_provider_customerprofiles.ingest.metrics import DEAD_LETTERED, OBJECTS_WRITTEN, RETRIES, THROTTLES
from airflow_provider_customerprofiles.ingest.source import SourceError
from tests.integration.ingest.support import (
    OBJECT_TYPE,
    account_of,
    create_events_type,
    read_dead_letters,
    write_rows,
    write_versions,
)

LONG = "x" * 300  # AccountNumber holds at most 255 characters: the service refuses the object with a 400


def file_id(path) -> str:
    return hashlib.sha256(str(path).encode()).hexdigest()[:16]


def test_every_row_of_every_file_is_written_and_counted(target, tmp_path, caplog):
    caplog.set_level(logging.INFO)
    first = write_rows(tmp_path / "in" / "a.parquet", 25, row_group_size=12)
    second = write_rows(tmp_path / "in" / "b.parquet", 15, start=25)

    result = load(target.client, str(tmp_path / "in"), target.options(tmp_path))

    stored = target.stored()
    assert {rid: obj["seq"] for rid, obj in stored.items()} == {f"r{i:06d}": i for i in range(40)}
    counts = result.as_dict()
    assert counts.pop("seconds") == result.seconds == round(result.seconds, 3) > 0
    assert isinstance(result.rows_per_second, float)
    assert counts.pop("rows_per_second") == round(result.rows_per_second, 1) == pytest.approx(40 / result.seconds, 0.01)
    assert counts == {
        "files": 2,
        "rows_total": 40,
        "rows_read": 40,
        "rows_skipped": 0,
        "rows_resent": 0,
        "objects_written": 40,
        "dead_lettered": 0,
        "rows_unchanged": 0,
        "dead_lettered_total": 0,
        "rows_done_total": 40,
        "dead_letter_uri": str(tmp_path / "dead"),
        "checkpoint_uri": str(tmp_path / "checkpoint.json"),
        "sync_state_uri": None,
        "requests": sum(target.client.calls.values()),
        "retries": 0,
        "throttles": 0,
    }
    checkpoint = json.loads((tmp_path / "checkpoint.json").read_text())
    assert checkpoint["files"] == {
        str(first): {"rows": 25, "done": [[0, 25]], "read": 25},
        str(second): {"rows": 15, "done": [[0, 15]], "read": 15},
    }
    assert checkpoint["totals"] == {"accepted": 40, "rejected": 0}
    assert list((tmp_path / "dead").iterdir()) == []  # no dead letters, and the writability check left nothing
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []


def test_rows_refused_before_or_by_the_service_are_dead_lettered_once_each(target, tmp_path):
    rows = 30
    nan_rows, long_rows = {4, 17}, {9, 25}
    source = write_rows(
        tmp_path / "rows.parquet", rows, score=[math.nan if i in nan_rows else 1.0 for i in range(rows)]
    )
    table = pq.read_table(source)
    accounts = [LONG if i in long_rows else account_of(i) for i in range(rows)]
    pq.write_table(table.set_column(1, "acct", pa.array(accounts)), source)

    result = load(target.client, str(source), target.options(tmp_path))

    assert (result.rows_read, result.objects_written, result.dead_lettered) == (rows, rows - 4, 4)
    assert (result.dead_lettered_total, result.rows_done_total) == (4, rows)
    dead = {d["row_index"]: d for d in read_dead_letters(tmp_path / "dead")}
    assert sorted(dead) == sorted(nan_rows | long_rows)
    assert {i: dead[i]["error_code"] for i in dead} == {4: "REJECTED", 17: "REJECTED", 9: "400", 25: "400"}
    assert dead[4]["error_message"] == "field 'score' holds NaN or Infinity"
    assert json.loads(dead[9]["row"]) == {"rid": "r000009", "acct": LONG, "seq": 9, "score": 1.0}
    assert dead[17]["row"] == '{"rid":"r000017","acct":"acct-17","seq":17,"score":NaN}'
    assert {d["source_file"] for d in dead.values()} == {str(source)}
    # One part per record batch (10 rows) that had refused rows, named after the file and the rows.
    parts = sorted(p.name for p in (tmp_path / "dead").iterdir())
    assert parts == [f"part-{file_id(source)}-{lo:012d}-{lo + 10:012d}.jsonl" for lo in (0, 10, 20)]
    assert set(target.stored()) == {f"r{i:06d}" for i in range(rows)} - {f"r{i:06d}" for i in nan_rows | long_rows}
    assert json.loads((tmp_path / "checkpoint.json").read_text())["totals"] == {"accepted": rows - 4, "rejected": 4}


def test_dead_letters_in_parquet(target, tmp_path):
    source = write_rows(tmp_path / "rows.parquet", 5, score=[1.0, math.inf, 1.0, 1.0, 1.0])

    load(target.client, str(source), target.options(tmp_path, dead_letter_format="parquet"))

    (part,) = (tmp_path / "dead").iterdir()
    assert part.name == f"part-{file_id(source)}-{0:012d}-{5:012d}.parquet"
    assert pq.read_table(part).to_pylist() == [
        {
            "source_file": str(source),
            "row_index": 1,
            "error_code": "REJECTED",
            "error_message": "field 'score' holds NaN or Infinity",
            "row": '{"rid":"r000001","acct":"acct-01","seq":1,"score":Infinity}',
        }
    ]


def test_a_row_the_service_keeps_failing_is_dead_lettered_after_max_attempts(target, tmp_path):
    source = write_rows(tmp_path / "rows.parquet", 3)

    def unavailable(objects: list[str]) -> None:
        if any('"r000001"' in obj for obj in objects):
            raise EndpointConnectionError(endpoint_url="http://unreachable")

    target.client.before_put = unavailable
    result = load(target.client, str(source), target.options(tmp_path, max_attempts=2, max_workers=1))

    # The three rows went in one batch, sent twice: every row of it was retried once, then refused.
    dead = read_dead_letters(tmp_path / "dead")
    assert sorted((d["row_index"], d["error_code"]) for d in dead) == [(i, "EndpointConnectionError") for i in range(3)]
    assert {d["error_message"] for d in dead} == {
        'retries exhausted after 2 attempts; last error: Could not connect to the endpoint URL: "http://unreachable"'
    }
    assert (result.requests, result.retries, result.throttles) == (2, 3, 0)
    assert (result.objects_written, result.dead_lettered) == (0, 3)


def test_retries_and_throttles_are_counted_and_reported(target, tmp_path, caplog):
    source = write_rows(tmp_path / "rows.parquet", 4)
    throttled = []

    def throttle_once(objects: list[str]) -> None:
        if not throttled:
            throttled.append(objects)
            error = {"Code": "ThrottlingException", "Message": "slow down"}
            raise ClientError({"Error": error, "ResponseMetadata": {"HTTPStatusCode": 429}}, "BatchPutProfileObject")

    class Recorded:
        def __init__(self) -> None:
            self.counts: dict[str, int] = {}

        def incr(self, name: str, count: int) -> None:
            self.counts[name] = self.counts.get(name, 0) + count

        def gauge(self, name: str, value: float) -> None:
            pass

    metrics = Recorded()
    target.client.before_put = throttle_once
    caplog.set_level(logging.INFO, logger="airflow_provider_customerprofiles.ingest.loader")

    result = load(target.client, str(source), target.options(tmp_path, max_workers=1, metrics=metrics))

    assert (result.requests, result.retries, result.throttles, result.objects_written) == (2, 4, 1, 4)
    assert metrics.counts == {OBJECTS_WRITTEN: 4, RETRIES: 4, THROTTLES: 1}
    finished = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Ingest finished")]
    assert len(finished) == 1
    assert finished[0].startswith("Ingest finished: rows 4/4 (100.0%)")
    assert finished[0].endswith("dead-lettered 0, retries 4, throttles 1")
    assert "Loading 1 file(s), 4 rows (0 already done)" in caplog.messages


def test_dead_letters_reach_the_metrics_and_the_progress_line(target, tmp_path, caplog):
    source = write_rows(tmp_path / "rows.parquet", 4, score=[math.nan, 1.0, 1.0, 1.0])
    counts: dict[str, int] = {}

    class Recorded:
        def incr(self, name: str, count: int) -> None:
            counts[name] = counts.get(name, 0) + count

        def gauge(self, name: str, value: float) -> None:
            pass

    caplog.set_level(logging.INFO, logger="airflow_provider_customerprofiles.ingest.loader")
    load(target.client, str(source), target.options(tmp_path, metrics=Recorded()))

    assert counts == {OBJECTS_WRITTEN: 3, DEAD_LETTERED: 1}
    assert any(m.startswith("Ingest finished: rows 4/4") and "dead-lettered 1," in m for m in caplog.messages)


def test_the_rate_limiter_given_paces_every_request(target, tmp_path):
    source = write_rows(tmp_path / "rows.parquet", 30)

    class Counting:
        def __init__(self) -> None:
            self.acquired = 0

        def acquire(self) -> None:
            self.acquired += 1

        def on_throttle(self) -> None:
            pass

        def current_rate(self) -> float:
            return 1.0

    limiter = Counting()
    result = load(target.client, str(source), target.options(tmp_path, rate_limiter=limiter))

    assert limiter.acquired == result.requests == sum(target.client.calls.values()) >= 3


def test_the_single_put_api_sends_one_object_a_call(target, tmp_path):
    source = write_rows(tmp_path / "rows.parquet", 12)

    result = load(target.client, str(source), target.options(tmp_path, use_batch_api=False))

    assert target.client.calls == {"PutProfileObject": 12}
    assert (result.requests, result.objects_written) == (12, 12)
    assert len(target.stored()) == 12


def test_the_last_row_of_a_key_wins_whichever_worker_sends_it(target, tmp_path):
    keys, versions = 13, 6
    rows = keys * versions
    source = write_versions(tmp_path / "dups.parquet", keys, versions)

    result = load(target.client, source, target.options(tmp_path, max_workers=3))

    assert result.objects_written == rows
    # A call carries one row per key, so each of a key's rows took its own call.
    assert all(len({json.loads(obj)["rid"] for obj in call}) == len(call) for call in target.client.sent)
    assert result.requests >= versions
    assert {rid: obj["version"] for rid, obj in target.stored().items()} == {
        f"k{k:03d}": versions - 1 for k in range(keys)
    }


def test_rows_without_a_unique_key_are_all_sent(target, tmp_path, caplog):
    create_events_type(target.client, target.domain)
    source = tmp_path / "events.parquet"
    pq.write_table(pa.table({"acct": ["acct-00"] * 25, "n": list(range(25))}), source)
    caplog.set_level(logging.WARNING, logger="airflow_provider_customerprofiles.ingest.loader")

    options = LoadOptions(target.domain, "Events", str(tmp_path / "dead"), max_workers=3, batch_rows=10)
    result = load(target.client, str(source), options)

    assert (result.objects_written, target.client.objects) == (25, 25)
    assert caplog.messages == [
        "Object type Events has no UNIQUE key: rows are sent in any order and retries may duplicate"
    ]


@pytest.mark.parametrize(
    ("columns", "expected"),
    [
        (["rid", "acct"], {"rid": "r000001", "acct": "acct-01"}),
        ({"id": "rid", "account": "acct"}, {"rid": "a1", "acct": "acct-01"}),
        (None, {"rid": "r000001", "acct": "acct-01", "seq": 1}),
    ],
)
def test_columns_select_and_rename_what_is_sent(target, tmp_path, columns, expected):
    source = write_rows(tmp_path / "rows.parquet", 2)
    if isinstance(columns, dict):
        renamed = {"id": ["a0", "a1"], "account": ["acct-00", "acct-01"], "secret": ["s", "t"]}
        pq.write_table(pa.table(renamed), source)

    load(target.client, str(source), target.options(tmp_path, columns=columns))

    assert target.stored()[expected["rid"]] == expected


def test_keep_nulls_sends_null_fields(target, tmp_path):
    source = write_rows(tmp_path / "rows.parquet", 2, note=["n", None])

    load(target.client, str(source), target.options(tmp_path, keep_nulls=True))

    assert target.stored()["r000001"] == {"rid": "r000001", "acct": "acct-01", "seq": 1, "note": None}


def test_the_failed_ratio_counts_the_whole_load_and_fails_above_it(target, tmp_path):
    source = write_rows(tmp_path / "rows.parquet", 20, score=[math.inf] * 5 + [1.0] * 15)

    with pytest.raises(FailedRatioExceeded) as failure:
        load(target.client, str(source), target.options(tmp_path, max_failed_ratio=0.2))

    assert str(failure.value) == (
        f"5 of 20 rows were dead-lettered (25.00%), above max_failed_ratio 20.00%; "
        f"dead letters are under {tmp_path / 'dead'}"
    )
    assert len(read_dead_letters(tmp_path / "dead")) == 5
    assert len(target.stored()) == 15


def test_a_failed_ratio_at_the_limit_passes(target, tmp_path):
    source = write_rows(tmp_path / "rows.parquet", 20, score=[math.inf] * 5 + [1.0] * 15)

    result = load(target.client, str(source), target.options(tmp_path, max_failed_ratio=0.25))

    assert (result.dead_lettered, result.objects_written) == (5, 15)


def test_an_empty_input_loads_nothing_and_passes_any_ratio(target, tmp_path):
    source = write_rows(tmp_path / "rows.parquet", 0)

    result = load(target.client, str(source), target.options(tmp_path, max_failed_ratio=0.0))

    assert (result.files, result.rows_total, result.rows_read, result.rows_done_total) == (1, 0, 0, 0)
    assert result.rows_per_second == 0.0
    assert target.client.calls == {}


@pytest.mark.parametrize(
    ("domain", "object_type", "message"),
    [
        ("no-such-domain", OBJECT_TYPE, "Domain 'no-such-domain' does not exist"),
        (None, "NoSuchType", "Object type 'NoSuchType' does not exist in domain '{domain}'"),
    ],
)
def test_a_missing_target_fails_before_any_write(target, tmp_path, domain, object_type, message):
    source = write_rows(tmp_path / "rows.parquet", 10)
    domain = domain or target.domain

    with pytest.raises(PreflightError, match=re.escape(message.format(domain=domain))):
        load(target.client, str(source), LoadOptions(domain, object_type, dead_letter_uri=str(tmp_path / "dead")))

    assert target.client.calls == {}


def test_missing_key_columns_fail_naming_them_and_the_file_before_any_write(target, tmp_path):
    good = write_rows(tmp_path / "a.parquet", 10)
    bad = tmp_path / "b.parquet"
    pq.write_table(pa.table({"rid": ["x"], "other": [1]}), bad)

    with pytest.raises(PreflightError, match=rf"{bad} does not provide the attribute\(s\) \['acct'\]"):
        load(target.client, [str(good), str(bad)], target.options(tmp_path))

    assert target.client.calls == {}
    assert not (tmp_path / "checkpoint.json").exists()


@pytest.mark.parametrize("output", ["dead_letter_uri", "checkpoint_uri"])
def test_an_unwritable_output_fails_before_any_put(target, tmp_path, output):
    source = write_rows(tmp_path / "rows.parquet", 10)
    (tmp_path / "a-file").write_text("not a directory")
    uri = str(tmp_path / "a-file" / "out")
    what = {"dead_letter_uri": "dead-letter", "checkpoint_uri": "checkpoint"}[output]

    with pytest.raises(PreflightError, match=rf"^The {what} location {re.escape(uri)} is not writable: \w+Error: "):
        load(target.client, str(source), target.options(tmp_path, **{output: uri}))

    assert target.client.calls == {}


def test_without_a_checkpoint_a_rerun_sends_everything_and_rewrites_its_dead_letters(target, tmp_path):
    source = write_rows(tmp_path / "rows.parquet", 10, score=[math.nan] + [1.0] * 9)
    options = target.options(tmp_path, checkpoint_uri=None)

    first = load(target.client, str(source), options)
    second = load(target.client, str(source), options)

    assert (first.checkpoint_uri, second.rows_skipped, second.rows_read, second.dead_lettered_total) == (None, 0, 10, 1)
    assert target.client.objects == 18
    assert [d["row_index"] for d in read_dead_letters(tmp_path / "dead")] == [0]


@pytest.mark.parametrize(("workers", "connections"), [(4, 10), (16, 16), (40, 40)])
def test_the_client_has_a_connection_per_worker_and_no_retries_of_its_own(workers, connections):
    assert client_config(workers) == {
        "max_pool_connections": connections,
        "retries": {"mode": "standard", "total_max_attempts": 1},
        "connect_timeout": 10,
        "read_timeout": 60,
    }
    assert client_config() == client_config(16)


@pytest.mark.parametrize("sync", [False, True])
def test_a_row_group_that_cannot_be_decoded_fails_naming_the_file_and_the_row_group(target, tmp_path, sync):
    source = tmp_path / "rows.parquet"
    write_rows(source, 1000)
    data = bytearray(source.read_bytes())
    data[100:200] = b"\xff" * 100  # inside the first column chunk's compressed pages; the footer stays readable
    source.write_bytes(bytes(data))
    options = target.options(tmp_path, sync_state_uri=str(tmp_path / "state") if sync else None)

    with pytest.raises(SourceError, match=rf"^{re.escape(str(source))}: row group 0 cannot be read: "):
        load(target.client, str(source), options)

    assert target.client.calls == {}
