"""Log a line every few seconds from a daemon thread while long work runs, and once more when it ends."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable


class PeriodicLog:
    """Logs ``"{label} progress: {line()}"`` every ``interval`` seconds until stopped, then ``"{label} finished: ..."``.

    ``line`` is called from the logging thread: it must only read counters, never row contents.
    """

    def __init__(self, line: Callable[[], str], log: logging.Logger, label: str, interval: float = 5.0) -> None:
        self._line = line
        self._log = log
        self._label = label
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"cp-{label.lower()}-progress", daemon=True)

    def __enter__(self) -> PeriodicLog:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()
        if exc_info[0] is None:
            self._log.info("%s finished: %s", self._label, self._line())

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self._log.info("%s progress: %s", self._label, self._line())
