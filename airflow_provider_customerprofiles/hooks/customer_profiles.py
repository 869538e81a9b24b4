"""The one hook every operator, sensor and trigger of this provider uses."""

from __future__ import annotations

import datetime as dt
import os
from collections import Counter
from collections.abc import AsyncIterator, Iterable, Iterator
from functools import cached_property
from pathlib import Path
from typing import Any

import jmespath
from airflow.providers.amazon.aws.exceptions import WaiterTerminalFailure
from airflow.providers.amazon.aws.hooks.base_aws import AwsGenericHook
from airflow.providers.amazon.aws.utils.waiter_with_logging import wait
from airflow.providers.common.compat.sdk import AirflowException

# Operations that return NextToken but have no boto3 paginator, mapped to the
# response field that holds their items. One generic loop serves them all.
UNPAGINATED_LIST_FIELDS: dict[str, str] = {
    "get_matches": "Matches",
    "list_identity_resolution_jobs": "IdentityResolutionJobsList",
    "list_workflows": "Items",
    "get_workflow_steps": "Items",
    "search_profiles": "Items",
    "list_profile_objects": "Items",
    "list_domains": "Items",
    "list_integrations": "Items",
    "list_profile_object_types": "Items",
    "list_profile_object_type_templates": "Items",
    "list_account_integrations": "Items",
}

# What the waiters log on every attempt (JMESPath on GetWorkflow / GetIdentityResolutionJob).
# Ids, statuses, counts and the service's own error text only: never profile data.
WORKFLOW_STATUS_QUERIES: list[str] = [
    "Status",
    "ErrorDescription",
    "Metrics.AppflowIntegration && join('', ['steps ', to_string(Metrics.AppflowIntegration.StepsCompleted), "
    "'/', to_string(Metrics.AppflowIntegration.TotalSteps), ', records processed ', "
    "to_string(Metrics.AppflowIntegration.RecordsProcessed)])",
]
IDENTITY_RESOLUTION_JOB_STATUS_QUERIES: list[str] = ["Status", "Message"]


def describe_status(response: dict[str, Any], queries: list[str]) -> str:
    """Render the non-empty values of ``queries`` on ``response``, as the Amazon waiters log them."""
    values = (jmespath.search(query, response) for query in queries)
    return " - ".join(str(value) for value in values if value not in (None, ""))


def is_subset(desired: Any, current: Any) -> bool:
    """
    Whether ``current`` already holds everything in ``desired``.

    Dicts compare key by key on the keys ``desired`` names, so values the service fills in
    by itself (a default ``JobSchedule``, timestamps) do not count as drift; lists compare
    item by item; anything else compares equal.
    """
    if isinstance(desired, dict):
        return isinstance(current, dict) and all(
            key in current and is_subset(value, current[key]) for key, value in desired.items()
        )
    if isinstance(desired, list):
        return (
            isinstance(current, list)
            and len(desired) == len(current)
            and all(is_subset(d, c) for d, c in zip(desired, current, strict=True))
        )
    return desired == current


def first_job_started_at_or_after(jobs: Iterable[dict[str, Any]], started_after: dt.datetime) -> dict[str, Any] | None:
    """The identity-resolution job with the earliest ``JobStartTime`` at or after ``started_after``."""
    candidates = [job for job in jobs if job.get("JobStartTime") and job["JobStartTime"] >= started_after]
    return min(candidates, key=lambda job: (job["JobStartTime"], job["JobId"]), default=None)


def identity_resolution_job_result(job: dict[str, Any]) -> dict[str, Any]:
    """The XCom-safe summary of a GetIdentityResolutionJob (or list item): ids, status, counts, URI."""
    s3 = (job.get("ExportingLocation") or {}).get("S3Exporting") or {}
    return {
        "job_id": job["JobId"],
        "status": job.get("Status"),
        "job_stats": dict(job.get("JobStats") or {}),
        "exporting_location": f"s3://{s3['S3BucketName']}/{s3.get('S3KeyName', '')}" if s3 else None,
    }


