"""Load one partition of the match dataset into a SQL table, replacing that generation date's rows.

Works on a plain DB-API connection. The delete and the inserts run in one
transaction, so a re-run replaces rather than duplicates, and a failed load leaves
the previous rows in place. PostgreSQL gets ``COPY ... FROM STDIN`` (psycopg 3's
``cursor.copy()`` or psycopg2's ``copy_expert``); every other database gets
batched ``executemany``.

``table`` is ``name`` or ``schema.name``. On PostgreSQL the schema is a schema
that must exist; on SQLite it is a database attached to the connection (``main``
always is). A name the database would silently truncate is refused, since the
truncated name could be another table's.
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

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class TableName:
    """A checked ``[schema.]name``: plain identifiers only, so it can be put into SQL as it is."""

    schema: str | None
    name: str

    @classmethod
    def parse(cls, table: str) -> TableName:
        parts = table.split(".")
        if len(parts) > 2 or not all(IDENTIFIER.fullmatch(part) for part in parts):
            raise ValueError(
                f"Table name {table!r} (argument `table`) must be name or schema.name "
                "made of letters, digits and underscores"
            )
        return cls(*parts) if len(parts) == 2 else cls(None, table)

    def qualify(self, name: str) -> str:
        """``name`` in this table's schema."""
        return f"{self.schema}.{name}" if self.schema else name

    def __str__(self) -> str:
        return self.qualify(self.name)


def _index_on_table(table: TableName, index: str) -> str:
    # PostgreSQL creates the index in the table's schema; the index name cannot be qualified.
    return f"CREATE INDEX IF NOT EXISTS {index} ON {table} ({PARTITION_KEY})"


def _index_in_schema(table: TableName, index: str) -> str:
    # SQLite qualifies the index name and takes the table name bare, resolved in that schema.
    return f"CREATE INDEX IF NOT EXISTS {table.qualify(index)} ON {table.name} ({PARTITION_KEY})"


@dataclass(frozen=True)
class Dialect:
    """Column types, parameter conversions and naming rules for one database family."""

    name: str
    text: str
    double: str
    integer: str
    timestamp: str
    date: str = "DATE"
    index_sql: Callable[[TableName, str], str] | None = None
    schemas_sql: str | None = None
    schema_kind: str = "a schema"
    max_identifier_bytes: int | None = None
    copy: bool = False
    to_date: Callable[[date], Any] = lambda value: value
    to_timestamp: Callable[[datetime], Any] = lambda value: value.replace(tzinfo=None)


DIALECTS: dict[str, Dialect] = {
    "postgresql": Dialect(
        "PostgreSQL",
        "TEXT",
        "DOUBLE PRECISION",
        "INTEGER",
        "TIMESTAMP WITH TIME ZONE",
        index_sql=_index_on_table,
        schemas_sql="SELECT nspname FROM pg_namespace",
        max_identifier_bytes=63,  # NAMEDATALEN - 1: longer names are cut, not refused
        copy=True,
        to_timestamp=lambda value: value,
    ),
    # SQLite has no date types: ISO 8601 text sorts and compares correctly and its date functions read it.
    "sqlite": Dialect(
        "SQLite",
        "TEXT",
        "REAL",
        "INTEGER",
        "TIMESTAMP",
        index_sql=_index_in_schema,
        schemas_sql="SELECT name FROM pragma_database_list",
        schema_kind="an attached database",
        to_date=date.isoformat,
        to_timestamp=lambda value: value.isoformat(sep=" "),
    ),
}
# Databases we do not know refuse over-long names themselves (MySQL, SQL Server, Oracle), so no limit here.
PORTABLE = Dialect("this database", "VARCHAR(255)", "DOUBLE PRECISION", "INTEGER", "TIMESTAMP")


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


def index_name(table: TableName) -> str:
    return f"{table.name}_{PARTITION_KEY}_idx"


def check_identifiers(table: TableName, dialect: Dialect) -> None:
    """Refuse a schema, table or index name that ``dialect`` would truncate into some other object's name.

    Only PostgreSQL has a limit here, and it always gets the index.
    """
    limit = dialect.max_identifier_bytes
    if limit is None:
        return
    names = {"schema": table.schema, "table name": table.name, "index name": index_name(table)}
    for what, identifier in names.items():
        if identifier is not None and len(identifier.encode()) > limit:
            raise ValueError(
                f"Table name {str(table)!r} (argument `table`): its {what} {identifier!r} is "
                f"{len(identifier.encode())} bytes; {dialect.name} cuts names to {limit} bytes, "
                "and the cut name could be another table's"
            )


