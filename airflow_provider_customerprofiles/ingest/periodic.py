"""Run an action every few seconds on a thread of its own, and hand its error back to the owner."""

from __future__ import annotations

import threading
from collections.abc import Callable


class Periodic:
    """
    Calls ``action`` every ``interval`` seconds on a daemon thread until :meth:`stop`.

    An error in a thread is otherwise lost: the first one stops the calls and is raised
    by :meth:`raise_if_failed` (and by :meth:`stop`) in the owner's thread.
    """

    def __init__(self, action: Callable[[], None], interval: float, name: str) -> None:
        self._action = action
        self._interval = interval
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> Periodic:
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self._action()
            except BaseException as exc:
                self._error = exc
                return

    def raise_if_failed(self) -> None:
        if self._error is not None:
            raise self._error

    def stop(self) -> None:
        """Stop the calls (waiting for one in progress), then raise its error if there was one."""
        self._stop.set()
        self._thread.join()
        self.raise_if_failed()
