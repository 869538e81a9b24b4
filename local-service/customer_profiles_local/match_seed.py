"""Parsing of ``POST /_emulator/domains/{DomainName}/matches``: a latest run given outright or generated."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from customer_profiles_local.errors import BadRequest
from customer_profiles_local.match_runs import GeneratedMatches
from customer_profiles_local.matching import MatchGroup

MAX_GENERATED_GROUPS = 10_000_000
MAX_GROUP_SIZE = 100


def seeded_matches(body: dict[str, Any]) -> Sequence[MatchGroup]:
    """The match groups that ``body`` describes, in either ``Matches`` or ``Generate`` form."""
    if ("Matches" in body) == ("Generate" in body):
        raise BadRequest("Give exactly one of Matches or Generate")
    if "Generate" in body:
        spec = body["Generate"] if isinstance(body["Generate"], dict) else {}
        groups = _integer(spec, "Groups", 0, MAX_GENERATED_GROUPS)
        size = _integer(spec, "GroupSize", 2, MAX_GROUP_SIZE, default=2)
        seed = spec.get("Seed", 0)
        if not isinstance(seed, int | str) or isinstance(seed, bool):
            raise BadRequest("Generate.Seed must be an integer or a string")
        return GeneratedMatches(groups, size, seed)
    if not isinstance(body["Matches"], list):
        raise BadRequest("Matches must be a list")
    return [_match(item, number) for number, item in enumerate(body["Matches"], start=1)]


def generation_date(body: dict[str, Any], now: dt.datetime) -> dt.datetime:
    """``MatchGenerationDate`` as epoch seconds or ISO-8601 (UTC when no offset is given); default now."""
    value = body.get("MatchGenerationDate")
    try:
        if value is None:
            return now
        if isinstance(value, int | float) and not isinstance(value, bool):
            return dt.datetime.fromtimestamp(value, tz=dt.timezone.utc)
        if isinstance(value, str):
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)
    except (ValueError, OverflowError, OSError):
        pass
    raise BadRequest("MatchGenerationDate must be epoch seconds or an ISO-8601 timestamp")


def _integer(spec: dict[str, Any], name: str, low: int, high: int, default: int | None = None) -> int:
    value = spec.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise BadRequest(f"Generate.{name} must be an integer from {low} to {high}")
    return value


def _match(item: Any, number: int) -> MatchGroup:
    if not isinstance(item, dict):
        raise BadRequest(f"Matches.{number} must be an object")
    match_id, profile_ids, score = item.get("MatchId"), item.get("ProfileIds"), item.get("ConfidenceScore")
    if not isinstance(match_id, str) or not 1 <= len(match_id) <= 255:
        raise BadRequest(f"Matches.{number}.MatchId must be a string of 1 to 255 characters")
    if not isinstance(profile_ids, list) or not profile_ids or not all(isinstance(p, str) for p in profile_ids):
        raise BadRequest(f"Matches.{number}.ProfileIds must be a non-empty list of profile ids")
    if isinstance(score, bool) or not isinstance(score, int | float) or not 0 <= score <= 1:
        raise BadRequest(f"Matches.{number}.ConfidenceScore must be a number from 0 to 1")
    return MatchGroup(match_id, tuple(profile_ids), float(score))
