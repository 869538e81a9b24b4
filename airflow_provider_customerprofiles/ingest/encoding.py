"""
Arrow record batches to Customer Profiles object JSON, one column at a time.

Columns are converted to JSON-ready Python values with Arrow compute kernels where
they exist (timestamps, dates, decimals), then each row is serialised once with
``json.dumps``. No pandas, no per-row type dispatch: this keeps encoding far
faster than the API quota lets us send.

The mapping (also in the user documentation):

=================================  ===============================================
Arrow type                         JSON value
=================================  ===============================================
null                               omitted (``null`` when nulls are kept)
bool                               ``true`` / ``false``
int8..int64, uint8..uint64         number, exact (no float round trip)
float16, float32                   number, the shortest text that reads back as the same
                                   float16 / float32 value (0.1, not 0.099975586)
float64                            number; NaN / Infinity reject the row
decimal32/64/128/256               string with the column's exact scale ("12.30",
                                   "0.0000001"), never an exponent; a negative scale
                                   gives a whole number ("1200")
string, large_string, string_view  string
binary, large_binary, fixed/view   string, base64
date32, date64                     "YYYY-MM-DD"
time32, time64                     "HH:MM:SS[.fff...]" at the column's precision
timestamp (any unit, tz or naive)  "YYYY-MM-DDTHH:MM:SS[.f...]+00:00" in UTC at the
                                   column's precision; naive is taken as UTC
duration                           ISO-8601 "PT<seconds>[.f...]S" (sign in front)
month_day_nano_interval            {"months", "days", "nanoseconds"}
dictionary                         the decoded value
struct                             object (null members omitted unless kept)
list, large_list, fixed/view list  array (null elements kept as ``null``)
map                                object; text keys as they are, other keys as their
                                   JSON text ("1", "true"); a map that repeats a key
                                   rejects the row
extension types                    their storage type
union, run_end_encoded             none, at any depth: ``check_encodable`` names the column
=================================  ===============================================
"""

from __future__ import annotations

import base64
import json
import math
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

MAX_OBJECT_CHARS = 256_000

_dumps = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode
_dumps_lenient = json.JSONEncoder(ensure_ascii=False, allow_nan=True, separators=(",", ":"), default=str).encode


class UnsupportedTypeError(TypeError):
    """A column has an Arrow type with no JSON mapping (for example a union)."""


class RepeatedMapKeyError(ValueError):
    """A map holds one key twice: a JSON object cannot, and keeping one entry would lose data silently."""


@dataclass(frozen=True)
class EncodedRow:
    """One row: its JSON object, or why it cannot be sent (``rejection``), and its unique-key value."""

    obj: str
    key: str | None
    rejection: str | None = None


def _strings(arr: pa.Array) -> list[Any]:
    return arr.cast(pa.string()).to_pylist()


def _timestamps(arr: pa.Array) -> list[Any]:
    unit = arr.type.unit
    utc = arr.cast(pa.timestamp(unit, "UTC")) if arr.type.tz else arr
    return pc.strftime(utc, format="%Y-%m-%dT%H:%M:%S+00:00").to_pylist()


_DURATION_DIGITS = {"s": 0, "ms": 3, "us": 6, "ns": 9}


def _iso_duration(count: int, digits: int) -> str:
    sign = "-" if count < 0 else ""
    seconds, fraction = divmod(abs(count), 10**digits)
    return f"{sign}PT{seconds}.{fraction:0{digits}d}S" if digits else f"{sign}PT{seconds}S"


def _durations(arr: pa.Array) -> list[Any]:
    digits = _DURATION_DIGITS[arr.type.unit]
    return [None if v is None else _iso_duration(v, digits) for v in arr.cast(pa.int64()).to_pylist()]


def _binary(arr: pa.Array) -> list[Any]:
    return [None if v is None else base64.b64encode(v).decode("ascii") for v in arr.to_pylist()]


def _short_floats(arr: pa.Array) -> list[Any]:
    """Arrow's text cast of a float32 is its shortest round-trip text."""
    return [None if v is None else float(v) for v in _strings(arr)]


