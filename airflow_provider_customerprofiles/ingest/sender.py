"""
Send batches of objects with retries, and settle every item exactly once.

A batch is up to ten objects with distinct unique keys. Each call first takes a
slot from the shared rate limiter. Throttles (429), server errors (5xx) and
connection errors are retried with full-jitter exponential backoff, re-sending
only the items that did not succeed: puts overwrite by unique key, so a retry
after an unanswered success is harmless. Item failures the service calls final
(other 4xx) are dead-lettered with its code and message; items still failing when
attempts run out are dead-lettered with the last error. Either way, every item
ends in exactly one of ``on_accepted`` or ``on_rejected``, unless the service refuses
the caller itself (expired credentials, a bad signature, no permission): then the
send raises :class:`CallerRefused` and the items stay unsettled for a retry.

The worker pool gives each worker its own queue, processed in order: the loader
routes every row of one unique key to the same worker, so writes of one key are
applied in file order, and the last row wins, however many workers run.
"""

from __future__ import annotations

import queue
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from botocore.exceptions import ClientError, ConnectionError, HTTPClientError

from airflow_provider_customerprofiles.ingest.rate_limit import RateLimiter

BATCH_SIZE = 10
# Errors about the caller, not the objects (AWS's common errors): every later call would get the same answer, so
# dead-lettering would only copy the rest of the input into dead letters. The load stops instead.
CALLER_ERROR_CODES = frozenset(
    {
        "AccessDeniedException",
        "ExpiredTokenException",
        "IncompleteSignature",
        "InvalidClientTokenId",
        "InvalidSignatureException",
        "MissingAuthenticationToken",
        "UnrecognizedClientException",
    }
)


class CallerRefused(Exception):
    """The service refused the load's credentials or permissions; settled rows are kept, a retry resumes."""


class Item(Protocol):
    """What the sender needs from a row: its JSON object."""

    obj: str


@dataclass(frozen=True)
class Failure:
    """Why an item was not accepted: the service's status code (or error name) and message."""

    code: str
    message: str
    retryable: bool


def _is_retryable(status: int | None, code: str) -> bool:
    return code == "ThrottlingException" or status is None or status == 429 or status >= 500


def failure_from_client_error(exc: ClientError) -> Failure:
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    error = exc.response.get("Error", {})
    code = error.get("Code") or str(status)
    return Failure(str(status or code), f"{code}: {error.get('Message', '')}", _is_retryable(status, code))


def _raise_if_caller_refused(exc: ClientError) -> None:
    error = exc.response.get("Error", {})
    if error.get("Code") in CALLER_ERROR_CODES:
        raise CallerRefused(
            f"Customer Profiles refused the load's requests: {error['Code']}: {error.get('Message', '')}. "
            "Rows settled so far are checkpointed; a retry with working credentials resumes after them"
        ) from exc


