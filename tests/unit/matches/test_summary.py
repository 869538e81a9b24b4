"""Readable exports: progress lines while the export runs and a summary (counts only) at the end."""

from __future__ import annotations

import itertools
import logging
import statistics
import time

import pytest

from airflow_provider_customerprofiles.matches.dataset import write_partition
from airflow_provider_customerprofiles.matches.location import resolve
from airflow_provider_customerprofiles.matches.normalize import page_to_batch, stream_get_matches
from airflow_provider_customerprofiles.matches.summary import MatchSummary, summary_text
from tests.unit.matches.pages import make_pages

GROUPS = 250  # make_pages scores group i 0.5 + (i % 50) / 100


def mixed_pages():
    """120 groups of two profiles, then 30 groups of five, on separate pages."""
    yield from make_pages(120, group_size=2, page_size=50)
    for page in make_pages(30, group_size=5, page_size=50):
        for match in page["Matches"]:
            match["MatchId"] = "five-" + match["MatchId"]
        yield page


def test_summary_counts_groups_rows_sizes_and_confidence_quantiles(tmp_path):
    result = write_partition(stream_get_matches(make_pages(GROUPS, group_size=3)), resolve(str(tmp_path)))

    summary = result.summary
    assert summary["groups"] == GROUPS and summary["rows"] == 3 * GROUPS
    assert summary["group_sizes"] == {"3": GROUPS}
    assert summary["groups_without_score"] == 0
    scores = sorted(0.5 + (i % 50) / 100 for i in range(GROUPS))
    quantiles = summary["confidence_quantiles"]
    assert quantiles["p0"] == min(scores) and quantiles["p100"] == max(scores)
    assert quantiles["p50"] == pytest.approx(statistics.median_low(scores), abs=0.011)


def test_group_size_histogram_counts_groups_not_rows(tmp_path):
    result = write_partition(stream_get_matches(mixed_pages()), resolve(str(tmp_path)))

    assert result.summary["group_sizes"] == {"2": 120, "5": 30}
    assert result.summary["groups"] == 150 and result.rows == 120 * 2 + 30 * 5
    lines = summary_text(result.summary).splitlines()
    assert lines[0] == "150 match groups, 390 rows (one per profile in a group)"
    two, five = lines[1:3]
    assert two.endswith("#" * 30) and "120" in two
    assert five.endswith(" " + "#" * 8) and "30" in five  # 30/120 of the widest bar
    assert lines[3].startswith("confidence p0 0.500, p10 ")


def test_groups_without_a_score_are_counted_apart():
    pages = list(make_pages(10, group_size=2))
    for match in pages[0]["Matches"][:4]:
        del match["ConfidenceScore"]
    summary = MatchSummary()
    summary.add(page_to_batch(pages[0], 1))

    assert summary.as_dict()["groups_without_score"] == 4
    assert sum(summary.as_dict()["group_sizes"].values()) == 10


def test_an_empty_generation_has_no_quantiles():
    assert MatchSummary().as_dict() == {
        "groups": 0,
        "rows": 0,
        "group_sizes": {},
        "groups_without_score": 0,
        "confidence_quantiles": {},
    }


def test_progress_line_reports_pages_rows_rate_and_elapsed():
    ticks = itertools.count(start=100.0, step=4.0)  # 4 s pass on every clock read
    summary = MatchSummary(clock=lambda: next(ticks))
    for number, page in enumerate(make_pages(300, group_size=2, page_size=100), start=1):
        summary.add(page_to_batch(page, number))

    assert summary.progress_line() == "pages 3, rows 600, 150 rows/s, elapsed 0m04s"


def test_the_export_logs_progress_and_a_summary_but_no_ids(tmp_path, caplog):
    def slow_pages():
        for page in make_pages(GROUPS, group_size=2, page_size=50):
            yield page
            time.sleep(0.05)  # slower than the progress interval: progress lines appear

    with caplog.at_level(logging.INFO, logger="airflow_provider_customerprofiles.matches.dataset"):
        write_partition(stream_get_matches(slow_pages(), read_ahead=0), resolve(str(tmp_path)), progress_interval=0.01)

    messages = [record.getMessage() for record in caplog.records]
    assert any(m.startswith("Match export progress: pages ") for m in messages)
    assert f"Match export finished: pages 5, rows {2 * GROUPS}, " in "\n".join(messages)
    assert any(m.startswith(f"Match export summary for 2026-11-21:\n{GROUPS} match groups") for m in messages)
    pages = list(make_pages(GROUPS, group_size=2, page_size=50))
    ids = [value for page in pages for match in page["Matches"] for value in (match["MatchId"], *match["ProfileIds"])]
    text = caplog.text
    assert not [value for value in ids if value in text]


def test_a_skipped_rerun_reports_the_same_summary(tmp_path):
    first = write_partition(stream_get_matches(mixed_pages()), resolve(str(tmp_path)))
    again = write_partition(stream_get_matches(mixed_pages()), resolve(str(tmp_path)))

    assert again.skipped and again.summary == first.summary