def _shortest_half(value: float) -> float:
    """The shortest decimal that reads back as the same float16 (Arrow has no text cast for float16)."""
    if not math.isfinite(value):
        return value
    for digits in range(1, 5):
        shorter = float(f"{value:.{digits}g}")
        try:
            if struct.unpack("e", struct.pack("e", shorter))[0] == value:
                return shorter
        except OverflowError:  # rounded past float16's largest value
            continue
    return float(f"{value:.5g}")  # five significant digits round-trip every float16


def _half_floats(arr: pa.Array) -> list[Any]:
    return [None if v is None else _shortest_half(v) for v in arr.cast(pa.float32()).to_pylist()]


def _decimals(arr: pa.Array) -> list[Any]:
    """
    Arrow's text at the column's scale. Arrow writes an exponent when the scale is negative
    ("1.2E+3") or a value is under 1E-6 at a scale over 6 ("1E-7"): those are rewritten.
    """
    texts = _strings(arr)
    if 0 <= arr.type.scale <= 6:
        return texts
    return [t if t is None or "E" not in t else format(Decimal(t), "f") for t in texts]


def _intervals(arr: pa.Array) -> list[Any]:
    return [
        None if v is None else {"months": v.months, "days": v.days, "nanoseconds": v.nanoseconds}
        for v in arr.to_pylist()
    ]


def _drop_nulls(members: dict[str, Any], keep_nulls: bool) -> dict[str, Any]:
    return members if keep_nulls else {k: v for k, v in members.items() if v is not None}


def _structs(arr: pa.StructArray, keep_nulls: bool) -> list[Any]:
    names = [arr.type.field(i).name for i in range(arr.type.num_fields)]
    children = [to_json_values(child, keep_nulls) for child in arr.flatten()]
    valid = arr.is_valid().to_pylist()
    return [
        _drop_nulls({name: col[i] for name, col in zip(names, children, strict=True)}, keep_nulls) if ok else None
        for i, ok in enumerate(valid)
    ]


def _list_bounds(arr: pa.Array) -> tuple[list[int], list[int]]:
    """Start and end of each list in ``arr.values``; list views carry sizes instead of a next offset."""
    offsets = arr.offsets.to_pylist()
    if pa.types.is_list_view(arr.type) or pa.types.is_large_list_view(arr.type):
        return offsets, [o + n for o, n in zip(offsets, arr.sizes.to_pylist(), strict=True)]
    return offsets[:-1], offsets[1:]


def _used_values(child: pa.Array, starts: list[int], ends: list[int], keep_nulls: bool) -> tuple[list[Any], int]:
    """
    JSON values of the part of ``child`` that the lists use, and where that part begins.

    A sliced list or map array (one row, when a column is converted again row by row) still holds
    its whole child: the other rows' values must be neither converted nor blamed on this row.
    """
    lo, hi = min(starts, default=0), max(ends, default=0)
    return to_json_values(child.slice(lo, hi - lo), keep_nulls), lo


def _lists(arr: pa.Array, keep_nulls: bool) -> list[Any]:
    if pa.types.is_fixed_size_list(arr.type):
        arr = arr.cast(pa.list_(arr.type.value_field))
    starts, ends = _list_bounds(arr)
    values, base = _used_values(arr.values, starts, ends, keep_nulls)
    valid = arr.is_valid().to_pylist()
    return [values[lo - base : hi - base] if ok else None for lo, hi, ok in zip(starts, ends, valid, strict=True)]


def _member_name(key: Any) -> str:
    """A map key as an object member name: text as it is, anything else as its JSON text ("1", "true")."""
    return key if isinstance(key, str) else _dumps_lenient(key)


def _maps(arr: pa.MapArray, keep_nulls: bool) -> list[Any]:
    offsets = arr.offsets.to_pylist()
    starts, ends = offsets[:-1], offsets[1:]
    keys, base = _used_values(arr.values.field(0), starts, ends, keep_nulls)
    items, _ = _used_values(arr.values.field(1), starts, ends, keep_nulls)
    names = [_member_name(k) for k in keys]
    valid = arr.is_valid().to_pylist()
    out: list[Any] = []
    for lo, hi, ok in zip(starts, ends, valid, strict=True):
        lo, hi = lo - base, hi - base
        members = dict(zip(names[lo:hi], items[lo:hi], strict=True)) if ok else None
        if members is not None and len(members) < hi - lo:
            raise RepeatedMapKeyError("a map repeats a key")  # never the key: it may be customer data
        out.append(None if members is None else _drop_nulls(members, keep_nulls))
    return out


