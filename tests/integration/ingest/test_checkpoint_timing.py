"""Checkpoints are saved on ``commit_interval`` while the reader waits, and a resume reports what it re-sends."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_customerprofiles.ingest.loader import LoadOptions, LoadResult, load
from tests.integration.ingest.support import DOMAIN, OBJECT_TYPE, write_rows

ROWS, CHUNK = 1000, 500  # two record batches: 50 calls of ten objects each with one worker


class HeldClient:
    """The real client; from call ``after + 1`` on, each BatchPutProfileObject first runs ``hold``."""

    def __init__(self, client: Any, after: int, hold: Callable[[], None]) -> None:
        self._client = client
        self._after = after
        self._hold = hold
        self._lock = threading.Lock()
        self.calls = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def batch_put_profile_object(self, **kwargs: Any) -> Any:
        with self._lock:
            self.calls += 1
            held = self.calls > self._after
        if held:
            self._hold()
        return self._client.batch_put_profile_object(**kwargs)


def options(tmp_path: Path) -> LoadOptions:
    return LoadOptions(
        DOMAIN,
        OBJECT_TYPE,
        dead_letter_uri=str(tmp_path / "dead"),
        checkpoint_uri=str(tmp_path / "checkpoint.json"),
        batch_rows=CHUNK,
        max_workers=1,
        commit_interval=0.1,
    )


def checkpointed(path: Path) -> list[list[int]]:
    try:
        return next(iter(json.loads(path.read_text())["files"].values()))["done"]
    except (FileNotFoundError, StopIteration, ValueError):
        return []


def test_finished_ranges_are_saved_while_the_reader_waits_on_the_workers(emulator, tmp_path):
    _, client = emulator()
    source = write_rows(tmp_path / "rows.parquet", ROWS)
    gate = threading.Event()
    held = HeldClient(client, after=CHUNK // 10, hold=lambda: gate.wait(60))
    outcome: dict[str, LoadResult] = {}
    loader = threading.Thread(target=lambda: outcome.update(result=load(held, str(source), options(tmp_path))))
    loader.start()

    # Calls for the second batch are held, so the reader is stuck handing it to the full worker queue.
    deadline = time.monotonic() + 20
    while checkpointed(tmp_path / "checkpoint.json") != [[0, CHUNK]] and time.monotonic() < deadline:
        time.sleep(0.05)
    saved_while_held = checkpointed(tmp_path / "checkpoint.json")
    gate.set()
    loader.join()

    assert saved_while_held == [[0, CHUNK]]
    assert outcome["result"].rows_read == outcome["result"].objects_written == ROWS
    assert checkpointed(tmp_path / "checkpoint.json") == [[0, ROWS]]


def test_a_resume_reports_the_rows_an_earlier_try_may_have_sent(emulator, tmp_path):
    _, client = emulator()
    source = write_rows(tmp_path / "rows.parquet", ROWS)

    def crash() -> None:
        raise RuntimeError("the task died")

    with pytest.raises(RuntimeError, match="the task died"):
        load(HeldClient(client, after=CHUNK // 10, hold=crash), str(source), options(tmp_path))
    first_try = checkpointed(tmp_path / "checkpoint.json")

    result = load(client, str(source), options(tmp_path))

    assert first_try == [[0, CHUNK]]
    assert (result.rows_skipped, result.rows_read, result.rows_resent) == (CHUNK, ROWS - CHUNK, ROWS - CHUNK)
    again = load(client, str(source), options(tmp_path))
    assert (again.rows_skipped, again.rows_read, again.rows_resent) == (ROWS, 0, 0)
