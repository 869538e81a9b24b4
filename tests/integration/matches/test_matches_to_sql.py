"""Loading a partition into real SQLite and the PostgreSQL server: typed, idempotent, all-or-nothing."""

from __future__ import annotations

import json
import os
import sqlite3
from datetime import datetime, timezone

import psycopg2
import pytest

from airflow_provider_customerprofiles.matches.dataset import IncompletePartitionError, write_partition
from airflow_provider_customerprofiles.matches.location import resolve
from airflow_provider_customerprofiles.matches.normalize import stream_get_matches
from airflow_provider_customerprofiles.storage import S3Settings
from airflow_provider_customerprofiles.transfers.matches_to_sql import CustomerProfilesMatchesToSqlOperator
from tests.integration.matches.conftest import register_connection
from tests.integration.matches.statement_log import drop_statement_log, log_insert_statements
from tests.unit.matches.pages import GENERATED_AT, make_pages

WEEK_LATER = datetime(2026, 11, 28, 3, 15, tzinfo=timezone.utc)


def export(root: str, groups: int, group_size: int = 2, generated_at=GENERATED_AT, overwrite=False, s3=None) -> str:
    stream = stream_get_matches(make_pages(groups, group_size, 100, generated_at))
    return write_partition(stream, resolve(root, s3), overwrite=overwrite, row_group_rows=250).uri


@pytest.fixture(params=["sqlite", "postgres"])
def database(request, tmp_path, monkeypatch):
    """A SQL connection ``matches_db`` and a way to query it; on PostgreSQL a unique table, dropped after."""
    table = f"matches_{os.getpid()}_{request.node.name.split('[')[0][-20:]}".lower()
    if request.param == "sqlite":
        path = tmp_path / "warehouse.db"
        monkeypatch.setenv("AIRFLOW_CONN_MATCHES_DB", sqlite_connection(path))
        connect = lambda: sqlite3.connect(path)  # noqa: E731
        yield "sqlite", table, connect
        return
    dsn = request.getfixturevalue("postgres_dsn")
    monkeypatch.setenv("AIRFLOW_CONN_MATCHES_DB", dsn)
    connect = lambda: psycopg2.connect(dsn)  # noqa: E731
    yield "postgres", table, connect
    with connect() as conn, conn.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {table}")


def sqlite_connection(path) -> str:
    """A SQLite connection as JSON (the URI form's slash count differs between provider versions)."""
    return json.dumps({"conn_type": "sqlite", "host": str(path)})


def query(connect, sql: str) -> list[tuple]:
    conn = connect()
    try:
        cursor = conn.cursor()
        cursor.execute(sql)
        return cursor.fetchall()
    finally:
        conn.close()


def load(source: str, table: str, batch_size: int = 300, **kwargs) -> dict:
    return CustomerProfilesMatchesToSqlOperator(
        task_id="load", source=source, table=table, conn_id="matches_db", batch_size=batch_size, **kwargs
    ).execute({})


def test_loads_are_idempotent_per_generation_date(database, tmp_path):
    kind, table, connect = database
    first = export(str(tmp_path / "ds"), groups=1000)
    other = export(str(tmp_path / "ds"), groups=10, generated_at=WEEK_LATER)

    assert load(first, table) == {"table": table, "match_generation_date": "2026-11-21", "rows": 2000, "deleted": 0}
    assert load(other, table)["rows"] == 20
    again = load(first, table)

    assert again["rows"] == 2000 and again["deleted"] == 2000
    counts = dict(query(connect, f"SELECT match_generation_date, COUNT(*) FROM {table} GROUP BY 1"))
    assert {str(day): count for day, count in counts.items()} == {"2026-11-21": 2000, "2026-11-28": 20}
    distinct = f"SELECT COUNT(DISTINCT profile_id) FROM {table} WHERE match_generation_date = '2026-11-21'"
    assert query(connect, distinct) == [(2000,)]

    rewritten = export(str(tmp_path / "ds"), groups=50, group_size=3, overwrite=True)
    assert load(rewritten, table)["deleted"] == 2000
    counts = dict(query(connect, f"SELECT match_generation_date, COUNT(*) FROM {table} GROUP BY 1"))
    assert {str(day): count for day, count in counts.items()} == {"2026-11-21": 150, "2026-11-28": 20}
    (row,) = query(
        connect,
        f"SELECT match_id, profile_id, confidence_score, match_group_size, match_generated_at, job_id, source "
        f"FROM {table} WHERE match_id = 'match-0000001' AND profile_id LIKE '%1' AND match_group_size = 3",
    )
    assert row[:4] == ("match-0000001", "0000001" + f"{1:025x}", 0.51, 3)
    generated = row[4] if kind == "postgres" else datetime.fromisoformat(row[4])
    assert generated == GENERATED_AT and row[5:] == (None, "get_matches")


