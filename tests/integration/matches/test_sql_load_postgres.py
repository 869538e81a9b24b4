"""The SQL load engine on the PostgreSQL server: COPY with either driver, exact values, names it would cut."""

from __future__ import annotations

import os
from datetime import date

import psycopg
import psycopg2
import pytest

from airflow_provider_customerprofiles.matches.schema import MATCHES_SCHEMA
from airflow_provider_customerprofiles.matches.sql_load import PORTABLE, load_partition
from tests.integration.matches.statement_log import insert_verbs, log_insert_statements
from tests.unit.matches.match_rows import DAY, batches_of, match_rows

pytestmark = pytest.mark.postgres

DRIVERS = {"psycopg": psycopg.connect, "psycopg2": psycopg2.connect}
COLUMNS = ", ".join(["match_generation_date", *MATCHES_SCHEMA.names])


@pytest.fixture
def schema(postgres_dsn):
    """A schema of the test's own, dropped with everything in it afterwards."""
    name = f"sqlload_{os.getpid()}_{os.urandom(3).hex()}"
    with psycopg.connect(postgres_dsn, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {name}")
        yield name
        admin.execute(f"DROP SCHEMA {name} CASCADE")


@pytest.fixture(params=list(DRIVERS))
def conn(request, postgres_dsn, schema):
    """A connection through psycopg 3 (what the Airflow hook hands out) or psycopg2.

    It depends on ``schema`` so it is closed first: a failed test's open transaction must not
    make the schema's DROP wait for ever.
    """
    connection = DRIVERS[request.param](postgres_dsn)
    yield connection
    connection.close()


def load(conn, table, rows, day=DAY, dialect="postgresql", batch_rows=10):
    return load_partition(conn, table=table, day=day, batches=batches_of(rows, batch_rows), dialect_name=dialect)


def fetch(conn, sql: str) -> list[tuple]:
    cursor = conn.cursor()
    try:
        cursor.execute(sql)
        return cursor.fetchall()
    finally:
        cursor.close()
        conn.commit()


def prepare(conn, statements) -> None:
    cursor = conn.cursor()
    statements(cursor)
    cursor.close()
    conn.commit()


def expected_rows(rows, day=DAY, aware=True) -> list[tuple]:
    return [
        (
            day,
            row["match_id"],
            row["profile_id"],
            row["confidence_score"],
            row["match_group_size"],
            row["match_generated_at"] if aware else row["match_generated_at"].replace(tzinfo=None),
            row["job_id"],
            row["source"],
        )
        for row in rows.to_pylist()
    ]


def stored(conn, table) -> list[tuple]:
    return fetch(conn, f"SELECT {COLUMNS} FROM {table} ORDER BY profile_id")


def test_postgres_loads_every_batch_through_copy_with_either_driver(conn, schema):
    table = f"{schema}.matches"
    prepare(conn, lambda cursor: log_insert_statements(cursor, table))
    rows = match_rows(25)

    result = load(conn, table, rows)

    assert (result.rows, result.deleted) == (25, 0)
    assert insert_verbs(conn.cursor(), table) == ["COPY"] * 3
    assert stored(conn, table) == expected_rows(rows)


def test_a_copy_reload_replaces_that_day_only(conn, schema):
    table = f"{schema}.matches"
    load(conn, table, match_rows(25))
    load(conn, table, match_rows(4, start=100), day=date(2026, 11, 28))
    replacement = match_rows(13, start=200)

    result = load(conn, table, replacement)

    assert (result.rows, result.deleted) == (13, 25)
    assert stored(conn, table) == expected_rows(match_rows(4, start=100), date(2026, 11, 28)) + expected_rows(
        replacement
    )


def test_a_failing_copy_keeps_the_previous_rows(conn, schema):
    table = f"{schema}.matches"
    rows = match_rows(25)
    load(conn, table, rows)

    def failing_batches():
        yield from batches_of(match_rows(10, start=500), 10)
        raise OSError("the partition's file went away")

    with pytest.raises(OSError, match="went away"):
        load_partition(conn, table=table, day=DAY, batches=failing_batches(), dialect_name="postgresql")

    assert stored(conn, table) == expected_rows(rows)


def test_an_unknown_dialect_inserts_with_executemany(conn, schema):
    table = f"{schema}.matches"
    prepare(conn, lambda cursor: log_insert_statements(cursor, table, PORTABLE))
    rows = match_rows(12)

    load(conn, table, rows, dialect="somedb")

    assert insert_verbs(conn.cursor(), table) == ["INSERT"] * 12
    assert stored(conn, table) == expected_rows(rows, aware=False)


def test_a_schema_qualified_table_gets_its_index_in_that_schema(conn, schema):
    load(conn, f"{schema}.matches", match_rows(5))

    assert fetch(conn, f"SELECT tablename, indexname FROM pg_indexes WHERE schemaname = '{schema}'") == [
        ("matches", "matches_match_generation_date_idx")
    ]


def test_a_missing_schema_is_refused_by_name(conn):
    with pytest.raises(ValueError, match=r"'no_such_schema' is not a schema on this PostgreSQL connection"):
        load(conn, "no_such_schema.matches", match_rows(5))


def test_a_long_name_never_reaches_the_table_it_would_be_cut_to(conn, schema):
    """PostgreSQL cuts ``rel_aaa…_two`` to the same 63 bytes as ``rel_aaa…_one``: the load must not go there."""
    long_one, long_two = (f"{schema}.rel_{'a' * 70}_{suffix}" for suffix in ("one", "two"))
    cut = long_one[: len(schema) + 1 + 63]
    load(conn, f"{schema}.victim", match_rows(25))
    prepare(conn, lambda cursor: cursor.execute(f"ALTER TABLE {schema}.victim RENAME TO {cut.split('.')[1]}"))
    assert stored(conn, long_one) == expected_rows(match_rows(25))

    with pytest.raises(ValueError, match=r"its table name 'rel_a+_two' is 78 bytes; PostgreSQL cuts names to 63"):
        load(conn, long_two, match_rows(3, start=100))

    assert stored(conn, cut) == expected_rows(match_rows(25))


def test_a_name_whose_index_name_would_be_cut_is_refused(conn, schema):
    """Two such tables would share one cut index name, and the second would silently get no index."""
    table = f"{schema}.{'p' * 37}_first"

    with pytest.raises(ValueError, match=r"its index name 'p{37}_first_match_generation_date_idx' is 69 bytes"):
        load(conn, table, match_rows(3))

    assert fetch(conn, f"SELECT tablename FROM pg_tables WHERE schemaname = '{schema}'") == []
