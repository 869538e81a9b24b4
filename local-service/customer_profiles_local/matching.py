"""
The identity-resolution matching engine: finds profiles that describe the same customer.

Pure (no I/O, no clock): profiles in, match groups out, the same output for the same input.
It aims for precision over recall, because auto-merge acts on its output and merges cannot
be undone:

- a shared email address or phone number (after normalization) is strong evidence, unless the
  two profiles carry first names that clearly differ (a family sharing one inbox or landline);
- a fuzzy full-name match ("John Doe" ~ "Jhn Doe") counts only with a corroborating attribute:
  the same address, birth date or business name; a name alone never matches, and people who
  share only a surname or only a first name never match;
- two business profiles (no person names) with the same normalized business name match only
  with a shared address;
- an email or phone shared by more than ``PLACEHOLDER_LIMIT`` profiles is treated as a placeholder
  ("noreply@...", "0000000000") and ignored.

Pairs are joined transitively (union-find) into groups. A group's confidence is its weakest
link on the strongest path between members (the smallest edge of a maximum spanning tree).
"""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from itertools import combinations
from typing import Any, NamedTuple

from customer_profiles_local import normalize

# How much each kind of evidence contributes; combined as 1 - prod(1 - weight).
WEIGHTS = {"email": 0.9, "phone": 0.85, "name": 0.5, "address": 0.4, "birth_date": 0.4, "business": 0.3}
NAME_SIMILAR = 0.9  # Jaro-Winkler on first and on last name for "the same name, maybe mistyped"
FIRST_NAME_CONFLICT = 0.8  # below this, two first names belong to two people
PLACEHOLDER_LIMIT = 20
BLOCK_LIMIT = 500  # candidate blocks on shared address/birth date/business larger than this are skipped


class MatchGroup(NamedTuple):
    """One group of duplicates, as GetMatches reports it."""

    match_id: str
    profile_ids: tuple[str, ...]
    confidence_score: float


@dataclass(frozen=True)
class _Signals:
    emails: frozenset[str]
    phones: frozenset[str]
    first: str | None
    last: str | None
    business: str | None
    addresses: frozenset[str]
    birth_date: str | None

    @property
    def is_person(self) -> bool:
        return bool(self.first or self.last)


def match_id(profile_ids: Iterable[str]) -> str:
    """A stable 32-hex id for a group: the same members always get the same MatchId."""
    return hashlib.blake2b(",".join(sorted(profile_ids)).encode(), digest_size=16).hexdigest()


def find_matches(profiles: Mapping[str, Mapping[str, Any]]) -> list[MatchGroup]:
    """Group duplicate profiles (profile id -> Profile fields); groups sorted by MatchId."""
    signals = _without_placeholders({pid: _signals(profile) for pid, profile in profiles.items()})
    edges = []
    for a, b in _candidate_pairs(signals):
        score = _pair_score(signals[a], signals[b])
        if score is not None:
            edges.append((score, a, b))
    return _group(edges)


def _pair_score(a: _Signals, b: _Signals) -> float | None:
    """The confidence that two profiles are one customer, or None when the evidence is not enough."""
    names = _name_relation(a, b)
    if names == "conflict":
        return None
    strong = [kind for kind, shared in (("email", a.emails & b.emails), ("phone", a.phones & b.phones)) if shared]
    identity = None
    if names == "similar":
        identity = "name"
    elif not a.is_person and not b.is_person and a.business and a.business == b.business:
        identity = "business"
    corroborating = [
        kind
        for kind, shared in (
            ("address", a.addresses & b.addresses),
            ("birth_date", a.birth_date and a.birth_date == b.birth_date),
            ("business", a.business and a.business == b.business),
        )
        if shared and kind != identity
    ]
    if not strong and not (identity and corroborating):
        return None
    evidence = strong + ([identity] if identity else []) + corroborating
    return round(1 - math.prod(1 - WEIGHTS[kind] for kind in evidence), 4)


def _signals(profile: Mapping[str, Any]) -> _Signals:
    return _Signals(
        emails=frozenset(filter(None, (normalize.email(profile.get(f)) for f in normalize.EMAIL_FIELDS))),
        phones=frozenset(filter(None, (normalize.phone(profile.get(f)) for f in normalize.PHONE_FIELDS))),
        first=normalize.name(profile.get("FirstName")),
        last=normalize.name(profile.get("LastName")),
        business=normalize.business_name(profile.get("BusinessName")),
        addresses=frozenset(filter(None, (normalize.address(profile.get(f)) for f in normalize.ADDRESS_FIELDS))),
        birth_date=normalize.birth_date(profile.get("BirthDate")),
    )


