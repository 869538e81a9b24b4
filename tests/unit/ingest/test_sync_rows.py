"""
Row keys and fingerprints for the sync plan, read from Arrow without encoding rows.

What must hold: rows the encoder turns into different objects never share a fingerprint
(else a change would go unsent), a row's fingerprint does not depend on the rows around it
(the plan hashes whole batches, the loader only the rows it sends), and the key is the one
the encoder finds.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from airflow_provider_customerprofiles.ingest.encoding import BatchEncoder
from airflow_provider_customerprofiles.ingest.keys import grouping_key
from airflow_provider_customerprofiles.ingest.sync.hashing import grouping_forms
from airflow_provider_customerprofiles.ingest.sync.rows import RowHasher, value_bytes
from tests.unit.ingest.test_encoding_properties import KEY_COLUMN, batches

ITEM = pa.struct([("sku", pa.string()), ("qty", pa.int64())])

# Pairs of values of one type whose objects differ, each a way a careless row encoding
# would collide: a null and an empty value, a boundary moved between strings or lists,
# a null container and one holding nulls, signed zero, a value's place, an entry's order.
DIFFERENT_OBJECTS: list[Any] = [  # (type, one value, another)
    (pa.string(), None, ""),
    (pa.string(), "~", None),
    (pa.string(), "1:a", "a"),
    (pa.list_(pa.string()), ["ab", "c"], ["a", "bc"]),
    (pa.list_(pa.string()), [], None),
    (pa.list_(pa.string()), [None], []),
    (pa.list_(pa.list_(pa.int64())), [[1], []], [[], [1]]),
    (pa.list_(ITEM), [{"sku": "a", "qty": None}], [{"sku": None, "qty": None}]),
    (ITEM, None, {"sku": None, "qty": None}),
    (ITEM, {"sku": "1", "qty": None}, {"sku": None, "qty": 1}),
    (pa.float64(), 0.0, -0.0),
    (pa.float32(), 0.1, 0.2),
    (pa.float16(), 0.5, 0.25),
    (pa.int64(), 2**63 - 1, -(2**63)),
    (pa.uint64(), 2**64 - 1, 0),
    (pa.decimal128(6, 2), Decimal("1.20"), Decimal("1.02")),
    (pa.timestamp("us", "UTC"), 1, 2),
    (pa.bool_(), True, False),
    pytest.param(pa.binary(), b"\x00", b"", id="binary-zero_byte-empty"),  # an escaped id is not found by id
    (pa.map_(pa.string(), pa.int64()), [("a", 1), ("b", 2)], [("b", 2), ("a", 1)]),
    (pa.map_(pa.string(), pa.int64()), [("a", 1)], [("a", None)]),
    (pa.month_day_nano_interval(), pa.MonthDayNano([1, 2, 3]), pa.MonthDayNano([1, 3, 2])),
]


def fingerprints(batch: pa.RecordBatch, renames: dict[str, str] | None = None) -> list[int]:
    return RowHasher(renames, (KEY_COLUMN,)).fingerprints(batch).tolist()


@pytest.mark.parametrize(("arrow_type", "one", "other"), DIFFERENT_OBJECTS, ids=lambda v: str(v)[:30])
def test_values_the_encoder_tells_apart_get_different_fingerprints(arrow_type, one, other):
    batch = pa.record_batch({KEY_COLUMN: ["k", "k", "k"], "v": pa.array([one, other, one], arrow_type)})
    objects = [row.obj for row in BatchEncoder(None, (KEY_COLUMN,), keep_nulls=True).encode(batch)]
    assert objects[0] != objects[1]  # the pair is a real difference
    first, second, again = fingerprints(batch)
    assert first != second
    assert first == again


# A type of each way value_bytes converts: by text, by bits, as bytes, nested, or as JSON text.
ONE_OF_EACH_CONVERSION = [
    pa.int64(),
    pa.float64(),
    pa.timestamp("ms"),
    pa.string(),
    pa.binary(),
    ITEM,
    pa.list_(pa.int64()),
    pa.map_(pa.string(), pa.int64()),
    pa.month_day_nano_interval(),
]


@pytest.mark.parametrize("arrow_type", ONE_OF_EACH_CONVERSION, ids=str)
def test_a_null_value_leaves_the_rows_other_values_counted(arrow_type):
    batch = pa.record_batch({KEY_COLUMN: ["a", "b"], "v": pa.array([None, None], arrow_type)})
    first, second = fingerprints(batch)
    assert first != second


def test_values_are_written_as_the_documented_netstrings():
    # States keep these fingerprints across releases: other bytes for the same values need a new hashing.SCHEME.
    pair = pa.struct([("a", pa.int64()), ("b", pa.string())])
    assert value_bytes(pa.array([{"a": 1, "b": "xy"}, {"a": None, "b": ""}, None], pair)).to_pylist() == [
        b"7:1:12:xy",
        b"3:~0:",
        b"~",
    ]
    assert value_bytes(pa.array([[1, 2], [], None])).to_pylist() == [b"6:1:11:2", b"0:", b"~"]
    assert value_bytes(pa.array([{}, None], pa.struct([]))).to_pylist() == [b"0:", b"~"]
    interval = pa.array([pa.MonthDayNano([1, 2, 3])])
    assert value_bytes(interval).to_pylist() == [b'37:{"months":1,"days":2,"nanoseconds":3}']


def test_a_value_the_encoder_refuses_leaves_the_other_rows_of_its_column_as_they_are_alone():
    # List views have no Arrow path here: their JSON text is used, converted again row by row when one fails.
    text = pa.array([b"x", b"\xff", b"y"], pa.binary()).view(pa.string())
    views = pa.ListViewArray.from_arrays(pa.array([0, 1, 2], pa.int32()), pa.array([1, 1, 1], pa.int32()), text)
    batch = pa.record_batch({KEY_COLUMN: ["a", "b", "c"], "v": views})
    assert [row.rejection is None for row in BatchEncoder(None, (KEY_COLUMN,)).encode(batch)] == [True, False, True]
    assert fingerprints(batch) == [fingerprints(batch.slice(i, 1))[0] for i in range(3)]


# Columns of one value in two types: the encoder writes them alike (same fingerprint), or not (different).
SAME_OBJECT_TYPES = [
    (pa.array([1, -1], pa.int32()), pa.array([1, -1], pa.int64())),
    (pa.array(["a", None]), pa.array(["a", None], pa.large_string())),
    (pa.array(["a", None]), pa.array(["a", None], pa.string_view())),
    (pa.array(["a", "a"]).dictionary_encode(), pa.array(["a", "a"])),
    (pa.array([b"a", None]), pa.array([b"a", None], pa.large_binary())),
    (pa.array([b"a", None]), pa.array([b"a", None], pa.binary_view())),
    (pa.array([[1], None], pa.list_(pa.int32())), pa.array([[1], None], pa.large_list(pa.int64()))),
    (pa.array([[1, 2], None], pa.list_(pa.int8(), 2)), pa.array([[1, 2], None], pa.list_(pa.int16()))),
]
OTHER_OBJECT_TYPES = [
    (pa.array([1, 1]), pa.array(["1", "1"])),
    (pa.array([2**64 - 1, 2**64 - 1], pa.uint64()), pa.array([-1, -1], pa.int64())),
    (pa.array([b"a", b"a"]), pa.array(["a", "a"])),
    (pa.array([True, True]), pa.array(["true", "true"])),
    (pa.array([1, 1], pa.timestamp("ms")), pa.array([1, 1], pa.timestamp("us"))),
    (pa.array([{"a": 1}] * 2), pa.array([{"b": 1}] * 2)),
]


@pytest.mark.parametrize(("one", "other"), SAME_OBJECT_TYPES, ids=lambda v: str(v.type))
def test_a_column_in_a_type_the_encoder_writes_alike_keeps_its_fingerprints(one, other):
    keys = ["a", "b"]
    assert fingerprints(pa.record_batch({KEY_COLUMN: keys, "v": one})) == fingerprints(
        pa.record_batch({KEY_COLUMN: keys, "v": other})
    )


@pytest.mark.parametrize(("one", "other"), OTHER_OBJECT_TYPES, ids=lambda v: str(v.type))
def test_a_column_whose_type_changes_the_object_changes_the_fingerprints(one, other):
    keys = ["a", "b"]
    encoder = BatchEncoder(None, (KEY_COLUMN,))
    one_batch, other_batch = (pa.record_batch({KEY_COLUMN: keys, "v": v}) for v in (one, other))
    assert encoder.encode(one_batch) != encoder.encode(other_batch)
    assert set(fingerprints(one_batch)).isdisjoint(fingerprints(other_batch))


def test_a_renamed_column_changes_the_fingerprint():
    base = pa.record_batch({KEY_COLUMN: ["a", "b"], "v": [1, 2]})
    assert fingerprints(base, {KEY_COLUMN: KEY_COLUMN, "v": "w"}) != fingerprints(
        base, {KEY_COLUMN: KEY_COLUMN, "v": "v"}
    )
    assert fingerprints(base, {KEY_COLUMN: KEY_COLUMN, "v": "v"}) == fingerprints(base)  # the same object fields


def test_columns_the_mapping_leaves_out_do_not_count():
    base = pa.record_batch({KEY_COLUMN: ["a"], "v": [1], "ignored": ["x"]})
    other = pa.record_batch({KEY_COLUMN: ["a"], "v": [1], "ignored": ["y"]})
    mapping = {KEY_COLUMN: KEY_COLUMN, "v": "v"}
    assert fingerprints(base, mapping) == fingerprints(other, mapping)
    assert fingerprints(base) != fingerprints(other)


def test_rows_of_no_selected_column_are_all_the_empty_object():
    batch = pa.record_batch({KEY_COLUMN: ["a", "b"], "v": [1, 2]})
    first, second = fingerprints(batch, {"other": "other"})
    assert first == second
    assert {first}.isdisjoint(fingerprints(batch))


def test_a_dictionary_column_counts_its_values_not_its_indices():
    one = pa.array(["web", "store", "web"]).dictionary_encode()
    other = pa.DictionaryArray.from_arrays(pa.array([1, 0, 1], pa.int32()), pa.array(["store", "web"]))
    keys = ["a", "b", "c"]
    assert fingerprints(pa.record_batch({KEY_COLUMN: keys, "c": one})) == fingerprints(
        pa.record_batch({KEY_COLUMN: keys, "c": other})
    )


@given(batches(), st.booleans(), st.randoms(use_true_random=False))
def test_a_rows_fingerprint_and_key_do_not_depend_on_the_rows_around_it(generated, keep_nulls, random):
    batch, _, _ = generated
    hasher = RowHasher(None, (KEY_COLUMN,))
    whole = hasher.fingerprints(batch)
    keys = hasher.keys(batch)
    order = list(range(batch.num_rows))
    random.shuffle(order)
    picked = order[: random.randint(0, len(order))]
    taken = pa.concat_batches([batch.slice(i, 1) for i in picked]) if picked else batch.slice(0, 0)
    assert hasher.fingerprints(taken).tolist() == whole[np.asarray(picked, dtype=np.int64)].tolist()
    assert hasher.keys(taken) == [keys[i] for i in picked]
    encoded = BatchEncoder(None, (KEY_COLUMN,), keep_nulls=keep_nulls).encode(batch)
    for row, key, fingerprint in zip(encoded, keys, whole.tolist(), strict=True):
        if row.rejection is None:
            assert key == row.key  # the state's key is the one the loader routes by
        for other, other_fingerprint in zip(encoded, whole.tolist(), strict=True):
            if row.rejection is None and other.rejection is None and fingerprint == other_fingerprint:
                assert row.obj == other.obj


def test_keys_as_the_encoder_reads_them():
    batch = pa.record_batch(
        {
            "ids": pa.array(
                [{"order": "o-1"}, {"order": None}, None, {"order": "  "}, {"order": ""}],
                pa.struct([("order", pa.string())]),
            ),
            "n": [1, 2, 3, 4, 5],
        }
    )
    hasher = RowHasher({"ids": "Ids", "n": "n"}, ("Ids", "order"))
    encoded = BatchEncoder({"ids": "Ids", "n": "n"}, ("Ids", "order")).encode(batch)
    assert hasher.keys(batch) == ["o-1", None, None, None, None]
    assert [row.key for row in encoded] == ["o-1", None, None, None, None]
    numbers = pa.record_batch({KEY_COLUMN: pa.array([7, None], pa.int64())})
    assert RowHasher(None, (KEY_COLUMN,)).keys(numbers) == ["7", None]
    assert RowHasher({"other": "other"}, (KEY_COLUMN,)).keys(numbers) == [None, None]


def test_a_key_the_encoder_refuses_is_none_and_the_other_rows_keep_theirs():
    batch = pa.record_batch({KEY_COLUMN: pa.array([b"a", b"\xff", b"c"], pa.binary()).view(pa.string())})
    assert [row.key for row in BatchEncoder(None, (KEY_COLUMN,)).encode(batch)] == ["a", None, "c"]
    assert RowHasher(None, (KEY_COLUMN,)).keys(batch) == ["a", None, "c"]


KEY_TEXT = st.text(st.characters(codec="ascii"), max_size=12) | st.text(max_size=12)


@given(st.lists(KEY_TEXT, min_size=1, max_size=20))
def test_the_state_hashes_keys_in_the_loaders_grouping_form(keys):
    # Arrow computes the form of ASCII keys; it must be grouping_key's, or the plan and the routing disagree.
    assert grouping_forms(keys).to_pylist() == [grouping_key(key).encode() for key in keys]


def test_grouping_forms_of_mixed_keys():
    keys = ["Ann.Lee+1@Example.COM", "a_b-c", "ÄNN@ex.com", "ﬁ", "", "x y"]
    assert grouping_forms(keys).to_pylist() == [
        b"annlee1examplecom",
        b"abc",
        "änn".encode() + b"excom",
        b"fi",
        b"",
        b"xy",
    ]
