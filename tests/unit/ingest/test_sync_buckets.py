"""Hash partitioning of the sync state: how many buckets, which bucket a key is in, and the spill files."""

from __future__ import annotations

import numpy as np

from airflow_provider_customerprofiles.ingest.sync import buckets
from airflow_provider_customerprofiles.ingest.sync.buckets import (
    MAX_BITS,
    TARGET_BUCKET_ROWS,
    BucketSpill,
    bits_for,
    bucket_of,
    empty,
)

U64 = np.uint64


def test_buckets_double_until_a_bucket_holds_the_target_rows_or_the_cap_is_reached():
    assert [bits_for(n) for n in (0, TARGET_BUCKET_ROWS, TARGET_BUCKET_ROWS + 1)] == [0, 0, 1]
    assert [bits_for(2 * TARGET_BUCKET_ROWS), bits_for(2 * TARGET_BUCKET_ROWS + 1)] == [1, 2]
    assert bits_for(TARGET_BUCKET_ROWS << MAX_BITS) == MAX_BITS
    assert bits_for(10 * (TARGET_BUCKET_ROWS << MAX_BITS)) == MAX_BITS == 12


def test_a_key_goes_to_the_bucket_its_top_hash_bits_name():
    h1 = np.array([0, 1 << 63, (1 << 62) + 5, (1 << 64) - 1], dtype=U64)
    assert bucket_of(h1, 0).tolist() == [0, 0, 0, 0]
    assert bucket_of(h1, 1).tolist() == [0, 1, 0, 1]
    assert bucket_of(h1, 2).tolist() == [0, 2, 1, 3]
    assert bucket_of(h1, 12).tolist() == [0, 2048, 1024, 4095]
    assert bucket_of(h1, 2).dtype == np.int64


def test_an_empty_bucket_has_every_column_with_its_type():
    rows = empty()
    assert {name: (len(values), values.dtype) for name, values in rows.items()} == {
        "h1": (0, np.dtype("<u8")),
        "h2": (0, np.dtype("<u8")),
        "fp": (0, np.dtype("<u8")),
        "order": (0, np.dtype("<i8")),
        "size": (0, np.dtype("<i8")),
    }


def spill_rows(h1: list[int], start: int = 0) -> tuple:
    n = len(h1)
    order = np.arange(start, start + n, dtype=np.int64)
    return np.array(h1, dtype=U64), order.astype(U64) + U64(100), order.astype(U64) + U64(200), order


def test_rows_read_back_by_bucket_in_the_order_they_were_added(tmp_path):
    spill = BucketSpill(tmp_path, bits=1)
    high, low = 1 << 63, 5
    spill.add(*spill_rows([high, low, high]), size=np.array([3, 1, 3], dtype=np.int64))
    spill.flush()
    spill.add(*spill_rows([low, high], start=3))
    spill.flush()

    upper, lower = spill.read(1), spill.read(0)
    assert upper["order"].tolist() == [0, 2, 4] and lower["order"].tolist() == [1, 3]
    assert upper["h2"].tolist() == [100, 102, 104] and upper["fp"].tolist() == [200, 202, 204]
    assert upper["size"].tolist() == [3, 3, 1] and lower["size"].tolist() == [1, 1]
    assert spill.rows == 5
    assert sorted(path.name for path in tmp_path.iterdir()) == ["bucket-00000.bin", "bucket-00001.bin"]


def test_a_bucket_without_rows_reads_empty_and_writes_no_file(tmp_path):
    spill = BucketSpill(tmp_path, bits=2)
    spill.add(*spill_rows([1 << 63]))
    spill.flush()
    spill.flush()  # nothing pending: nothing changes

    assert spill.read(2)["order"].tolist() == [0]
    assert all(len(values) == 0 for values in spill.read(3).values())
    assert [path.name for path in tmp_path.iterdir()] == ["bucket-00002.bin"]


def test_pending_rows_are_spilled_once_they_reach_the_flush_size(tmp_path, monkeypatch):
    monkeypatch.setattr(buckets, "_FLUSH_ROWS", 4)
    spill = BucketSpill(tmp_path, bits=0)

    spill.add(*spill_rows([1, 2, 3]))
    assert spill.read(0)["order"].tolist() == []
    spill.add(*spill_rows([4], start=3))
    assert spill.read(0)["order"].tolist() == [0, 1, 2, 3]
    spill.add(*spill_rows([5], start=4))
    assert spill.read(0)["order"].tolist() == [0, 1, 2, 3]
