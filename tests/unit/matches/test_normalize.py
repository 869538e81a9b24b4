"""GetMatches pages -> normalized rows."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from airflow_provider_customerprofiles.matches.normalize import page_to_batch, stream_get_matches
from airflow_provider_customerprofiles.matches.schema import MATCHES_SCHEMA
from tests.unit.matches.pages import GENERATED_AT, make_pages


def test_a_page_becomes_one_row_per_profile():
    page = {
        "MatchGenerationDate": datetime(2026, 11, 21, 5, 0, tzinfo=timezone(timedelta(hours=2))),
        "Matches": [
            {"MatchId": "a", "ProfileIds": ["p1", "p2", "p3"], "ConfidenceScore": 0.8},
            {"MatchId": "b", "ProfileIds": ["p4", "p5"]},
        ],
    }

    batch = page_to_batch(page, 1)

    assert batch.schema == MATCHES_SCHEMA
    assert batch.column("match_id").to_pylist() == ["a", "a", "a", "b", "b"]
    assert batch.column("profile_id").to_pylist() == ["p1", "p2", "p3", "p4", "p5"]
    assert batch.column("confidence_score").to_pylist() == [0.8, 0.8, 0.8, None, None]
    assert batch.column("match_group_size").to_pylist() == [3, 3, 3, 2, 2]
    assert set(batch.column("match_generated_at").to_pylist()) == {datetime(2026, 11, 21, 3, 0, tzinfo=timezone.utc)}
    assert set(batch.column("job_id").to_pylist()) == {None}
    assert set(batch.column("source").to_pylist()) == {"get_matches"}


def test_a_match_without_id_is_refused():
    with pytest.raises(ValueError, match="page 3 holds a match without MatchId"):
        page_to_batch({"MatchGenerationDate": GENERATED_AT, "Matches": [{"ProfileIds": ["x"]}]}, 3)


def test_the_stream_knows_the_generation_after_one_page_and_reads_the_rest_lazily():
    read = []

    def pages():
        for page in make_pages(450, page_size=100):
            read.append(page)
            yield page

    stream = stream_get_matches(pages(), read_ahead=0)

    assert stream.generated_at == GENERATED_AT and len(read) == 1
    assert sum(batch.num_rows for batch in stream.batches) == 900 and len(read) == 5
