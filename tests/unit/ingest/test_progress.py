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