def _without_placeholders(signals: dict[str, _Signals]) -> dict[str, _Signals]:
    counts: dict[str, int] = defaultdict(int)
    for s in signals.values():
        for value in s.emails | s.phones:
            counts[value] += 1
    placeholders = {value for value, count in counts.items() if count > PLACEHOLDER_LIMIT}
    if not placeholders:
        return signals
    return {
        pid: replace(s, emails=s.emails - placeholders, phones=s.phones - placeholders) for pid, s in signals.items()
    }


def _candidate_pairs(signals: Mapping[str, _Signals]) -> set[tuple[str, str]]:
    """Pairs worth scoring: they share an identifier, or a corroborating attribute and a surname initial."""
    blocks: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for pid, s in signals.items():
        for value in s.emails | s.phones:
            blocks[("id", value)].append(pid)
        initial = (s.last or "")[:1]
        for value in s.addresses:
            blocks[("address", value, initial)].append(pid)
        if s.birth_date:
            blocks[("birth_date", s.birth_date, initial)].append(pid)
        if s.business:
            blocks[("business", s.business, initial)].append(pid)
    pairs: set[tuple[str, str]] = set()
    for members in blocks.values():
        if 1 < len(members) <= BLOCK_LIMIT:
            pairs.update(combinations(sorted(set(members)), 2))
    return pairs


def _name_relation(a: _Signals, b: _Signals) -> str:
    """'similar' (same person's name, maybe mistyped), 'conflict' (two people) or 'unknown'."""
    if a.first and b.first:
        first = _first_names_similarity(a.first, b.first)
        if first < FIRST_NAME_CONFLICT:
            return "conflict"
        if a.last and b.last and first >= NAME_SIMILAR and jaro_winkler(a.last, b.last) >= NAME_SIMILAR:
            return "similar"
        return "unknown"
    if a.last and b.last and not (a.first or b.first) and jaro_winkler(a.last, b.last) < FIRST_NAME_CONFLICT:
        return "conflict"
    return "unknown"


def _first_names_similarity(a: str, b: str) -> float:
    # "J" and "John" may be one person: compatible, but never strong enough to be "similar".
    if min(len(a), len(b)) == 1 and a[0] == b[0]:
        return FIRST_NAME_CONFLICT
    return jaro_winkler(a, b)


@lru_cache(maxsize=1 << 16)  # names repeat a lot across a domain's profiles
def jaro_winkler(a: str, b: str, prefix_scale: float = 0.1) -> float:
    """Jaro-Winkler similarity in 0..1 (1 = identical); tolerant of typos and dropped letters."""
    if a == b:
        return 1.0
    if not a or not b:
        return 0.0
    window = max(len(a), len(b)) // 2 - 1
    matched_b = [False] * len(b)
    a_matches = []
    for i, ch in enumerate(a):
        for j in range(max(0, i - window), min(len(b), i + window + 1)):
            if not matched_b[j] and b[j] == ch:
                matched_b[j] = True
                a_matches.append(ch)
                break
    if not a_matches:
        return 0.0
    b_matches = [ch for ch, used in zip(b, matched_b, strict=True) if used]
    transpositions = sum(x != y for x, y in zip(a_matches, b_matches, strict=True)) / 2
    m = len(a_matches)
    jaro = (m / len(a) + m / len(b) + (m - transpositions) / m) / 3
    prefix = 0
    for x, y in zip(a[:4], b[:4], strict=False):
        if x != y:
            break
        prefix += 1
    return jaro + prefix * prefix_scale * (1 - jaro)


def _group(edges: list[tuple[float, str, str]]) -> list[MatchGroup]:
    """Union-find over edges, strongest first; a group's score is the weakest edge that joined it."""
    parent: dict[str, str] = {}
    score: dict[str, float] = {}

    def root(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for weight, a, b in sorted(edges, key=lambda e: (-e[0], e[1], e[2])):
        ra, rb = root(a), root(b)
        if ra == rb:
            continue
        keep, gone = min(ra, rb), max(ra, rb)
        parent[gone] = keep
        score[keep] = min(weight, score.get(keep, 1.0), score.get(gone, 1.0))
    members: dict[str, list[str]] = defaultdict(list)
    for pid in parent:
        members[root(pid)].append(pid)
    groups = [MatchGroup(match_id(ids), tuple(sorted(ids)), score[r]) for r, ids in members.items() if len(ids) > 1]
    return sorted(groups)
