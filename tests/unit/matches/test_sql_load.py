"""The SQL load engine on real SQLite, and the naming rules it applies before touching any database."""

from __future__ import annotations

import io
import sqlite3
from datetime import date

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from airflow_provider_customerprofiles.matches.schema import MATCHES_SCHEMA, PARTITION_KEY
from airflow_provider_customerprofiles.matches.sql_load import (
    DIALECTS,
    PORTABLE,
    TableName,
    as_csv,
    check_identifiers,
    load_partition,
)
from tests.plain_ids import plain_id
from tests.unit.matches.match_rows import DAY, batches_of, match_rows

COLUMNS = ", ".join(["match_generation_date", *MATCHES_SCHEMA.names])


@pytest.fixture
def conn(tmp_path):
    connection = sqlite3.connect(tmp_path / "warehouse.db")
    yield connection
    connection.close()


def load(conn, table="matches", day=DAY, rows=None, dialect="sqlite", **kwargs):
    rows = match_rows(25) if rows is None else rows
    return load_partition(
        conn, table=table, day=day, batches=batches_of(rows, 10), dialect_name=dialect, placeholder="?", **kwargs
    )


def expected_sqlite_rows(rows, day=DAY, offset=True) -> list[tuple]:
    """What SQLite must hold: ISO dates, timestamps as ``YYYY-MM-DD HH:MM:SS[.ffffff][+00:00]``, the rest as given."""
    return [
        (
            day.isoformat(),
            row["match_id"],
            row["profile_id"],
            row["confidence_score"],
            row["match_group_size"],
            (row["match_generated_at"] if offset else row["match_generated_at"].replace(tzinfo=None)).isoformat(
                sep=" "
            ),
            row["job_id"],
            row["source"],
        )
        for row in rows.to_pylist()
    ]


def stored(conn, table="matches") -> list[tuple]:
    return conn.execute(f"SELECT {COLUMNS} FROM {table} ORDER BY profile_id").fetchall()


def indexes(conn, table="matches", schema="main") -> list[str]:
    return [row[1] for row in conn.execute(f"PRAGMA {schema}.index_list({table})")]


@pytest.mark.parametrize(
    "table",
    ["matches\n", "matches\t", "a.b.c", "1matches", "", "main.", ".matches", "a-b", "matches; DROP TABLE x", "mätches"],
    ids=plain_id,
)
def test_a_table_name_must_be_plain_identifiers(conn, table):
    with pytest.raises(ValueError) as refused:
        load(conn, table=table)

    assert str(refused.value) == (
        f"Table name {table!r} (argument `table`) must be name or schema.name made of letters, digits and underscores"
    )
    assert conn.execute("SELECT name FROM sqlite_master").fetchall() == []


def test_table_names_split_into_schema_and_name():
    assert TableName.parse("analytics.matches") == TableName("analytics", "matches")
    assert TableName.parse("matches") == TableName(None, "matches")
    assert str(TableName.parse("analytics.matches")) == "analytics.matches"
    assert str(TableName.parse("matches")) == "matches"


def test_every_value_is_stored_as_read(conn):
    rows = match_rows(25)

    result = load(conn, rows=rows)

    assert result.as_dict() == {"table": "matches", "match_generation_date": "2026-11-21", "rows": 25, "deleted": 0}
    assert stored(conn) == expected_sqlite_rows(rows)
    assert indexes(conn) == ["matches_match_generation_date_idx"]


def test_a_reload_replaces_only_its_own_day(conn):
    other_day = date(2026, 11, 28)
    load(conn, rows=match_rows(25))
    load(conn, day=other_day, rows=match_rows(7, start=100))
    replacement = match_rows(12, start=200)

    result = load(conn, rows=replacement)

    assert (result.rows, result.deleted) == (12, 25)
    assert stored(conn) == expected_sqlite_rows(match_rows(7, start=100), other_day) + expected_sqlite_rows(replacement)


def test_a_failed_insert_keeps_the_previous_rows(conn):
    rows = match_rows(25)
    load(conn, rows=rows)

    def failing_batches():
        yield from batches_of(match_rows(10, start=500), 10)
        raise OSError("the partition's file went away")

    with pytest.raises(OSError, match="went away"):
        load_partition(
            conn, table="matches", day=DAY, batches=failing_batches(), dialect_name="sqlite", placeholder="?"
        )

    assert stored(conn) == expected_sqlite_rows(rows)


def test_a_row_count_other_than_the_marker_s_keeps_the_previous_rows(conn):
    rows = match_rows(25)
    load(conn, rows=rows, expected_rows=25)

    with pytest.raises(RuntimeError, match="Loaded 12 rows but the partition's marker records 13"):
        load(conn, rows=match_rows(12, start=100), expected_rows=13)

    assert stored(conn) == expected_sqlite_rows(rows)


