"""
One run at a time per sync state: a lease object created with create-only semantics.

Two concurrent runs would each commit a state built on the same base, and the second
would silently drop what the first recorded. The lease expires (and is renewed while
the run lives), so a crashed run blocks the state only until its lease runs out. A
later try of the same load (the same ``run``: Airflow runs a task instance's tries one
after another) takes over its own earlier try's lease at once.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from airflow_provider_customerprofiles.ingest.sync.store import StateStore
from airflow_provider_customerprofiles.periodic import Periodic

LEASE_NAME = "lease.json"
DEFAULT_LEASE_SECONDS = 600.0


class LeaseHeldError(RuntimeError):
    """Another run holds the state's lease."""


class Lease:
    """Held from :meth:`acquire` to :meth:`release`; renewed every third of its length on a thread."""

    def __init__(
        self,
        store: StateStore,
        run: str,
        seconds: float = DEFAULT_LEASE_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._run = run
        self._seconds = seconds
        self._clock = clock
        self.owner = uuid.uuid4().hex
        self._renewer: Periodic | None = None

    def _payload(self) -> bytes:
        return json.dumps({"owner": self.owner, "run": self._run, "expires_at": self._clock() + self._seconds}).encode()

    def acquire(self) -> Lease:
        """Take the lease, or take over an expired one; raises LeaseHeldError while another run holds it."""
        if not self._store.create(LEASE_NAME, self._payload()):
            holder = self._holder()
            if holder is not None and holder["expires_at"] > self._clock() and holder.get("run") != self._run:
                until = datetime.fromtimestamp(holder["expires_at"], UTC).isoformat(timespec="seconds")
                raise LeaseHeldError(
                    f"The sync state {self._store.uri} is in use by another run (lease {holder['owner']}, "
                    f"until {until} unless renewed): two runs on one state would lose each other's changes. "
                    "Run the loads of one state one after another; a crashed run's lease expires by itself."
                )
            self._store.delete(LEASE_NAME)  # expired, or an earlier try of this load: it died holding it
            if not self._store.create(LEASE_NAME, self._payload()):
                raise LeaseHeldError(f"The sync state {self._store.uri} was taken over by another run just now")
        self._renewer = Periodic(self.renew, self._seconds / 3, "cp-sync-lease").start()
        return self

    def _holder(self) -> dict | None:
        raw = self._store.read(LEASE_NAME)
        return json.loads(raw) if raw else None

    def renew(self) -> None:
        """Push the expiry out; refuse if the lease was taken over (this run outlived it)."""
        holder = self._holder()
        if holder is None or holder["owner"] != self.owner:
            raise LeaseHeldError(f"The lease on the sync state {self._store.uri} was lost to another run")
        self._store.write(LEASE_NAME, self._payload())

    def check(self) -> None:
        """Raise the renewer's error (a lost lease) in the caller's thread."""
        if self._renewer is not None:
            self._renewer.raise_if_failed()

    def release(self) -> None:
        if self._renewer is not None:
            self._renewer.stop()
            self._renewer = None
        holder = self._holder()
        if holder is not None and holder["owner"] == self.owner:
            self._store.delete(LEASE_NAME)
