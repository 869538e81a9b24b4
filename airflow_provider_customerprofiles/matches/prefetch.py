"""Read ahead on a background thread, so a network wait overlaps the work on the previous page.

GetMatches pages can only be fetched one after another (each needs the previous
NextToken); without read-ahead every page would pay its round trip plus our own
Arrow/Parquet time. The queue is bounded, so memory stays bounded.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import TypeVar

T = TypeVar("T")

_ITEM, _DONE, _ERROR = range(3)


def prefetched(items: Iterator[T], depth: int) -> Iterator[T]:
    """Yield ``items`` in order, fetched up to ``depth`` ahead; the producer's errors are re-raised here."""
    if depth <= 0:
        yield from items
        return
    slots: queue.Queue[tuple[int, object]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(message: tuple[int, object]) -> bool:
        while not stop.is_set():
            try:
                slots.put(message, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put((_ITEM, item)):
                    return
            put((_DONE, None))
        except BaseException as exc:
            put((_ERROR, exc))

    thread = threading.Thread(target=produce, name="matches-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            kind, value = slots.get()
            if kind == _DONE:
                return
            if kind == _ERROR:
                raise value  # type: ignore[misc]
            yield value  # type: ignore[misc]
    finally:
        stop.set()
        thread.join()
