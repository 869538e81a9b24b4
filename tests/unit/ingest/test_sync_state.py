"""The sync state without the service: the diff, the fold, generations, recovery and the lease, on local files."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from airflow_provider_customerprofiles.ingest.sync import LeaseHeldError, SyncState, buckets, kernels
from airflow_provider_customerprofiles.ingest.sync.lease import Lease
from airflow_provider_customerprofiles.ingest.sync.rows import RowHasher
from airflow_provider_customerprofiles.ingest.sync.state import Accepted, SyncPlan, SyncStateError, run_id_for
from airflow_provider_customerprofiles.ingest.sync.store import StateStore
from airflow_provider_customerprofiles.storage import S3Settings

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


# -- the manifest, run names, and what a plan tells its caller


def read_manifest(tmp_path: Path) -> dict:
    return json.loads((tmp_path / "state" / "manifest.json").read_text())


def test_a_new_state_writes_its_manifest_before_anything_is_hashed(tmp_path):
    state = SyncState(str(tmp_path / "state"), MAPPING).open()
    try:
        manifest = read_manifest(tmp_path)
        assert {k: v for k, v in manifest.items() if k != "salt"} == {
            "version": 1,
            "generation": None,
            "mapping": MAPPING,
            "bucket_bits": 0,
            "keys": 0,
        }
        assert len(bytes.fromhex(manifest["salt"])) == 32
    finally:
        state.close()
    load_all(str(tmp_path / "state"), rows(("a", "1"), ("b", "1")))
    manifest_after = read_manifest(tmp_path)
    assert manifest_after["salt"] == manifest["salt"] and manifest_after["keys"] == 2
    assert (tmp_path / "state" / "generations" / manifest_after["generation"]).is_dir()


@pytest.mark.parametrize("version", [None, 2])
def test_a_state_of_an_unknown_format_is_refused(tmp_path, version):
    (tmp_path / "state").mkdir()
    manifest = {"generation": None, "salt": "00" * 32, "mapping": MAPPING, "bucket_bits": 0, "keys": 0}
    if version is not None:
        manifest["version"] = version
    (tmp_path / "state" / "manifest.json").write_text(json.dumps(manifest))
    state = SyncState(str(tmp_path / "state"), MAPPING)
    with pytest.raises(SyncStateError, match=r"^The sync state .*state has an unknown format version$"):
        state.open()
    state.close()


def test_a_run_is_named_by_the_mapping_and_the_load(tmp_path):
    uri = str(tmp_path / "state")
    assert SyncState(uri, MAPPING, run_id="load-1").run == "aaaaaaaaaaaa-load-1"
    fresh = {SyncState(uri, MAPPING).run for _ in range(2)}
    assert len(fresh) == 2 and all(run.startswith("aaaaaaaaaaaa-") and len(run) == 45 for run in fresh)


def test_a_run_id_is_derived_from_the_checkpoint_alone():
    one, again, other = run_id_for("s3://b/ckpt-1"), run_id_for("s3://b/ckpt-1"), run_id_for("s3://b/ckpt-2")
    assert one == again != other and len(one) == 16 and int(one, 16) >= 0
    assert run_id_for(None) is None and run_id_for("") is None


def test_parts_staged_under_another_mapping_are_dropped_not_folded(tmp_path):
    uri = str(tmp_path / "state")
    snapshot = rows(("a", "1"), ("b", "1"))
    other = SyncState(uri, "b" * 64, run_id="night-1").open()
    accept(other, plan(other, snapshot), snapshot, [0, 1])
    other.close()
    assert load_all(uri, snapshot) == [0, 1]
    assert list((tmp_path / "state" / "pending").iterdir()) == []


def test_a_mapping_change_is_logged_and_a_commit_logs_counts_only(tmp_path, caplog):
    uri = str(tmp_path / "state")
    caplog.set_level(logging.INFO, logger="airflow_provider_customerprofiles.ingest.sync.state")
    load_all(uri, rows(("ann@example.com", "1"), ("bob@example.com", "1")))
    assert caplog.messages[-1] == f"Sync state {uri}: 2 keys after folding 2 accepted rows"
    assert not any("another column mapping" in message for message in caplog.messages)
    load_all(uri, rows(("ann@example.com", "1")), mapping="b" * 64)
    assert f"The sync state {uri} was kept under another column mapping: every row counts as changed" in (
        caplog.messages
    )
    assert not any("example" in message for message in caplog.messages)


def test_a_plan_maps_rows_of_several_files_and_batches_back_to_their_place(tmp_path):
    uri = str(tmp_path / "state")
    load_all(uri, rows(("a", "1"), ("b", "1"), ("c", "1"), ("d", "1")))
    state = SyncState(uri, MAPPING).open()
    try:
        first, second = rows(("x", "1"), ("a", "1"), ("b", "2")), rows(("d", "1"), ("c", "1"))
        batches = [
            (0, 0, HASHER.keys(first.slice(0, 1)), HASHER.fingerprints(first.slice(0, 1))),
            (0, 1, HASHER.keys(first.slice(1)), HASHER.fingerprints(first.slice(1))),
            (1, 0, HASHER.keys(second), HASHER.fingerprints(second)),
        ]
        the_plan = state.plan([3, 2], batches)
    finally:
        state.close()
    assert [row.tolist() for row in the_plan.unchanged] == [[False, True, False], [True, True]]
    assert all(row.dtype == np.bool_ for row in the_plan.unchanged)
    assert the_plan.count() == 3
    assert the_plan.is_unchanged(0, 1) is True and the_plan.is_unchanged(0, 2) is False


def test_staged_rows_of_a_changed_repeated_key_carry_their_groups_fingerprint_and_size():
    the_plan = SyncPlan([np.zeros(4, dtype=bool)], {kernels.rank(0, np.array([2]))[0]: (77, 2)})
    ranks = kernels.rank(0, np.array([0, 2], dtype=np.int64))
    own = np.array([5, 6], dtype=np.uint64)
    fps, sizes = the_plan.staged(ranks, own)
    assert (fps.tolist(), sizes.tolist(), own.tolist()) == ([5, 77], [1, 2], [5, 6])
    assert (fps.dtype, sizes.dtype) == (np.uint64, np.int64)
    no_groups = SyncPlan([np.zeros(4, dtype=bool)], {})
    assert [a.tolist() for a in no_groups.staged(ranks, own)] == [[5, 6], [1, 1]]


def test_a_smaller_snapshot_keeps_the_states_buckets(tmp_path, monkeypatch):
    monkeypatch.setattr(buckets, "TARGET_BUCKET_ROWS", 4)
    uri = str(tmp_path / "state")
    big = rows(*((f"k{i}", "1") for i in range(64)))
    load_all(uri, big)
    bits = read_manifest(tmp_path)["bucket_bits"]
    small = rows(*((f"k{i}", "1" if i % 2 else "2") for i in range(8)))
    assert load_all(uri, small) == [0, 2, 4, 6]
    assert read_manifest(tmp_path)["bucket_bits"] == bits and read_manifest(tmp_path)["keys"] == 64
    assert load_all(uri, big) == [0, 2, 4, 6]


def test_a_mapping_change_keeps_only_the_new_snapshots_keys(tmp_path, monkeypatch):
    monkeypatch.setattr(buckets, "TARGET_BUCKET_ROWS", 4)
    uri = str(tmp_path / "state")
    load_all(uri, rows(*((f"k{i}", "1") for i in range(64))))
    assert read_manifest(tmp_path)["bucket_bits"] >= 3
    assert load_all(uri, rows(("k1", "1")), mapping="b" * 64) == [0]
    assert (read_manifest(tmp_path)["mapping"], read_manifest(tmp_path)["keys"]) == ("b" * 64, 1)


def test_close_removes_the_work_directory_even_when_the_lease_cannot_be_released(tmp_path, monkeypatch):
    state = SyncState(str(tmp_path / "state"), MAPPING).open()
    work = Path(state._work.name)
    assert work.is_dir()

    def fail() -> None:
        raise OSError("lost")

    monkeypatch.setattr(state.lease, "release", fail)
    with pytest.raises(OSError, match="lost"):
        state.close()
    assert not work.exists()


def test_a_state_on_s3_uses_its_settings_and_lease_length(moto_s3_server, s3_bucket):
    settings = S3Settings("testing", "testing", endpoint_url=moto_s3_server)
    uri = f"s3://{s3_bucket}/state"
    state = SyncState(uri, MAPPING, s3=settings, lease_seconds=7).open()
    try:
        # The lease, on S3, runs out after the state's own length, not the default one.
        assert json.loads(state.store.read("lease.json"))["expires_at"] <= time.time() + 7
        assert state.store.read("manifest.json") is not None
    finally:
        state.close()
