"""
Encoder edge cases: zero and null values, chunked input, rows without a key or columns, the size limit,
and the inputs the property tests once found mis-encoded (repeated and bool map keys, decimals that
Arrow writes with an exponent, float16 text, a union inside a struct).
"""

from __future__ import annotations

import json
import struct
from decimal import Decimal

import pyarrow as pa
import pytest

from airflow_provider_customerprofiles.ingest.encoding import (
    MAX_OBJECT_CHARS,
    BatchEncoder,
    EncodedRow,
    RepeatedMapKeyError,
    UnsupportedTypeError,
    check_encodable,
    to_json_values,
)


@pytest.mark.parametrize(
    ("unit", "expected"),
    [("s", "PT0S"), ("ms", "PT0.000S"), ("us", "PT0.000000S"), ("ns", "PT0.000000000S")],
)
def test_a_zero_duration_has_no_sign(unit, expected):
    assert to_json_values(pa.array([0], pa.duration(unit))) == [expected]


def test_the_smallest_negative_duration_keeps_its_sign():
    assert to_json_values(pa.array([-1, -1000], pa.duration("ns"))) == ["-PT0.000000001S", "-PT0.000001000S"]


@pytest.mark.parametrize(
    ("array", "expected"),
    [
        (pa.array([None, 5], pa.duration("s")), [None, "PT5S"]),
        (pa.array([2.5, None], pa.float16()), [2.5, None]),
        (pa.array([None, 0.1], pa.float32()), [None, 0.1]),
        (
            pa.array([None, (0, -1, 5)], pa.month_day_nano_interval()),
            [None, {"months": 0, "days": -1, "nanoseconds": 5}],
        ),
    ],
    ids=lambda v: str(v.type) if isinstance(v, pa.Array) else None,
)
def test_nulls_of_converted_types_stay_null(array, expected):
    assert to_json_values(array) == expected


@pytest.mark.parametrize("binary_type", [pa.binary(), pa.large_binary(), pa.binary(2), pa.binary_view()], ids=str)
def test_null_binary_values_stay_null(binary_type):
    assert to_json_values(pa.array([None, b"ab"], binary_type)) == [None, "YWI="]


def test_each_map_row_gets_only_its_own_entries():
    maps = pa.array(
        [[("a", 1)], [("b", 2), ("c", 3)], [], None, [("d", 4)]],
        pa.map_(pa.string(), pa.int64()),
    )
    assert to_json_values(maps) == [{"a": 1}, {"b": 2, "c": 3}, {}, None, {"d": 4}]


def test_a_slice_of_a_list_column_converts_only_its_own_rows_values():
    # A slice keeps the whole child array: the other rows' values, bad text here, must stay unread.
    text = pa.array([b"\xff", b"a", b"b", b"c", b"\xff"], pa.binary()).view(pa.string())
    lists = pa.ListArray.from_arrays(pa.array([0, 1, 2, 3, 4, 5], pa.int32()), text)
    assert to_json_values(lists.slice(2, 2)) == [["b"], ["c"]]
    assert to_json_values(lists.slice(2, 0)) == []


def test_a_chunked_column_is_converted_chunk_by_chunk_in_row_order():
    chunked = pa.chunked_array([pa.array([1, -2], pa.duration("s")), pa.array([], pa.duration("s")), [None, 3]])
    assert to_json_values(chunked) == ["PT1S", "-PT2S", None, "PT3S"]


def test_a_chunked_nested_column_keeps_nulls_when_asked():
    chunked = pa.chunked_array([[{"a": None}], [{"a": 1}]], pa.struct([("a", pa.int64())]))
    assert to_json_values(chunked, keep_nulls=True) == [{"a": None}, {"a": 1}]
    assert to_json_values(chunked) == [{}, {"a": 1}]


