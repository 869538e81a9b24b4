"""The export summary at its edges: one group, half a group, a slow start, and the text a person reads."""

from __future__ import annotations

from airflow_provider_customerprofiles.matches.normalize import page_to_batch
from airflow_provider_customerprofiles.matches.summary import MatchSummary, summary_text
from tests.unit.matches.pages import GENERATED_AT


def page(*groups: tuple[int, float | None]) -> dict:
    """A GetMatches page with groups of (size, score)."""
    matches = [
        {"MatchId": f"m{g}", "ProfileIds": [f"p{g}-{i}" for i in range(size)], "ConfidenceScore": score}
        for g, (size, score) in enumerate(groups)
    ]
    return {"MatchGenerationDate": GENERATED_AT, "Matches": matches}


def test_one_group_is_every_quantile():
    summary = MatchSummary()
    summary.add(page_to_batch(page((3, 0.87)), 1))

    assert summary.as_dict()["confidence_quantiles"] == {
        "p0": 0.87,
        "p10": 0.87,
        "p25": 0.87,
        "p50": 0.87,
        "p75": 0.87,
        "p90": 0.87,
        "p100": 0.87,
    }


def test_half_a_scored_group_is_enough_for_quantiles():
    summary = MatchSummary()
    batch = page_to_batch(page((2, 0.6)), 1)
    summary.add(batch.slice(0, 1))  # one of the group's two rows

    assert summary.as_dict()["confidence_quantiles"]["p50"] == 0.6


def test_the_rate_is_rows_over_the_time_elapsed_even_below_a_second():
    now = [100.0]
    summary = MatchSummary(clock=lambda: now[0])
    summary.add(page_to_batch(page((2, 0.9), (2, 0.9)), 1))
    now[0] += 0.5

    assert summary.progress_line().startswith("pages 1, rows 4, 8 rows/s, elapsed ")


def test_the_text_draws_a_bar_per_size_at_least_one_mark_long_for_any_group():
    text = summary_text(
        {
            "groups": 101,
            "rows": 203,
            "group_sizes": {"2": 100, "3": 1, "9": 0},
            "groups_without_score": 4,
            "confidence_quantiles": {"p0": 0.5, "p100": 0.99},
        }
    )

    assert text.splitlines() == [
        "101 match groups, 203 rows (one per profile in a group)",
        f"  size    2:       100 {'#' * 30}",
        "  size    3:         1 #",
        "  size    9:         0 ",
        "confidence p0 0.500, p100 0.990",
        "4 groups without a confidence score",
    ]


def test_an_empty_export_is_one_line():
    empty = {"groups": 0, "rows": 0, "group_sizes": {}, "groups_without_score": 0, "confidence_quantiles": {}}
    assert summary_text(empty) == "0 match groups, 0 rows (one per profile in a group)"


def test_counts_add_up_over_batches_and_scores_keep_three_decimals():
    summary = MatchSummary()
    summary.add(page_to_batch(page((2, None), (2, 0.0), (2, 0.5706)), 1))
    summary.add(page_to_batch(page((2, None), (2, 0.0), (2, 0.5706), (2, 1.5)), 2))

    counted = summary.as_dict()
    assert counted["groups_without_score"] == 2
    assert counted["confidence_quantiles"]["p0"] == 0.0
    assert counted["confidence_quantiles"]["p50"] == 0.57  # 0.5706 falls in the 0.570 bin, not 0.571
    assert counted["confidence_quantiles"]["p100"] == 1.0  # a score above 1 counts as 1
