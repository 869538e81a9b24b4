"""
Property: every Arrow column the encoder accepts is encoded losslessly, as the table in
``ingest/encoding.py`` documents, or its row carries a rejection reason.

The expected JSON comes from a reference converter written here, from the documented table
and the plain Python values each Arrow array was built from. It shares no code with the
encoder, so the two can disagree.

Inputs left out on purpose: years outside 1..9999 (the encoder does not yet handle them as
documented). Whitespace-only unique keys are left to the loader tests.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import math
import struct
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Context, Decimal
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from airflow_provider_customerprofiles.ingest.encoding import (
    MAX_OBJECT_CHARS,
    BatchEncoder,
    UnsupportedTypeError,
    check_encodable,
)

KEY_COLUMN = "id"
EPOCH = dt.datetime(1970, 1, 1)
FRACTION_DIGITS = {"s": 0, "ms": 3, "us": 6, "ns": 9}
FIRST_SECOND = int((dt.datetime(1, 1, 1) - EPOCH).total_seconds())
LAST_SECOND = int((dt.datetime(9999, 12, 31, 23, 59, 59) - EPOCH).total_seconds())
INT64 = (-(2**63), 2**63 - 1)
INT32 = (-(2**31), 2**31 - 1)


@dataclass(frozen=True)
class Kind:
    """An Arrow type, a strategy for its non-null Python values, and the documented JSON of one value."""

    type: pa.DataType
    values: st.SearchStrategy[Any]
    to_json: Callable[[Any, bool], Any]  # (value, keep_nulls) -> JSON value


def nullable(kind: Kind) -> st.SearchStrategy[Any]:
    return st.none() | kind.values


def expected_json(kind: Kind, value: Any, keep_nulls: bool) -> Any:
    return None if value is None else kind.to_json(value, keep_nulls)


def without_nulls(members: dict[str, Any], keep_nulls: bool) -> dict[str, Any]:
    return members if keep_nulls else {k: v for k, v in members.items() if v is not None}


# ---------------------------------------------------------------- reference conversions, one per table line


def same(value: Any, _keep_nulls: bool) -> Any:
    return value


def shortest_float16(value: float, _keep_nulls: bool) -> float:
    """The shortest decimal text that reads back as the same 16-bit float (numpy's own search)."""
    if not math.isfinite(value):
        return value
    return float(np.format_float_positional(np.float16(value), unique=True))


def shortest_float32(value: float, _keep_nulls: bool) -> float:
    """The shortest decimal text that reads back as the same 32-bit float."""
    if not math.isfinite(value):
        return value
    for digits in range(1, 10):
        text = f"{value:.{digits}g}"
        if struct.unpack("f", struct.pack("f", float(text)))[0] == value:
            return float(text)
    raise AssertionError("nine significant digits always round-trip a float32")


def decimal_text(scale: int) -> Callable[[Decimal, bool], str]:
    def convert(value: Decimal, _keep_nulls: bool) -> str:
        unscaled = int(value.scaleb(scale, context=Context(prec=100)))
        if scale < 0:
            return str(unscaled * 10**-scale)
        digits = str(abs(unscaled)).rjust(scale + 1, "0")
        sign = "-" if unscaled < 0 else ""
        return sign + (f"{digits[:-scale]}.{digits[-scale:]}" if scale else digits)

    return convert


def base64_text(value: bytes, _keep_nulls: bool) -> str:
    return base64.b64encode(value).decode("ascii")


def iso_date(value: dt.date, _keep_nulls: bool) -> str:
    return value.isoformat()


def fraction(count: int, digits: int) -> str:
    return f".{count % 10**digits:0{digits}d}" if digits else ""


def time_text(digits: int) -> Callable[[int, bool], str]:
    def convert(count: int, _keep_nulls: bool) -> str:
        seconds = count // 10**digits
        return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}{fraction(count, digits)}"

    return convert


