"""Where an integration workflow stands at a given moment, derived from its record (no stored status).

Timeline, with ``s`` the step duration captured at creation: the workflow is NOT_STARTED
for ``s``, then runs one step per batch window, each for ``s``, and is COMPLETE after the
last. An injected end (``Failure``: status FAILED or CANCELLED, step index, time,
description) ends that step and the workflow at that time; later steps never start.

AWS documents the statuses SPLIT and RETRY only as enum values. The admin guide's "Bulk
ingestion of data" (integrate-customer-profiles-appflow.html) says what they stand for:
historical ingestion is split into batches, one flow each, and a step "retries on transient
failures up to three times before failing". So both are pauses (``Pauses``: status, step
index, time, seconds): the step and the workflow report the status for that long, then the
step resumes and every later step starts that much later. A SPLIT also halves the step's
batch window into two steps. Neither is terminal.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

RECORDS_MIN, RECORDS_SPAN = 100, 4900
ENDINGS = ("FAILED", "CANCELLED")
PAUSES = ("RETRY", "SPLIT")
MAX_RETRIES = 3  # "Retries on transient failures up to three times before failing" (admin guide, bulk ingestion)


@dataclass(frozen=True)
class StepView:
    """One step that has started, as GetWorkflowSteps reports it."""

    index: int
    status: str
    created_at: dt.datetime
    last_updated_at: dt.datetime
    records_processed: int
    message: str
    window: tuple[dt.datetime, dt.datetime]


@dataclass(frozen=True)
class WorkflowView:
    """The whole workflow at one moment."""

    status: str
    last_updated_at: dt.datetime
    steps: list[StepView]
    total_steps: int
    error_description: str | None

    @property
    def steps_completed(self) -> int:
        return sum(step.status == "COMPLETE" for step in self.steps)

    @property
    def records_processed(self) -> int:
        return sum(step.records_processed for step in self.steps)

    @property
    def description(self) -> str:
        """A one-line status for ListWorkflows; the error description when the workflow failed."""
        if self.error_description:
            return self.error_description
        return f"{self.status}: {self.steps_completed} of {self.total_steps} steps complete"


def step_records(workflow_id: str, index: int) -> int:
    """How many records step ``index`` ingests in total: pseudo-random, but the same on every read."""
    digest = hashlib.blake2b(f"{workflow_id}:{index}".encode(), digest_size=8).digest()
    return RECORDS_MIN + int.from_bytes(digest, "big") % (RECORDS_SPAN + 1)


def _pauses(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return workflow.setdefault("Pauses", [])


def _paused_seconds(workflow: dict[str, Any], keep) -> dt.timedelta:
    return dt.timedelta(seconds=sum(pause["Seconds"] for pause in _pauses(workflow) if keep(pause["Step"])))


def step_slot(workflow: dict[str, Any], index: int) -> tuple[dt.datetime, dt.datetime]:
    """When step ``index`` is scheduled to start and end, pauses included and failures aside."""
    step = dt.timedelta(seconds=workflow["StepSeconds"])
    start = workflow["CreatedAt"] + step * (index + 1) + _paused_seconds(workflow, lambda i: i < index)
    return start, start + step + _paused_seconds(workflow, lambda i: i == index)


def _pause_at(workflow: dict[str, Any], index: int, now: dt.datetime) -> dict[str, Any] | None:
    for pause in _pauses(workflow):
        if pause["Step"] == index and pause["At"] <= now < pause["At"] + dt.timedelta(seconds=pause["Seconds"]):
            return pause
    return None


def _active_fraction(workflow: dict[str, Any], index: int, start: dt.datetime, done_at: dt.datetime) -> float:
    """How much of step ``index``'s work is done at ``done_at``: time running, pauses left out."""
    length = workflow["StepSeconds"]
    if length <= 0:
        return 1.0
    active = (done_at - start).total_seconds()
    for pause in _pauses(workflow):
        if pause["Step"] == index:
            pause_end = pause["At"] + dt.timedelta(seconds=pause["Seconds"])
            active -= max(0.0, (min(done_at, pause_end) - max(start, pause["At"])).total_seconds())
    return max(0.0, min(1.0, active / length))


def evaluate(workflow: dict[str, Any], now: dt.datetime) -> WorkflowView:
    """The workflow as it stands at ``now``."""
    failure = workflow.get("Failure")
    steps: list[StepView] = []
    for index, window in enumerate(workflow["Windows"]):
        if failure and index > failure["Step"]:
            break
        start, end = step_slot(workflow, index)
        failing = bool(failure) and index == failure["Step"]
        if failing:
            start, end = min(start, failure["At"]), failure["At"]
        if now < start:
            break
        steps.append(_step_view(workflow, index, window, start, end, now, failure if failing else None))
    return _workflow_view(workflow, steps, now)


