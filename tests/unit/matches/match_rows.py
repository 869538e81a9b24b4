"""Rows of the match dataset with the values a SQL load gets wrong first: NULL against empty text, CSV
metacharacters, floats without a short decimal form, microsecond timestamps."""

from __future__ import annotations

from datetime import date, timedelta

import pyarrow as pa

from airflow_provider_customerprofiles.matches.schema import MATCHES_SCHEMA
from tests.unit.matches.pages import GENERATED_AT

DAY = date(2026, 11, 21)
AWKWARD_TEXT = ["", 'comma, "quote"', "line\nbreak", "\\.", "back\\slash", "NULL"]


def match_rows(count: int, start: int = 0) -> pa.Table:
    """``count`` rows in the dataset's schema, the same for the same ``start``."""
    numbers = range(start, start + count)
    return pa.table(
        {
            "match_id": [f"match-{n // 3:07d}" for n in numbers],
            "profile_id": [f"{n:07d}{'ab' * 12}" for n in numbers],
            "confidence_score": [None if n % 5 == 0 else n / 7 for n in numbers],
            "match_group_size": [3 + n % 4 for n in numbers],
            "match_generated_at": [GENERATED_AT + timedelta(seconds=n % 60, microseconds=n * 1001) for n in numbers],
            "job_id": [None if n % 3 == 0 else AWKWARD_TEXT[n % len(AWKWARD_TEXT)] for n in numbers],
            "source": ["s3_results" if n % 2 else "get_matches" for n in numbers],
        },
        schema=MATCHES_SCHEMA,
    )


def batches_of(table: pa.Table, size: int) -> list[pa.RecordBatch]:
    return table.to_batches(max_chunksize=size)
