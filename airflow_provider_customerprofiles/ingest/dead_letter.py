"""
Rows that will not be written, with why, kept where the user says.

Each group of rows (the loader's row range) is written as one part file under
``dead_letter_uri`` (JSON Lines or Parquet), named after the group, never appended
to: S3 cannot append, a part written whole is either there or not when a task
dies, and a range processed again after a crash overwrites its own part instead
of duplicating it. Records: ``source_file``, ``row_index`` (0-based in
that file), ``error_code`` (the service's HTTP status, a client error name, or
``REJECTED`` for rows refused before sending), ``error_message`` and ``row`` (the
row as JSON, after column renaming). Dead letters hold PII: on S3 they are written
with server-side encryption.
"""

from __future__ import annotations

import io
import json
import threading
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass

import pyarrow as pa
import pyarrow.parquet as pq

from airflow_provider_customerprofiles.storage import S3Settings, resolve

FORMATS = ("jsonl", "parquet")
_SCHEMA = pa.schema(
    [
        ("source_file", pa.string()),
        ("row_index", pa.int64()),
        ("error_code", pa.string()),
        ("error_message", pa.string()),
        ("row", pa.string()),
    ]
)


@dataclass(frozen=True)
class DeadLetter:
    """One refused row."""

    source_file: str
    row_index: int
    error_code: str
    error_message: str
    row: str


def _encode(records: list[DeadLetter], fmt: str) -> bytes:
    if fmt == "jsonl":
        return "".join(json.dumps(asdict(r), ensure_ascii=False) + "\n" for r in records).encode()
    sink = io.BytesIO()
    pq.write_table(pa.Table.from_pylist([asdict(r) for r in records], schema=_SCHEMA), sink)
    return sink.getvalue()


class DeadLetterWriter:
    """
    Collects dead letters per group (a name: the loader's row range) and writes the groups it is asked to.

    Thread-safe: workers add, the loader flushes the groups whose rows are all settled.
    """

    def __init__(self, uri: str, fmt: str = "jsonl", s3: S3Settings | None = None) -> None:
        if fmt not in FORMATS:
            raise ValueError(f"dead_letter_format must be one of {FORMATS}, not {fmt!r}")
        self.uri = uri
        self.fmt = fmt
        self._location = resolve(uri, s3, "dead_letter_uri")
        self._lock = threading.Lock()
        self._pending: dict[str, list[DeadLetter]] = defaultdict(list)

    def check_writable(self) -> None:
        """Write and remove a marker where the parts go, so a bad location fails before any put."""
        self._location.check_writable()

    def add(self, group: str, records: Iterable[DeadLetter]) -> None:
        with self._lock:
            self._pending[group].extend(records)

    def flush(self, groups: Iterable[str]) -> None:
        """Write each group's dead letters as the part file ``part-<group>`` (nothing for a group without)."""
        for group in groups:
            with self._lock:
                records = self._pending.pop(group, [])
            if records:
                name = f"part-{group}.{self.fmt}"
                self._location.child(name).write_bytes(_encode(records, self.fmt))
