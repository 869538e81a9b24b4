"""
Load Parquet rows into Customer Profiles objects: the orchestration.

One reader thread streams each file in record batches, encodes them, refuses rows
that cannot be sent, and routes the rest by the hash of their normalised unique key
(see ``keys.grouping_key``) into per-worker batches of up to ten distinct keys that
keep each key's rows in file order (see ``batching.OrderedBatches``); the worker
pool sends them under a shared adaptive rate limit. Every row ends accepted or
dead-lettered. Each record batch is a row range: when all its rows are settled, its
dead letters are written and then the range is recorded in the checkpoint, so a
re-run skips exactly the finished work. A committer thread saves finished ranges
every ``commit_interval`` seconds, even while the reader waits for the workers.

With ``sync_state_uri`` (see :mod:`.sync`), a first pass compares the whole input with
the state (by key and fingerprint, read from Arrow: no row is encoded for it), and rows
whose object the service already has settle as unchanged, never encoded nor sent.
What the service accepts of a range is staged in the state before the checkpoint
records that range, and a new state generation is committed only when the whole input
is settled: a retry finds the same committed state, so it plans the same rows.

Usable from a plain script::

    load(boto3.client("customer-profiles"), "data/*.parquet",
         LoadOptions("my-domain", "Orders", dead_letter_uri="dead-letters/"))
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from airflow_provider_customerprofiles.ingest.batching import OrderedBatches
from airflow_provider_customerprofiles.ingest.checkpoint import Checkpoint, RangeSet
from airflow_provider_customerprofiles.ingest.dead_letter import DeadLetter, DeadLetterWriter
from airflow_provider_customerprofiles.ingest.encoding import BatchEncoder, check_encodable
from airflow_provider_customerprofiles.ingest.keys import grouping_key
from airflow_provider_customerprofiles.ingest.metrics import (
    DEAD_LETTERED,
    NO_METRICS,
    OBJECTS_WRITTEN,
    RETRIES,
    THROTTLES,
    Metrics,
    MetricsReporter,
)
from airflow_provider_customerprofiles.ingest.object_type import (
    ObjectTypeKeys,
    PreflightError,
    check_columns,
    describe_target,
)
from airflow_provider_customerprofiles.ingest.progress import IngestProgress
from airflow_provider_customerprofiles.ingest.rate_limit import AdaptiveRateLimiter, RateLimiter
from airflow_provider_customerprofiles.ingest.sender import BATCH_SIZE, Failure, Sender, WorkerPool
from airflow_provider_customerprofiles.ingest.source import (
    SourceFile,
    iter_row_group_batches,
    resolve_sources,
)
from airflow_provider_customerprofiles.ingest.sync import SyncState
from airflow_provider_customerprofiles.ingest.sync.hashing import mapping_fingerprint
from airflow_provider_customerprofiles.ingest.sync.kernels import rank
from airflow_provider_customerprofiles.ingest.sync.rows import RowHasher
from airflow_provider_customerprofiles.ingest.sync.state import Accepted, SyncPlan, run_id_for
from airflow_provider_customerprofiles.periodic import Periodic, PeriodicLog
from airflow_provider_customerprofiles.storage import S3Settings

log = logging.getLogger(__name__)

# The quota (100 TPS for PutProfileObject; the batch API is treated the same) is per
# account and Region, shared with every other writer. 97 keeps 3% for them and for
# clock drift between our pacing and the service's token bucket; throttles lower the
# rate further when others need more.
DEFAULT_MAX_REQUESTS_PER_SECOND = 97.0
# Enough concurrent calls to fill 97 requests/s at up to ~150 ms per call.
DEFAULT_MAX_WORKERS = 16


class FailedRatioExceeded(Exception):
    """More rows were dead-lettered than ``max_failed_ratio`` allows (counts only in the message)."""


@dataclass
class LoadOptions:
    """What to load into, and how. ``columns``: a list to select, or a dict Parquet column -> object field.
    ``commit_interval``: seconds between checkpoint saves of the finished row ranges.
    ``sync_state_uri``: a sync state (local directory or ``s3://`` prefix) for this domain and object
    type: send only rows whose key is new or whose object changed since the service accepted it.
    ``rate_limiter``: pacing shared with other loads (e.g. ``shared_quota.SharedRateLimiter``); None paces
    this load alone at ``max_requests_per_second``. ``metrics``: where counters and gauges go, every
    ``metrics_interval`` seconds and at the end (see ``ingest.metrics``)."""

    domain_name: str
    object_type_name: str
    dead_letter_uri: str
    columns: Sequence[str] | dict[str, str] | None = None
    dead_letter_format: str = "jsonl"
    max_failed_ratio: float = 0.0
    max_requests_per_second: float = DEFAULT_MAX_REQUESTS_PER_SECOND
    max_workers: int = DEFAULT_MAX_WORKERS
    checkpoint_uri: str | None = None
    use_batch_api: bool = True
    keep_nulls: bool = False
    batch_rows: int = 5_000
    max_attempts: int = 8
    progress_interval: float = 5.0
    commit_interval: float = 5.0
    rate_limiter: RateLimiter | None = None
    metrics: Metrics | None = None
    metrics_interval: float = 5.0
    sync_state_uri: str | None = None

    def renames(self) -> dict[str, str] | None:
        if self.columns is None:
            return None
        if isinstance(self.columns, dict):
            return dict(self.columns)
        return {c: c for c in self.columns}


@dataclass
class LoadResult:
    """
    Counts for this run (``rows_read = objects_written + dead_lettered + rows_unchanged``) and for
    the whole load. ``rows_unchanged``: rows left unsent because the sync state says the service
    already holds their object (always 0 without ``sync_state_uri``).

    ``rows_resent``: rows of this run that an earlier try had already read (the checkpoint's
    ``read`` mark) without finishing their range. An upper bound on the rows sent twice: the
    earlier try may have died before sending some of them. Puts overwrite, so this costs only calls.
    """

    files: int
    rows_total: int
    rows_read: int
    rows_skipped: int
    rows_resent: int
    objects_written: int
    dead_lettered: int
    rows_unchanged: int
    dead_lettered_total: int
    rows_done_total: int
    dead_letter_uri: str
    checkpoint_uri: str | None
    sync_state_uri: str | None
    requests: int
    retries: int
    throttles: int
    seconds: float
    rows_per_second: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class _Item:
    chunk: _Chunk
    row_index: int
    obj: str
    key: str | None = None  # with a sync state: the unique-key value and the fingerprint the state keeps
    fingerprint: int = 0


@dataclass(eq=False)
class _Chunk:
    """One record batch of one file: settled when every row is accepted or dead-lettered."""

    file_uri: str
    start: int
    end: int
    outstanding: int
    accepted: int = 0
    rejected: int = 0
    accepted_rows: list[tuple[int, str, int]] = field(default_factory=list)  # with a sync state: (row, key, fp)

    @property
    def name(self) -> str:
        """Stable across runs (same file, same rows): names this range's dead-letter part."""
        file_id = hashlib.sha256(self.file_uri.encode()).hexdigest()[:16]
        return f"{file_id}-{self.start:012d}-{self.end:012d}"


class _Ledger:
    """Thread-safe accounting of rows per chunk, and the chunks that are settled."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._finished: list[_Chunk] = []
        self.rows_read = 0
        self.accepted = 0
        self.rejected = 0
        self.unchanged = 0

    def settle(self, chunk: _Chunk, accepted: int = 0, rejected: int = 0, skipped: int = 0, unchanged: int = 0) -> None:
        with self._lock:
            chunk.accepted += accepted
            chunk.rejected += rejected
            chunk.outstanding -= accepted + rejected + skipped + unchanged
            self.rows_read += accepted + rejected + unchanged
            self.accepted += accepted
            self.rejected += rejected
            self.unchanged += unchanged
            if chunk.outstanding == 0:
                self._finished.append(chunk)

    def pop_finished(self) -> list[_Chunk]:
        with self._lock:
            finished, self._finished = self._finished, []
        return finished


class _Run:
    """State of one ``load`` call; ``load`` below is the public entry point."""

    def __init__(
        self,
        client: Any,
        files: list[SourceFile],
        options: LoadOptions,
        keys: ObjectTypeKeys,
        s3: S3Settings | None,
        sync: SyncState | None = None,
    ) -> None:
        self.files = files
        self.file_numbers = {file.uri: i for i, file in enumerate(files)}
        self.sync = sync
        self.plan: SyncPlan | None = None
        self.options = options
        self.renames = options.renames()
        self.encoder = BatchEncoder(self.renames, keys.unique_key, options.keep_nulls)
        self.row_hasher = RowHasher(self.renames, keys.unique_key) if sync is not None and keys.unique_key else None
        self.ledger = _Ledger()
        self.dead_letters = DeadLetterWriter(options.dead_letter_uri, options.dead_letter_format, s3)
        self.checkpoint = Checkpoint(options.checkpoint_uri, s3)
        self.resume: dict[str, RangeSet] = {}  # finished before this run: what the reader skips
        self.done: dict[str, RangeSet] = {}  # finished so far: what the committer records
        self.settled: list[_Chunk] = []  # settled, not yet recordable: an earlier row is still open
        self.file_rows: dict[str, int] = {}
        self.read_before: dict[str, int] = {}  # each file's read mark from earlier tries
        self.limiter = options.rate_limiter or AdaptiveRateLimiter(options.max_requests_per_second)
        self.sender = Sender(
            client,
            options.domain_name,
            options.object_type_name,
            self.limiter,
            self._accepted,
            self._rejected,
            use_batch_api=options.use_batch_api,
            max_attempts=options.max_attempts,
        )
        self.pool: WorkerPool | None = None
        self.batches = [OrderedBatches(BATCH_SIZE) for _ in range(options.max_workers)]
        self.rows_total = 0
        self.rows_skipped = 0
        self.rows_resent = 0
        self.committer = Periodic(self._commit, options.commit_interval, "cp-ingest-commit")
        self.metrics = MetricsReporter(options.metrics or NO_METRICS, self._metric_counts, self.limiter.current_rate)

    def check_outputs(self) -> None:
        """Fail before the first put when dead letters or the checkpoint cannot be written: otherwise
        that surfaces only after the writes (or, for dead letters, never in a load without bad rows)."""
        checks = [("dead-letter", self.options.dead_letter_uri, self.dead_letters.check_writable)]
        if self.options.checkpoint_uri:
            checks.append(("checkpoint", self.options.checkpoint_uri, self.checkpoint.save))
        for what, uri, check in checks:
            try:
                check()
            except Exception as exc:
                raise PreflightError(f"The {what} location {uri} is not writable: {type(exc).__name__}: {exc}") from exc

    # -- callbacks from the workers
    def _accepted(self, items: Sequence[_Item]) -> None:
        for item in items:
            if self.sync is not None:
                item.chunk.accepted_rows.append((item.row_index, item.key or "", item.fingerprint))
            self.ledger.settle(item.chunk, accepted=1)

    def _rejected(self, items: Sequence[_Item], failure: Failure) -> None:
        for item in items:
            self._dead_letter(item.chunk, item.row_index, failure.code, failure.message, item.obj)

    def _dead_letter(self, chunk: _Chunk, row_index: int, code: str, message: str, row: str) -> None:
        self.dead_letters.add(chunk.name, [DeadLetter(chunk.file_uri, row_index, code, message, row)])
        self.ledger.settle(chunk, rejected=1)

    # -- the reader
    def _route(self, unique_key: str | None, item: _Item) -> None:
        """Queue ``item`` for the worker that owns its key (see :func:`grouping_key`); one row per key a batch."""
        key = grouping_key(unique_key) if unique_key is not None else None
        workers = self.options.max_workers
        worker = zlib.crc32(key.encode()) % workers if key is not None else item.row_index % workers
        for batch in self.batches[worker].add(key, item):
            self._submit(worker, batch)

    def _submit(self, worker: int, batch: list[_Item]) -> None:
        assert self.pool is not None
        self.pool.submit(worker, batch)

    def _submit_all(self) -> None:
        for worker in range(self.options.max_workers):
            for batch in self.batches[worker].drain():
                self._submit(worker, batch)

    def _read_file(self, file: SourceFile) -> None:
        done = self.resume[file.uri]
        columns = list(self.renames) if self.renames is not None else None
        offset = 0
        with file.open() as parquet:
            for row_group in range(parquet.num_row_groups):
                group_rows = parquet.metadata.row_group(row_group).num_rows
                if done.covers(offset, offset + group_rows):
                    offset += group_rows
                    continue
                start = offset
                batches = iter_row_group_batches(parquet, file.uri, row_group, columns, self.options.batch_rows)
                for batch in batches:
                    end = start + batch.num_rows
                    if not done.covers(start, end):
                        self.checkpoint.mark_read(file.uri, end)
                        self._read_batch(file.uri, batch, start, end, done)
                    start = end
                    self.committer.raise_if_failed()
                offset += group_rows
        self._submit_all()

    def _read_batch(self, file_uri: str, batch: pa.RecordBatch, start: int, end: int, done: RangeSet) -> None:
        """Encode and route the rows of ``batch`` left to send; the others settle at once, never encoded."""
        chunk = _Chunk(file_uri, start, end, outstanding=end - start)
        send = self._rows_to_send(chunk, done)
        if len(send) < batch.num_rows:
            batch = _rows_of(batch, send)
        read_before = self.read_before[file_uri]
        sync_keys, fps = self._state_entries(batch)
        for i, (index, row) in enumerate(zip((start + send).tolist(), self.encoder.encode(batch), strict=True)):
            if row.rejection is not None:
                self._dead_letter(chunk, index, "REJECTED", row.rejection, row.obj)
            else:
                self.rows_resent += index < read_before
                self._route(row.key, _Item(chunk, index, row.obj, sync_keys[i], fps[i]))

    def _state_entries(self, batch: pa.RecordBatch) -> tuple[list[str | None], list[int]]:
        """What the sync state keeps of each row when the service accepts it: its key and fingerprint."""
        if self.row_hasher is None:
            return [None] * batch.num_rows, [0] * batch.num_rows
        return self.row_hasher.keys(batch), self.row_hasher.fingerprints(batch).tolist()

    def _rows_to_send(self, chunk: _Chunk, done: RangeSet) -> np.ndarray:
        """
        Offsets in ``chunk`` of the rows to send: rows an earlier try finished are skipped, and rows
        the sync plan finds unchanged are unchanged; both settle here in one step, whatever their number.
        """
        finished = np.zeros(chunk.end - chunk.start, dtype=bool)
        for lo, hi in done.ranges:
            finished[max(lo - chunk.start, 0) : max(hi - chunk.start, 0)] = True
        unchanged = np.zeros_like(finished)
        if self.plan is not None:
            unchanged = self.plan.unchanged[self.file_numbers[chunk.file_uri]][chunk.start : chunk.end] & ~finished
        skipped, left_unsent = int(finished.sum()), int(unchanged.sum())
        if skipped or left_unsent:
            self.ledger.settle(chunk, skipped=skipped, unchanged=left_unsent)
        return np.flatnonzero(~(finished | unchanged))

    def _fingerprinted_input(self) -> Iterator[tuple[int, int, list[str | None], np.ndarray]]:
        """Every row of the input as (file number, first row, keys, fingerprints): what the sync plan compares."""
        assert self.row_hasher is not None
        columns = list(self.renames) if self.renames is not None else None
        for number, file in enumerate(self.files):
            start = 0
            with file.open() as parquet:
                for row_group in range(parquet.num_row_groups):
                    for batch in iter_row_group_batches(parquet, file.uri, row_group, columns, self.options.batch_rows):
                        yield number, start, self.row_hasher.keys(batch), self.row_hasher.fingerprints(batch)
                        start += batch.num_rows

    def _make_plan(self) -> SyncPlan:
        assert self.sync is not None
        started = time.monotonic()
        plan = self.sync.plan([self.file_rows[file.uri] for file in self.files], self._fingerprinted_input())
        log.info(
            "Sync state compared in %.1fs: %d of %d rows unchanged",
            time.monotonic() - started,
            plan.count(),
            self.rows_total,
        )
        return plan

    def _stage(self, chunks: list[_Chunk]) -> None:
        """
        Put what the service accepted of finished ranges into the sync state, as one staged part:
        a part per range cost a Parquet write (and a read at the commit) per 5,000 rows.
        """
        assert self.sync is not None and self.plan is not None
        accepted = [(chunk, row) for chunk in chunks for row in chunk.accepted_rows]
        if not accepted:
            return
        h1, h2 = self.sync.hash_keys([key for _, (_, key, _) in accepted])
        fp = np.asarray([fingerprint for _, (_, _, fingerprint) in accepted], dtype=np.uint64)
        files = np.asarray([self.file_numbers[chunk.file_uri] for chunk, _ in accepted], dtype=np.int64)
        ranks = rank(files, np.asarray([row for _, (row, _, _) in accepted], dtype=np.int64))
        fp, sizes = self.plan.staged(ranks, fp)
        self.sync.stage(f"{chunks[0].name}-to-{chunks[-1].name}", Accepted(h1, h2, fp, ranks, sizes))
        for chunk in chunks:
            chunk.accepted_rows.clear()

    def _commit(self) -> None:
        """
        Write the dead letters of settled ranges that extend the finished prefix of the input
        (files in order), then record those ranges. Only a prefix: a resume re-sends every row
        after it in file order, so a re-sent row never overwrites a later row of its key.
        """
        order = {file.uri: i for i, file in enumerate(self.files)}
        self.settled.extend(self.ledger.pop_finished())
        self.settled.sort(key=lambda chunk: (order[chunk.file_uri], chunk.start))
        done = {uri: RangeSet(list(ranges.ranges)) for uri, ranges in self.done.items()}
        ready = []
        for chunk in self.settled:
            if (order[chunk.file_uri], chunk.start) > self._first_open_row(done):
                break
            done[chunk.file_uri].add(chunk.start, chunk.end)
            ready.append(chunk)
        if not ready:
            return
        self.dead_letters.flush(chunk.name for chunk in ready)
        if self.sync is not None:
            self.sync.lease.check()
            self._stage(ready)
        self.done, self.settled = done, self.settled[len(ready) :]
        for chunk in ready:
            self.checkpoint.record(chunk.file_uri, done[chunk.file_uri])
            self.checkpoint.add_totals(accepted=chunk.accepted, rejected=chunk.rejected)
        self.checkpoint.save()

    def _first_open_row(self, done: dict[str, RangeSet]) -> tuple[int, int]:
        """(file number, row) of the first row of the input that ``done`` does not cover."""
        for i, file in enumerate(self.files):
            ranges = done[file.uri].ranges
            if not done[file.uri].covers(0, self.file_rows[file.uri]):
                return i, ranges[0][1] if ranges and ranges[0][0] == 0 else 0
        return len(self.files), 0

    def _snapshot(self) -> tuple[int, int, int, int, int]:
        counters = self.sender.counters
        done = self.rows_skipped + self.ledger.rows_read
        return done, self.rows_total, counters.retries, counters.throttles, self.ledger.rejected

    def _metric_counts(self) -> dict[str, int]:
        counters = self.sender.counters
        return {
            OBJECTS_WRITTEN: self.ledger.accepted,
            DEAD_LETTERED: self.ledger.rejected,
            THROTTLES: counters.throttles,
            RETRIES: counters.retries,
        }

    def run(self) -> LoadResult:
        started = time.monotonic()
        for file in self.files:
            with file.open() as parquet:
                num_rows = parquet.metadata.num_rows
            self.rows_total += num_rows
            self.resume[file.uri] = self.checkpoint.finished(file.uri, num_rows)
            self.done[file.uri] = RangeSet(list(self.resume[file.uri].ranges))
            self.read_before[file.uri] = self.checkpoint.read_mark(file.uri)
            self.file_rows[file.uri] = num_rows
            self.rows_skipped += self.resume[file.uri].total()
        if self.sync is not None:
            self.plan = self._make_plan()  # after file_rows, before any range is read
        log.info(
            "Loading %d file(s), %d rows (%d already done)",
            len(self.files),
            self.rows_total,
            self.rows_skipped,
        )
        progress = PeriodicLog(IngestProgress(self._snapshot).line, log, "Ingest", self.options.progress_interval)
        progress.start()
        self.pool = WorkerPool(self.options.max_workers, self.sender.send)
        self.committer.start()
        metrics = Periodic(self.metrics.report, self.options.metrics_interval, "cp-ingest-metrics").start()
        try:
            for file in self.files:
                self._read_file(file)
        finally:
            try:
                self.pool.close()
            finally:
                progress.stop()
                metrics.stop()
                self.metrics.report()
                self.committer.stop()
                self._commit()  # even after an error: a retry then resumes from every settled range
        if self.sync is not None:
            self.sync.commit()  # the whole input is settled: every range's accepted rows are staged
        seconds = time.monotonic() - started
        counters = self.sender.counters
        totals = self.checkpoint.totals
        return LoadResult(
            files=len(self.files),
            rows_total=self.rows_total,
            rows_read=self.ledger.rows_read,
            rows_skipped=self.rows_skipped,
            rows_resent=self.rows_resent,
            objects_written=self.ledger.accepted,
            dead_lettered=self.ledger.rejected,
            rows_unchanged=self.ledger.unchanged,
            dead_lettered_total=totals["rejected"],
            rows_done_total=totals["accepted"] + totals["rejected"],
            dead_letter_uri=self.options.dead_letter_uri,
            checkpoint_uri=self.options.checkpoint_uri,
            sync_state_uri=self.options.sync_state_uri,
            requests=counters.requests,
            retries=counters.retries,
            throttles=counters.throttles,
            seconds=round(seconds, 3),
            rows_per_second=round(self.ledger.rows_read / seconds, 1) if seconds else 0.0,
        )


def _rows_of(batch: pa.RecordBatch, rows: np.ndarray) -> pa.RecordBatch:
    """``batch.take(rows)`` (rows ascending); Arrow cannot take string or binary views, so those are sliced."""
    try:
        return batch.take(pa.array(rows, pa.int64()))
    except pa.ArrowNotImplementedError:
        if not len(rows):
            return batch.slice(0, 0)
        runs = np.split(rows, np.flatnonzero(np.diff(rows) != 1) + 1)
        return pa.concat_batches([batch.slice(run[0], len(run)) for run in runs])


def preflight(client: Any, files: list[SourceFile], options: LoadOptions) -> ObjectTypeKeys:
    """Everything that can fail before the first write: target, files, columns, types."""
    keys = describe_target(client, options.domain_name, options.object_type_name)
    renames = options.renames()
    for file in files:
        with file.open() as parquet:
            schema = parquet.schema_arrow
        check_columns(schema.names, renames, keys, file.uri)
        selected = [f for f in schema if renames is None or f.name in renames]
        check_encodable(pa.schema(selected), file.uri)
    return keys


def open_sync_state(options: LoadOptions, keys: ObjectTypeKeys, s3: S3Settings | None) -> SyncState | None:
    """The sync state of ``options``, leased to this load; None without ``sync_state_uri``."""
    if not options.sync_state_uri:
        return None
    if keys.unique_key is None:
        raise PreflightError(
            f"Object type {options.object_type_name} has no UNIQUE key: a sync state compares rows by "
            "their unique key, so sync_state_uri needs one"
        )
    renames = sorted(options.renames().items()) if options.columns is not None else None
    mapping = mapping_fingerprint(
        options.domain_name, options.object_type_name, renames, options.keep_nulls, keys.unique_key
    )
    run_id = run_id_for(options.checkpoint_uri)
    return SyncState(options.sync_state_uri, mapping, run_id, s3).open()


def load(client: Any, source: str | Sequence[str], options: LoadOptions, s3: S3Settings | None = None) -> LoadResult:
    """
    Load every row of ``source`` into ``options.object_type_name``; returns counts.

    ``client`` is a boto3 ``customer-profiles`` client whose own retries are off
    (see :func:`client_config`). Raises PreflightError, SourceError or a
    storage error (an ``s3://`` URI without credentials names the URI and its
    argument) before any put when the target, the input or an output location is wrong, and
    FailedRatioExceeded after the load when too many rows were dead-lettered.
    """
    files = resolve_sources(source, s3)
    keys = preflight(client, files, options)
    if keys.unique_key is None:
        log.warning(
            "Object type %s has no UNIQUE key: rows are sent in any order and retries may duplicate",
            options.object_type_name,
        )
    sync = open_sync_state(options, keys, s3)
    try:
        run = _Run(client, files, options, keys, s3, sync)
        run.check_outputs()
        result = run.run()
    finally:
        if sync is not None:
            sync.close()
    if result.rows_done_total and result.dead_lettered_total / result.rows_done_total > options.max_failed_ratio:
        raise FailedRatioExceeded(
            f"{result.dead_lettered_total} of {result.rows_done_total} rows were dead-lettered "
            f"({result.dead_lettered_total / result.rows_done_total:.2%}), above max_failed_ratio "
            f"{options.max_failed_ratio:.2%}; dead letters are under {options.dead_letter_uri}"
        )
    return result


def client_config(max_workers: int = DEFAULT_MAX_WORKERS) -> dict[str, Any]:
    """botocore settings for the loader's client: a connection per worker, and no botocore retries
    (the loader retries, and counts, itself)."""
    return {
        "max_pool_connections": max(10, max_workers),
        "retries": {"mode": "standard", "total_max_attempts": 1},
        "connect_timeout": 10,
        "read_timeout": 60,
    }


__all__ = [
    "FailedRatioExceeded",
    "LoadOptions",
    "LoadResult",
    "PreflightError",
    "client_config",
    "load",
]
