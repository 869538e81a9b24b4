"""
What the sync plan compares, read from Arrow record batches without encoding rows to JSON.

The object JSON the loader sends is a function of the row's values, their Arrow types and
the column mapping (which the state's mapping fingerprint names). So a row's fingerprint
is a hash of its values and types: equal fingerprints mean equal objects. Types the encoder
writes alike count as one (int32 and int64, string and large_string, list and large_list,
dictionary-encoded or not), so an export that widens a column does not re-send every row;
other changes of type (float32 to float64, a timestamp's unit) count as changes.
Encoding every row of a snapshot to find the 1% that changed cost more than sending
those; this costs a few Arrow kernels per column and one hash per row.

Each value is written as ``~`` (null) or a netstring ``<length>:<bytes>`` (a struct or
list: of its members' netstrings, concatenated), so the bytes of a row decode one way
only. Types with no Arrow path here (intervals, list views) use the JSON value text the
encoder gives them. Change ``hashing.SCHEME`` when these bytes, or the encoder's JSON for
the same values, change.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from airflow_provider_customerprofiles.ingest.encoding import to_json_values
from airflow_provider_customerprofiles.ingest.sync.hashing import binary_digests

_NULL = b"~"
_REFUSED = b"!"
_REFUSALS = (UnicodeDecodeError, ValueError)  # invalid UTF-8, a map repeating a key: the encoder refuses the row
_BYTES = pa.large_binary()
_COLON = pa.scalar(b":", _BYTES)
_NOTHING = pa.scalar(b"", _BYTES)
_value_json = json.JSONEncoder(ensure_ascii=False, allow_nan=True, separators=(",", ":"), default=str).encode


def _netstrings(payload: pa.Array, valid: pa.Array | None) -> pa.Array:
    """``<length>:<payload>`` per row, ``~`` where ``valid`` is false."""
    lengths = pc.binary_length(payload).cast(pa.large_string()).view(_BYTES)
    framed = pc.binary_join_element_wise(lengths, payload, _COLON)
    return framed if valid is None else pc.if_else(valid, framed, pa.scalar(_NULL, _BYTES))


def _validity(arr: pa.Array) -> pa.Array | None:
    return arr.is_valid() if arr.null_count else None


def _bits(arr: pa.Array) -> pa.Array:
    """Floats, dates, times, timestamps and durations by their bits (-0.0 is not 0.0); the type tag has the width."""
    width = {64: pa.int64(), 32: pa.int32(), 16: pa.int16()}[arr.type.bit_width]
    return _netstrings(arr.view(width).cast(pa.large_string()).view(_BYTES), _validity(arr))


def _as_text(arr: pa.Array) -> pa.Array:
    """Integers, booleans and decimals by Arrow's text: exact (a decimal's at its scale), whatever the width."""
    return _netstrings(arr.cast(pa.large_string()).view(_BYTES), _validity(arr))


def _raw_bytes(arr: pa.Array) -> pa.Array:
    return _netstrings(arr.cast(_BYTES), _validity(arr))


def _struct(arr: pa.StructArray) -> pa.Array:
    members = [value_bytes(child) for child in arr.flatten()]
    if not members:
        payload = pa.array([b""] * len(arr), _BYTES)
    elif len(members) == 1:
        payload = members[0]
    else:
        payload = pc.binary_join_element_wise(*members, _NOTHING)
    return _netstrings(payload, _validity(arr))


def _list(arr: pa.Array) -> pa.Array:
    """A list: its elements' bytes joined per row."""
    elements = value_bytes(arr.flatten())
    lengths = pc.list_value_length(arr).fill_null(0).to_numpy()
    offsets = pa.array(np.concatenate([[0], np.cumsum(lengths, dtype=np.int64)]), pa.int64())
    payload = pc.binary_join(pa.LargeListArray.from_arrays(offsets, elements), _NOTHING)
    return _netstrings(payload, _validity(arr))


def _map(arr: pa.MapArray) -> pa.Array:
    """A map as the list of its key/value structs, in order."""
    entries = pa.struct([arr.type.key_field, arr.type.item_field])
    return _list(arr.cast(pa.list_(entries)))


def _json_text(arr: pa.Array) -> pa.Array:
    """The JSON text of each value as the encoder converts it; ``!`` (never a netstring) for a value it refuses."""
    try:
        values = [_json_netstring(v) for v in to_json_values(arr)]
    except _REFUSALS:
        values = [_one_json_text(arr.slice(i, 1)) for i in range(len(arr))]
    return pa.array(values, _BYTES)


def _one_json_text(arr: pa.Array) -> bytes:
    try:
        return _json_netstring(to_json_values(arr)[0])
    except _REFUSALS:
        return _REFUSED  # the encoder refuses the row: it is never accepted, so never in a state


