"""Synthetic GetMatches pages: the engine takes pages, so these are its real input, not a service fake."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone

GENERATED_AT = datetime(2026, 11, 21, 3, 15, tzinfo=timezone.utc)


def make_pages(
    groups: int, group_size: int = 2, page_size: int = 100, generated_at: datetime = GENERATED_AT
) -> Iterator[dict]:
    """GetMatches response pages (as boto3 returns them) holding ``groups`` match groups."""
    for start in range(0, max(groups, 1), page_size):
        count = min(page_size, groups - start)
        yield {
            "MatchGenerationDate": generated_at,
            "PotentialMatches": groups,
            "Matches": [
                {
                    "MatchId": f"match-{start + i:07d}",
                    "ProfileIds": [f"{start + i:07d}{member:025x}" for member in range(group_size)],
                    "ConfidenceScore": round(0.5 + ((start + i) % 50) / 100, 2),
                }
                for i in range(count)
            ],
            **({"NextToken": f"t{start + count}"} if start + count < groups else {}),
        }