def create_table_sql(table: TableName, dialect: Dialect) -> list[str]:
    """``CREATE TABLE IF NOT EXISTS`` (and an index on the partition date where the syntax is known)."""
    body = ",\n  ".join(
        f"{name} {sql_type}{' NOT NULL' if _required(name) else ''}" for name, sql_type in columns(dialect)
    )
    statements = [f"CREATE TABLE IF NOT EXISTS {table} (\n  {body}\n)"]
    if dialect.index_sql:
        statements.append(dialect.index_sql(table, index_name(table)))
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
    name = TableName.parse(table)
    dialect = DIALECTS.get(dialect_name, PORTABLE)
    check_identifiers(name, dialect)
    cursor = conn.cursor()
    try:
        _check_schema(cursor, name, dialect)
        for statement in create_table_sql(name, dialect):
            cursor.execute(statement)
        conn.commit()
        cursor.execute(f"DELETE FROM {name} WHERE {PARTITION_KEY} = {placeholder}", (dialect.to_date(day),))
        deleted = max(cursor.rowcount, 0)
        insert = _inserter(cursor, dialect)
        rows = sum(insert(cursor, name, day, pa.Table.from_batches([batch]), dialect, placeholder) for batch in batches)
        if expected_rows is not None and rows != expected_rows:
            raise RuntimeError(f"Loaded {rows} rows but the partition's marker records {expected_rows}")
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    finally:
        cursor.close()
    return LoadResult(table, day.isoformat(), rows, deleted)


def _check_schema(cursor: Any, table: TableName, dialect: Dialect) -> None:
    """Name a missing schema (on SQLite: a database not attached) before a statement fails vaguely."""
    if table.schema is None or dialect.schemas_sql is None:
        return
    cursor.execute(dialect.schemas_sql)
    if table.schema.lower() not in {row[0].lower() for row in cursor.fetchall()}:
        raise ValueError(
            f"Table name {str(table)!r} (argument `table`): {table.schema!r} is not {dialect.schema_kind} "
            f"on this {dialect.name} connection"
        )


Insert = Callable[[Any, TableName, date, pa.Table, Dialect, str], int]


def _inserter(cursor: Any, dialect: Dialect) -> Insert:
    """COPY where the dialect and the driver both have it; ``executemany`` everywhere else."""
    if dialect.copy and hasattr(cursor, "copy"):
        return _copy_psycopg3
    if dialect.copy and hasattr(cursor, "copy_expert"):
        return _copy_psycopg2
    return _executemany


def _column_names() -> str:
    return ", ".join(name for name, _ in columns(PORTABLE))


def _executemany(cursor: Any, table: TableName, day: date, chunk: pa.Table, dialect: Dialect, placeholder: str) -> int:
    data = chunk.to_pydict()
    data["match_generated_at"] = [dialect.to_timestamp(value) for value in data["match_generated_at"]]
    values = [[dialect.to_date(day)] * chunk.num_rows] + [data[field.name] for field in MATCHES_SCHEMA]
    marks = ", ".join([placeholder] * len(values))
    cursor.executemany(f"INSERT INTO {table} ({_column_names()}) VALUES ({marks})", list(zip(*values, strict=True)))
    return chunk.num_rows


def copy_sql(table: TableName) -> str:
    return f"COPY {table} ({_column_names()}) FROM STDIN WITH (FORMAT csv)"


def as_csv(chunk: pa.Table, day: date) -> bytes:
    """The rows as COPY's CSV, columns in table order: strings always quoted, so only NULL is empty unquoted."""
    ordered = chunk.select(MATCHES_SCHEMA.names)
    with_date = ordered.add_column(0, PARTITION_KEY, pa.repeat(pa.scalar(day.isoformat()), chunk.num_rows))
    buffer = io.BytesIO()
    pacsv.write_csv(with_date, buffer, pacsv.WriteOptions(include_header=False))
    return buffer.getvalue()


def _copy_psycopg3(cursor: Any, table: TableName, day: date, chunk: pa.Table, dialect: Dialect, _: str) -> int:
    with cursor.copy(copy_sql(table)) as copy:
        copy.write(as_csv(chunk, day))
    return chunk.num_rows


def _copy_psycopg2(cursor: Any, table: TableName, day: date, chunk: pa.Table, dialect: Dialect, _: str) -> int:
    cursor.copy_expert(copy_sql(table), io.BytesIO(as_csv(chunk, day)))
    return chunk.num_rows
