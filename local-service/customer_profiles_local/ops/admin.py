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
from customer_profiles_local.pacing import update_settings
from customer_profiles_local.workflow_lifecycle import inject_failure

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


@admin_route("POST", DOMAIN + r"/workflows/(?P<workflow_id>[^/]+)/fail")
def fail_workflow(
    server: CustomerProfilesServer, body: dict[str, Any], domain_name: str, workflow_id: str
) -> tuple[int, dict[str, Any]]:
    """Make a workflow fail now, or at the end of step ``AtStep``, with ``ErrorDescription``."""
    state = server.state
    workflow = state.domain(domain_name).workflows.get(workflow_id)
    if workflow is None:
        raise NotFound(f"Workflow {workflow_id} does not exist in domain {domain_name}")
    description = body.get("ErrorDescription", DEFAULT_WORKFLOW_ERROR)
    if not isinstance(description, str) or not 1 <= len(description) <= 255:
        raise BadRequest("ErrorDescription must be a string of 1 to 255 characters")
    at_step = body.get("AtStep")
    if at_step is not None and (isinstance(at_step, bool) or not isinstance(at_step, int)):
        raise BadRequest("AtStep must be a step number (1-based)")
    try:
        view = inject_failure(workflow, state.clock.now(), description, at_step)
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
    failure = workflow["Failure"]
    return 200, {
        "WorkflowId": workflow_id,
        "Status": view.status,
        "FailingStep": failure["Step"] + 1,
        "FailsAt": failure["At"].isoformat(),
    }


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
