"""The sync state without the service: the diff, the fold, generations, recovery and the lease, on local files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from airflow_provider_customerprofiles.ingest.sync import LeaseHeldError, SyncState, buckets, kernels
from airflow_provider_customerprofiles.ingest.sync.lease import Lease
from airflow_provider_customerprofiles.ingest.sync.rows import RowHasher
from airflow_provider_customerprofiles.ingest.sync.state import Accepted, SyncPlan
from airflow_provider_customerprofiles.ingest.sync.store import StateStore

MAPPING = "a" * 64
HASHER = RowHasher(None, ("id",))


def rows(*pairs: tuple[str | None, str]) -> pa.RecordBatch:
    return pa.record_batch({"id": [key for key, _ in pairs], "v": [value for _, value in pairs]})


def plan(state: SyncState, snapshot: pa.RecordBatch):
    return state.plan([snapshot.num_rows], [(0, 0, HASHER.keys(snapshot), HASHER.fingerprints(snapshot))])


def accept(
    state: SyncState, the_plan: SyncPlan, snapshot: pa.RecordBatch, row_numbers: list[int], part: str = "part-0"
) -> None:
    """Stage rows as the loader does for rows the service accepted: their key and fingerprint, read from them alone."""
    accepted = snapshot.take(pa.array(row_numbers, pa.int64()))
    h1, h2 = state.hash_keys(HASHER.keys(accepted))
    ranks = kernels.rank(0, np.asarray(row_numbers, dtype=np.int64))
    fp, sizes = the_plan.staged(ranks, HASHER.fingerprints(accepted))
    state.stage(part, Accepted(h1, h2, fp, ranks, sizes))


def load_all(
    uri: str, snapshot: pa.RecordBatch, mapping: str = MAPPING, accepted: list[int] | None = None
) -> list[int]:
    """One successful run: returns the row numbers it would send."""
    state = SyncState(uri, mapping).open()
    try:
        the_plan = plan(state, snapshot)
        send = [i for i in range(snapshot.num_rows) if not the_plan.unchanged[0][i]]
        keys = HASHER.keys(snapshot)
        valid = [i for i in send if keys[i] is not None and (accepted is None or i in accepted)]
        accept(state, the_plan, snapshot, valid)
        state.commit()
        return send
    finally:
        state.close()


def test_second_run_sends_only_new_and_changed_keys(tmp_path):
    uri = str(tmp_path / "state")
    first = rows(("a", "1"), ("b", "1"), ("c", "1"))
    assert load_all(uri, first) == [0, 1, 2]
    second = rows(("a", "1"), ("b", "2"), ("c", "1"), ("d", "1"))
    assert load_all(uri, second) == [1, 3]
    assert load_all(uri, second) == []


def test_a_repeated_key_is_sent_whole_when_any_of_its_rows_changed(tmp_path):
    uri = str(tmp_path / "state")
    snapshot = rows(("a", "1"), ("b", "1"), ("a", "2"))
    assert load_all(uri, snapshot) == [0, 1, 2]
    assert load_all(uri, snapshot) == []
    # Sending only the changed row could leave the service on an older row: all rows go, in file order.
    assert load_all(uri, rows(("a", "1"), ("b", "1"), ("a", "3"))) == [0, 2]
    assert load_all(uri, rows(("a", "3"))) == [0]  # one row now: another object sequence than before
    assert load_all(uri, rows(("a", "3"))) == []


def test_keys_in_one_grouping_form_are_one_entry(tmp_path):
    uri = str(tmp_path / "state")
    load_all(uri, rows(("Ann@Example.com", "1")))
    assert load_all(uri, rows(("ann@example.com", "1"))) == [0]  # another object: sent, in place of the first
    assert json.loads((tmp_path / "state" / "manifest.json").read_text())["keys"] == 1


def test_rows_not_accepted_stay_unsent_in_the_state(tmp_path):
    uri = str(tmp_path / "state")
    load_all(uri, rows(("a", "1"), ("b", "1")), accepted=[0])  # "b" was dead-lettered
    assert load_all(uri, rows(("a", "1"), ("b", "1"))) == [1]


def test_rows_the_loader_refuses_are_never_unchanged(tmp_path):
    uri = str(tmp_path / "state")
    snapshot = rows((None, "1"), ("  ", "1"), ("a", "1"))  # no key, a blank key: refused when sent
    load_all(uri, snapshot)
    assert load_all(uri, snapshot) == [0, 1]


def test_a_mapping_change_makes_every_row_changed(tmp_path):
    uri = str(tmp_path / "state")
    snapshot = rows(("a", "1"), ("b", "1"))
    load_all(uri, snapshot)
    assert load_all(uri, snapshot, mapping="b" * 64) == [0, 1]
    assert load_all(uri, snapshot, mapping="b" * 64) == []


def test_the_state_holds_no_key_in_clear_and_a_salt_of_its_own(tmp_path):
    load_all(str(tmp_path / "one"), rows(("ann@example.com", "1")))
    load_all(str(tmp_path / "two"), rows(("ann@example.com", "1")))
    for path in (tmp_path / "one").rglob("*"):
        if path.is_file():
            assert b"ann@example.com" not in path.read_bytes()
            assert b"example" not in path.read_bytes()
    salts = {json.loads((tmp_path / name / "manifest.json").read_text())["salt"] for name in ("one", "two")}
    assert len(salts) == 2


def test_a_commit_leaves_one_generation_and_no_staged_parts(tmp_path):
    uri = str(tmp_path / "state")
    load_all(uri, rows(("a", "1")))
    load_all(uri, rows(("a", "2")))
    assert len(list((tmp_path / "state" / "generations").iterdir())) == 1
    assert not any((tmp_path / "state" / "pending").iterdir())
    assert not (tmp_path / "state" / "lease.json").exists()


def test_a_retry_keeps_what_earlier_tries_staged(tmp_path):
    uri = str(tmp_path / "state")
    snapshot = rows(("a", "1"), ("b", "1"))
    crashed = SyncState(uri, MAPPING, run_id="load-1").open()
    first_plan = plan(crashed, snapshot)
    assert not first_plan.unchanged[0].any()
    accept(crashed, first_plan, snapshot, [0])  # the first range finished, then the task died before commit
    crashed.close()
    retry = SyncState(uri, MAPPING, run_id="load-1").open()
    retry_plan = plan(retry, snapshot)
    assert not retry_plan.unchanged[0].any()  # the same plan as the first try
    accept(retry, retry_plan, snapshot, [1], part="part-1")
    retry.commit()
    retry.close()
    assert load_all(uri, snapshot) == []


def test_parts_of_a_run_that_died_are_folded_by_the_next_run(tmp_path):
    uri = str(tmp_path / "state")
    snapshot = rows(("a", "1"), ("b", "1"))
    crashed = SyncState(uri, MAPPING, run_id="night-1").open()
    accept(crashed, plan(crashed, snapshot), snapshot, [0, 1])
    crashed.close()
    assert load_all(uri, snapshot) == []


def test_buckets_grow_with_the_snapshot(tmp_path, monkeypatch):
    monkeypatch.setattr(buckets, "TARGET_BUCKET_ROWS", 4)
    uri = str(tmp_path / "state")
    small = rows(*((f"k{i}", "1") for i in range(4)))
    load_all(uri, small)
    big = rows(*((f"k{i}", "1" if i < 4 else "2") for i in range(64)))
    assert load_all(uri, big) == list(range(4, 64))
    manifest = json.loads((tmp_path / "state" / "manifest.json").read_text())
    assert manifest["bucket_bits"] >= 3 and manifest["keys"] == 64
    assert load_all(uri, big) == []


def test_keys_apart_at_the_service_but_one_grouping_form_are_sent_together(tmp_path):
    # "a-1" and "a1" share a grouping form; the earlier one changing must still be sent.
    uri = str(tmp_path / "state")
    assert load_all(uri, rows(("a-1", "1"), ("a1", "1"))) == [0, 1]
    assert load_all(uri, rows(("a-1", "2"), ("a1", "1"))) == [0, 1]
    assert load_all(uri, rows(("a-1", "2"), ("a1", "1"))) == []


def test_a_repeated_key_with_a_row_not_accepted_is_sent_again(tmp_path):
    uri = str(tmp_path / "state")
    snapshot = rows(("a", "1"), ("a", "2"))
    load_all(uri, snapshot, accepted=[0])  # the last row was dead-lettered: the service holds the first
    assert load_all(uri, snapshot) == [0, 1]
    assert load_all(uri, snapshot) == []


def test_a_second_run_on_the_state_is_refused(tmp_path):
    uri = str(tmp_path / "state")
    first = SyncState(uri, MAPPING).open()
    try:
        with pytest.raises(LeaseHeldError, match="in use by another run"):
            SyncState(uri, MAPPING).open()
    finally:
        first.close()
    SyncState(uri, MAPPING).open().close()


def test_an_expired_lease_is_taken_over(tmp_path):
    store = StateStore(str(tmp_path / "state"), None)
    now = [1000.0]
    crashed = Lease(store, "run-0", seconds=60, clock=lambda: now[0])
    assert store.create("lease.json", crashed._payload())  # held, never released
    with pytest.raises(LeaseHeldError):
        Lease(store, "run-1", seconds=60, clock=lambda: now[0]).acquire()
    now[0] += 61
    taker = Lease(store, "run-1", seconds=60, clock=lambda: now[0]).acquire()
    assert json.loads(Path(store.uri_of("lease.json")).read_text())["owner"] == taker.owner
    taker.release()
    assert not Path(store.uri_of("lease.json")).exists()


def test_a_later_try_of_the_same_load_takes_over_its_lease(tmp_path):
    uri = str(tmp_path / "state")
    died = SyncState(uri, MAPPING, run_id="load-1").open()
    died.lease._renewer.stop()  # the process died: nothing renews or releases the lease
    with pytest.raises(LeaseHeldError):
        SyncState(uri, MAPPING, run_id="load-2").open()
    SyncState(uri, MAPPING, run_id="load-1").open().close()