def test_keep_nulls_reaches_nested_structs_maps_and_lists():
    nested = pa.array(
        [{"inner": {"x": None, "y": 1}, "tags": [("k", None), ("n", 2)], "items": [{"z": None}]}, None],
        pa.struct(
            [
                ("inner", pa.struct([("x", pa.int64()), ("y", pa.int64())])),
                ("tags", pa.map_(pa.string(), pa.int64())),
                ("items", pa.list_(pa.struct([("z", pa.string())]))),
            ]
        ),
    )
    assert to_json_values(nested, keep_nulls=True) == [
        {"inner": {"x": None, "y": 1}, "tags": {"k": None, "n": 2}, "items": [{"z": None}]},
        None,
    ]
    assert to_json_values(nested) == [{"inner": {"y": 1}, "tags": {"n": 2}, "items": [{}]}, None]


POINT = pa.struct([("x", pa.int64()), ("y", pa.int64())])
POINTS = pa.array([{"x": None, "y": 1}], POINT)


@pytest.mark.parametrize(
    ("array", "kept", "dropped"),
    [
        (
            pa.array([[("p", {"x": None, "y": 1})]], pa.map_(pa.string(), POINT)),
            {"p": {"x": None, "y": 1}},
            {"p": {"y": 1}},
        ),
        (pa.DictionaryArray.from_arrays(pa.array([0]), POINTS), {"x": None, "y": 1}, {"y": 1}),
        (pa.ExtensionArray.from_storage(pa.opaque(POINT, "point", "test"), POINTS), {"x": None, "y": 1}, {"y": 1}),
    ],
    ids=["map-values", "dictionary", "extension"],
)
def test_keep_nulls_reaches_structs_inside_maps_dictionaries_and_extensions(array, kept, dropped):
    assert to_json_values(array, keep_nulls=True) == [kept]
    assert to_json_values(array) == [dropped]


def test_keep_nulls_writes_nested_nulls_into_the_object():
    batch = pa.record_batch(
        {
            "id": ["a"],
            "address": pa.array([{"city": None, "zip": "1"}]),
            "attributes": pa.array([[("tier", None)]], pa.map_(pa.string(), pa.string())),
        }
    )
    row = BatchEncoder(None, ["id"], keep_nulls=True).encode(batch)[0]
    assert row == EncodedRow('{"id":"a","address":{"city":null,"zip":"1"},"attributes":{"tier":null}}', "a")


def test_without_a_key_path_rows_have_no_key_and_are_not_rejected():
    batch = pa.record_batch({"id": [None, "b"], "v": [1, 2]})
    for key_path in (None, []):
        rows = BatchEncoder(None, key_path).encode(batch)
        assert rows == [EncodedRow('{"v":1}', None), EncodedRow('{"id":"b","v":2}', None)]


def test_a_batch_with_no_selected_columns_gives_one_empty_object_per_row():
    batch = pa.record_batch({"unmapped": [1, 2, 3]})
    assert BatchEncoder({"other": "Other"}, None).encode(batch) == [EncodedRow("{}", None)] * 3
    keyed = BatchEncoder({"other": "Other"}, ["Other"]).encode(batch)
    assert keyed == [EncodedRow("{}", None, "unique key field 'Other' is missing or empty")] * 3


def test_a_key_path_through_a_non_object_is_missing():
    batch = pa.record_batch({"ids": ["plain"]})
    row = BatchEncoder(None, ["ids", "order"]).encode(batch)[0]
    assert row == EncodedRow('{"ids":"plain"}', None, "unique key field 'ids.order' is missing or empty")


def test_a_non_finite_row_keeps_its_fields_and_key_for_the_dead_letter():
    batch = pa.record_batch({"id": [7], "score": [float("-inf")], "name": ["n"]})
    row = BatchEncoder(None, ["id"]).encode(batch)[0]
    assert row == EncodedRow('{"id":7,"score":-Infinity,"name":"n"}', "7", "field 'score' holds NaN or Infinity")


def test_a_non_finite_value_is_reported_before_a_missing_key():
    batch = pa.record_batch({"id": [None], "score": [float("nan")]})
    row = BatchEncoder(None, ["id"]).encode(batch)[0]
    assert row == EncodedRow('{"score":NaN}', None, "field 'score' holds NaN or Infinity")