def utc_timestamp_text(digits: int) -> Callable[[int, bool], str]:
    def convert(count: int, _keep_nulls: bool) -> str:
        moment = EPOCH + dt.timedelta(seconds=count // 10**digits)
        return f"{moment.isoformat()}{fraction(count, digits)}+00:00"

    return convert


def duration_text(digits: int) -> Callable[[int, bool], str]:
    def convert(count: int, _keep_nulls: bool) -> str:
        seconds = format(Decimal(f"{abs(count)}E-{digits}"), f".{digits}f")
        return f"{'-' if count < 0 else ''}PT{seconds}S"

    return convert


def interval_object(value: tuple[int, int, int], _keep_nulls: bool) -> dict[str, int]:
    months, days, nanoseconds = value
    return {"months": months, "days": days, "nanoseconds": nanoseconds}


# ---------------------------------------------------------------- kinds


def int_kind(arrow_type: pa.DataType) -> Kind:
    bits = arrow_type.bit_width
    low, high = (
        (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if pa.types.is_signed_integer(arrow_type) else (0, 2**bits - 1)
    )
    return Kind(arrow_type, st.integers(low, high), same)


INT_KINDS = [
    int_kind(t)
    for t in (pa.int8(), pa.int16(), pa.int32(), pa.int64(), pa.uint8(), pa.uint16(), pa.uint32(), pa.uint64())
]
STRING_KINDS = [Kind(t, st.text(max_size=12), same) for t in (pa.string(), pa.large_string(), pa.string_view())]
FLOAT64 = Kind(pa.float64(), st.floats(), same)
BINARY = Kind(pa.binary(), st.binary(max_size=12), base64_text)
FIXED_KINDS = [
    Kind(pa.null(), st.nothing(), same),
    Kind(pa.bool_(), st.booleans(), same),
    *INT_KINDS,
    Kind(pa.float16(), st.floats(width=16), shortest_float16),
    Kind(pa.float32(), st.floats(width=32), shortest_float32),
    FLOAT64,
    *STRING_KINDS,
    BINARY,
    *[Kind(t, st.binary(max_size=12), base64_text) for t in (pa.large_binary(), pa.binary_view())],
    Kind(pa.date32(), st.dates(), iso_date),
    Kind(pa.date64(), st.dates(), iso_date),
    Kind(
        pa.month_day_nano_interval(),
        st.tuples(st.integers(*INT32), st.integers(*INT32), st.integers(*INT64)),
        interval_object,
    ),
]


@st.composite
def fixed_binary_kinds(draw: st.DrawFn) -> Kind:
    width = draw(st.integers(1, 8))
    return Kind(pa.binary(width), st.binary(min_size=width, max_size=width), base64_text)


@st.composite
def decimal_kinds(draw: st.DrawFn) -> Kind:
    make, max_precision = draw(
        st.sampled_from([(pa.decimal32, 9), (pa.decimal64, 18), (pa.decimal128, 38), (pa.decimal256, 76)])
    )
    precision = draw(st.integers(1, max_precision))
    # pa.array cannot build a decimal32 at a negative scale from Python values (the edge tests cast one)
    scale = draw(st.integers(0 if make is pa.decimal32 else -4, precision))
    unscaled = st.integers(-(10**precision - 1), 10**precision - 1)
    return Kind(make(precision, scale), unscaled.map(lambda n: Decimal(f"{n}E{-scale}")), decimal_text(scale))


@st.composite
def time_kinds(draw: st.DrawFn) -> Kind:
    unit = draw(st.sampled_from(list(FRACTION_DIGITS)))
    digits = FRACTION_DIGITS[unit]
    arrow_type = pa.time32(unit) if unit in ("s", "ms") else pa.time64(unit)
    return Kind(arrow_type, st.integers(0, 86_400 * 10**digits - 1), time_text(digits))


@st.composite
def timestamp_kinds(draw: st.DrawFn) -> Kind:
    unit = draw(st.sampled_from(list(FRACTION_DIGITS)))
    tz = draw(st.sampled_from([None, "UTC", "+05:30", "-08:00", "America/New_York", "Asia/Kathmandu"]))
    digits = FRACTION_DIGITS[unit]
    low = max(FIRST_SECOND * 10**digits, INT64[0])
    high = min((LAST_SECOND + 1) * 10**digits - 1, INT64[1])
    return Kind(pa.timestamp(unit, tz), st.integers(low, high), utc_timestamp_text(digits))


@st.composite
def duration_kinds(draw: st.DrawFn) -> Kind:
    unit = draw(st.sampled_from(list(FRACTION_DIGITS)))
    return Kind(pa.duration(unit), st.integers(*INT64), duration_text(FRACTION_DIGITS[unit]))


DICTIONARY_VALUE_KINDS = [*STRING_KINDS[:2], INT_KINDS[3], FLOAT64, BINARY]  # pa.array builds no others


@st.composite
def dictionary_kinds(draw: st.DrawFn) -> Kind:
    value = draw(st.sampled_from(DICTIONARY_VALUE_KINDS))
    index = draw(st.sampled_from([pa.int16(), pa.int32(), pa.int64()]))
    return Kind(pa.dictionary(index, value.type), value.values, value.to_json)


LEAF_KINDS = st.one_of(
    st.sampled_from(FIXED_KINDS),
    fixed_binary_kinds(),
    decimal_kinds(),
    time_kinds(),
    timestamp_kinds(),
    duration_kinds(),
    dictionary_kinds(),
)


@st.composite
def struct_kinds(draw: st.DrawFn, children: st.SearchStrategy[Kind]) -> Kind:
    fields = draw(st.lists(st.tuples(st.text(max_size=6), children), max_size=4, unique_by=lambda f: f[0]))

    def to_json(value: dict[str, Any], keep_nulls: bool) -> dict[str, Any]:
        return without_nulls({name: expected_json(kind, value[name], keep_nulls) for name, kind in fields}, keep_nulls)

    values = st.fixed_dictionaries({name: nullable(kind) for name, kind in fields})
    return Kind(pa.struct([(name, kind.type) for name, kind in fields]), values, to_json)


@st.composite
def list_kinds(draw: st.DrawFn, children: st.SearchStrategy[Kind]) -> Kind:
    child = draw(children)
    make = draw(st.sampled_from([pa.list_, pa.large_list, pa.list_view, pa.large_list_view, "fixed"]))
    if make == "fixed":
        size = draw(st.integers(1, 3))
        arrow_type, values = pa.list_(child.type, size), st.lists(nullable(child), min_size=size, max_size=size)
    else:
        arrow_type, values = make(child.type), st.lists(nullable(child), max_size=4)

    def to_json(value: list[Any], keep_nulls: bool) -> list[Any]:
        return [expected_json(child, element, keep_nulls) for element in value]  # null elements stay

    return Kind(arrow_type, values, to_json)


class RepeatedKey(Exception):
    """The documented outcome of a map that repeats a key: its row is refused, naming the column."""


def member_name(key: Any) -> str:
    if isinstance(key, bool):
        return "true" if key else "false"
    return str(key)


@st.composite
def map_kinds(draw: st.DrawFn, children: st.SearchStrategy[Kind]) -> Kind:
    key = draw(st.sampled_from([*STRING_KINDS[:2], *INT_KINDS, Kind(pa.bool_(), st.booleans(), same)]))
    item = draw(children)
    entries = st.lists(st.tuples(key.values, nullable(item)), max_size=4)  # keys may repeat

    def to_json(value: list[tuple[Any, Any]], keep_nulls: bool) -> dict[str, Any]:
        names = [member_name(k) for k, _ in value]
        if len(set(names)) < len(names):
            raise RepeatedKey
        return without_nulls(
            {n: expected_json(item, v, keep_nulls) for n, (_, v) in zip(names, value, strict=True)}, keep_nulls
        )

    return Kind(pa.map_(key.type, item.type), entries, to_json)


KINDS = st.recursive(
    LEAF_KINDS,
    lambda children: st.one_of(struct_kinds(children), list_kinds(children), map_kinds(children)),
    max_leaves=6,
)
TOP_LEVEL_ONLY = Kind(pa.uuid(), st.binary(min_size=16, max_size=16), base64_text)  # pa.array cannot nest it
# Unique keys: None, empty, or text no key normalisation changes (the loader may normalise keys).
KEY_KINDS = [Kind(t, st.from_regex(r"[a-z0-9-]{0,6}", fullmatch=True), same) for t in (pa.string(), pa.string_view())]
KEY_KINDS.append(Kind(pa.int64(), st.integers(*INT64), same))


def padding(size: int) -> st.SearchStrategy[str]:
    """Text that brings some rows near the object size limit."""
    return st.one_of(st.just("x"), st.integers(size - 400, size + 50).map(lambda n: "é" * n))


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind


@st.composite
def batches(draw: st.DrawFn) -> tuple[pa.RecordBatch, list[Column], list[dict[str, Any]]]:
    """A record batch (sliced, so arrays start at an offset), its columns, and the rows as Python values."""
    key_kind = draw(st.sampled_from(KEY_KINDS))
    kinds = draw(st.lists(KINDS | st.just(TOP_LEVEL_ONLY), max_size=5))
    columns = [Column(KEY_COLUMN, key_kind)] + [
        Column(f"{draw(st.text(max_size=4))}#{i}", k) for i, k in enumerate(kinds)
    ]
    if draw(st.booleans()):
        columns.append(Column("pad", Kind(pa.string(), padding(MAX_OBJECT_CHARS), same)))
    offset = draw(st.integers(0, 3))
    rows = draw(
        st.lists(
            st.fixed_dictionaries({c.name: nullable(c.kind) for c in columns}), min_size=offset, max_size=offset + 8
        )
    )
    arrays = [pa.array([row[c.name] for row in rows], c.kind.type) for c in columns]
    assume(all(is_valid(array) for array in arrays))
    batch = pa.RecordBatch.from_arrays(arrays, names=[c.name for c in columns]).slice(offset)
    return batch, columns, rows[offset:]


def is_valid(array: pa.Array) -> bool:
    """pa.array can build invalid arrays (a null struct over a dictionary child); a Parquet file never holds one."""
    try:
        array.validate(full=True)
    except pa.ArrowInvalid:
        return False
    return True


def non_finite(value: Any) -> bool:
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, dict):
        return any(non_finite(v) for v in value.values())
    if isinstance(value, list):
        return any(non_finite(v) for v in value)
    return False


def assert_same_json(actual: Any, expected: Any, where: str) -> None:
    """Equal values of the same JSON type (``1 == 1.0 == True`` in Python, not in JSON)."""
    assert type(actual) is type(expected), f"{where}: {type(actual).__name__} instead of {type(expected).__name__}"
    if isinstance(expected, dict):
        assert sorted(actual) == sorted(expected), f"{where}: members differ"
        for name, value in expected.items():
            assert_same_json(actual[name], value, f"{where}.{name}")
    elif isinstance(expected, list):
        assert len(actual) == len(expected), f"{where}: lengths differ"
        for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
            assert_same_json(a, e, f"{where}[{i}]")
    else:
        assert actual == expected, f"{where}: {actual!r} != {expected!r}"


@given(batches(), st.booleans())
def test_rows_encode_as_documented_or_carry_a_rejection(generated, keep_nulls):
    batch, columns, rows = generated
    check_encodable(batch.schema, "input.parquet")
    encoded = BatchEncoder(None, [KEY_COLUMN], keep_nulls=keep_nulls).encode(batch)

    assert len(encoded) == len(rows)
    for i, (row, out) in enumerate(zip(rows, encoded, strict=True)):
        values, repeated = {}, []
        for c in columns:
            try:
                values[c.name] = expected_json(c.kind, row[c.name], keep_nulls)
            except RepeatedKey:
                repeated.append(c.name)
        expected = without_nulls(values, keep_nulls)
        if repeated:
            names = ", ".join(repr(name) for name in repeated)
            assert out.rejection == f"a map in column(s) {names} repeats a key", f"row {i}: {out.rejection!r}"
            assert out.key is None
            assert json.loads(out.obj, parse_constant=lambda c: float(c)) == expected
            continue
        key = row[KEY_COLUMN]
        not_finite = [c.name for c in columns if non_finite(expected.get(c.name))]
        if not_finite:
            assert out.rejection is not None, f"row {i}: NaN/Infinity in {not_finite} was not rejected"
            # A column name is quoted as Python quotes it, so an unprintable one is escaped, never raw.
            named = any(repr(name) in out.rejection for name in not_finite)
            assert named, f"row {i}: {out.rejection!r} names no column"
            continue
        if key is None or key == "":
            assert out.rejection is not None and KEY_COLUMN in out.rejection, f"row {i}: missing key not rejected"
            continue
        size = len(json.dumps(expected, ensure_ascii=False, separators=(",", ":")))
        if size > MAX_OBJECT_CHARS:
            assert out.rejection is not None and str(MAX_OBJECT_CHARS) in out.rejection, f"row {i}: {size} chars"
            continue
        assert out.rejection is None, f"row {i}: unexpected rejection {out.rejection!r}"
        assert out.key == str(key)
        assert_same_json(json.loads(out.obj), expected, f"row {i}")


UNION_TYPES = [
    pa.dense_union([pa.field("a", pa.int8()), pa.field("b", pa.string())]),
    pa.sparse_union([pa.field("a", pa.int8())]),
]


@given(
    st.lists(LEAF_KINDS, max_size=3),
    st.sampled_from(UNION_TYPES),
    st.sampled_from(
        [
            lambda t: t,
            pa.list_,
            pa.large_list,
            lambda t: pa.struct([("u", t)]),  # pyarrow itself aborts building nulls of these
            lambda t: pa.list_(pa.struct([("u", t)])),
            lambda t: pa.map_(pa.string(), pa.struct([("u", t)])),
            lambda t: pa.dictionary(pa.int32(), pa.struct([("u", t)])),
        ]
    ),
    st.integers(0, 3),
)
def test_columns_without_a_mapping_fail_before_any_write_naming_column_and_file(kinds, union, wrap, position):
    fields = [pa.field(f"ok{i}", k.type) for i, k in enumerate(kinds)]
    fields.insert(min(position, len(fields)), pa.field("odd column", wrap(union)))
    with pytest.raises(UnsupportedTypeError, match=r"Column 'odd column' of in/put\.parquet"):
        check_encodable(pa.schema(fields), "in/put.parquet")
