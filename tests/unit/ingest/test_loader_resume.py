"""The loader's checkpoint: what a try that dies records, what the retry skips, re-sends and counts."""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from pathlib import Path

import pytest

from airflow_provider_customerprofiles.ingest.loader import LoadResult, load
from tests.integration.ingest.support import read_dead_letters, write_rows


def nan_at(row: int, rows: int) -> list[float]:
    return [math.nan if i == row else 1.0 for i in range(rows)]


def rid(i: int) -> str:
    return f'"r{i:06d}"'


def crash_on(row: int, wait_for_calls: int = 0):
    """A ``before_put`` that raises for the call carrying ``row``, once ``wait_for_calls`` other calls are made."""
    others = []

    def before_put(objects: list[str]) -> None:
        if not any(rid(row) in obj for obj in objects):
            others.append(objects)
            return
        deadline = time.monotonic() + 10
        while len(others) < wait_for_calls and time.monotonic() < deadline:
            time.sleep(0.01)
        raise RuntimeError("the task died")

    return before_put


def checkpoint(tmp_path: Path) -> dict:
    return json.loads((tmp_path / "checkpoint.json").read_text())


def test_a_retry_skips_the_finished_ranges_and_counts_the_whole_load(target, tmp_path, caplog):
    # a: 30 rows in row groups of 20, NaN in row 5; b: rows 30-59 of the input, NaN in its row 25.
    a = write_rows(
        tmp_path / "in" / "a.parquet", 30, row_group_size=20, score=[math.nan if i == 5 else 1.0 for i in range(30)]
    )
    b = write_rows(tmp_path / "in" / "b.parquet", 30, start=30, score=[math.nan if i == 25 else 1.0 for i in range(30)])
    options = target.options(tmp_path, max_workers=1)
    target.client.before_put = crash_on(40)  # b's row 10: the batch of b's rows 10-19 never settles

    with pytest.raises(RuntimeError, match="the task died"):
        load(target.client, str(tmp_path / "in"), options)

    first = checkpoint(tmp_path)
    read_mark = first["files"][str(b)]["read"]
    assert first["files"][str(a)] == {"rows": 30, "done": [[0, 30]], "read": 30}
    assert first["files"][str(b)]["done"] == [[0, 10]]
    assert 20 <= read_mark <= 30
    assert first["totals"] == {"accepted": 39, "rejected": 1}
    assert [d["row_index"] for d in read_dead_letters(tmp_path / "dead")] == [5]

    target.client.before_put = lambda objects: None
    caplog.set_level(logging.INFO, logger="airflow_provider_customerprofiles.ingest.loader")
    result = load(target.client, str(tmp_path / "in"), options)

    assert "Loading 2 file(s), 60 rows (40 already done)" in caplog.messages
    assert any(m.startswith("Ingest finished: rows 60/60 (100.0%)") for m in caplog.messages)
    # Rows of b from 10 up to its read mark may have been sent by the first try (the NaN row never is).
    resent = read_mark - 10 - (read_mark > 25)
    assert (result.rows_total, result.rows_skipped, result.rows_read, result.rows_resent) == (60, 40, 20, resent)
    assert (result.objects_written, result.dead_lettered) == (19, 1)
    assert (result.dead_lettered_total, result.rows_done_total) == (2, 60)
    assert sorted((d["source_file"], d["row_index"]) for d in read_dead_letters(tmp_path / "dead")) == [
        (str(a), 5),
        (str(b), 25),
    ]
    assert checkpoint(tmp_path)["files"][str(b)] == {"rows": 30, "done": [[0, 30]], "read": 30}
    assert checkpoint(tmp_path)["totals"] == {"accepted": 58, "rejected": 2}
    stored = target.stored()
    assert set(stored) == {f"r{i:06d}" for i in range(60)} - {"r000005", "r000055"}

    again = load(target.client, str(tmp_path / "in"), options)
    assert (again.rows_skipped, again.rows_read, again.rows_resent, again.rows_done_total) == (60, 0, 0, 60)


def test_only_the_finished_prefix_of_the_input_is_recorded(target, tmp_path):
    # One row per range, over four workers: later ranges settle while the call with row 0 is held, then fails.
    source = write_rows(tmp_path / "rows.parquet", 40, score=nan_at(7, 40))
    target.client.before_put = crash_on(0, wait_for_calls=3)

    with pytest.raises(RuntimeError, match="the task died"):
        load(target.client, str(source), target.options(tmp_path, batch_rows=1))

    assert target.client.objects > 10  # rows after row 0 were accepted, and still:
    entry = checkpoint(tmp_path)["files"][str(source)]
    assert (entry["done"], checkpoint(tmp_path)["totals"]) == ([], {"accepted": 0, "rejected": 0})
    assert read_dead_letters(tmp_path / "dead") == []  # row 7's range is settled but after the open row 0

    target.client.before_put = lambda objects: None
    result = load(target.client, str(source), target.options(tmp_path, batch_rows=1))
    assert (result.rows_skipped, result.rows_read, result.objects_written, result.dead_lettered) == (0, 40, 39, 1)


