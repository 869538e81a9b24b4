"""
Benchmark: loading a match partition into PostgreSQL through COPY against ``executemany``.

    python tests/benchmarks/bench_sql_load.py                  # 1,000,000 rows
    python tests/benchmarks/bench_sql_load.py --rows 100000    # quicker

Both runs go through ``load_partition`` on a psycopg 3 connection (what the Airflow
PostgreSQL hook hands out) into the same table definition, with the index, in batches of
``--batch-rows`` (the operator's default ``batch_size``). The only difference is the insert
path: the PostgreSQL dialect as shipped (COPY), and the same dialect with COPY turned off
(``executemany``, which psycopg 3 pipelines). Rows are generated in memory before the clock
starts, so only the load is timed. Prints rows/s for each and their ratio, measured in one run.

Needs the PostgreSQL server (default ``postgresql://postgres@127.0.0.1:5432/test``, or ``--dsn``).
Not part of the test suite (pytest does not collect it).
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

import psycopg
import pyarrow as pa

from airflow_provider_customerprofiles.matches.schema import MATCHES_SCHEMA
from airflow_provider_customerprofiles.matches.sql_load import DIALECTS, load_partition

DAY = date(2026, 11, 21)
GENERATED_AT = datetime(2026, 11, 21, 3, 15, tzinfo=timezone.utc)
EXECUTEMANY = "postgresql-executemany"


def batches(rows: int, batch_rows: int) -> list[pa.RecordBatch]:
    """``rows`` match rows shaped like a GetMatches export (groups of 2, a score, no job id)."""
    numbers = range(rows)
    table = pa.table(
        {
            "match_id": [f"match-{n // 2:09d}" for n in numbers],
            "profile_id": [f"{n:032x}" for n in numbers],
            "confidence_score": [0.5 + (n % 50) / 100 for n in numbers],
            "match_group_size": [2] * rows,
            "match_generated_at": [GENERATED_AT + timedelta(microseconds=n) for n in numbers],
            "job_id": [None] * rows,
            "source": ["get_matches"] * rows,
        },
        schema=MATCHES_SCHEMA,
    )
    return table.to_batches(max_chunksize=batch_rows)


def timed_load(dsn: str, table: str, dialect: str, data: list[pa.RecordBatch]) -> float:
    """Seconds for one load into a freshly dropped ``table``."""
    with psycopg.connect(dsn, autocommit=True) as admin:
        admin.execute(f"DROP TABLE IF EXISTS {table}")
    conn = psycopg.connect(dsn)
    try:
        started = time.perf_counter()
        result = load_partition(conn, table=table, day=DAY, batches=data, dialect_name=dialect)
        elapsed = time.perf_counter() - started
    finally:
        conn.close()
    with psycopg.connect(dsn, autocommit=True) as admin:
        (stored,) = admin.execute(f"SELECT COUNT(*) FROM {table}").fetchone()
        admin.execute(f"DROP TABLE {table}")
    expected = sum(batch.num_rows for batch in data)
    if result.rows != expected or stored != expected:
        raise SystemExit(f"{dialect}: loaded {result.rows}, stored {stored}, expected {expected}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batch-rows", type=int, default=10_000)
    parser.add_argument("--dsn", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()

    DIALECTS[EXECUTEMANY] = replace(DIALECTS["postgresql"], copy=False)
    data = batches(args.rows, args.batch_rows)
    print(f"{args.rows:,} rows in batches of {args.batch_rows:,} into PostgreSQL (psycopg {psycopg.__version__})")
    rates = {}
    for label, dialect in (("COPY", "postgresql"), ("executemany", EXECUTEMANY)):
        seconds = timed_load(args.dsn, "bench_sql_load", dialect, data)
        rates[label] = args.rows / seconds
        print(f"  {label:<12} {seconds:8.2f} s  {rates[label]:>10,.0f} rows/s")
    print(f"  COPY / executemany: {rates['COPY'] / rates['executemany']:.1f}x")


if __name__ == "__main__":
    main()