class CustomerProfilesHook(AwsGenericHook):
    """
    Interact with Amazon Connect Customer Profiles through boto3.

    Uses Airflow's ``aws`` connection. To reach the local Customer Profiles
    service instead of AWS, set the connection extra ``endpoint_url`` or
    ``service_config: {"customer-profiles": {"endpoint_url": "http://127.0.0.1:PORT"}}``.

    Additional arguments (such as ``aws_conn_id``, ``region_name``, ``verify`` and
    ``config``) are passed to
    :class:`~airflow.providers.amazon.aws.hooks.base_aws.AwsGenericHook`.
    """

    hook_name = "Amazon Connect Customer Profiles"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["client_type"] = "customer-profiles"
        super().__init__(*args, **kwargs)

    @cached_property
    def waiter_path(self) -> os.PathLike[str] | None:
        """Our own waiter model: the base class only looks inside the Amazon provider."""
        return Path(__file__).parents[1] / "waiters" / "customer-profiles.json"

    def iterate_items(self, operation: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
        """
        Yield every item of a list operation that boto3 cannot paginate.

        ``operation`` is the boto3 method name (for example ``"get_matches"``);
        ``kwargs`` are its arguments. Pages are requested lazily, one at a time.
        """
        for page in self.iterate_pages(operation, **kwargs):
            yield from page.get(UNPAGINATED_LIST_FIELDS[operation], [])

    def iterate_pages(self, operation: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
        """Yield each raw response page of ``operation``, following ``NextToken``."""
        if operation not in UNPAGINATED_LIST_FIELDS:
            raise ValueError(
                f"{operation!r} is not one of the NextToken operations this hook pages: "
                f"{sorted(UNPAGINATED_LIST_FIELDS)}"
            )
        call = getattr(self.conn, operation)
        kwargs.pop("NextToken", None)
        token: str | None = None
        while True:
            page = call(**kwargs, **({"NextToken": token} if token else {}))
            page.pop("ResponseMetadata", None)
            yield page
            token = page.get("NextToken")
            if not token:
                return

    async def async_iterate_items(self, client: Any, operation: str, **kwargs: Any) -> AsyncIterator[dict[str, Any]]:
        """``iterate_items`` for an aiobotocore ``client`` (from :meth:`get_async_conn`), for triggers."""
        field = UNPAGINATED_LIST_FIELDS[operation]
        call = getattr(client, operation)
        token: str | None = None
        while True:
            page = await call(**kwargs, **({"NextToken": token} if token else {}))
            for item in page.get(field, []):
                yield item
            token = page.get("NextToken")
            if not token:
                return

    # ------------------------------------------------------------------ workflows

    def wait_for_workflow(
        self, domain_name: str, workflow_id: str, waiter_delay: int, waiter_max_attempts: int
    ) -> None:
        """
        Block until an integration workflow is COMPLETE, logging its step progress on every check.

        Raises with the service's ``ErrorDescription`` when it ends FAILED or CANCELLED.
        """
        try:
            wait(
                waiter=self.get_waiter("workflow_complete"),
                waiter_delay=waiter_delay,
                waiter_max_attempts=waiter_max_attempts,
                args={"DomainName": domain_name, "WorkflowId": workflow_id},
                failure_message=f"Integration workflow {workflow_id} did not complete",
                status_message=f"Integration workflow {workflow_id}",
                status_args=WORKFLOW_STATUS_QUERIES,
            )
        except WaiterTerminalFailure as failure:
            raise AirflowException(
                f"Integration workflow {workflow_id} did not complete: "
                f"{describe_status(failure.last_response, WORKFLOW_STATUS_QUERIES)}"
            ) from None

    def summarize_workflow_steps(self, domain_name: str, workflow_id: str) -> dict[str, Any]:
        """Count a workflow's steps by status and add up their records (GetWorkflowSteps, all pages)."""
        statuses: Counter[str] = Counter()
        records = 0
        for item in self.iterate_items("get_workflow_steps", DomainName=domain_name, WorkflowId=workflow_id):
            step = item.get("AppflowIntegration") or {}
            statuses[step.get("Status", "UNKNOWN")] += 1
            records += int(step.get("RecordsProcessed") or 0)
        return {
            "steps": sum(statuses.values()),
            "steps_by_status": dict(statuses),
            "records_processed": records,
        }

    # ------------------------------------------------------------------ identity resolution

    def find_identity_resolution_job(self, domain_name: str, started_after: dt.datetime) -> dict[str, Any] | None:
        """The first identity-resolution job that starts (or will start) at or after ``started_after``."""
        jobs = self.iterate_items("list_identity_resolution_jobs", DomainName=domain_name)
        return first_job_started_at_or_after(jobs, started_after)

    async def async_find_identity_resolution_job(
        self, client: Any, domain_name: str, started_after: dt.datetime
    ) -> dict[str, Any] | None:
        """:meth:`find_identity_resolution_job` on an aiobotocore ``client``."""
        jobs = [
            job
            async for job in self.async_iterate_items(client, "list_identity_resolution_jobs", DomainName=domain_name)
        ]
        return first_job_started_at_or_after(jobs, started_after)

    # ------------------------------------------------------------------ idempotent set-up

    def ensure_domain(self, domain_name: str, settings: dict[str, Any]) -> str:
        """
        Create the domain, or update it when ``settings`` differ from what it has.

        ``settings`` are CreateDomain arguments (``DefaultExpirationDays``, ``Matching``, ``Tags``, ...).
        Returns ``"created"``, ``"updated"`` or ``"unchanged"``; an unchanged domain gets no write call.
        """
        try:
            current = self.conn.get_domain(DomainName=domain_name)
        except self.conn.exceptions.ResourceNotFoundException:
            self.conn.create_domain(DomainName=domain_name, **settings)
            return "created"
        if is_subset(settings, current):
            return "unchanged"
        self.conn.update_domain(DomainName=domain_name, **settings)
        return "updated"

    def ensure_profile_object_type(self, domain_name: str, object_type_name: str, settings: dict[str, Any]) -> str:
        """
        Put the object type unless it already has ``settings`` (PutProfileObjectType arguments).

        Returns ``"created"``, ``"updated"`` or ``"unchanged"``; an unchanged type gets no write call.
        """
        try:
            current = self.conn.get_profile_object_type(DomainName=domain_name, ObjectTypeName=object_type_name)
        except self.conn.exceptions.ResourceNotFoundException:
            current = None
        if current is not None and is_subset(settings, current):
            return "unchanged"
        self.conn.put_profile_object_type(DomainName=domain_name, ObjectTypeName=object_type_name, **settings)
        return "created" if current is None else "updated"
