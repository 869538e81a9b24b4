"""
Which row ranges of which files are finished, saved where a retried task finds it.

Airflow 3 clears XCom on every try, so progress lives in a small JSON object at a
local path or ``s3://`` URI. A range is only recorded once every row in it was
accepted by the service or dead-lettered and that dead letter was written.

Each file also keeps ``read``: the end of the last row range the loader read, saved
*before* it reads that range. Rows below it that are not in a finished range may have
been sent by an earlier try, so a resume can count what it re-sends (an upper bound:
rows read were not necessarily sent yet).
"""

from __future__ import annotations

import bisect
import json
import threading
from dataclasses import dataclass, field

from airflow_provider_customerprofiles.storage import LocationNotFoundError, S3Settings, resolve

FORMAT_VERSION = 1


@dataclass
class RangeSet:
    """Sorted, merged half-open ``[start, end)`` row ranges."""

    ranges: list[tuple[int, int]] = field(default_factory=list)

    def add(self, start: int, end: int) -> None:
        if start >= end:
            return
        merged: list[tuple[int, int]] = []
        for lo, hi in self.ranges:
            if hi < start or lo > end:
                merged.append((lo, hi))
            else:
                start, end = min(lo, start), max(hi, end)
        bisect.insort(merged, (start, end))
        self.ranges = merged

    def covers(self, start: int, end: int) -> bool:
        """True when every row of ``[start, end)`` is in the set."""
        return any(lo <= start and end <= hi for lo, hi in self.ranges) or start >= end

    def contains(self, row: int) -> bool:
        i = bisect.bisect_right(self.ranges, (row, float("inf"))) - 1
        return i >= 0 and self.ranges[i][0] <= row < self.ranges[i][1]

    def total(self) -> int:
        return sum(hi - lo for lo, hi in self.ranges)


class Checkpoint:
    """
    Finished row ranges per source file URI; ``uri=None`` keeps them in memory only.

    A file's progress is discarded when its row count changed since it was
    recorded: the file was replaced, so old row numbers mean nothing. Thread-safe:
    the reader marks what it reads while the committer records finished ranges.
    """

    def __init__(self, uri: str | None, s3: S3Settings | None = None) -> None:
        self._location = resolve(uri, s3, "checkpoint_uri") if uri else None
        self._lock = threading.RLock()
        self._files: dict[str, dict] = {}
        self.totals = {"accepted": 0, "rejected": 0}
        raw = self._read()
        if raw:
            data = json.loads(raw)
            if data.get("version") != FORMAT_VERSION:
                raise ValueError(f"Checkpoint {uri} has unknown format version {data.get('version')!r}")
            self._files = data["files"]
            self.totals = data["totals"]

    def _read(self) -> bytes | None:
        """The saved checkpoint, or None on a first try (or in memory only)."""
        try:
            return self._location.read_bytes() if self._location else None
        except LocationNotFoundError:
            return None

    def finished(self, file_uri: str, num_rows: int) -> RangeSet:
        """The finished ranges of one file (empty if unknown or if the file changed)."""
        with self._lock:
            entry = self._files.get(file_uri)
            if not entry or entry["rows"] != num_rows:
                self._files[file_uri] = {"rows": num_rows, "done": []}
                return RangeSet()
            return RangeSet([tuple(r) for r in entry["done"]])

    def read_mark(self, file_uri: str) -> int:
        """Rows below this may have been read, so sent, by an earlier try (call after :meth:`finished`)."""
        with self._lock:
            return self._files[file_uri].get("read", 0)

    def mark_read(self, file_uri: str, end: int) -> None:
        """Record, and save, that rows up to ``end`` are about to be read, before they can be sent."""
        with self._lock:
            if end > self._files[file_uri].get("read", 0):
                self._files[file_uri]["read"] = end
                self.save()

    def record(self, file_uri: str, done: RangeSet) -> None:
        with self._lock:
            self._files[file_uri]["done"] = [list(r) for r in done.ranges]

    def add_totals(self, accepted: int, rejected: int) -> None:
        """Count a finished range's rows, so ``max_failed_ratio`` covers the whole load across retries."""
        with self._lock:
            self.totals["accepted"] += accepted
            self.totals["rejected"] += rejected

    def save(self) -> None:
        with self._lock:
            if self._location:
                payload = {"version": FORMAT_VERSION, "files": self._files, "totals": self.totals}
                self._location.write_bytes(json.dumps(payload, sort_keys=True).encode())
