"""Reading after writing: the local service, like AWS, matches an accepted object shortly afterwards."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")
DEADLINE_SECONDS = 30.0
POLL_SECONDS = 0.05


def eventually(read: Callable[[], T], done: Callable[[T], bool], what: str, timeout: float = DEADLINE_SECONDS) -> T:
    """Call ``read`` until ``done`` holds for its answer; AssertionError naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        answer = read()
        if done(answer):
            return answer
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout:g} s; last answer: {answer!r}")
        time.sleep(POLL_SECONDS)


def found_profile_id(client: Any, domain: str, key_name: str, value: str) -> str:
    """The ProfileId of the one profile SearchProfiles finds for a key value, once its object was matched."""
    items = eventually(
        lambda: client.search_profiles(DomainName=domain, KeyName=key_name, Values=[value])["Items"],
        lambda found: len(found) == 1,
        f"one profile searchable by {key_name}",
    )
    return items[0]["ProfileId"]
