"""Bytes that are not UTF-8 in a string column refuse only their row, naming the column, never the value."""

from __future__ import annotations

import json

import pyarrow as pa

from airflow_provider_customerprofiles.ingest.encoding import BatchEncoder

BAD = b"secret\xff"


def not_utf8(values: list[bytes | None]) -> pa.Array:
    """A string array holding exactly these bytes, as a Parquet reader hands over unchecked text."""
    return pa.array(values, pa.binary()).view(pa.string())


def test_only_the_invalid_row_is_refused_with_the_column_named():
    batch = pa.record_batch({"id": ["a", "b", "c"], "name": not_utf8([b"Ann", BAD, None])})

    rows = BatchEncoder(None, ("id",)).encode(batch)

    assert [r.rejection for r in rows] == [None, "text that is not valid UTF-8 in column(s) 'name'", None]
    assert [json.loads(r.obj) for r in rows] == [{"id": "a", "name": "Ann"}, {"id": "b"}, {"id": "c"}]
    assert "secret" not in rows[1].obj + rows[1].rejection


def test_the_unique_key_is_never_computed_from_invalid_bytes():
    batch = pa.record_batch({"id": not_utf8([b"k1", BAD]), "n": [1, 2]})

    rows = BatchEncoder(None, ("id",)).encode(batch)

    assert (rows[0].key, rows[0].rejection) == ("k1", None)
    assert (rows[1].key, rows[1].rejection) == (None, "text that is not valid UTF-8 in column(s) 'id'")


def test_invalid_text_inside_nested_and_dictionary_columns():
    text = not_utf8([b"ok", BAD, b"fine"])
    batch = pa.record_batch(
        {
            "id": ["a", "b", "c"],
            "s": pa.StructArray.from_arrays([text, pa.array([1, 2, 3])], names=["x", "y"]),
            "l": pa.ListArray.from_arrays(pa.array([0, 1, 2, 3]), text),
            "d": pa.DictionaryArray.from_arrays(pa.array([0, 1, 0]), text.slice(0, 2)),
        }
    )

    rows = BatchEncoder({"id": "id", "s": "s", "l": "l", "d": "d"}, ("id",)).encode(batch)

    assert rows[1].rejection == "text that is not valid UTF-8 in column(s) 's', 'l', 'd'"
    assert json.loads(rows[1].obj) == {"id": "b"}
    assert [json.loads(r.obj) for r in (rows[0], rows[2])] == [
        {"id": "a", "s": {"x": "ok", "y": 1}, "l": ["ok"], "d": "ok"},
        {"id": "c", "s": {"x": "fine", "y": 3}, "l": ["fine"], "d": "ok"},
    ]
    assert rows[0].rejection is None and rows[2].rejection is None
