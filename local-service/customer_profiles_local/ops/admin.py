"""The ``/_emulator/...`` endpoints that drive lifecycles: settings, clock, failures, jobs and match seeding.

None of these exist in AWS; they let tests and demos reach every state on demand.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from customer_profiles_local.errors import BadRequest, NotFound
from customer_profiles_local.identity_resolution_jobs import (
    OUTCOMES,
    matching_settings,
    start_job,
    sync,
    sync_all,
)
from customer_profiles_local.match_runs import publish
from customer_profiles_local.match_seed import generation_date, seeded_matches
from customer_profiles_local.ops.registry import admin_route
from customer_profiles_local.pacing import pace, update_settings
from customer_profiles_local.workflow_lifecycle import inject_failure, inject_pause

if TYPE_CHECKING:
    from customer_profiles_local.server import CustomerProfilesServer

DOMAIN = r"/domains/(?P<domain_name>[a-zA-Z0-9_-]+)"
DEFAULT_WORKFLOW_ERROR = "The workflow failed (failure injected through the local service)"


@admin_route("POST", "/settings")
def post_settings(server: CustomerProfilesServer, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """Merge lifecycle pacing settings (seconds); answers every setting in effect."""
    return 200, update_settings(server.state, body)


@admin_route("POST", "/clock")
def post_clock(server: CustomerProfilesServer, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """Move the service's clock forward by ``AdvanceSeconds``; jobs whose time came run; answers ``Now``."""
    seconds = body.get("AdvanceSeconds", 0)
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        raise BadRequest("AdvanceSeconds must be a number of seconds, zero or more")
    try:
        now = server.state.clock.advance(seconds)
    except ValueError as exc:
        raise BadRequest(f"AdvanceSeconds out of range: {exc}") from None
    sync_all(server.state)
    return 200, {"Now": now.isoformat()}


WORKFLOW = DOMAIN + r"/workflows/(?P<workflow_id>[^/]+)"


def _workflow(server: CustomerProfilesServer, domain_name: str, workflow_id: str) -> dict[str, Any]:
    workflow = server.state.domain(domain_name).workflows.get(workflow_id)
    if workflow is None:
        raise NotFound(f"Workflow {workflow_id} does not exist in domain {domain_name}")
    return workflow


def _at_step(body: dict[str, Any]) -> int | None:
    at_step = body.get("AtStep")
    if at_step is not None and (isinstance(at_step, bool) or not isinstance(at_step, int)):
        raise BadRequest("AtStep must be a step number (1-based)")
    return at_step


def _end_workflow(
    server: CustomerProfilesServer, body: dict[str, Any], domain_name: str, workflow_id: str, status: str
) -> tuple[int, dict[str, Any]]:
    workflow = _workflow(server, domain_name, workflow_id)
    description = body.get("ErrorDescription", DEFAULT_WORKFLOW_ERROR if status == "FAILED" else None)
    if description is not None and (not isinstance(description, str) or not 1 <= len(description) <= 255):
        raise BadRequest("ErrorDescription must be a string of 1 to 255 characters")
    try:
        view = inject_failure(workflow, server.state.clock.now(), description, _at_step(body), status)
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
    failure = workflow["Failure"]
    return 200, {
        "WorkflowId": workflow_id,
        "Status": view.status,
        "FailingStep": failure["Step"] + 1,
        "FailsAt": failure["At"].isoformat(),
    }


@admin_route("POST", WORKFLOW + "/fail")
def fail_workflow(
    server: CustomerProfilesServer, body: dict[str, Any], domain_name: str, workflow_id: str
) -> tuple[int, dict[str, Any]]:
    """Make a workflow fail now, or at the end of step ``AtStep``, with ``ErrorDescription``."""
    return _end_workflow(server, body, domain_name, workflow_id, "FAILED")


@admin_route("POST", WORKFLOW + "/cancel")
def cancel_workflow(
    server: CustomerProfilesServer, body: dict[str, Any], domain_name: str, workflow_id: str
) -> tuple[int, dict[str, Any]]:
    """Cancel a workflow now, or at the end of step ``AtStep``; ``ErrorDescription`` is optional."""
    return _end_workflow(server, body, domain_name, workflow_id, "CANCELLED")


def _pause_workflow(
    server: CustomerProfilesServer, body: dict[str, Any], domain_name: str, workflow_id: str, status: str
) -> tuple[int, dict[str, Any]]:
    state = server.state
    workflow = _workflow(server, domain_name, workflow_id)
    seconds = body.get("Seconds", pace(state, "WorkflowStepSeconds"))
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not 0 < seconds <= 86400:
        raise BadRequest("Seconds must be a number of seconds, more than 0 and at most 86400")
    try:
        view = inject_pause(workflow, state.clock.now(), status, float(seconds), _at_step(body))
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
    return 200, {"WorkflowId": workflow_id, "Status": view.status, "TotalSteps": view.total_steps}


@admin_route("POST", WORKFLOW + "/retry")
def retry_workflow(
    server: CustomerProfilesServer, body: dict[str, Any], domain_name: str, workflow_id: str
) -> tuple[int, dict[str, Any]]:
    """A transient failure: the running step (or step ``AtStep`` as it starts) is RETRY for ``Seconds``."""
    return _pause_workflow(server, body, domain_name, workflow_id, "RETRY")


@admin_route("POST", WORKFLOW + "/split")
def split_workflow(
    server: CustomerProfilesServer, body: dict[str, Any], domain_name: str, workflow_id: str
) -> tuple[int, dict[str, Any]]:
    """Split the running step's batch (or step ``AtStep``'s) in two; the workflow is SPLIT for ``Seconds``."""
    return _pause_workflow(server, body, domain_name, workflow_id, "SPLIT")


@admin_route("POST", DOMAIN + "/identity-resolution-jobs")
def post_identity_resolution_job(
    server: CustomerProfilesServer, body: dict[str, Any], domain_name: str
) -> tuple[int, dict[str, Any]]:
    """Start an identity-resolution job now; ``Outcome`` FAILED or PARTIAL_SUCCESS makes it end that way."""
    state = server.state
    domain = state.domain(domain_name)
    if not matching_settings(domain).get("Enabled"):
        raise BadRequest(f"Identity resolution (Matching) is not enabled on domain {domain_name}")
    outcome, message = body.get("Outcome"), body.get("Message")
    if outcome is not None and outcome not in OUTCOMES:
        raise BadRequest(f"Outcome must be one of {list(OUTCOMES)}")
    if message is not None and (not isinstance(message, str) or not 1 <= len(message) <= 2048):
        raise BadRequest("Message must be a string of 1 to 2048 characters")
    sync(state, domain)
    job = start_job(state, domain, None if outcome == "COMPLETED" else outcome, message)
    return 200, {"JobId": job["JobId"], "JobStartTime": job["JobStartTime"].isoformat()}


@admin_route("POST", DOMAIN + "/matches")
def post_matches(server: CustomerProfilesServer, body: dict[str, Any], domain_name: str) -> tuple[int, dict[str, Any]]:
    """Replace the domain's latest match run with the given or generated ``Matches``."""
    state = server.state
    domain = state.domain(domain_name)
    matches = seeded_matches(body)
    return 200, publish(domain, generation_date(body, state.clock.now()), matches)
