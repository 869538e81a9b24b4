"""The latest identity-resolution run of a domain, the only one GetMatches reports.

A run's matches are a ``Sequence[MatchGroup]``, so GetMatches pages by slicing (O(page)).
Seeded runs for benchmarks are generated on demand from a seed instead of being stored,
so a million match rows cost nothing until they are read.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from typing import Any, overload

from customer_profiles_local.matching import MatchGroup
from customer_profiles_local.state import Domain


class GeneratedMatches(Sequence[MatchGroup]):
    """``groups`` random match groups of ``group_size`` profiles, the same for the same ``seed``."""

    def __init__(self, groups: int, group_size: int, seed: int | str) -> None:
        self.groups, self.group_size, self.seed = groups, group_size, seed

    def __len__(self) -> int:
        return self.groups

    @overload
    def __getitem__(self, index: int) -> MatchGroup: ...

    @overload
    def __getitem__(self, index: slice) -> list[MatchGroup]: ...

    def __getitem__(self, index: int | slice) -> MatchGroup | list[MatchGroup]:
        if isinstance(index, slice):
            return [self._group(i) for i in range(*index.indices(self.groups))]
        if not -self.groups <= index < self.groups:
            raise IndexError(index)
        return self._group(index % self.groups)

    def _hex(self, *parts: object) -> str:
        return hashlib.blake2b(":".join(map(str, (self.seed, *parts))).encode(), digest_size=16).hexdigest()

    def _group(self, index: int) -> MatchGroup:
        ids = tuple(sorted(self._hex(index, member) for member in range(self.group_size)))
        fraction = int(self._hex(index, "score")[:8], 16) / 0xFFFFFFFF
        return MatchGroup(self._hex(index, "match"), ids, round(0.5 + 0.5 * fraction, 4))


def publish(domain: Domain, generated_at: dt.datetime, matches: Sequence[MatchGroup]) -> dict[str, int]:
    """Replace the domain's latest run; returns its size (match groups, profile entries)."""
    if isinstance(matches, GeneratedMatches):
        entries = matches.groups * matches.group_size
    else:
        entries = sum(len(group.profile_ids) for group in matches)
    domain.latest_matches = {"MatchGenerationDate": generated_at, "Matches": matches, "ProfileEntries": entries}
    return {"MatchCount": len(matches), "ProfileEntries": entries}


def latest(domain: Domain) -> tuple[dt.datetime | None, Sequence[MatchGroup]]:
    """The latest run's generation date and matches; (None, []) before any run."""
    run: dict[str, Any] | None = domain.latest_matches
    if not run:
        return None, []
    return run["MatchGenerationDate"], run["Matches"]