def blob_row(chars: int) -> pa.RecordBatch:
    """A one-row batch whose encoded object is exactly ``chars`` characters long."""
    envelope = len('{"id":"a","blob":""}')
    return pa.record_batch({"id": ["a"], "blob": ["é" * (chars - envelope)]})


@pytest.mark.parametrize("chars", [MAX_OBJECT_CHARS - 1, MAX_OBJECT_CHARS])
def test_objects_up_to_the_limit_are_accepted(chars):
    row = BatchEncoder(None, ["id"]).encode(blob_row(chars))[0]
    assert len(row.obj) == chars
    assert row.rejection is None
    assert row.key == "a"


def test_one_character_over_the_limit_is_rejected_with_the_whole_object():
    row = BatchEncoder(None, ["id"]).encode(blob_row(MAX_OBJECT_CHARS + 1))[0]
    assert MAX_OBJECT_CHARS == 256_000
    assert row.rejection == "encoded object has 256001 characters (limit 256000)"
    assert row.key == "a"
    assert json.loads(row.obj) == {"id": "a", "blob": "é" * (MAX_OBJECT_CHARS + 1 - 20)}


TAGS = pa.map_(pa.string(), pa.int64())
ITEMS = pa.list_(pa.struct([("m", TAGS)]))


def test_a_map_that_repeats_a_key_is_an_error_not_a_lost_entry():
    with pytest.raises(RepeatedMapKeyError) as raised:
        to_json_values(pa.array([[("secret", 1), ("secret", 2)]], TAGS))
    assert str(raised.value) == "a map repeats a key"  # never the key: it may be customer data


def test_a_row_whose_map_repeats_a_key_is_refused_naming_the_column_never_the_key():
    tags = pa.array([[("a", 1)], [("secret", 1), ("b", 2), ("secret", 3)], None], TAGS)
    batch = pa.record_batch(
        {"id": ["k1", "k2", "k3"], "tags": tags, "nested": pa.array([[{"m": [("x", 1)]}]] * 3, ITEMS)}
    )

    rows = BatchEncoder(None, ["id"]).encode(batch)

    assert [r.rejection for r in rows] == [None, "a map in column(s) 'tags' repeats a key", None]
    assert [json.loads(r.obj) for r in rows] == [
        {"id": "k1", "tags": {"a": 1}, "nested": [{"m": {"x": 1}}]},
        {"id": "k2", "nested": [{"m": {"x": 1}}]},
        {"id": "k3", "nested": [{"m": {"x": 1}}]},
    ]
    assert "secret" not in rows[1].obj + rows[1].rejection


def test_repeated_keys_in_nested_maps_and_bad_text_are_all_named():
    text = pa.array([b"ok", b"\xff"], pa.binary()).view(pa.string())
    nested = pa.array([[{"m": [("x", 1)]}], [{"m": [("x", 1), ("x", 2)]}]], ITEMS)
    batch = pa.record_batch({"id": ["a", "b"], "name": text, "items": nested})

    rows = BatchEncoder(None, ["id"]).encode(batch)

    assert rows[0].rejection is None
    assert (
        rows[1].rejection
        == "text that is not valid UTF-8 in column(s) 'name'; a map in column(s) 'items' repeats a key"
    )
    assert json.loads(rows[1].obj) == {"id": "b"}


def test_map_keys_that_are_not_text_are_written_as_json_spells_them():
    assert to_json_values(pa.array([[(True, 1), (False, 2)]], pa.map_(pa.bool_(), pa.int8()))) == [
        {"true": 1, "false": 2}
    ]
    assert to_json_values(pa.array([[(-7, "a")]], pa.map_(pa.int32(), pa.string()))) == [{"-7": "a"}]


