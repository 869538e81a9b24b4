"""Write and read one Hive partition of the match dataset, atomically.

Layout under the dataset root::

    match_generation_date=YYYY-MM-DD/part-00000.parquet
    match_generation_date=YYYY-MM-DD/_SUCCESS          (JSON: rows, files, generation; written last)
    _temporary/match_generation_date=YYYY-MM-DD/...    (staging; ignored by Hive-style readers)

Data is written to staging and moved into place only once complete (on S3 a move
is a copy and a delete), and ``_SUCCESS`` comes last: a partition without it is
not a partition. A crash leaves nothing under the final name; the next run
removes the staging leftovers.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime, timezone
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from airflow_provider_customerprofiles.matches.location import Location
from airflow_provider_customerprofiles.matches.normalize import MatchStream, as_utc
from airflow_provider_customerprofiles.matches.schema import MATCHES_SCHEMA, PARTITION_KEY, SUCCESS_MARKER
from airflow_provider_customerprofiles.matches.summary import MatchSummary, summary_text
from airflow_provider_customerprofiles.periodic import PeriodicLog

STAGING_DIR = "_temporary"
DATA_FILE = "part-00000.parquet"

log = logging.getLogger(__name__)


class IncompletePartitionError(RuntimeError):
    """A partition without ``_SUCCESS``: still being written, or left by a crashed export."""


@dataclass(frozen=True)
class PartitionResult:
    """What one export did; small enough for XCom. ``summary`` is :meth:`.MatchSummary.as_dict` (counts only)."""

    uri: str | None
    rows: int
    match_generation_date: str | None
    skipped: bool
    summary: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def partition_name(day: date) -> str:
    return f"{PARTITION_KEY}={day.isoformat()}"


def partition_date(partition: Location) -> date:
    """The date a partition URI names; refuses anything that is not ``.../match_generation_date=YYYY-MM-DD``."""
    key, _, value = partition.name.partition("=")
    try:
        if key != PARTITION_KEY:
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"{partition.uri} is not a partition of the match dataset: expected .../{PARTITION_KEY}=YYYY-MM-DD"
        ) from None


def is_complete(partition: Location) -> bool:
    return partition.child(SUCCESS_MARKER).exists()


def write_partition(
    stream: MatchStream,
    root: Location,
    *,
    overwrite: bool = False,
    row_group_rows: int = 100_000,
    progress_interval: float = 30.0,
) -> PartitionResult:
    """Write the stream's generation as one partition under ``root``; skip it if already complete.

    Logs progress every ``progress_interval`` seconds and a summary at the end, which the
    ``_SUCCESS`` marker keeps, so a skipped re-run reports the same summary.
    """
    if stream.generated_at is None:
        return PartitionResult(None, 0, None, skipped=True)
    day = stream.generated_at.date()
    final = root.child(partition_name(day))
    staging = root.child(STAGING_DIR).child(partition_name(day))
    staging.delete_dir()
    if not overwrite and is_complete(final):
        marker = _marker(final)
        return PartitionResult(final.uri, marker["rows"], day.isoformat(), skipped=True, summary=marker.get("summary"))
    counted = MatchSummary()
    try:
        with PeriodicLog(counted.progress_line, log, "Match export", progress_interval):
            rows = _write_parquet(replace(stream, batches=counted.observe(stream.batches)), staging, row_group_rows)
        summary = counted.as_dict()
        _commit(staging, final, {"rows": rows, "files": [DATA_FILE], "summary": summary, **_generation(stream)})
    finally:
        staging.delete_dir()
    log.info("Match export summary for %s:\n%s", day.isoformat(), summary_text(summary))
    return PartitionResult(final.uri, rows, day.isoformat(), skipped=False, summary=summary)


def read_partition(partition: Location, batch_rows: int = 50_000) -> tuple[dict[str, Any], Iterator[pa.RecordBatch]]:
    """The ``_SUCCESS`` marker of a complete partition and its rows, streamed in record batches."""
    partition_date(partition)
    if not is_complete(partition):
        raise IncompletePartitionError(
            f"{partition.uri} has no {SUCCESS_MARKER} marker: the export did not finish (or is still running)"
        )
    marker = _marker(partition)

    def batches() -> Iterator[pa.RecordBatch]:
        for name in marker["files"]:
            with partition.filesystem.open_input_file(partition.child(name).path) as source:
                yield from pq.ParquetFile(source).iter_batches(batch_size=batch_rows)

    return marker, batches()


def _generation(stream: MatchStream) -> dict[str, Any]:
    return {
        "match_generated_at": stream.generated_at.isoformat(),
        "source": stream.source,
        "job_id": stream.job_id,
        "written_at": datetime.now(timezone.utc).isoformat(),
    }


def _write_parquet(stream: MatchStream, staging: Location, row_group_rows: int) -> int:
    """Stream batches into one file, a row group every ``row_group_rows`` rows; memory stays bounded."""
    staging.make_dir()
    pending: list[pa.RecordBatch] = []
    pending_rows = rows = 0
    with (
        staging.filesystem.open_output_stream(staging.child(DATA_FILE).path) as sink,
        pq.ParquetWriter(sink, MATCHES_SCHEMA, compression="snappy") as writer,
    ):
        for batch in stream.batches:
            _check_same_generation(batch, stream.generated_at)
            pending.append(batch)
            pending_rows += batch.num_rows
            if pending_rows >= row_group_rows:
                writer.write_table(pa.Table.from_batches(pending), row_group_size=pending_rows)
                rows += pending_rows
                pending, pending_rows = [], 0
        if pending_rows:
            writer.write_table(pa.Table.from_batches(pending), row_group_size=pending_rows)
            rows += pending_rows
    return rows


def _check_same_generation(batch: pa.RecordBatch, generated_at: datetime) -> None:
    """A partition holds one generation: the service must not start a new one mid-export."""
    if batch.schema != MATCHES_SCHEMA:
        raise TypeError("record batch does not have the match dataset schema")
    if not batch.num_rows:
        return
    bounds = pc.min_max(batch.column("match_generated_at"))
    if {as_utc(bounds["min"].as_py()), as_utc(bounds["max"].as_py())} != {generated_at}:
        raise RuntimeError(
            "The match generation changed during the export (a new identity-resolution run finished, or "
            "the result files mix runs); run the export again"
        )


def _commit(staging: Location, final: Location, marker: dict[str, Any]) -> None:
    """Retire the old partition (marker first), move the new files in, write the marker last."""
    final.child(SUCCESS_MARKER).delete()
    final.delete_dir()
    for name in marker["files"]:
        staging.child(name).move_to(final.child(name))
    final.child(SUCCESS_MARKER).write_bytes(json.dumps(marker, sort_keys=True).encode())


def _marker(partition: Location) -> dict[str, Any]:
    return json.loads(partition.child(SUCCESS_MARKER).read_bytes())