def _json_netstring(value: Any) -> bytes:
    if value is None:
        return _NULL
    text = _value_json(value).encode()
    return b"%d:%s" % (len(text), text)


_CONVERTERS: tuple[tuple[Callable[[pa.DataType], bool], Callable[[Any], pa.Array]], ...] = (
    (lambda t: pa.types.is_integer(t) or pa.types.is_boolean(t) or pa.types.is_decimal(t), _as_text),
    (lambda t: pa.types.is_floating(t) or pa.types.is_date(t) or pa.types.is_time(t), _bits),
    (lambda t: pa.types.is_timestamp(t) or pa.types.is_duration(t), _bits),
    (lambda t: pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t), _raw_bytes),
    (lambda t: pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_binary_view(t), _raw_bytes),
    (pa.types.is_fixed_size_binary, _raw_bytes),
    (pa.types.is_struct, _struct),
    (lambda t: pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t), _list),
    (pa.types.is_map, _map),
)


def value_bytes(arr: pa.Array) -> pa.Array:
    """Each value of ``arr`` as self-delimiting bytes (large_binary, no nulls): equal bytes, equal JSON."""
    t = arr.type
    if isinstance(t, pa.BaseExtensionType):
        return value_bytes(arr.storage)
    if pa.types.is_dictionary(t):
        return value_bytes(arr.dictionary_decode())
    if pa.types.is_null(t):
        return pa.array([_NULL] * len(arr), _BYTES)
    for check, convert in _CONVERTERS:
        if check(t):
            return convert(arr)
    return _json_text(arr)


def type_tag(t: pa.DataType) -> str:
    """``t`` as fingerprints count it: types whose values the encoder and :func:`value_bytes` write alike are one."""
    if isinstance(t, pa.BaseExtensionType):
        return type_tag(t.storage_type)
    if pa.types.is_dictionary(t):
        return type_tag(t.value_type)
    if pa.types.is_integer(t):
        return "int"
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return "string"
    if pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_binary_view(t):
        return "binary"
    if pa.types.is_struct(t):
        return (
            "struct<" + ",".join(f"{t.field(i).name!r}:{type_tag(t.field(i).type)}" for i in range(t.num_fields)) + ">"
        )
    if pa.types.is_map(t):
        return f"map<{type_tag(t.key_type)},{type_tag(t.item_type)}>"
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        return f"list<{type_tag(t.value_type)}>"
    return str(t)


class RowHasher:
    """The unique-key value and the fingerprint of each row of a record batch, as the loader would send it."""

    def __init__(self, renames: dict[str, str] | None, key_path: Sequence[str]) -> None:
        self.renames = renames
        self.key_path = tuple(key_path)

    def _selected(self, batch: pa.RecordBatch) -> list[tuple[str, pa.Array]]:
        """(object field, column) of the columns the encoder keeps."""
        names = batch.schema.names
        if self.renames is None:
            return [(name, batch.column(i)) for i, name in enumerate(names)]
        return [(self.renames[name], batch.column(i)) for i, name in enumerate(names) if name in self.renames]

    def fingerprints(self, batch: pa.RecordBatch) -> np.ndarray:
        """A uint64 per row: a hash of its values and of the selected columns' names and types."""
        selected = self._selected(batch)
        schema = repr([(name, type_tag(column.type)) for name, column in selected]).encode()
        key = hashlib.blake2b(schema, digest_size=32).digest()
        if not selected:
            rows = pa.array([b""] * batch.num_rows, _BYTES)
        else:
            columns = [value_bytes(column) for _, column in selected]
            rows = columns[0] if len(columns) == 1 else pc.binary_join_element_wise(*columns, _NOTHING)
        return binary_digests(rows, key, 8)

    def keys(self, batch: pa.RecordBatch) -> list[str | None]:
        """Each row's unique-key value as the encoder reads it; None where the row has none (it is refused)."""
        columns = [column for name, column in self._selected(batch) if name == self.key_path[0]]
        if not columns:
            return [None] * batch.num_rows
        values = _key_values(columns[-1])  # the encoder's row dict keeps the last column of a name
        out: list[str | None] = []
        for value in values:
            for part in self.key_path[1:]:
                value = value.get(part) if isinstance(value, dict) else None
            key = None if value is None else str(value)
            out.append(key if key is not None and key.strip() else None)
        return out


def _key_values(column: pa.Array) -> list[Any]:
    """JSON values of the key column; None for a row whose value the encoder refuses."""
    try:
        return to_json_values(column)
    except _REFUSALS:
        out = []
        for i in range(len(column)):
            try:
                out.extend(to_json_values(column.slice(i, 1)))
            except _REFUSALS:
                out.append(None)
        return out
