"""GetMatches pages at their edges: missing lists, missing dates, and datetimes in other zones or none."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pyarrow as pa
import pytest

from airflow_provider_customerprofiles.matches.normalize import (
    as_utc,
    constant_columns,
    page_to_batch,
    stream_get_matches,
)
from airflow_provider_customerprofiles.matches.schema import MATCHES_SCHEMA, TIMESTAMP_TYPE
from tests.unit.matches.pages import GENERATED_AT, make_pages

PLUS_TWO = timezone(timedelta(hours=2))


@pytest.fixture
def machine_in_another_zone() -> Iterator[None]:
    """The process's local time zone set to UTC+05:30, as on a worker outside UTC; restored afterwards."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "Asia/Kolkata"
    time.tzset()
    try:
        yield
    finally:
        if before is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = before
        time.tzset()


def test_as_utc_takes_naive_values_as_utc_and_converts_aware_ones():
    naive, aware = as_utc(datetime(2026, 11, 21, 3, 15)), as_utc(datetime(2026, 11, 21, 5, 15, tzinfo=PLUS_TWO))
    assert (naive, naive.tzinfo) == (GENERATED_AT, timezone.utc)
    assert (aware, aware.tzinfo) == (GENERATED_AT, timezone.utc)


def test_as_utc_ignores_the_machines_time_zone(machine_in_another_zone):
    assert datetime(2026, 11, 21, 3, 15).astimezone().utcoffset() == timedelta(hours=5, minutes=30)
    for value in (datetime(2026, 11, 21, 3, 15), datetime(2026, 11, 21, 5, 15, tzinfo=PLUS_TWO)):
        converted = as_utc(value)
        assert (converted, converted.tzinfo, converted.hour) == (GENERATED_AT, timezone.utc, 3)


def test_constant_columns_repeat_their_values_on_every_row():
    generated, job, source = constant_columns(3, datetime(2026, 11, 21, 5, 15, tzinfo=PLUS_TWO), "job-1", "s3")
    assert (generated.type, job.type, source.type) == (TIMESTAMP_TYPE, pa.string(), pa.string())
    assert generated.to_pylist() == [GENERATED_AT] * 3
    assert (job.to_pylist(), source.to_pylist()) == (["job-1"] * 3, ["s3"] * 3)


def test_constant_columns_without_a_generation_or_job_are_null():
    generated, job, source = constant_columns(2, None, None, "get_matches")
    assert (generated.to_pylist(), job.to_pylist(), source.to_pylist()) == ([None] * 2, [None] * 2, ["get_matches"] * 2)
    assert (generated.type, job.type, source.type) == (TIMESTAMP_TYPE, pa.string(), pa.string())


@pytest.mark.parametrize(
    "page",
    [{}, {"Matches": None}, {"Matches": []}, {"Matches": [{"MatchId": "m", "ProfileIds": None}]}],
    ids=["no-matches-key", "null-matches", "empty-matches", "match-without-profiles"],
)
def test_a_page_without_profiles_is_an_empty_batch_even_without_a_date(page):
    batch = page_to_batch(page, 1)
    assert batch.schema == MATCHES_SCHEMA and batch.num_rows == 0


def test_a_match_without_profiles_adds_no_rows_beside_other_matches():
    page = {
        "MatchGenerationDate": GENERATED_AT,
        "Matches": [{"MatchId": "a", "ProfileIds": []}, {"MatchId": "b", "ProfileIds": ["p1", "p2"]}],
    }
    batch = page_to_batch(page, 1)
    assert batch.column("match_id").to_pylist() == ["b", "b"]
    assert batch.column("match_group_size").to_pylist() == [2, 2]


def test_an_empty_match_id_is_refused_naming_the_page_only():
    page = {"MatchGenerationDate": GENERATED_AT, "Matches": [{"MatchId": "", "ProfileIds": ["secret-profile"]}]}
    with pytest.raises(ValueError, match=r"^GetMatches page 7 holds a match without MatchId$"):
        page_to_batch(page, 7)


def test_matches_without_a_generation_date_are_refused():
    page = {"Matches": [{"MatchId": "m", "ProfileIds": ["p"]}]}
    with pytest.raises(ValueError, match=r"^GetMatches page 4 holds matches but no MatchGenerationDate$"):
        page_to_batch(page, 4)


def test_a_stream_converts_its_generation_to_utc_on_the_stream_and_every_row():
    naive = [dict(page, MatchGenerationDate=datetime(2026, 11, 21, 3, 15)) for page in make_pages(3, page_size=2)]
    for pages in (naive, list(make_pages(3, page_size=2, generated_at=GENERATED_AT.astimezone(PLUS_TWO)))):
        stream = stream_get_matches(pages)
        assert (stream.generated_at, stream.generated_at.tzinfo) == (GENERATED_AT, timezone.utc)
        rows = [value for batch in stream.batches for value in batch.column("match_generated_at").to_pylist()]
        assert rows == [GENERATED_AT] * 6


def test_a_stream_yields_every_page_in_order_with_the_first_one_first():
    pages = list(make_pages(5, group_size=1, page_size=2))
    stream = stream_get_matches(pages, read_ahead=1)
    batches = list(stream.batches)
    assert [batch.num_rows for batch in batches] == [2, 2, 1]
    ids = [value for batch in batches for value in batch.column("match_id").to_pylist()]
    assert ids == [f"match-{i:07d}" for i in range(5)]
