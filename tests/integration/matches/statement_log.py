"""Which statements inserted rows into a PostgreSQL table, as the server saw them.

A statement-level trigger records ``current_query()`` for every statement that inserts into the
table: a COPY shows up once per COPY, an ``executemany`` once per row's INSERT. This observes the
path a load took through the database itself, with no spy on the driver.
"""

from __future__ import annotations

from airflow_provider_customerprofiles.matches.sql_load import DIALECTS, Dialect, TableName, create_table_sql


def log_insert_statements(cursor, table: str, dialect: Dialect = DIALECTS["postgresql"]) -> None:
    """Create ``table`` (as the load would) with a trigger that logs each inserting statement."""
    log = f"{table}_statements"
    name = TableName.parse(table)
    for statement in create_table_sql(name, dialect):
        cursor.execute(statement)
    cursor.execute(f"CREATE TABLE {log} (id SERIAL PRIMARY KEY, statement TEXT)")
    cursor.execute(
        f"CREATE FUNCTION {log}_fn() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN INSERT INTO {log} (statement) VALUES (current_query()); RETURN NULL; END $$"
    )
    cursor.execute(
        f"CREATE TRIGGER {name.name}_log AFTER INSERT ON {table} FOR EACH STATEMENT EXECUTE FUNCTION {log}_fn()"
    )


def insert_verbs(cursor, table: str) -> list[str]:
    """The first word of each logged statement, in order (``COPY`` or ``INSERT``)."""
    cursor.execute(f"SELECT split_part(ltrim(statement), ' ', 1) FROM {table}_statements ORDER BY id")
    return [row[0].upper() for row in cursor.fetchall()]


def drop_statement_log(cursor, table: str) -> None:
    cursor.execute(f"DROP TABLE IF EXISTS {table}_statements")
    cursor.execute(f"DROP FUNCTION IF EXISTS {table}_statements_fn() CASCADE")