def test_columns_are_typed(database, tmp_path):
    kind, table, connect = database
    load(export(str(tmp_path / "ds"), groups=3), table)

    if kind == "sqlite":
        found = {
            name: (sql_type, notnull)
            for _, name, sql_type, notnull, _, _ in query(connect, f"PRAGMA table_info({table})")
        }
        assert found == {
            "match_generation_date": ("DATE", 1),
            "match_id": ("TEXT", 1),
            "profile_id": ("TEXT", 1),
            "confidence_score": ("REAL", 0),
            "match_group_size": ("INTEGER", 1),
            "match_generated_at": ("TIMESTAMP", 1),
            "job_id": ("TEXT", 0),
            "source": ("TEXT", 1),
        }
    else:
        found = dict(
            query(
                connect,
                f"SELECT column_name, data_type FROM information_schema.columns WHERE table_name = '{table}'",
            )
        )
        assert found == {
            "match_generation_date": "date",
            "match_id": "text",
            "profile_id": "text",
            "confidence_score": "double precision",
            "match_group_size": "integer",
            "match_generated_at": "timestamp with time zone",
            "job_id": "text",
            "source": "text",
        }


def test_a_failed_load_keeps_the_previous_rows(database, tmp_path):
    _, table, connect = database
    source = export(str(tmp_path / "ds"), groups=100)
    load(source, table)
    marker = tmp_path / "ds" / "match_generation_date=2026-11-21" / "_SUCCESS"
    marker.write_text(json.dumps({**json.loads(marker.read_text()), "rows": 999}))

    with pytest.raises(RuntimeError, match="Loaded 200 rows but the partition's marker records 999"):
        load(source, table)

    assert query(connect, f"SELECT COUNT(*) FROM {table}") == [(200,)]


def test_a_partition_without_success_marker_is_refused(database, tmp_path):
    _, table, _ = database
    source = export(str(tmp_path / "ds"), groups=5)
    (tmp_path / "ds" / "match_generation_date=2026-11-21" / "_SUCCESS").unlink()

    with pytest.raises(IncompletePartitionError, match="no _SUCCESS marker"):
        load(source, table)


def test_loads_from_s3(customer_profiles_emulator, moto_s3_server, s3_bucket, monkeypatch, tmp_path):
    register_connection(monkeypatch, customer_profiles_emulator, moto_s3_server, "aws_matches")
    monkeypatch.setenv("AIRFLOW_CONN_MATCHES_DB", sqlite_connection(tmp_path / "w.db"))
    s3 = S3Settings("testing", "testing", region="us-east-1", endpoint_url=moto_s3_server)
    source = export(f"s3://{s3_bucket}/matches", groups=123, s3=s3)

    result = load(source, "matches", aws_conn_id="aws_matches")

    assert result["rows"] == 246
    assert sqlite3.connect(tmp_path / "w.db").execute("SELECT COUNT(*) FROM matches").fetchone() == (246,)


def test_a_table_name_is_not_sql(tmp_path, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_MATCHES_DB", sqlite_connection(tmp_path / "w.db"))
    with pytest.raises(ValueError, match="Table name"):
        load(export(str(tmp_path / "ds"), groups=1), "matches; DROP TABLE x")


@pytest.mark.parametrize("database", ["postgres"], indirect=True)
def test_postgres_loads_through_copy(database, tmp_path):
    _, table, connect = database
    with connect() as conn, conn.cursor() as cursor:
        log_insert_statements(cursor, table)
    try:
        assert load(export(str(tmp_path / "ds"), groups=500), table, batch_size=300)["rows"] == 1000

        assert query(connect, f"SELECT split_part(statement, ' ', 1) FROM {table}_statements") == [("COPY",)] * 4
        assert query(connect, f"SELECT DISTINCT match_generated_at FROM {table}") == [(GENERATED_AT,)]
    finally:
        with connect() as conn, conn.cursor() as cursor:
            drop_statement_log(cursor, table)


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_sqlite_takes_main_as_the_schema(database, tmp_path):
    _, table, connect = database

    assert load(export(str(tmp_path / "ds"), groups=10), f"main.{table}")["rows"] == 20

    assert query(connect, f"SELECT COUNT(*) FROM {table}") == [(20,)]
