"""The sender: which items each call carries, what is retried with what backoff, and how every item settles once.

The client is scripted (a fake of boto3's two put calls) so each test decides the service's answers.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from airflow_provider_customerprofiles.ingest.sender import (
    CallerRefused,
    Failure,
    Sender,
    WorkerPool,
    failure_from_client_error,
)
from tests.eventually import eventually


@dataclass(frozen=True)
class Row:
    obj: str


ROWS = [Row(f'{{"id": "{i}"}}') for i in range(4)]


def client_error(status: int | None, code: str | None = None, message: str | None = "why") -> ClientError:
    response: dict = {"ResponseMetadata": {"HTTPStatusCode": status}} if status else {}
    if code:
        response["Error"] = {"Code": code} if message is None else {"Code": code, "Message": message}
    return ClientError(response, "BatchPutProfileObject")


class ScriptedClient:
    """Answers each call with the next scripted answer: a function of the call's items, or an error to raise."""

    def __init__(self, *answers) -> None:
        self.answers = list(answers)
        self.calls: list[dict] = []

    def _next(self, items: list[dict]) -> dict:
        answer = self.answers.pop(0) if self.answers else ok
        if isinstance(answer, Exception):
            raise answer
        return answer(items)

    def batch_put_profile_object(self, **kwargs) -> dict:
        self.calls.append(kwargs)
        return self._next(kwargs["Items"])

    def put_profile_object(self, **kwargs) -> dict:
        self.calls.append(kwargs)
        self._next([{"Id": "0", "Object": kwargs["Object"]}])
        return {"ProfileObjectUniqueKey": "k"}


def ok(items: list[dict]) -> dict:
    return {"Successful": [{"Id": item["Id"]} for item in items]}


def failing(codes: dict[int, int | None], message: str = "bad") -> callable:
    """Items at these positions fail with these codes (None: a failure without a code); the rest succeed."""

    def answer(items: list[dict]) -> dict:
        failed = []
        for position, code in codes.items():
            entry = {"Id": items[position]["Id"], "Message": message}
            if code is not None:
                entry["Code"] = code
            failed.append(entry)
        failed_ids = {entry["Id"] for entry in failed}
        return {"Successful": [{"Id": item["Id"]} for item in items if item["Id"] not in failed_ids], "Failed": failed}

    return answer


def answering_only_first(items: list[dict]) -> dict:
    return {"Successful": [{"Id": items[0]["Id"]}]}


class Limiter:
    def __init__(self) -> None:
        self.acquired = 0
        self.throttles = 0

    def acquire(self) -> None:
        self.acquired += 1

    def on_throttle(self) -> None:
        self.throttles += 1

    def current_rate(self) -> float:
        return 100.0


class HighestJitter:
    """Full jitter at its top: each backoff is the longest allowed, so tests can name it; records the ranges."""

    def __init__(self) -> None:
        self.ranges: list[tuple[float, float]] = []

    def uniform(self, low: float, high: float) -> float:
        self.ranges.append((low, high))
        return high


class Run:
    """A sender over a scripted client, recording where every item settled and every sleep."""

    def __init__(self, client: ScriptedClient, **options) -> None:
        self.client = client
        self.limiter = Limiter()
        self.accepted: list[Row] = []
        self.rejected: list[tuple[Row, Failure]] = []
        self.sleeps: list[float] = []
        self.jitter = HighestJitter()
        self.sender = Sender(
            client,
            "shop",
            "Orders",
            self.limiter,
            self.accepted.extend,
            lambda rows, failure: self.rejected.extend((row, failure) for row in rows),
            sleep=self.sleeps.append,
            rng=self.jitter,
            **options,
        )

    def counts(self) -> tuple[int, int, int]:
        counters = self.sender.counters
        return counters.requests, counters.retries, counters.throttles


def test_a_batch_is_one_call_carrying_each_object_with_its_position():
    run = Run(ScriptedClient())
    run.sender.send(ROWS[:2])

    assert run.client.calls == [
        {
            "DomainName": "shop",
            "ObjectTypeName": "Orders",
            "Items": [{"Id": "0", "Object": ROWS[0].obj}, {"Id": "1", "Object": ROWS[1].obj}],
        }
    ]
    assert run.accepted == ROWS[:2]
    assert run.rejected == []
    assert (run.limiter.acquired, run.counts(), run.sleeps) == (1, (1, 0, 0), [])


def test_without_the_batch_api_each_object_is_put_alone():
    run = Run(ScriptedClient(), use_batch_api=False)
    run.sender.send(ROWS[:2])

    assert run.client.calls == [
        {"DomainName": "shop", "ObjectTypeName": "Orders", "Object": ROWS[0].obj},
        {"DomainName": "shop", "ObjectTypeName": "Orders", "Object": ROWS[1].obj},
    ]
    assert run.accepted == ROWS[:2]
    assert run.counts() == (2, 0, 0)