class SendCounters:
    """Request, retry and throttle counts, shared by all workers."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests = 0
        self.retries = 0
        self.throttles = 0

    def add(self, requests: int = 0, retries: int = 0, throttles: int = 0) -> None:
        with self._lock:
            self.requests += requests
            self.retries += retries
            self.throttles += throttles


class Sender:
    """
    Puts items into one object type, owning retries and their accounting.

    :param client: a boto3 ``customer-profiles`` client (botocore retries off: we count ours).
    :param on_accepted: called with the items the service accepted.
    :param on_rejected: called with items that will not be written and the final failure.
    """

    def __init__(
        self,
        client: Any,
        domain_name: str,
        object_type_name: str,
        limiter: RateLimiter,
        on_accepted: Callable[[Sequence[Item]], None],
        on_rejected: Callable[[Sequence[Item], Failure], None],
        *,
        use_batch_api: bool = True,
        max_attempts: int = 8,
        backoff_base: float = 0.2,
        backoff_cap: float = 10.0,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.client = client
        self.domain_name = domain_name
        self.object_type_name = object_type_name
        self.limiter = limiter
        self.on_accepted = on_accepted
        self.on_rejected = on_rejected
        self.use_batch_api = use_batch_api
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.counters = SendCounters()
        self._sleep = sleep
        self._rng = rng or random.Random()

    def send(self, items: Sequence[Item]) -> None:
        """Send a batch (or, without the batch API, each item alone) until every item is settled."""
        if self.use_batch_api:
            self._send_with_retries(items, self._batch_put)
        else:
            for item in items:
                self._send_with_retries([item], self._single_put)

    def _batch_put(self, items: Sequence[Item]) -> dict[int, Failure]:
        response = self.client.batch_put_profile_object(
            DomainName=self.domain_name,
            ObjectTypeName=self.object_type_name,
            Items=[{"Id": str(i), "Object": item.obj} for i, item in enumerate(items)],
        )
        failures = {}
        for failed in response.get("Failed", []):
            code = int(failed.get("Code", 500))
            failures[int(failed["Id"])] = Failure(str(code), failed.get("Message", ""), _is_retryable(code, ""))
        answered = {int(ok["Id"]) for ok in response.get("Successful", [])} | set(failures)
        for missing in set(range(len(items))) - answered:
            failures[missing] = Failure("500", "The service returned no result for this item", True)
        return failures

    def _single_put(self, items: Sequence[Item]) -> dict[int, Failure]:
        self.client.put_profile_object(
            DomainName=self.domain_name, ObjectTypeName=self.object_type_name, Object=items[0].obj
        )
        return {}

    def _send_with_retries(self, items: Sequence[Item], call: Callable[[Sequence[Item]], dict[int, Failure]]) -> None:
        pending = list(items)
        last: Failure | None = None
        for attempt in range(self.max_attempts):
            if attempt:
                self.counters.add(retries=len(pending))
                self._sleep(self._rng.uniform(0, min(self.backoff_cap, self.backoff_base * 2**attempt)))
            self.limiter.acquire()
            self.counters.add(requests=1)
            try:
                failures = call(pending)
            except ClientError as exc:
                _raise_if_caller_refused(exc)
                failures = dict.fromkeys(range(len(pending)), failure_from_client_error(exc))
            except (ConnectionError, HTTPClientError) as exc:
                failures = dict.fromkeys(range(len(pending)), Failure(type(exc).__name__, str(exc), True))
            accepted = [item for i, item in enumerate(pending) if i not in failures]
            if accepted:
                self.on_accepted(accepted)
            final: dict[Failure, list[Item]] = {}
            retry: list[Item] = []
            for i, failure in failures.items():
                (retry if failure.retryable else final.setdefault(failure, [])).append(pending[i])
            for failure, rejected in final.items():
                self.on_rejected(rejected, failure)
            if not retry:
                return
            throttled = [f for f in failures.values() if f.retryable and f.code == "429"]
            if throttled:
                self.counters.add(throttles=1)
                self.limiter.on_throttle()
            last = next(f for i, f in failures.items() if f.retryable)
            pending = retry
        assert last is not None
        self.on_rejected(
            pending,
            Failure(
                last.code,
                f"retries exhausted after {self.max_attempts} attempts; last error: {last.message}",
                False,
            ),
        )


class WorkerPool:
    """
    ``size`` threads, each draining its own bounded queue in order.

    Bounded queues give back-pressure: the reader blocks instead of buffering the
    file in memory. An unexpected error in a worker stops the pool and is raised
    to the submitter.
    """

    _STOP = object()

    def __init__(self, size: int, handle: Callable[[Any], None], queue_depth: int = 4) -> None:
        self._handle = handle
        self._queues: list[queue.Queue[Any]] = [queue.Queue(maxsize=queue_depth) for _ in range(size)]
        self._error: BaseException | None = None
        self._threads = [
            threading.Thread(target=self._run, args=(q,), name=f"cp-ingest-{i}", daemon=True)
            for i, q in enumerate(self._queues)
        ]
        for thread in self._threads:
            thread.start()

    def _run(self, work: queue.Queue[Any]) -> None:
        while True:
            task = work.get()
            if task is self._STOP:
                return
            if self._error is None:
                try:
                    self._handle(task)
                except BaseException as exc:
                    self._error = exc

    def _raise_if_failed(self) -> None:
        if self._error is not None:
            raise self._error

    def submit(self, worker: int, task: Any) -> None:
        """Queue ``task`` for one worker; blocks while that worker's queue is full."""
        while True:
            self._raise_if_failed()
            try:
                self._queues[worker].put(task, timeout=0.5)
                return
            except queue.Full:
                continue

    def close(self) -> None:
        """Finish queued work, stop the threads, and raise a worker's error if there was one."""
        for work in self._queues:
            work.put(self._STOP)
        for thread in self._threads:
            thread.join()
        self._raise_if_failed()
