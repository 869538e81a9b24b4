"""Every Arrow type Parquet can hold, written to a file, loaded, and read back from the service exactly."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pyarrow as pa
import pyarrow.parquet as pq

from airflow_provider_customerprofiles.ingest.loader import LoadOptions, load
from tests.integration.ingest.support import DOMAIN, OBJECT_TYPE, by_rid, stored_objects

NS_STAMP = 1_700_000_000_123_456_789  # 2023-11-14T22:13:20.123456789Z

COLUMNS = {
    "bool": (pa.array([True, None]), True),
    "int8": (pa.array([-128, None], pa.int8()), -128),
    "int64": (pa.array([-(2**63), None], pa.int64()), -(2**63)),
    "uint64": (pa.array([2**64 - 1, None], pa.uint64()), 2**64 - 1),
    "float16": (pa.array([1.5, None], pa.float16()), 1.5),
    "float32": (pa.array([0.1, None], pa.float32()), 0.1),
    "float64": (pa.array([1e-300, None]), 1e-300),
    "decimal32": (pa.array([Decimal("-1234.5"), None], pa.decimal32(5, 1)), "-1234.5"),
    "decimal128": (
        pa.array([Decimal("12345678901234567890.123456789"), None], pa.decimal128(38, 9)),
        "12345678901234567890.123456789",
    ),
    "decimal256": (pa.array([Decimal("0.10"), None], pa.decimal256(60, 2)), "0.10"),
    "string": (pa.array(['héllo "q" \n', None]), 'héllo "q" \n'),
    "large_string": (pa.array(["big", None], pa.large_string()), "big"),
    "string_view": (pa.array(["view", None], pa.string_view()), "view"),
    "binary": (pa.array([b"\x00\xfe", None]), "AP4="),
    "large_binary": (pa.array([b"ab", None], pa.large_binary()), "YWI="),
    "fixed_binary": (pa.array([b"abc", None], pa.binary(3)), "YWJj"),
    "date32": (pa.array([dt.date(2024, 2, 29), None], pa.date32()), "2024-02-29"),
    "date64": (pa.array([dt.date(1900, 1, 1), None], pa.date64()), "1900-01-01"),
    "time32_s": (pa.array([3723, None], pa.time32("s")), "01:02:03.000"),  # Parquet stores ms
    "time32_ms": (pa.array([3723004, None], pa.time32("ms")), "01:02:03.004"),
    "time64_us": (pa.array([3723000005, None], pa.time64("us")), "01:02:03.000005"),
    "time64_ns": (pa.array([3723000000006, None], pa.time64("ns")), "01:02:03.000000006"),
    "ts_s_utc": (  # Parquet has no second unit: stored, and so read back, as ms
        pa.array([NS_STAMP // 10**9, None], pa.timestamp("s", "UTC")),
        "2023-11-14T22:13:20.000+00:00",
    ),
    "ts_ms_ny": (
        pa.array([NS_STAMP // 10**6, None], pa.timestamp("ms", "America/New_York")),
        "2023-11-14T22:13:20.123+00:00",
    ),
    "ts_us_naive": (pa.array([NS_STAMP // 10**3, None], pa.timestamp("us")), "2023-11-14T22:13:20.123456+00:00"),
    "ts_ns_utc": (pa.array([NS_STAMP, None], pa.timestamp("ns", "UTC")), "2023-11-14T22:13:20.123456789+00:00"),
    "duration": (pa.array([-1500, None], pa.duration("ms")), "-PT1.500S"),
    "dictionary": (pa.array(["gold", None]).dictionary_encode(), "gold"),
    "struct": (pa.array([{"a": 1, "b": None, "c": {"d": "x"}}, None]), {"a": 1, "c": {"d": "x"}}),
    "list": (pa.array([[1, None, 3], None]), [1, None, 3]),
    "large_list": (pa.array([["x"], None], pa.large_list(pa.string())), ["x"]),
    "fixed_list": (pa.array([[1.5, 2.5], None], pa.list_(pa.float64(), 2)), [1.5, 2.5]),
    "list_view": (pa.array([[7, 8], None], pa.list_view(pa.int64())), [7, 8]),
    "map": (pa.array([[("k", 1), ("n", None)], None], pa.map_(pa.string(), pa.int64())), {"k": 1}),
    "list_of_structs": (
        pa.array([[{"when": dt.date(2020, 1, 2), "amount": Decimal("9.99")}], None]),
        [{"when": "2020-01-02", "amount": "9.99"}],
    ),
    "null": (pa.array([None, None], pa.null()), None),
}


def write_all_types(path) -> None:
    table = pa.table(
        {
            "rid": ["values", "nulls"],
            "acct": ["acct-00", "acct-00"],
            **{name: array for name, (array, _) in COLUMNS.items()},
        }
    )
    pq.write_table(table, path)


def test_every_type_reads_back_exactly(emulator, tmp_path):
    endpoint, client = emulator()
    write_all_types(tmp_path / "types.parquet")

    result = load(client, str(tmp_path / "types.parquet"), LoadOptions(DOMAIN, OBJECT_TYPE, str(tmp_path / "dead")))

    assert result.objects_written == 2
    stored = by_rid(stored_objects(endpoint, ["acct-00"]))
    expected = {name: value for name, (_, value) in COLUMNS.items() if value is not None}
    assert stored["values"] == {"rid": "values", "acct": "acct-00", **expected}
    assert stored["nulls"] == {"rid": "nulls", "acct": "acct-00"}


def test_nulls_kept_when_asked(emulator, tmp_path):
    endpoint, client = emulator()
    write_all_types(tmp_path / "types.parquet")

    load(
        client,
        str(tmp_path / "types.parquet"),
        LoadOptions(DOMAIN, OBJECT_TYPE, str(tmp_path / "dead"), keep_nulls=True),
    )

    stored = by_rid(stored_objects(endpoint, ["acct-00"]))
    assert stored["nulls"] == {"rid": "nulls", "acct": "acct-00", **dict.fromkeys(COLUMNS)}
    assert stored["values"]["struct"] == {"a": 1, "b": None, "c": {"d": "x"}}
    assert stored["values"]["map"] == {"k": 1, "n": None}