def test_final_item_failures_are_rejected_and_only_retryable_ones_resent():
    run = Run(ScriptedClient(failing({0: 400, 1: 429, 2: 503}, "nope")))
    run.sender.send(ROWS)

    assert run.rejected == [(ROWS[0], Failure("400", "nope", False))]
    assert [call["Items"] for call in run.client.calls[1:]] == [
        [{"Id": "0", "Object": ROWS[1].obj}, {"Id": "1", "Object": ROWS[2].obj}]
    ]
    assert run.accepted == [ROWS[3], ROWS[1], ROWS[2]]
    assert run.counts() == (2, 2, 1)  # one throttled call, two items re-sent
    assert run.limiter.throttles == 1
    assert run.limiter.acquired == 2


def test_rejected_items_are_grouped_by_their_failure():
    run = Run(ScriptedClient(failing({0: 400, 1: 404, 2: 400}, "nope")))
    rejected: list[tuple[list[Row], Failure]] = []
    run.sender.on_rejected = lambda rows, failure: rejected.append((list(rows), failure))
    run.sender.send(ROWS)

    assert rejected == [
        ([ROWS[0], ROWS[2]], Failure("400", "nope", False)),
        ([ROWS[1]], Failure("404", "nope", False)),
    ]


def test_an_item_the_service_does_not_answer_for_is_resent_as_a_server_error():
    run = Run(ScriptedClient(answering_only_first, answering_only_first), max_attempts=2)
    run.sender.send(ROWS[:2])

    assert [call["Items"] for call in run.client.calls] == [
        [{"Id": "0", "Object": ROWS[0].obj}, {"Id": "1", "Object": ROWS[1].obj}],
        [{"Id": "0", "Object": ROWS[1].obj}],
    ]
    assert run.accepted == ROWS[:2]
    assert run.rejected == []


def test_an_item_failure_without_a_message_is_rejected_with_an_empty_one():
    run = Run(ScriptedClient(lambda items: {"Failed": [{"Id": "0", "Code": 400}]}))
    run.sender.send(ROWS[:1])

    assert run.rejected == [(ROWS[0], Failure("400", "", False))]


def test_an_item_failure_without_a_code_is_a_retryable_server_error():
    run = Run(ScriptedClient(failing({1: None}, "lost")), max_attempts=1)
    run.sender.send(ROWS[:2])

    assert run.accepted == [ROWS[0]]
    assert run.rejected == [(ROWS[1], Failure("500", "retries exhausted after 1 attempts; last error: lost", False))]


def test_unanswered_items_still_missing_when_attempts_run_out_are_rejected_as_such():
    never = ScriptedClient(*[lambda items: {}] * 2)
    run = Run(never, max_attempts=2)
    run.sender.send(ROWS[:1])

    assert run.rejected == [
        (
            ROWS[0],
            Failure(
                "500",
                "retries exhausted after 2 attempts; last error: The service returned no result for this item",
                False,
            ),
        )
    ]


def test_backoff_doubles_from_the_base_up_to_the_cap_and_exhaustion_rejects_with_the_last_error():
    run = Run(ScriptedClient(*[client_error(500, "InternalServerException", "boom")] * 6), max_attempts=6)
    run.sender.backoff_cap = 1.0
    run.sender.send(ROWS[:2])

    assert run.sleeps == pytest.approx([0.4, 0.8, 1.0, 1.0, 1.0])
    assert [low for low, _ in run.jitter.ranges] == [0] * 5  # full jitter: any wait down to none
    assert run.accepted == []
    assert run.rejected == [
        (
            row,
            Failure(
                "500",
                "retries exhausted after 6 attempts; last error: InternalServerException: boom",
                False,
            ),
        )
        for row in ROWS[:2]
    ]
    assert run.counts() == (6, 10, 0)


def test_the_default_backoff_starts_at_a_fifth_of_a_second_and_gives_up_after_eight_attempts():
    run = Run(ScriptedClient(*[EndpointConnectionError(endpoint_url="http://service")] * 8))
    run.sender.send(ROWS[:1])

    assert run.sleeps == pytest.approx([0.4, 0.8, 1.6, 3.2, 6.4, 10.0, 10.0])
    [(_, failure)] = run.rejected
    assert failure.code == "EndpointConnectionError"
    assert failure.message == (
        'retries exhausted after 8 attempts; last error: Could not connect to the endpoint URL: "http://service"'
    )


def test_a_throttled_call_slows_the_limiter_and_is_retried():
    run = Run(ScriptedClient(client_error(400, "ThrottlingException"), client_error(429, "TooManyRequests")))
    run.sender.send(ROWS[:3])

    assert run.accepted == ROWS[:3]
    assert run.counts() == (3, 6, 1)  # ThrottlingException is retried, but only a 429 counts as a throttle
    assert run.limiter.throttles == 1


