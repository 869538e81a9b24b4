"""GetMatches pages -> normalized record batches (see :mod:`.schema`)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import pyarrow as pa

from airflow_provider_customerprofiles.matches.prefetch import prefetched
from airflow_provider_customerprofiles.matches.schema import (
    MATCHES_SCHEMA,
    SOURCE_GET_MATCHES,
    TIMESTAMP_TYPE,
)


@dataclass
class MatchStream:
    """Normalized batches of one match generation; ``generated_at`` is known before they are read.

    Knowing the generation first lets the writer skip a complete partition after
    a single API call. ``generated_at`` is None when there is no generation yet.
    """

    generated_at: datetime | None
    batches: Iterator[pa.RecordBatch]
    source: str
    job_id: str | None = None


def as_utc(value: datetime) -> datetime:
    """An aware UTC datetime; naive values are taken to be UTC already."""
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def constant_columns(rows: int, generated_at: datetime | None, job_id: str | None, source: str) -> list[pa.Array]:
    """The ``match_generated_at``, ``job_id`` and ``source`` columns, the same on every row."""
    return [
        pa.repeat(pa.scalar(as_utc(generated_at) if generated_at else None, TIMESTAMP_TYPE), rows),
        pa.repeat(pa.scalar(job_id, pa.string()), rows),
        pa.repeat(pa.scalar(source, pa.string()), rows),
    ]


def page_to_batch(page: dict[str, Any], page_number: int) -> pa.RecordBatch:
    """One GetMatches page, exploded to one row per profile in each match group."""
    match_ids: list[str] = []
    profile_ids: list[str] = []
    scores: list[float | None] = []
    sizes: list[int] = []
    for match in page.get("Matches") or []:
        if not match.get("MatchId"):
            raise ValueError(f"GetMatches page {page_number} holds a match without MatchId")
        ids = match.get("ProfileIds") or []
        match_ids.extend([match["MatchId"]] * len(ids))
        profile_ids.extend(ids)
        scores.extend([match.get("ConfidenceScore")] * len(ids))
        sizes.extend([len(ids)] * len(ids))
    rows = len(profile_ids)
    if rows and page.get("MatchGenerationDate") is None:
        raise ValueError(f"GetMatches page {page_number} holds matches but no MatchGenerationDate")
    arrays = [
        pa.array(match_ids, pa.string()),
        pa.array(profile_ids, pa.string()),
        pa.array(scores, pa.float64()),
        pa.array(sizes, pa.int32()),
        *constant_columns(rows, page.get("MatchGenerationDate"), None, SOURCE_GET_MATCHES),
    ]
    return pa.RecordBatch.from_arrays(arrays, schema=MATCHES_SCHEMA)


def stream_get_matches(pages: Iterable[dict[str, Any]], read_ahead: int = 4) -> MatchStream:
    """Normalize GetMatches pages lazily: the first page is read now, the rest while the writer works.

    ``pages`` is the hook's ``iterate_pages("get_matches", ...)`` (raw response pages).
    """
    pages = iter(pages)
    first = next(pages, None)
    generated_at = first.get("MatchGenerationDate") if first else None

    def batches() -> Iterator[pa.RecordBatch]:
        yield page_to_batch(first, 1)
        for number, page in enumerate(prefetched(pages, read_ahead), start=2):
            yield page_to_batch(page, number)

    return MatchStream(
        generated_at=as_utc(generated_at) if generated_at else None,
        batches=batches() if generated_at else iter(()),
        source=SOURCE_GET_MATCHES,
    )
