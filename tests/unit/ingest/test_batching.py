"""OrderedBatches: one row per key a batch, each key's rows in order, full batches for runs of a key."""

from __future__ import annotations

import random
import tracemalloc

import pytest

from airflow_provider_customerprofiles.ingest.batching import OrderedBatches


def batch_all(keys: list[str | None], size: int = 10, max_open: int = 8) -> list[list[tuple[str | None, int]]]:
    batches = OrderedBatches(size, max_open)
    sent = []
    for i, key in enumerate(keys):
        sent.extend(batches.add(key, (key, i)))
    return sent + batches.drain()


@pytest.mark.parametrize("seed", range(30))
def test_every_row_once_one_row_per_key_a_batch_and_file_order_per_key(seed):
    rng = random.Random(seed)
    keys: list[str | None] = []
    for _ in range(rng.randrange(1, 400)):
        repeat = keys[-1] if keys and rng.random() < 0.4 else None
        keys.append(repeat or (None if rng.random() < 0.05 else f"k{rng.randrange(30)}"))

    sent = batch_all(keys, size=rng.randrange(1, 11), max_open=rng.randrange(1, 9))

    assert sorted(i for batch in sent for _, i in batch) == list(range(len(keys)))
    for batch in sent:
        named = [key for key, _ in batch if key is not None]
        assert len(named) == len(set(named))
    order = [(key, i) for batch in sent for key, i in batch if key is not None]
    for key in set(filter(None, keys)):
        rows = [i for k, i in order if k == key]
        assert rows == sorted(rows)


def test_runs_of_one_key_fill_whole_batches():
    keys = [f"k{i // 5}" for i in range(200)]

    sent = batch_all(keys)

    assert [len(batch) for batch in sent] == [10] * 20


def test_open_batches_are_bounded():
    batches = OrderedBatches(10, max_open=3)
    held = 0
    for i in range(100):
        held += 1 - sum(len(batch) for batch in batches.add("same", i))
        assert held <= 3


def test_a_row_without_a_key_joins_the_oldest_open_batch():
    batches = OrderedBatches(10)
    for item in ("a1", "a2", "a3"):
        batches.add("a", item)

    batches.add(None, "no key")

    assert batches.drain() == [["a1", "no key"], ["a2"], ["a3"]]


def test_a_batch_is_ready_as_soon_as_it_is_full():
    batches = OrderedBatches(2)
    assert batches.add("a", 1) == []
    assert batches.add("b", 2) == [[1, 2]]


def test_the_oldest_batch_is_sent_only_when_one_more_than_max_open_are_open():
    batches = OrderedBatches(10, max_open=3)
    assert [batches.add("same", i) for i in range(4)] == [[], [], [], [[0]]]


def test_memory_held_does_not_grow_with_the_keys_already_sent():
    batches = OrderedBatches(10)
    for i in range(1_000):  # warm up: the open batches reach their steady size
        batches.add(f"warm-{i}", i)
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        for i in range(20_000):
            batches.add(f"key-{i:06d}", i)  # every key new, each sent once its batch fills
        grown = sum(stat.size_diff for stat in tracemalloc.take_snapshot().compare_to(before, "filename"))
    finally:
        tracemalloc.stop()
    assert grown < 200_000  # a key index keeping all 20,000 keys would hold well over 1 MB