_PLAIN: tuple[Callable[[pa.DataType], bool], ...] = (
    pa.types.is_null,
    pa.types.is_boolean,
    pa.types.is_integer,
    pa.types.is_float64,
    pa.types.is_string,
    pa.types.is_large_string,
    pa.types.is_string_view,
)
_FLAT: tuple[tuple[Callable[[pa.DataType], bool], Callable[[pa.Array], list[Any]]], ...] = (
    (pa.types.is_timestamp, _timestamps),
    (pa.types.is_date, _strings),
    (pa.types.is_time, _strings),
    (pa.types.is_decimal, _decimals),
    (pa.types.is_duration, _durations),
    (pa.types.is_float16, _half_floats),
    (pa.types.is_float32, _short_floats),
    (lambda t: t == pa.month_day_nano_interval(), _intervals),
    (pa.types.is_binary, _binary),
    (pa.types.is_large_binary, _binary),
    (pa.types.is_fixed_size_binary, _binary),
    (pa.types.is_binary_view, _binary),
)


_LISTS = (
    pa.types.is_list,
    pa.types.is_large_list,
    pa.types.is_list_view,
    pa.types.is_large_list_view,
    pa.types.is_fixed_size_list,
)


def to_json_values(arr: pa.Array | pa.ChunkedArray, keep_nulls: bool = False) -> list[Any]:
    """Convert one Arrow column to JSON-ready Python values (``None`` for null), in row order."""
    if isinstance(arr, pa.ChunkedArray):
        return [v for chunk in arr.chunks for v in to_json_values(chunk, keep_nulls)]
    t = arr.type
    if isinstance(t, pa.BaseExtensionType):
        return to_json_values(arr.storage, keep_nulls)
    if pa.types.is_dictionary(t):
        return to_json_values(arr.dictionary_decode(), keep_nulls)
    if any(check(t) for check in _PLAIN):
        return arr.to_pylist()
    for check, convert in _FLAT:
        if check(t):
            return convert(arr)
    if pa.types.is_struct(t):
        return _structs(arr, keep_nulls)
    if pa.types.is_map(t):
        return _maps(arr, keep_nulls)
    if any(check(t) for check in _LISTS):
        return _lists(arr, keep_nulls)
    raise UnsupportedTypeError(f"Arrow type {t} has no JSON mapping")


def _has_mapping(t: pa.DataType) -> bool:
    """Whether every type in ``t``'s tree has a JSON mapping: checked on types alone, because
    pyarrow aborts the process building some arrays of types that have none (a union in a struct)."""
    if isinstance(t, pa.BaseExtensionType):
        return _has_mapping(t.storage_type)
    if pa.types.is_dictionary(t):
        return _has_mapping(t.value_type)
    if pa.types.is_struct(t):
        return all(_has_mapping(t.field(i).type) for i in range(t.num_fields))
    if pa.types.is_map(t):
        return _has_mapping(t.key_type) and _has_mapping(t.item_type)
    if any(check(t) for check in _LISTS):
        return _has_mapping(t.value_type)
    return any(check(t) for check in _PLAIN) or any(check(t) for check, _ in _FLAT)


def check_encodable(schema: pa.Schema, source: str) -> None:
    """Fail before any write if a column's type cannot be encoded; names the column and file."""
    for field in schema:
        try:
            if not _has_mapping(field.type):
                raise UnsupportedTypeError(field.type)
            to_json_values(pa.nulls(1, field.type))  # and every kernel the conversion needs exists
        except (UnsupportedTypeError, pa.ArrowNotImplementedError, pa.ArrowInvalid, pa.ArrowTypeError):
            raise UnsupportedTypeError(
                f"Column {field.name!r} of {source} has Arrow type {field.type}, which has no JSON mapping"
            ) from None


def _nested_get(obj: dict[str, Any], path: Sequence[str]) -> Any:
    value: Any = obj
    for part in path:
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