def test_main_schema_on_sqlite(conn):
    rows = match_rows(25)

    load(conn, table="main.matches", rows=rows)
    again = load(conn, table="MAIN.matches", rows=rows)

    assert again.deleted == 25
    assert stored(conn) == expected_sqlite_rows(rows)
    assert indexes(conn) == ["matches_match_generation_date_idx"]


def test_an_attached_database_is_a_schema_on_sqlite(conn, tmp_path):
    conn.execute("ATTACH DATABASE ? AS warehouse", (str(tmp_path / "attached.db"),))
    rows = match_rows(25)

    load(conn, table="warehouse.matches", rows=rows)

    assert stored(conn, "warehouse.matches") == expected_sqlite_rows(rows)
    assert indexes(conn, schema="warehouse") == ["matches_match_generation_date_idx"]
    assert conn.execute("SELECT name FROM main.sqlite_master").fetchall() == []


def test_a_schema_that_is_not_attached_is_refused_by_name(conn):
    with pytest.raises(ValueError) as refused:
        load(conn, table="analytics.matches")

    assert str(refused.value) == (
        "Table name 'analytics.matches' (argument `table`): 'analytics' is not an attached database "
        "on this SQLite connection"
    )
    assert conn.execute("SELECT name FROM sqlite_master").fetchall() == []


def test_sqlite_takes_long_names(conn):
    table = "m" * 300
    rows = match_rows(5)

    load(conn, table=table, rows=rows)

    assert stored(conn, table) == expected_sqlite_rows(rows)
    assert indexes(conn, table) == [f"{table}_match_generation_date_idx"]


def test_an_unknown_database_gets_portable_types_and_no_index(conn):
    rows = match_rows(25)

    result = load(conn, table="matches", rows=rows, dialect="somedb")

    assert result.rows == 25
    types = {
        name: (sql_type, notnull) for _, name, sql_type, notnull, _, _ in conn.execute("PRAGMA table_info(matches)")
    }
    assert types == {
        "match_generation_date": ("DATE", 1),
        "match_id": ("VARCHAR(255)", 1),
        "profile_id": ("VARCHAR(255)", 1),
        "confidence_score": ("DOUBLE PRECISION", 0),
        "match_group_size": ("INTEGER", 1),
        "match_generated_at": ("TIMESTAMP", 1),
        "job_id": ("VARCHAR(255)", 0),
        "source": ("VARCHAR(255)", 1),
    }
    assert indexes(conn) == []
    # The portable types take naive UTC datetimes, which sqlite3's own adapter stores as ISO text.
    assert stored(conn) == expected_sqlite_rows(rows, offset=False)


POSTGRES = DIALECTS["postgresql"]


@pytest.mark.parametrize("table", ["t" * 37, "s" * 63 + "." + "t" * 37])
def test_postgres_names_within_63_bytes_pass(table):
    check_identifiers(TableName.parse(table), POSTGRES)


@pytest.mark.parametrize(
    ("table", "what", "size"),
    [
        ("t" * 38, f"index name '{'t' * 38}_match_generation_date_idx'", 64),
        ("rel_" + "a" * 70 + "_two", "table name", 78),
        ("t" * 64, "table name", 64),
        ("s" * 64 + ".t", "schema", 64),
        ("s.t" + "t" * 37, "index name", 64),
    ],
)
def test_postgres_names_it_would_truncate_are_refused(table, what, size):
    with pytest.raises(ValueError) as refused:
        check_identifiers(TableName.parse(table), POSTGRES)

    assert str(refused.value).startswith(f"Table name {table!r} (argument `table`): its {what}")
    assert str(refused.value).endswith(
        f" is {size} bytes; PostgreSQL cuts names to 63 bytes, and the cut name could be another table's"
    )


@pytest.mark.parametrize("dialect", [DIALECTS["sqlite"], PORTABLE])
def test_only_postgres_limits_names(dialect):
    check_identifiers(TableName.parse("s" * 200 + "." + "t" * 200), dialect)


def test_the_copy_csv_reads_back_as_the_rows_under_postgres_csv_rules():
    """COPY's CSV format: an unquoted empty field is NULL, a quoted one is empty text; columns in table order."""
    rows = match_rows(25)
    shuffled = rows.select(list(reversed(MATCHES_SCHEMA.names)))

    csv = as_csv(shuffled, DAY)

    back = pacsv.read_csv(
        io.BytesIO(csv),
        read_options=pacsv.ReadOptions(column_names=[PARTITION_KEY, *MATCHES_SCHEMA.names]),
        parse_options=pacsv.ParseOptions(newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(
            column_types={PARTITION_KEY: pa.date32(), **{field.name: field.type for field in MATCHES_SCHEMA}},
            null_values=[""],
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
        ),
    )
    assert back.column(PARTITION_KEY).to_pylist() == [DAY] * 25
    assert back.drop_columns([PARTITION_KEY]).to_pylist() == rows.to_pylist()