def test_a_call_refused_as_a_client_error_rejects_every_item_at_once():
    run = Run(ScriptedClient(client_error(400, "BadRequestException", "Object is not JSON")))
    run.sender.send(ROWS[:2])

    assert run.rejected == [(row, Failure("400", "BadRequestException: Object is not JSON", False)) for row in ROWS[:2]]
    assert run.counts() == (1, 0, 0)


@pytest.mark.parametrize(
    ("message", "said"),
    [("User is not authorized", "AccessDeniedException: User is not authorized"), (None, "AccessDeniedException: ")],
)
def test_a_refused_caller_stops_the_load_keeping_what_was_settled(message, said):
    run = Run(ScriptedClient(failing({1: 503}), client_error(403, "AccessDeniedException", message)))

    with pytest.raises(CallerRefused) as refused:
        run.sender.send(ROWS[:2])

    assert str(refused.value) == (
        f"Customer Profiles refused the load's requests: {said}. "
        "Rows settled so far are checkpointed; a retry with working credentials resumes after them"
    )
    assert run.accepted == [ROWS[0]]
    assert run.rejected == []
    assert len(run.client.calls) == 2


def test_a_client_error_without_an_error_document_is_retried_by_its_status():
    run = Run(ScriptedClient(client_error(503)))
    run.sender.send(ROWS[:1])

    assert run.accepted == ROWS[:1]
    assert run.counts() == (2, 1, 0)


@pytest.mark.parametrize(
    ("error", "failure"),
    [
        (client_error(400, "BadRequestException", "m"), Failure("400", "BadRequestException: m", False)),
        (client_error(400, "ThrottlingException", "m"), Failure("400", "ThrottlingException: m", True)),
        (client_error(429, "TooManyRequestsException", "m"), Failure("429", "TooManyRequestsException: m", True)),
        (client_error(499, "X", "m"), Failure("499", "X: m", False)),
        (client_error(500, "InternalServerException", "m"), Failure("500", "InternalServerException: m", True)),
        (client_error(503), Failure("503", "503: ", True)),
        (client_error(None, "RequestTimeout", "m"), Failure("RequestTimeout", "RequestTimeout: m", True)),
    ],
)
def test_a_client_error_becomes_a_failure_with_its_status_code_and_message(error, failure):
    assert failure_from_client_error(error) == failure


def test_each_worker_handles_its_own_tasks_in_order_on_its_own_thread():
    handled: list[tuple[str, int]] = []
    pool = WorkerPool(3, lambda task: handled.append((threading.current_thread().name, task)), queue_depth=2)
    for task in range(30):
        pool.submit(task % 3, task)
    pool.close()

    for worker in range(3):
        assert [task for name, task in handled if name == f"cp-ingest-{worker}"] == list(range(worker, 30, 3))
    assert len(handled) == 30


def test_a_worker_error_stops_its_work_and_reaches_the_submitter():
    handled: list[int] = []

    def handle(task: int) -> None:
        if task == 1:
            raise KeyError("worker bug")
        handled.append(task)

    pool = WorkerPool(1, handle)
    pool.submit(0, 0)
    pool.submit(0, 1)
    eventually(lambda: _submits(pool), lambda raised: raised, "submit raising the worker's error")
    with pytest.raises(KeyError, match="worker bug"):
        pool.close()
    assert handled == [0]


def test_a_submit_waiting_on_a_full_queue_delivers_its_task_when_room_frees():
    started, release = threading.Event(), threading.Event()
    handled: list[int] = []

    def handle(task: int) -> None:
        started.set()
        release.wait()
        handled.append(task)

    pool = WorkerPool(1, handle, queue_depth=1)
    pool.submit(0, 0)
    started.wait()
    pool.submit(0, 1)  # fills the queue
    waiting = threading.Thread(target=pool.submit, args=(0, 2))
    waiting.start()
    waiting.join(timeout=1.0)  # long enough for its put to time out and try again
    release.set()
    waiting.join()
    pool.close()

    assert handled == [0, 1, 2]


def test_worker_threads_never_keep_the_process_alive():
    release = threading.Event()
    pool = WorkerPool(2, lambda task: release.wait())
    pool.submit(0, "stuck until released")

    workers = [thread for thread in threading.enumerate() if thread.name.startswith("cp-ingest-")]

    release.set()
    pool.close()
    assert [thread.daemon for thread in workers] == [True, True]  # a stuck worker cannot block the exit


def _submits(pool: WorkerPool) -> bool:
    """Whether submitting raises the pool's error (a task it would skip otherwise)."""
    try:
        pool.submit(0, 2)
    except KeyError:
        return True
    return False
