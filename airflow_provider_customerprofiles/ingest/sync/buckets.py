"""
Hash partitioning: rows go to ``2**bits`` buckets by the top bits of their key hash.

A bucket holds every row of its keys, so buckets are compared one at a time and
memory is bounded by a bucket, not by the number of keys. Rows are spilled to one
local file per bucket (fixed-width records, appended), never held whole.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

ROW = np.dtype([("h1", "<u8"), ("h2", "<u8"), ("fp", "<u8"), ("order", "<i8"), ("size", "<i8")])
COLUMNS = ("h1", "h2", "fp", "order", "size")
TARGET_BUCKET_ROWS = 100_000
MAX_BITS = 12
_FLUSH_ROWS = 262_144


def bits_for(rows: int) -> int:
    """Bucket bits that keep about TARGET_BUCKET_ROWS keys a bucket."""
    bits = 0
    while rows > TARGET_BUCKET_ROWS << bits and bits < MAX_BITS:
        bits += 1
    return bits


def bucket_of(h1: np.ndarray, bits: int) -> np.ndarray:
    if bits == 0:
        return np.zeros(len(h1), dtype=np.int64)
    return (h1 >> np.uint64(64 - bits)).astype(np.int64)


def empty() -> dict[str, np.ndarray]:
    return {name: np.empty(0, dtype=ROW[name]) for name in COLUMNS}


class BucketSpill:
    """Rows appended by bucket to files under ``directory``; read back one bucket at a time."""

    def __init__(self, directory: Path, bits: int) -> None:
        self.directory = directory
        self.bits = bits
        self._pending: list[np.ndarray] = []
        self._pending_rows = 0
        self.rows = 0

    def add(
        self, h1: np.ndarray, h2: np.ndarray, fp: np.ndarray, order: np.ndarray, size: np.ndarray | int = 1
    ) -> None:
        records = np.empty(len(h1), dtype=ROW)
        records["h1"], records["h2"], records["fp"], records["order"], records["size"] = h1, h2, fp, order, size
        self._pending.append(records)
        self._pending_rows += len(records)
        self.rows += len(records)
        if self._pending_rows >= _FLUSH_ROWS:
            self.flush()

    def flush(self) -> None:
        if not self._pending:
            return
        records = np.concatenate(self._pending)
        self._pending, self._pending_rows = [], 0
        buckets = bucket_of(records["h1"], self.bits)
        by_bucket = np.argsort(buckets, kind="stable")
        records, buckets = records[by_bucket], buckets[by_bucket]
        bounds = np.searchsorted(buckets, np.arange((1 << self.bits) + 1))
        for bucket in range(1 << self.bits):
            lo, hi = bounds[bucket], bounds[bucket + 1]
            if lo < hi:
                with open(self._path(bucket), "ab") as handle:
                    records[lo:hi].tofile(handle)

    def _path(self, bucket: int) -> Path:
        return self.directory / f"bucket-{bucket:05d}.bin"

    def read(self, bucket: int) -> dict[str, np.ndarray]:
        path = self._path(bucket)
        if not path.exists():
            return empty()
        records = np.fromfile(path, dtype=ROW)
        return {name: records[name] for name in COLUMNS}
