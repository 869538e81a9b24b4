"""Where an integration workflow stands at a given moment, derived from its record (no stored status).

Timeline, with ``s`` the step duration captured at creation: the workflow is NOT_STARTED
for ``s``, then runs one step per batch window, each for ``s``, and is COMPLETE after the
last. An injected failure (``Failure``: step index, time, description) ends the failing
step and the workflow at that time; later steps never start.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

RECORDS_MIN, RECORDS_SPAN = 100, 4900


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


def step_slot(workflow: dict[str, Any], index: int) -> tuple[dt.datetime, dt.datetime]:
    """When step ``index`` is scheduled to start and end, failures aside."""
    step = dt.timedelta(seconds=workflow["StepSeconds"])
    start = workflow["CreatedAt"] + step * (index + 1)
    return start, start + step


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
    nominal_start, nominal_end = step_slot(workflow, index)
    length = (nominal_end - nominal_start).total_seconds()
    done_at = min(now, end)
    fraction = 1.0 if length <= 0 else max(0.0, min(1.0, (done_at - start).total_seconds() / length))
    if now < end:
        return StepView(index, "IN_PROGRESS", start, start, int(total * fraction), "Ingesting records", window)
    if failure:
        return StepView(index, "FAILED", start, end, int(total * fraction), failure["ErrorDescription"], window)
    return StepView(index, "COMPLETE", start, end, total, f"Ingested {total} records", window)


def _workflow_view(workflow: dict[str, Any], steps: list[StepView], now: dt.datetime) -> WorkflowView:
    total = len(workflow["Windows"])
    failure = workflow.get("Failure")
    if failure and now >= failure["At"]:
        return WorkflowView("FAILED", failure["At"], steps, total, failure["ErrorDescription"])
    if not steps:
        return WorkflowView("NOT_STARTED", workflow["CreatedAt"], steps, total, None)
    last = steps[-1]
    if len(steps) == total and last.status == "COMPLETE":
        return WorkflowView("COMPLETE", last.last_updated_at, steps, total, None)
    return WorkflowView("IN_PROGRESS", last.last_updated_at, steps, total, None)


def inject_failure(
    workflow: dict[str, Any], now: dt.datetime, description: str, at_step: int | None = None
) -> WorkflowView:
    """
    Make the workflow fail: at the end of step ``at_step`` (1-based), or now in the running step.

    Raises ValueError (with a message fit for the caller) when the workflow or step has already finished.
    """
    view = evaluate(workflow, now)
    if view.status in ("COMPLETE", "FAILED"):
        raise ValueError(f"Workflow {workflow['WorkflowId']} has already finished ({view.status})")
    if at_step is None:
        index, at = (view.steps[-1].index if view.steps else 0), now
    else:
        if not 1 <= at_step <= view.total_steps:
            raise ValueError(f"AtStep must be between 1 and {view.total_steps}")
        index, at = at_step - 1, step_slot(workflow, at_step - 1)[1]
        if at <= now:
            raise ValueError(f"Step {at_step} has already finished")
    workflow["Failure"] = {"Step": index, "At": at, "ErrorDescription": description}
    return evaluate(workflow, now)