@pytest.mark.parametrize(
    ("array", "expected"),
    [
        (
            pa.array([Decimal(0), Decimal("1E-7"), Decimal("-5E-7"), None], pa.decimal128(7, 7)),
            ["0.0000000", "0.0000001", "-0.0000005", None],
        ),
        (
            pa.array([Decimal("1E-20"), Decimal("0.5")], pa.decimal256(40, 20)),
            ["0.00000000000000000001", "0.50000000000000000000"],
        ),
        (pa.array([Decimal(1200), Decimal(-100), Decimal(0)], pa.decimal128(5, -2)), ["1200", "-100", "0"]),
        (pa.array([Decimal("12300000")], pa.decimal256(3, -5)), ["12300000"]),
        (pa.array([Decimal("-62696620000")], pa.decimal128(7, -4)).cast(pa.decimal32(7, -4)), ["-62696620000"]),
    ],
    ids=lambda v: str(v.type) if isinstance(v, pa.Array) else None,  # no "\n": mutmut runs tests by id
)
def test_decimals_never_come_out_with_an_exponent(array, expected):
    assert to_json_values(array) == expected


def float16_of(value: float) -> float:
    return struct.unpack("e", struct.pack("e", value))[0]


@pytest.mark.parametrize(
    ("stored", "text"),
    [(0.1, "0.1"), (65504, "65500.0"), (-(2.0**-24), "-6e-08"), (1 / 3, "0.3333"), (1.5, "1.5"), (1000.5, "1000.5")],
)
def test_float16_is_written_at_its_own_shortest_round_trip_text(stored, text):
    [value] = to_json_values(pa.array([stored], pa.float16()))
    assert json.dumps(value) == text
    assert float16_of(float(text)) == float16_of(stored)


UNION = pa.dense_union([pa.field("a", pa.int8()), pa.field("b", pa.string())])


@pytest.mark.parametrize(
    "column_type",
    [
        pa.struct([("i", UNION)]),
        pa.list_(pa.struct([("i", UNION)])),
        pa.map_(pa.string(), pa.struct([("i", UNION)])),
        pa.dictionary(pa.int8(), pa.struct([("i", UNION)])),
        pa.struct([("r", pa.run_end_encoded(pa.int32(), pa.string()))]),
    ],
    ids=str,
)
def test_a_type_without_a_mapping_inside_a_struct_fails_naming_the_column(column_type):
    # Before the type tree was walked, pyarrow aborted the whole process here.
    with pytest.raises(UnsupportedTypeError, match=r"^Column 'odd' of f\.parquet has Arrow type "):
        check_encodable(pa.schema([("fine", pa.int64()), ("odd", column_type)]), "f.parquet")


def test_a_type_whose_conversion_pyarrow_cannot_run_fails_naming_the_column():
    # every type in the tree maps to JSON, but pyarrow has no take kernel for string_view dictionaries
    with pytest.raises(UnsupportedTypeError, match=r"^Column 'tag' of f\.parquet has Arrow type dictionary<"):
        check_encodable(pa.schema([("tag", pa.dictionary(pa.int8(), pa.string_view()))]), "f.parquet")


def test_extension_types_are_encodable_as_their_storage():
    check_encodable(pa.schema([("doc", pa.json_()), ("id", pa.uuid()), ("flag", pa.bool8())]), "f.parquet")


def test_a_refused_value_is_left_out_of_the_row_even_when_nulls_are_kept():
    batch = pa.record_batch({"id": ["a"], "tags": pa.array([[("k", 1), ("k", 2)]], TAGS), "note": [None]})

    [row] = BatchEncoder(None, ["id"], keep_nulls=True).encode(batch)

    assert row == EncodedRow('{"id":"a","note":null}', None, "a map in column(s) 'tags' repeats a key")


@pytest.mark.parametrize("view_type", [pa.string_view(), pa.list_(pa.string_view())], ids=str)
def test_bad_text_in_a_view_column_refuses_only_its_row(view_type):
    # Rows are converted again one by one with slices: pyarrow has no take kernel for string_view.
    text = pa.array([b"ok", b"\xff"], pa.binary_view()).view(pa.string_view())
    column = text if view_type == pa.string_view() else pa.ListArray.from_arrays(pa.array([0, 1, 2]), text)
    rows = BatchEncoder(None, ["id"]).encode(pa.record_batch({"id": ["a", "b"], "v": column}))

    assert [r.rejection for r in rows] == [None, "text that is not valid UTF-8 in column(s) 'v'"]
    assert json.loads(rows[0].obj)["v"] in ("ok", ["ok"])
