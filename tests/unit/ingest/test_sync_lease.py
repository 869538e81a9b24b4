"""The sync state's lease on a local directory: what it records, when it is taken over, renewed, lost and released."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from airflow_provider_customerprofiles.ingest.sync.lease import LEASE_NAME, Lease, LeaseHeldError
from airflow_provider_customerprofiles.ingest.sync.store import StateStore
from tests.eventually import eventually


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def store(tmp_path) -> StateStore:
    return StateStore(str(tmp_path / "state"), None)


def held(store: StateStore) -> dict | None:
    raw = store.read(LEASE_NAME)
    return json.loads(raw) if raw else None


def test_the_lease_records_its_owner_run_and_expiry_and_goes_on_release(store):
    lease = Lease(store, "run-a", seconds=60, clock=Clock(1000.0)).acquire()
    try:
        assert held(store) == {"owner": lease.owner, "run": "run-a", "expires_at": 1060.0}
    finally:
        lease.release()
    assert held(store) is None


def test_a_live_lease_of_another_run_is_refused_saying_whose_and_until_when(store):
    clock = Clock(1_790_000_000.0)
    holder = Lease(store, "run-a", seconds=60, clock=clock).acquire()
    try:
        clock.now += 59.5
        with pytest.raises(LeaseHeldError) as refused:
            Lease(store, "run-b", seconds=60, clock=clock).acquire()
    finally:
        holder.release()
    assert str(refused.value) == (
        f"The sync state {store.uri} is in use by another run (lease {holder.owner}, until 2026-09-21T14:14:20+00:00 "
        "unless renewed): two runs on one state would lose each other's changes. Run the loads of one state one "
        "after another; a crashed run's lease expires by itself."
    )


def test_a_lease_is_expired_at_its_expiry_instant(store):
    clock = Clock(1000.0)
    store.create(LEASE_NAME, json.dumps({"owner": "dead", "run": "run-a", "expires_at": 1060.0}).encode())
    clock.now = 1060.0
    taker = Lease(store, "run-b", seconds=60, clock=clock).acquire()
    try:
        assert held(store)["owner"] == taker.owner
    finally:
        taker.release()


def test_an_empty_lease_object_is_taken_over(store):
    store.create(LEASE_NAME, b"")
    lease = Lease(store, "run-b", seconds=60).acquire()
    try:
        assert held(store)["owner"] == lease.owner
    finally:
        lease.release()


def test_a_takeover_that_loses_the_race_to_another_run_is_refused(store):
    store.create(LEASE_NAME, json.dumps({"owner": "dead", "run": "run-a", "expires_at": 0.0}).encode())

    class RacedStore(StateStore):
        def delete(self, name: str) -> None:
            super().delete(name)
            super().create(name, json.dumps({"owner": "rival", "run": "run-c", "expires_at": 9e9}).encode())

    raced = RacedStore(store.uri, None)
    with pytest.raises(LeaseHeldError, match=r"was taken over by another run just now$"):
        Lease(raced, "run-b", seconds=60).acquire()
    assert held(store)["owner"] == "rival"


def test_renewing_pushes_the_expiry_out_and_fails_once_another_run_holds_the_lease(store):
    clock = Clock(1000.0)
    lease = Lease(store, "run-a", seconds=60, clock=clock).acquire()
    try:
        clock.now = 1030.0
        lease.renew()
        assert held(store)["expires_at"] == 1090.0
        store.write(LEASE_NAME, json.dumps({"owner": "rival", "run": "run-b", "expires_at": 2000.0}).encode())
        with pytest.raises(LeaseHeldError, match=r"^The lease on the sync state .* was lost to another run$"):
            lease.renew()
        store.delete(LEASE_NAME)
        with pytest.raises(LeaseHeldError, match="was lost to another run"):
            lease.renew()
    finally:
        lease._renewer.stop()


def test_the_renewer_keeps_the_lease_and_a_lost_lease_surfaces_in_the_callers_thread(store):
    lease = Lease(store, "run-a", seconds=0.3).acquire()
    first = held(store)["expires_at"]
    eventually(lambda: held(store)["expires_at"], lambda expires: expires > first, "a renewal")
    lease.check()  # renewing fine: nothing to raise
    store.write(LEASE_NAME, json.dumps({"owner": "rival", "run": "run-b", "expires_at": 9e9}).encode())

    def lost() -> bool:
        try:
            lease.check()
        except LeaseHeldError:
            return True
        return False

    eventually(lost, bool, "the renewer noticing the lost lease")
    with pytest.raises(LeaseHeldError):
        lease.release()
    assert held(store)["owner"] == "rival", "a lease another run holds is never deleted"


def test_release_leaves_a_lease_that_another_run_took_over(store):
    clock = Clock(1000.0)
    lease = Lease(store, "run-a", seconds=60, clock=clock).acquire()
    lease._renewer.stop()
    lease._renewer = None  # as after the renewer thread stopped: only the file decides
    store.write(LEASE_NAME, json.dumps({"owner": "rival", "run": "run-b", "expires_at": 2000.0}).encode())
    lease.release()
    assert held(store)["owner"] == "rival"
    assert Path(store.uri_of(LEASE_NAME)).exists()
