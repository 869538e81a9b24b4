"""GetMatches pages as a stream: no pages, a first page without a generation, and which page a refusal names."""

from __future__ import annotations

import pytest

from airflow_provider_customerprofiles.matches.normalize import stream_get_matches
from tests.unit.matches.pages import GENERATED_AT, make_pages


def test_no_pages_or_no_generation_yet_is_a_stream_without_batches():
    for pages in ([], [{"Matches": []}]):
        stream = stream_get_matches(iter(pages))
        assert (stream.generated_at, list(stream.batches), stream.source) == (None, [], "get_matches")


def test_pages_are_numbered_from_one_in_a_refusal():
    good, bad = make_pages(2, page_size=1)
    bad["Matches"][0].pop("MatchId")

    with pytest.raises(ValueError, match=r"^GetMatches page 1 holds a match without MatchId$"):
        list(stream_get_matches([bad]).batches)
    with pytest.raises(ValueError, match=r"^GetMatches page 2 holds a match without MatchId$"):
        list(stream_get_matches([good, bad]).batches)
    with pytest.raises(ValueError, match=r"^GetMatches page 3 holds a match without MatchId$"):
        list(stream_get_matches([good, good, bad]).batches)


def test_the_stream_names_its_source_and_generation():
    stream = stream_get_matches(make_pages(3))
    assert (stream.source, stream.generated_at, stream.job_id) == ("get_matches", GENERATED_AT, None)