def test_a_file_whose_row_count_changed_is_loaded_again_from_the_start(target, tmp_path):
    source = write_rows(tmp_path / "rows.parquet", 20)
    load(target.client, str(source), target.options(tmp_path))

    write_rows(source, 30)
    result = load(target.client, str(source), target.options(tmp_path))

    assert (result.rows_total, result.rows_skipped, result.rows_read, result.objects_written) == (30, 0, 30, 30)
    assert checkpoint(tmp_path)["files"][str(source)]["done"] == [[0, 30]]


def test_finished_ranges_are_saved_and_progress_reported_while_the_reader_waits(target, tmp_path, caplog):
    rows, chunk = 400, 200  # two record batches: 20 calls of ten objects each with one worker
    source = write_rows(tmp_path / "rows.parquet", rows)
    gate = threading.Event()
    calls = []

    def hold_the_second_batch(objects: list[str]) -> None:
        calls.append(objects)
        if len(calls) > chunk // 10:
            gate.wait(20)

    gauges = []

    class Recorded:
        def incr(self, name: str, count: int) -> None:
            pass

        def gauge(self, name: str, value: float) -> None:
            gauges.append(name)

    target.client.before_put = hold_the_second_batch
    options = target.options(
        tmp_path, batch_rows=chunk, max_workers=1, progress_interval=0.02, metrics_interval=0.02, metrics=Recorded()
    )
    caplog.set_level(logging.INFO, logger="airflow_provider_customerprofiles.ingest.loader")
    outcome: dict[str, LoadResult] = {}
    loader = threading.Thread(target=lambda: outcome.update(result=load(target.client, str(source), options)))
    loader.start()

    deadline = time.monotonic() + 20
    saved_while_held: list = []
    held_line = f"Ingest progress: rows {chunk}/{rows} "
    while not (saved_while_held and len(gauges) >= 4 and caplog.text.count(held_line) >= 5):
        assert time.monotonic() < deadline, "nothing saved or reported while the workers were held"
        if (tmp_path / "checkpoint.json").exists():
            saved_while_held = checkpoint(tmp_path)["files"].get(str(source), {}).get("done")
        time.sleep(0.02)
    gate.set()
    loader.join()

    assert saved_while_held == [[0, chunk]]
    assert outcome["result"].rows_read == outcome["result"].objects_written == rows
    assert checkpoint(tmp_path)["files"][str(source)]["done"] == [[0, rows]]


def test_a_retry_sends_exactly_the_rows_after_the_finished_ones_whatever_its_batches(target, tmp_path):
    # a: one row group read in record batches of 15, the first batch and a third of the second finished;
    # b: two finished row groups of 10.
    a = write_rows(tmp_path / "in" / "a.parquet", 30)
    b = write_rows(tmp_path / "in" / "b.parquet", 30, start=30, row_group_size=10)
    (tmp_path / "checkpoint.json").write_text(
        json.dumps(
            {
                "version": 1,
                "files": {
                    str(a): {"rows": 30, "done": [[0, 20]], "read": 25},
                    str(b): {"rows": 30, "done": [[0, 20]], "read": 20},
                },
                "totals": {"accepted": 40, "rejected": 0},
            }
        )
    )

    result = load(target.client, str(tmp_path / "in"), target.options(tmp_path, batch_rows=15))

    assert (result.rows_skipped, result.rows_read, result.rows_resent, result.rows_done_total) == (40, 20, 5, 60)
    assert set(target.stored()) == {f"r{i:06d}" for i in [*range(20, 30), *range(50, 60)]}
    assert target.client.objects == 20


def test_dead_letters_and_ranges_after_an_open_row_wait_for_it(target, tmp_path):
    # Rows 25-29 are refused as they are read, so their range settles early; the call with rows 10-19 fails.
    source = write_rows(tmp_path / "rows.parquet", 40, score=[math.nan if 25 <= i < 30 else 1.0 for i in range(40)])
    failing = crash_on(10)

    def after_the_reader_passed_row_30(objects: list[str]) -> None:
        deadline = time.monotonic() + 10
        while checkpoint(tmp_path)["files"][str(source)].get("read", 0) < 30 and time.monotonic() < deadline:
            time.sleep(0.01)
        failing(objects)

    target.client.before_put = after_the_reader_passed_row_30
    with pytest.raises(RuntimeError, match="the task died"):
        load(target.client, str(source), target.options(tmp_path, batch_rows=5, max_workers=1))

    assert checkpoint(tmp_path)["files"][str(source)]["done"] == [[0, 10]]
    assert checkpoint(tmp_path)["totals"] == {"accepted": 10, "rejected": 0}
    assert read_dead_letters(tmp_path / "dead") == []

    target.client.before_put = lambda objects: None
    result = load(target.client, str(source), target.options(tmp_path, batch_rows=5, max_workers=1))
    assert (result.rows_skipped, result.objects_written, result.dead_lettered, result.dead_lettered_total) == (
        10,
        25,
        5,
        5,
    )
    assert sorted(d["row_index"] for d in read_dead_letters(tmp_path / "dead")) == list(range(25, 30))
