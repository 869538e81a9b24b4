"""
Timer threads for both engines (no Airflow import): an action every few seconds, and the
progress lines built on it. Lines carry counts only, never row contents.
"""

from __future__ import annotations

import logging
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


class PeriodicLog:
    """
    Logs ``"{label} progress: {line()}"`` every ``interval`` seconds, then ``"{label} finished: {line()}"``
    at :meth:`stop`; as a context manager, the last line only when the block succeeded.

    ``line`` is called from the timer thread: it must only read counters.
    """

    def __init__(self, line: Callable[[], str], log: logging.Logger, label: str, interval: float = 5.0) -> None:
        self._line = line
        self._log = log
        self._label = label
        self._periodic = Periodic(self._progress, interval, f"cp-{label.lower()}-progress")

    def _progress(self) -> None:
        self._log.info("%s progress: %s", self._label, self._line())

    def start(self) -> PeriodicLog:
        self._periodic.start()
        return self

    def stop(self) -> None:
        self._periodic.stop()
        self._log.info("%s finished: %s", self._label, self._line())

    def __enter__(self) -> PeriodicLog:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        if exc_info[0] is None:
            self.stop()
        else:
            self._periodic.stop()


def format_eta(seconds: float | None) -> str:
    """``"1h02m03s"`` / ``"2m03s"``, or ``"unknown"``: for ETAs and elapsed times in progress lines."""
    if seconds is None:
        return "unknown"
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}h{rest // 60:02d}m{rest % 60:02d}s" if hours else f"{rest // 60}m{rest % 60:02d}s"
