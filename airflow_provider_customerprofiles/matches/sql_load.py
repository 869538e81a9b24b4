"""Load one partition of the match dataset into a SQL table, replacing that generation date's rows.

Works on a plain DB-API connection. The delete and the inserts run in one
transaction, so a re-run replaces rather than duplicates, and a failed load leaves
the previous rows in place. PostgreSQL (psycopg2) gets ``COPY ... FROM STDIN``;
every other driver gets batched ``executemany``.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv

from airflow_provider_customerprofiles.matches.schema import MATCHES_SCHEMA, PARTITION_KEY, TIMESTAMP_TYPE

TABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")


@dataclass(frozen=True)
class Dialect:
    """Column types and parameter conversions for one database family."""

    text: str
    double: str
    integer: str
    date: str
    timestamp: str
    create_index: bool
    to_date: Callable[[date], Any] = lambda value: value
    to_timestamp: Callable[[datetime], Any] = lambda value: value.replace(tzinfo=None)


DIALECTS: dict[str, Dialect] = {
    "postgresql": Dialect(
        "TEXT", "DOUBLE PRECISION", "INTEGER", "DATE", "TIMESTAMP WITH TIME ZONE", True, to_timestamp=lambda v: v
    ),
    # SQLite has no date types: ISO 8601 text sorts and compares correctly and its date functions read it.
    "sqlite": Dialect(
        "TEXT", "REAL", "INTEGER", "DATE", "TIMESTAMP", True, date.isoformat, lambda v: v.isoformat(sep=" ")
    ),
}
PORTABLE = Dialect("VARCHAR(255)", "DOUBLE PRECISION", "INTEGER", "DATE", "TIMESTAMP", False)


@dataclass(frozen=True)
class LoadResult:
    """What one load did; small enough for XCom."""

    table: str
    match_generation_date: str
    rows: int
    deleted: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def columns(dialect: Dialect) -> list[tuple[str, str]]:
    """The table's columns: the partition date, then the Parquet columns, typed for the dialect."""
    types = {
        pa.string(): dialect.text,
        pa.float64(): dialect.double,
        pa.int32(): dialect.integer,
        TIMESTAMP_TYPE: dialect.timestamp,
    }
    return [(PARTITION_KEY, dialect.date)] + [(field.name, types[field.type]) for field in MATCHES_SCHEMA]


def create_table_sql(table: str, dialect: Dialect) -> list[str]:
    """``CREATE TABLE IF NOT EXISTS`` (and an index on the partition date where the syntax is portable)."""
    body = ",\n  ".join(
        f"{name} {sql_type}{' NOT NULL' if _required(name) else ''}" for name, sql_type in columns(dialect)
    )
    statements = [f"CREATE TABLE IF NOT EXISTS {table} (\n  {body}\n)"]
    if dialect.create_index:
        index = f"{table.rsplit('.', 1)[-1]}_{PARTITION_KEY}_idx"[:63]
        statements.append(f"CREATE INDEX IF NOT EXISTS {index} ON {table} ({PARTITION_KEY})")
    return statements


def _required(name: str) -> bool:
    return name == PARTITION_KEY or not MATCHES_SCHEMA.field(name).nullable


def load_partition(
    conn: Any,
    *,
    table: str,
    day: date,
    batches: Iterable[pa.RecordBatch],
    dialect_name: str,
    placeholder: str = "%s",
    expected_rows: int | None = None,
) -> LoadResult:
    """Create ``table`` if missing, then delete ``day``'s rows and insert ``batches``, in one transaction.

    Each batch is one ``executemany`` (or one COPY), so the batch size is the reader's.
    """
    if not TABLE_NAME.match(table):
        raise ValueError(f"Table name {table!r} must be [schema.]name made of letters, digits and underscores")
    dialect = DIALECTS.get(dialect_name, PORTABLE)
    cursor = conn.cursor()
    try:
        for statement in create_table_sql(table, dialect):
            cursor.execute(statement)
        conn.commit()
        cursor.execute(f"DELETE FROM {table} WHERE {PARTITION_KEY} = {placeholder}", (dialect.to_date(day),))
        deleted = max(cursor.rowcount, 0)
        insert = _copy if hasattr(cursor, "copy_expert") else _executemany
        rows = sum(
            insert(cursor, table, day, pa.Table.from_batches([batch]), dialect, placeholder) for batch in batches
        )
        if expected_rows is not None and rows != expected_rows:
            raise RuntimeError(f"Loaded {rows} rows but the partition's marker records {expected_rows}")
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    finally:
        cursor.close()
    return LoadResult(table, day.isoformat(), rows, deleted)


def _column_names() -> str:
    return ", ".join(name for name, _ in columns(PORTABLE))


def _executemany(cursor: Any, table: str, day: date, chunk: pa.Table, dialect: Dialect, placeholder: str) -> int:
    data = chunk.to_pydict()
    data["match_generated_at"] = [dialect.to_timestamp(value) for value in data["match_generated_at"]]
    values = [[dialect.to_date(day)] * chunk.num_rows] + [data[field.name] for field in MATCHES_SCHEMA]
    marks = ", ".join([placeholder] * len(values))
    cursor.executemany(f"INSERT INTO {table} ({_column_names()}) VALUES ({marks})", list(zip(*values, strict=True)))
    return chunk.num_rows


def _copy(cursor: Any, table: str, day: date, chunk: pa.Table, dialect: Dialect, placeholder: str) -> int:
    """PostgreSQL's bulk path: the chunk as CSV through ``COPY ... FROM STDIN`` (empty unquoted = NULL)."""
    with_date = chunk.add_column(0, PARTITION_KEY, pa.repeat(pa.scalar(day.isoformat()), chunk.num_rows))
    buffer = io.BytesIO()
    pacsv.write_csv(with_date, buffer, pacsv.WriteOptions(include_header=False))
    buffer.seek(0)
    cursor.copy_expert(f"COPY {table} ({_column_names()}) FROM STDIN WITH (FORMAT csv)", buffer)
    return chunk.num_rows
