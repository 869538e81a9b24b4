"""The ingest progress line: counts, the rate of this try only, and an ETA from it."""

from __future__ import annotations

from airflow_provider_customerprofiles.ingest.progress import IngestProgress


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_rate_and_eta_count_only_rows_done_since_the_start():
    clock = Clock()
    counts = [400, 1000, 2, 3, 4]  # 400 rows were done by an earlier try
    progress = IngestProgress(lambda: tuple(counts), clock)

    clock.now += 10
    counts[0] = 600

    assert progress.line() == ("rows 600/1000 (60.0%), 20 rows/s, ETA 0m20s, dead-lettered 4, retries 2, throttles 3")


def test_no_rows_yet_means_an_unknown_eta_and_no_rows_to_load_is_done():
    assert "0 rows/s, ETA unknown" in IngestProgress(lambda: (0, 10, 0, 0, 0), Clock()).line()
    assert IngestProgress(lambda: (0, 0, 0, 0, 0), Clock()).line().startswith("rows 0/0 (100.0%)")


def test_rate_over_less_than_a_second_is_per_second():
    clock = Clock()
    counts = [0, 1000, 0, 0, 0]
    progress = IngestProgress(lambda: tuple(counts), clock)

    clock.now += 0.25
    counts[0] = 50

    assert "rows 50/1000 (5.0%), 200 rows/s, ETA 0m04s" in progress.line()


def test_a_rate_under_one_row_a_second_still_gives_an_eta():
    clock = Clock()
    counts = [0, 10, 0, 0, 0]
    progress = IngestProgress(lambda: tuple(counts), clock)

    clock.now += 4
    counts[0] = 2  # 0.5 rows/s: 8 rows left take 16 s

    assert "ETA 0m16s" in progress.line()