class BatchEncoder:
    """
    Encode record batches into objects, renaming columns and finding each row's unique key.

    ``renames`` maps Parquet column -> object field (columns not in it are dropped, unless
    it is ``None``: then every column is kept under its own name). ``key_path`` is the
    object attribute path of the object type's UNIQUE key (``_source.a.b`` -> ``("a", "b")``).
    """

    def __init__(self, renames: dict[str, str] | None, key_path: Sequence[str] | None, keep_nulls: bool = False):
        self.renames = renames
        self.key_path = tuple(key_path) if key_path else None
        self.keep_nulls = keep_nulls

    def encode(self, batch: pa.RecordBatch) -> list[EncodedRow]:
        selected = [(i, n) for i, n in enumerate(batch.schema.names) if self.renames is None or n in self.renames]
        names = [self.renames[n] if self.renames is not None else n for _, n in selected]
        invalid: dict[int, dict[str, list[str]]] = {}
        columns = [_valid_json_values(batch.column(i), n, invalid, self.keep_nulls) for i, n in selected]
        keep_nulls = self.keep_nulls
        out: list[EncodedRow] = []
        rows = zip(*columns, strict=True) if columns else [() for _ in range(batch.num_rows)]
        for i, row_values in enumerate(rows):
            row = dict(zip(names, row_values, strict=True))
            if not keep_nulls:
                row = {k: v for k, v in row.items() if v is not None}
            if i in invalid:
                out.append(_invalid_row(row, invalid[i]))
            else:
                out.append(self._encode_row(row))
        return out

    def _encode_row(self, row: dict[str, Any]) -> EncodedRow:
        key = None
        if self.key_path is not None:
            raw_key = _nested_get(row, self.key_path)
            key = None if raw_key is None or raw_key == "" else str(raw_key)
        try:
            obj = _dumps(row)
        except ValueError:
            bad = next(name for name, value in row.items() if _not_finite(value))
            return EncodedRow(_dumps_lenient(row), key, f"field {bad!r} holds NaN or Infinity")
        if self.key_path is not None:
            if key is None:
                return EncodedRow(obj, None, f"unique key field {'.'.join(self.key_path)!r} is missing or empty")
            if not key.strip():  # the service ignores a blank key value: the object would have no unique key
                return EncodedRow(obj, None, f"unique key field {'.'.join(self.key_path)!r} holds only whitespace")
        if len(obj) > MAX_OBJECT_CHARS:
            return EncodedRow(obj, key, f"encoded object has {len(obj)} characters (limit {MAX_OBJECT_CHARS})")
        return EncodedRow(obj, key)


# Values that refuse only their row, and the reason given (with the columns that hold one):
# Parquet readers do not check that string data is UTF-8, and a map may repeat a key.
_ROW_PROBLEMS: dict[type[Exception], str] = {
    UnicodeDecodeError: "text that is not valid UTF-8 in column(s) {}",
    RepeatedMapKeyError: "a map in column(s) {} repeats a key",
}


_REFUSED = object()  # stands for a value of one of _ROW_PROBLEMS: left out of the row, even when nulls are kept


def _invalid_row(row: dict[str, Any], problems: dict[str, list[str]]) -> EncodedRow:
    """A row refused for its values: its other fields, and no unique key (never computed from bad values)."""
    reasons = [reason.format(", ".join(repr(c) for c in columns)) for reason, columns in problems.items()]
    fields = {name: value for name, value in row.items() if value is not _REFUSED}
    return EncodedRow(_dumps_lenient(fields), None, "; ".join(reasons))


def _valid_json_values(
    arr: pa.Array, column: str, invalid: dict[int, dict[str, list[str]]], keep_nulls: bool
) -> list[Any]:
    """
    ``to_json_values``, with ``_REFUSED`` for the rows of one of ``_ROW_PROBLEMS``, which are added to ``invalid``.

    The column is converted whole, as usual; only a column that fails is converted again row by row.
    """
    try:
        return to_json_values(arr, keep_nulls)
    except tuple(_ROW_PROBLEMS):
        pass
    values: list[Any] = []
    for i in range(len(arr)):
        try:
            values.extend(to_json_values(arr.slice(i, 1), keep_nulls))
        except tuple(_ROW_PROBLEMS) as exc:
            reason = _ROW_PROBLEMS[type(exc)]
            invalid.setdefault(i, {}).setdefault(reason, []).append(column)
            values.append(_REFUSED)
    return values


def _not_finite(value: Any) -> bool:
    try:
        _dumps(value)
    except ValueError:
        return True
    return False
