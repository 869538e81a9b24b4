"""The Arrow -> JSON mapping, type by type, with exact values."""

from __future__ import annotations

import base64
import datetime as dt
import json
from decimal import Decimal

import pyarrow as pa
import pytest

from airflow_provider_customerprofiles.ingest.encoding import (
    MAX_OBJECT_CHARS,
    BatchEncoder,
    UnsupportedTypeError,
    check_encodable,
    to_json_values,
)

UTC = dt.timezone.utc
NS_STAMP = 1_700_000_000_123_456_789  # 2023-11-14T22:13:20.123456789Z


@pytest.mark.parametrize(
    ("array", "expected"),
    [
        (pa.array([True, False, None]), [True, False, None]),
        (pa.array([-(2**63), 2**63 - 1], pa.int64()), [-(2**63), 2**63 - 1]),
        (pa.array([2**64 - 1], pa.uint64()), [2**64 - 1]),
        (pa.array([-128], pa.int8()), [-128]),
        (pa.array([0.1, -2.5e300], pa.float64()), [0.1, -2.5e300]),
        (pa.array([0.1], pa.float32()), [0.1]),
        (pa.array([1.5], pa.float16()), [1.5]),
        (
            pa.array([Decimal("12345678901234567890.1230"), Decimal("-0.0001")], pa.decimal128(24, 4)),
            ["12345678901234567890.1230", "-0.0001"],
        ),
        (pa.array([Decimal("1.50")], pa.decimal256(50, 2)), ["1.50"]),
        (pa.array(["é", None]), ["é", None]),
        (pa.array(["x"], pa.large_string()), ["x"]),
        (pa.array([b"\x00\xff"], pa.binary()), [base64.b64encode(b"\x00\xff").decode()]),
        (pa.array([b"ab"], pa.large_binary()), ["YWI="]),
        (pa.array([b"abc"], pa.binary(3)), ["YWJj"]),
        (pa.array([dt.date(2024, 2, 29)], pa.date32()), ["2024-02-29"]),
        (pa.array([dt.date(1969, 12, 31)], pa.date64()), ["1969-12-31"]),
        (pa.array([3723], pa.time32("s")), ["01:02:03"]),
        (pa.array([3723004], pa.time32("ms")), ["01:02:03.004"]),
        (pa.array([3723000005], pa.time64("us")), ["01:02:03.000005"]),
        (pa.array([3723000000006], pa.time64("ns")), ["01:02:03.000000006"]),
        (pa.array([NS_STAMP // 10**9], pa.timestamp("s", "UTC")), ["2023-11-14T22:13:20+00:00"]),
        (pa.array([NS_STAMP // 10**6], pa.timestamp("ms", "America/New_York")), ["2023-11-14T22:13:20.123+00:00"]),
        (pa.array([NS_STAMP // 10**3], pa.timestamp("us", "+05:30")), ["2023-11-14T22:13:20.123456+00:00"]),
        (pa.array([NS_STAMP], pa.timestamp("ns")), ["2023-11-14T22:13:20.123456789+00:00"]),
        (pa.array([-1500, 2], pa.duration("ms")), ["-PT1.500S", "PT0.002S"]),
        (pa.array([90], pa.duration("s")), ["PT90S"]),
        (pa.array([1], pa.duration("ns")), ["PT0.000000001S"]),
        (pa.array([(1, 2, 3)], pa.month_day_nano_interval()), [{"months": 1, "days": 2, "nanoseconds": 3}]),
        (pa.array(["a", "b", "a", None]).dictionary_encode(), ["a", "b", "a", None]),
        (pa.array([None, None], pa.null()), [None, None]),
        (pa.array([{"x": 1, "y": None}, None]), [{"x": 1}, None]),
        (pa.array([[1, None], None, []]), [[1, None], None, []]),
        (pa.array([[1]], pa.large_list(pa.int64())), [[1]]),
        (pa.array([[1, 2], None], pa.list_(pa.int64(), 2)), [[1, 2], None]),
        (pa.array([[3], [4, 5]], pa.list_view(pa.int64())), [[3], [4, 5]]),
        (pa.array([None, [6, 7]], pa.large_list_view(pa.int64())).slice(1), [[6, 7]]),
        (pa.array([[("k", 1), ("n", None)], None], pa.map_(pa.string(), pa.int64())), [{"k": 1}, None]),
        (pa.array([[(7, "v")]], pa.map_(pa.int32(), pa.string())), [{"7": "v"}]),
        (pa.array([[{"d": dt.date(2020, 1, 2)}]]), [[{"d": "2020-01-02"}]]),
        (
            pa.ExtensionArray.from_storage(pa.uuid(), pa.array([b"\x01" * 16], pa.binary(16))),
            ["AQEBAQEBAQEBAQEBAQEBAQ=="],
        ),
    ],
    ids=lambda v: str(v.type) if isinstance(v, pa.Array) else None,
)
def test_type_mapping(array, expected):
    assert to_json_values(array) == expected


def test_sliced_nested_arrays_keep_their_own_rows():
    lists = pa.array([[1], [2, 3], [4]]).slice(1, 1)
    maps = pa.array([[("a", 1)], [("b", 2)]], pa.map_(pa.string(), pa.int64())).slice(1)
    structs = pa.array([{"x": 1}, {"x": 2}]).slice(1)
    assert to_json_values(lists) == [[2, 3]]
    assert to_json_values(maps) == [{"b": 2}]
    assert to_json_values(structs) == [{"x": 2}]


def test_nulls_are_kept_when_asked():
    assert to_json_values(pa.array([{"x": None}]), keep_nulls=True) == [{"x": None}]
    batch = pa.record_batch({"id": ["a"], "v": pa.array([None], pa.int64())})
    assert json.loads(BatchEncoder(None, ["id"], keep_nulls=True).encode(batch)[0].obj) == {"id": "a", "v": None}
    assert json.loads(BatchEncoder(None, ["id"]).encode(batch)[0].obj) == {"id": "a"}


def test_int64_survives_json_exactly():
    batch = pa.record_batch({"id": ["a"], "big": pa.array([2**63 - 1], pa.int64())})
    assert BatchEncoder(None, ["id"]).encode(batch)[0].obj == '{"id":"a","big":9223372036854775807}'


def test_rename_and_select():
    batch = pa.record_batch({"cust_id": ["c1"], "mail": ["m"], "ignored": [1]})
    row = BatchEncoder({"cust_id": "CustomerId", "mail": "Email"}, ["CustomerId"]).encode(batch)[0]
    assert json.loads(row.obj) == {"CustomerId": "c1", "Email": "m"}
    assert row.key == "c1"
    assert row.rejection is None


def test_nested_unique_key_path():
    batch = pa.record_batch({"ids": pa.array([{"order": 42}, {"order": None}])})
    rows = BatchEncoder(None, ["ids", "order"]).encode(batch)
    assert rows[0].key == "42"
    assert rows[1].rejection == "unique key field 'ids.order' is missing or empty"


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_floats_are_rejected_naming_the_field(bad):
    batch = pa.record_batch({"id": ["a"], "score": pa.array([bad])})
    row = BatchEncoder(None, ["id"]).encode(batch)[0]
    assert row.rejection == "field 'score' holds NaN or Infinity"


def test_non_finite_float_inside_a_struct_is_rejected():
    batch = pa.record_batch({"id": ["a"], "s": pa.array([{"v": float("nan")}])})
    assert BatchEncoder(None, ["id"]).encode(batch)[0].rejection == "field 's' holds NaN or Infinity"


def test_missing_or_empty_unique_key_is_rejected():
    batch = pa.record_batch({"id": ["", None, "ok"]})
    rejections = [r.rejection for r in BatchEncoder(None, ["id"]).encode(batch)]
    assert rejections[:2] == ["unique key field 'id' is missing or empty"] * 2
    assert rejections[2] is None


def test_oversized_object_is_rejected_with_its_size():
    batch = pa.record_batch({"id": ["a", "b"], "blob": ["x" * MAX_OBJECT_CHARS, "y"]})
    rows = BatchEncoder(None, ["id"]).encode(batch)
    assert rows[0].rejection.startswith("encoded object has 256")
    assert "xxx" not in rows[0].rejection
    assert rows[1].rejection is None


def test_check_encodable_names_column_and_file():
    schema = pa.schema([("ok", pa.int64()), ("u", pa.dense_union([pa.field("a", pa.int8())]))])
    with pytest.raises(UnsupportedTypeError, match=r"Column 'u' of f\.parquet"):
        check_encodable(schema, "f.parquet")
