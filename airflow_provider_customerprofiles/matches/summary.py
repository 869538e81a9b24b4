"""What a match export wrote, in numbers a person can eyeball: progress while it runs, a summary at the end.

Counts only (groups, rows, group sizes, confidence scores), never ids: memory stays
bounded whatever the export's size. Every row of a group carries the group's size and
score, so a row counts as ``1/size`` of its group; confidence quantiles come from a
histogram of per-group scores in steps of 0.001.
"""

from __future__ import annotations

import time
from bisect import bisect_left
from collections.abc import Callable, Iterator
from itertools import accumulate
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from airflow_provider_customerprofiles.periodic import format_eta

SCORE_BINS = 1000
QUANTILES = (0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0)
BAR_WIDTH = 30


class MatchSummary:
    """Accumulates the batches an export writes (see :meth:`observe`); :meth:`as_dict` is small enough for XCom."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._started = clock()
        self.batches = 0
        self.rows = 0
        self._groups_by_size: dict[int, float] = {}
        self._groups_by_score_bin = [0.0] * (SCORE_BINS + 1)
        self._groups_without_score = 0.0

    def observe(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        """Pass ``batches`` through, counting each one."""
        for batch in batches:
            self.add(batch)
            yield batch

    def add(self, batch: pa.RecordBatch) -> None:
        sizes = batch.column("match_group_size")
        for item in pc.value_counts(sizes).to_pylist():
            size = item["values"]
            self._groups_by_size[size] = self._groups_by_size.get(size, 0.0) + item["counts"] / size
        # rounded first, so 0.57 * 1000 = 569.99999... falls in bin 570
        bins = pc.min_element_wise(
            pc.floor(pc.round(pc.multiply(batch.column("confidence_score"), SCORE_BINS), 6)),
            SCORE_BINS,
            skip_nulls=False,
        )
        weights = pc.divide(1.0, pc.cast(sizes, pa.float64()))  # each row is 1/size of its group
        per_bin = pa.table({"bin": bins, "weight": weights}).group_by("bin").aggregate([("weight", "sum")])
        for score_bin, groups in zip(per_bin["bin"].to_pylist(), per_bin["weight_sum"].to_pylist(), strict=True):
            if score_bin is None:
                self._groups_without_score += groups
            else:
                self._groups_by_score_bin[max(0, int(score_bin))] += groups
        self.batches += 1
        self.rows += batch.num_rows

    def progress_line(self) -> str:
        elapsed = max(self._clock() - self._started, 1e-9)
        return (
            f"pages {self.batches}, rows {self.rows}, {self.rows / elapsed:.0f} rows/s, elapsed {format_eta(elapsed)}"
        )

    def as_dict(self) -> dict[str, Any]:
        """``{"groups", "rows", "group_sizes": {size: groups}, "confidence_quantiles": {q: score}, ...}``."""
        group_sizes = {str(size): round(count) for size, count in sorted(self._groups_by_size.items())}
        return {
            "groups": sum(group_sizes.values()),
            "rows": self.rows,
            "group_sizes": group_sizes,
            "groups_without_score": round(self._groups_without_score),
            "confidence_quantiles": self._quantiles(),
        }

    def _quantiles(self) -> dict[str, float]:
        """The lowest score bin at or below which a share ``q`` of the scored groups lies, for each ``q``."""
        total = sum(self._groups_by_score_bin)
        if total < 0.5:
            return {}
        cumulative = list(accumulate(self._groups_by_score_bin))
        return {
            f"p{round(q * 100)}": bisect_left(cumulative, max(q * total, 0.5) - 1e-6) / SCORE_BINS for q in QUANTILES
        }


def summary_text(summary: dict[str, Any]) -> str:
    """The summary as a few log lines: totals, a group-size histogram in text, confidence quantiles."""
    lines = [f"{summary['groups']} match groups, {summary['rows']} rows (one per profile in a group)"]
    sizes = summary["group_sizes"]
    widest = max(sizes.values(), default=0)
    for size, groups in sizes.items():
        bar = "#" * max(1, round(BAR_WIDTH * groups / widest)) if groups else ""
        lines.append(f"  size {size:>4}: {groups:>9} {bar}")
    quantiles = summary["confidence_quantiles"]
    if quantiles:
        lines.append("confidence " + ", ".join(f"{name} {value:.3f}" for name, value in quantiles.items()))
    if summary["groups_without_score"]:
        lines.append(f"{summary['groups_without_score']} groups without a confidence score")
    return "\n".join(lines)
