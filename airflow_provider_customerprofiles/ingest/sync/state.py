"""
A sync state: per unique key, the fingerprint of the object as the service last accepted it.

Layout under the state URI (local directory or ``s3://`` prefix)::

    manifest.json                      the current generation, the salt, the mapping, bucket bits
    generations/<id>/bucket-NNNNN.parquet   h1, h2, fp (uint64), sorted by key hash
    pending/<run>/<row range>.parquet       what the service accepted, per finished row range
    lease.json                         held by the one run working on the state

Invariant with the loader's checkpoint: a row range is recorded in the checkpoint only
after its pending part is written, and a generation is committed only at the end of a
successful run. A retry (same checkpoint, so the same ``<run>``) compares against the
same committed generation, so it plans the same rows; the ranges it skips already have
their parts staged, and the commit folds them all. A run that died and was never
retried leaves parts that the next run folds in before it compares (they are rows the
service accepted). Commit: write the new generation, flip the manifest, then delete the
old generation and the folded parts; a crash in between leaves a state that is still valid.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import tempfile
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from airflow_provider_customerprofiles.ingest.sync import kernels
from airflow_provider_customerprofiles.ingest.sync.buckets import BucketSpill, bits_for, bucket_of, empty
from airflow_provider_customerprofiles.ingest.sync.hashing import KeyHasher
from airflow_provider_customerprofiles.ingest.sync.lease import DEFAULT_LEASE_SECONDS, Lease
from airflow_provider_customerprofiles.ingest.sync.store import StateStore
from airflow_provider_customerprofiles.storage import S3Settings

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
_STATE_COLUMNS = ("h1", "h2", "fp")


class SyncStateError(ValueError):
    """The state cannot be used as it is (unknown format)."""


@dataclass
class Manifest:
    generation: str | None
    salt: str
    mapping: str
    bucket_bits: int
    keys: int = 0

    def dumps(self) -> bytes:
        return json.dumps({"version": FORMAT_VERSION, **self.__dict__}, sort_keys=True).encode()


@dataclass
class SyncPlan:
    """Which rows of each input file to leave unsent: their object is what the service already has."""

    unchanged: list[np.ndarray]  # per file number, a bool per row
    groups: dict[int, tuple[int, int]]  # rank -> (group fingerprint, size), rows of changed repeated keys

    def is_unchanged(self, file_number: int, row: int) -> bool:
        return bool(self.unchanged[file_number][row])

    def staged(self, ranks: np.ndarray, fps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """What to stage for accepted rows: the group's fingerprint and size (a row's own, and 1, mostly)."""
        fps, sizes = fps.copy(), np.ones(len(ranks), dtype=np.int64)
        if self.groups:
            for i, order in enumerate(ranks.tolist()):
                if order in self.groups:
                    fps[i], sizes[i] = self.groups[order]
        return fps, sizes

    def count(self) -> int:
        return int(sum(int(rows.sum()) for rows in self.unchanged))


@dataclass
class Accepted:
    """Rows of one finished range that the service accepted, as they go into the state."""

    h1: np.ndarray
    h2: np.ndarray
    fp: np.ndarray  # the group's fingerprint (see SyncPlan.staged)
    order: np.ndarray
    size: np.ndarray  # the group's rows


class SyncState:
    """
    One run's use of a state: :meth:`open` (lease, recovery), :meth:`plan`, :meth:`stage`
    per finished range, :meth:`commit` at the end, :meth:`close` always.

    ``mapping`` names what fingerprints are computed under (see ``hashing.mapping_fingerprint``):
    a state kept under another mapping is treated as empty (every row changed).
    ``run_id`` names this run's staged parts: the same for every try of one load (derive
    it from the checkpoint), so a retry keeps what earlier tries staged.
    """

    def __init__(
        self,
        uri: str,
        mapping: str,
        run_id: str | None = None,
        s3: S3Settings | None = None,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
    ) -> None:
        self.uri = uri
        self.mapping = mapping
        self.store = StateStore(uri, s3)
        self.run = f"{mapping[:12]}-{run_id or uuid.uuid4().hex}"
        self.lease = Lease(self.store, self.run, lease_seconds)
        self.manifest: Manifest | None = None
        self.hasher: KeyHasher | None = None
        self._bits = 0  # bucket bits of this run: sized by the snapshot in plan()
        self._work = tempfile.TemporaryDirectory(prefix="cp-sync-")

    # -- life cycle
    def open(self) -> SyncState:
        """Take the lease, then fold what runs that died left staged; raises LeaseHeldError."""
        self.lease.acquire()
        raw = self.store.read(MANIFEST)
        if raw:
            data = json.loads(raw)
            if data.pop("version", None) != FORMAT_VERSION:
                raise SyncStateError(f"The sync state {self.uri} has an unknown format version")
            self.manifest = Manifest(**data)
        else:
            self.manifest = Manifest(None, secrets.token_hex(32), self.mapping, 0)
            self.store.write(MANIFEST, self.manifest.dumps())  # the salt, before anything is hashed with it
        self.hasher = KeyHasher(bytes.fromhex(self.manifest.salt))
        if self.manifest.mapping != self.mapping:
            log.info("The sync state %s was kept under another column mapping: every row counts as changed", self.uri)
        left_over = []
        for run in self.store.list_subdirs("pending"):
            if not run.startswith(self.mapping[:12]):
                self.store.delete_dir(f"pending/{run}")  # staged under another mapping: meaningless now
            elif run != self.run:
                left_over.append(run)
        if left_over or self.manifest.mapping != self.mapping:
            self._commit(left_over, self.manifest.bucket_bits)
        return self

    def close(self) -> None:
        try:
            self.lease.release()
        finally:
            self._work.cleanup()

    # -- hashing keys
    def hash_keys(self, keys: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(h1, h2): the halves of each key's keyed hash under this state's salt."""
        assert self.hasher is not None
        return self.hasher.hash_keys(keys)

    # -- comparing
    def plan(
        self, file_rows: Sequence[int], batches: Iterable[tuple[int, int, Sequence[str | None], np.ndarray]]
    ) -> SyncPlan:
        """
        Compare the snapshot with the state, bucket by bucket. ``batches`` yields (file
        number, first row, unique-key values, fingerprints) for the whole input (see
        :class:`.rows.RowHasher`); rows without a key (refused when sent) are never unchanged.
        """
        assert self.manifest is not None
        bits = self._bits = max(self.manifest.bucket_bits, bits_for(sum(file_rows)))
        spill = BucketSpill(self._fresh_dir("plan"), bits)
        for file_number, start, keys, fps in batches:
            keyed = [i for i, key in enumerate(keys) if key is not None]
            if keyed:
                h1, h2 = self.hash_keys([keys[i] for i in keyed])  # type: ignore[misc]
                keyed_rows = np.asarray(keyed, dtype=np.int64)
                spill.add(h1, h2, fps[keyed_rows], kernels.rank(file_number, keyed_rows + start))
        spill.flush()
        unchanged = [np.zeros(rows, dtype=bool) for rows in file_rows]
        groups: dict[int, tuple[int, int]] = {}
        for bucket in range(1 << bits):
            orders, bucket_groups = kernels.compare(spill.read(bucket), self._read_bucket(bucket, bits))
            groups.update(bucket_groups)
            files, rows = orders >> kernels.ROW_BITS, orders & ((1 << kernels.ROW_BITS) - 1)
            for file_number in np.unique(files):
                unchanged[file_number][rows[files == file_number]] = True
        return SyncPlan(unchanged, groups)

    # -- recording
    def stage(self, part: str, accepted: Accepted) -> None:
        """Record, before the checkpoint records the range, what the service accepted of it."""
        table = pa.table(
            {"h1": accepted.h1, "h2": accepted.h2, "fp": accepted.fp, "order": accepted.order, "size": accepted.size}
        )
        self.store.write_table(f"pending/{self.run}/{part}.parquet", table)

    def commit(self) -> None:
        """Fold this run's staged parts into a new generation: call once the whole input is settled."""
        self._commit([self.run], self._bits)

    def _commit(self, runs: list[str], bits: int) -> None:
        assert self.manifest is not None
        same_mapping = self.manifest.mapping == self.mapping
        bits = max(bits, self.manifest.bucket_bits) if same_mapping else bits
        spill = BucketSpill(self._fresh_dir("commit"), bits)
        for run_number, run in enumerate(runs):
            for name in self.store.list_dir(f"pending/{run}"):
                table = self.store.read_table(f"pending/{run}/{name}")
                if table is not None and table.num_rows:
                    # Within a run the rank is the row's place in the input; a later run ranks higher.
                    order = (np.int64(run_number) << np.int64(kernels.RUN_SHIFT)) | table["order"].to_numpy()
                    spill.add(*(table[c].to_numpy() for c in _STATE_COLUMNS), order, table["size"].to_numpy())
        spill.flush()
        generation = f"gen-{uuid.uuid4().hex}"
        keys = 0
        for bucket in range(1 << bits):
            base = self._read_bucket(bucket, bits) if same_mapping else empty()
            folded = kernels.fold(base, spill.read(bucket))
            if len(folded["h1"]):
                keys += len(folded["h1"])
                self.store.write_table(f"generations/{generation}/bucket-{bucket:05d}.parquet", pa.table(folded))
        self.manifest = Manifest(generation, self.manifest.salt, self.mapping, bits, keys)
        self.store.write(MANIFEST, self.manifest.dumps())
        for old in self.store.list_subdirs("generations"):
            if old != generation:
                self.store.delete_dir(f"generations/{old}")
        for run in runs:
            self.store.delete_dir(f"pending/{run}")
        log.info("Sync state %s: %d keys after folding %d accepted rows", self.uri, keys, spill.rows)

    def _read_bucket(self, bucket: int, bits: int) -> dict[str, np.ndarray]:
        """The committed entries of ``bucket`` under ``bits``, from a generation with as many bits or fewer."""
        assert self.manifest is not None
        if self.manifest.generation is None:
            return empty()
        shift = bits - self.manifest.bucket_bits
        name = f"generations/{self.manifest.generation}/bucket-{bucket >> shift:05d}.parquet"
        table = self.store.read_table(name)
        if table is None:
            return empty()
        columns = {c: table[c].to_numpy() for c in _STATE_COLUMNS}
        if shift:
            keep = bucket_of(columns["h1"], bits) == bucket
            columns = {c: values[keep] for c, values in columns.items()}
        return columns

    def _fresh_dir(self, what: str) -> Path:
        path = Path(self._work.name) / f"{what}-{uuid.uuid4().hex[:8]}"
        path.mkdir()
        return path


def run_id_for(checkpoint_uri: str | None) -> str | None:
    """Every try of one load shares its checkpoint, so it names the staged parts; none: a fresh id."""
    return hashlib.sha256(checkpoint_uri.encode()).hexdigest()[:16] if checkpoint_uri else None
