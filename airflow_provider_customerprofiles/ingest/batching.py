"""
Per-worker batches that keep each unique key's rows in file order without sending small batches.

A batch holds at most one row of a key: the service applies the items of one call in
any order. A worker sends its batches in order, so a row may join any open batch
newer than the last one holding its key. Rows of one key on adjacent rows then go
into consecutive batches that fill up with other keys, instead of each forcing out
a batch of one or two rows. Every row is still sent, and settles on its own outcome.
"""

from __future__ import annotations

from collections import deque
from typing import Any

# Open batches per worker: bounds the rows held back (this x the batch size).
MAX_OPEN_BATCHES = 8


class OrderedBatches:
    """The open batches of one worker, oldest first; :meth:`add` returns those ready to send, in order."""

    def __init__(self, size: int, max_open: int = MAX_OPEN_BATCHES) -> None:
        self._size = size
        self._max_open = max_open
        self._open: deque[tuple[int, list[Any], set[str]]] = deque()  # (batch number, items, keys)
        self._next_number = 0
        self._newest: dict[str, int] = {}  # key -> number of the newest open batch holding it

    def add(self, key: str | None, item: Any) -> list[list[Any]]:
        """Put ``item`` in the oldest open batch it may join; ``key`` None joins any batch."""
        after = self._newest.get(key, -1) if key is not None else -1
        target = next((b for b in self._open if b[0] > after and len(b[1]) < self._size), None)
        if target is None:
            target = (self._next_number, [], set())
            self._next_number += 1
            self._open.append(target)
        target[1].append(item)
        if key is not None:
            target[2].add(key)
            self._newest[key] = target[0]
        ready = []
        while self._open and (len(self._open[0][1]) >= self._size or len(self._open) > self._max_open):
            ready.append(self._pop())
        return ready

    def drain(self) -> list[list[Any]]:
        """Every open batch, oldest first (at the end of the input)."""
        return [self._pop() for _ in range(len(self._open))]

    def _pop(self) -> list[Any]:
        number, items, keys = self._open.popleft()
        for key in keys:
            if self._newest.get(key) == number:
                del self._newest[key]
        return items
