"""Waiting for asynchronous profile matching: poll with a deadline, as a client of AWS must.

The deadline and the polling interval suit the local service; the parity suite lengthens both when it runs
against AWS, where matching happens "shortly afterward" (seconds to minutes).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")
DEADLINE_SECONDS = 20.0
POLL_SECONDS = 0.05


def eventually(read: Callable[[], T], done: Callable[[T], bool], what: str) -> T:
    """Call ``read`` until ``done`` holds for its answer; AssertionError naming ``what`` after the deadline."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while True:
        answer = read()
        if done(answer):
            return answer
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {DEADLINE_SECONDS:g} s; last answer: {answer!r}")
        time.sleep(POLL_SECONDS)


def wait_for_stats(client, domain: str, done: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """GetDomain's Stats once ``done`` holds for them."""
    return eventually(lambda: client.get_domain(DomainName=domain)["Stats"], done, f"Stats of {domain}")


def matched(client, domain: str, objects: int) -> dict[str, Any]:
    """GetDomain's Stats once ``objects`` objects are attached to profiles."""
    return wait_for_stats(client, domain, lambda stats: stats["ObjectCount"] == objects)