def _step_view(
    workflow: dict[str, Any],
    index: int,
    window: tuple[dt.datetime, dt.datetime],
    start: dt.datetime,
    end: dt.datetime,
    now: dt.datetime,
    failure: dict[str, Any] | None,
) -> StepView:
    total = step_records(workflow["WorkflowId"], index)
    records = int(total * _active_fraction(workflow, index, start, min(now, end)))
    if now < end:
        pause = _pause_at(workflow, index, now)
        if pause:
            return StepView(index, pause["Status"], start, pause["At"], records, pause["Message"], window)
        return StepView(index, "IN_PROGRESS", start, start, records, "Ingesting records", window)
    if failure:
        status = failure["Status"]
        return StepView(index, status, start, end, records, failure["ErrorDescription"] or status, window)
    return StepView(index, "COMPLETE", start, end, total, f"Ingested {total} records", window)


def _workflow_view(workflow: dict[str, Any], steps: list[StepView], now: dt.datetime) -> WorkflowView:
    total = len(workflow["Windows"])
    failure = workflow.get("Failure")
    if failure and now >= failure["At"]:
        return WorkflowView(failure["Status"], failure["At"], steps, total, failure["ErrorDescription"])
    if not steps:
        return WorkflowView("NOT_STARTED", workflow["CreatedAt"], steps, total, None)
    last = steps[-1]
    if len(steps) == total and last.status == "COMPLETE":
        return WorkflowView("COMPLETE", last.last_updated_at, steps, total, None)
    if last.status in PAUSES:
        return WorkflowView(last.status, last.last_updated_at, steps, total, None)
    return WorkflowView("IN_PROGRESS", last.last_updated_at, steps, total, None)


def inject_failure(
    workflow: dict[str, Any],
    now: dt.datetime,
    description: str | None,
    at_step: int | None = None,
    status: str = "FAILED",
) -> WorkflowView:
    """
    End the workflow ``status`` (FAILED or CANCELLED): at the end of step ``at_step`` (1-based), or now.

    Raises ValueError (with a message fit for the caller) when the workflow or step has already finished.
    """
    view = _unfinished(workflow, now)
    if at_step is None:
        index, at = (view.steps[-1].index if view.steps else 0), now
    else:
        index = _future_step(workflow, view, now, at_step, end=True)
        at = step_slot(workflow, index)[1]
    workflow["Failure"] = {"Status": status, "Step": index, "At": at, "ErrorDescription": description}
    return evaluate(workflow, now)


def inject_pause(
    workflow: dict[str, Any], now: dt.datetime, status: str, seconds: float, at_step: int | None = None
) -> WorkflowView:
    """
    Pause a step ``status`` (RETRY or SPLIT) for ``seconds``: the running step now, or step ``at_step`` as it starts.

    A SPLIT halves the step's batch window into two steps. A step retried ``MAX_RETRIES`` times
    fails instead, as AWS documents. Raises ValueError when the step cannot be paused.
    """
    view = _unfinished(workflow, now)
    if at_step is None:
        if view.status != "IN_PROGRESS":
            raise ValueError(f"Workflow {workflow['WorkflowId']} has no running step ({view.status})")
        index, at = view.steps[-1].index, now
    else:
        index = _future_step(workflow, view, now, at_step, end=False)
        at = step_slot(workflow, index)[0]
    retries = sum(pause["Step"] == index and pause["Status"] == "RETRY" for pause in _pauses(workflow))
    if status == "RETRY" and retries >= MAX_RETRIES:
        description = f"Step {index + 1} failed after {MAX_RETRIES} retries of transient failures"
        workflow["Failure"] = {"Status": "FAILED", "Step": index, "At": at, "ErrorDescription": description}
        return evaluate(workflow, now)
    if status == "SPLIT":
        first, last = workflow["Windows"][index]
        middle = first + (last - first) / 2
        workflow["Windows"][index : index + 1] = [(first, middle), (middle, last)]
    message = "Batch split into smaller batches" if status == "SPLIT" else "Retrying after a transient failure"
    _pauses(workflow).append({"Status": status, "Step": index, "At": at, "Seconds": seconds, "Message": message})
    return evaluate(workflow, now)


def _unfinished(workflow: dict[str, Any], now: dt.datetime) -> WorkflowView:
    view = evaluate(workflow, now)
    if view.status in ("COMPLETE", *ENDINGS):
        raise ValueError(f"Workflow {workflow['WorkflowId']} has already finished ({view.status})")
    return view


def _future_step(workflow: dict[str, Any], view: WorkflowView, now: dt.datetime, at_step: int, end: bool) -> int:
    """The 0-based index of step ``at_step`` (1-based), whose start (or ``end``) must still be ahead."""
    if not 1 <= at_step <= view.total_steps:
        raise ValueError(f"AtStep must be between 1 and {view.total_steps}")
    start, finish = step_slot(workflow, at_step - 1)
    if (finish if end else start) <= now:
        raise ValueError(f"Step {at_step} has already {'finished' if end else 'started'}")
    return at_step - 1
