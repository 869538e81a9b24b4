"""
Triggers that wait in the triggerer (aiobotocore) so deferred tasks hold no worker slot.

The completion triggers are the Amazon provider's waiter pattern on our own waiters
(``waiters/customer-profiles.json``); those waiters retry on ``ThrottlingException``, since
the workflow and identity-resolution APIs allow only 5 requests a second per account.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

from airflow.providers.amazon.aws.triggers.base import AwsBaseWaiterTrigger
from airflow.triggers.base import BaseTrigger, TriggerEvent
from botocore.exceptions import ClientError

from airflow_provider_customerprofiles.hooks.customer_profiles import (
    IDENTITY_RESOLUTION_JOB_STATUS_QUERIES,
    WORKFLOW_STATUS_QUERIES,
    CustomerProfilesHook,
)


class CustomerProfilesWorkflowCompleteTrigger(AwsBaseWaiterTrigger):
    """
    Fire when an integration workflow is COMPLETE; an error event when it ends FAILED or CANCELLED.

    The error event's ``message`` carries the workflow's status and ``ErrorDescription``.

    :param domain_name: The Customer Profiles domain.
    :param workflow_id: The workflow to wait for.
    :param waiter_delay: Seconds between checks. (default: 30)
    :param waiter_max_attempts: Checks before giving up. (default: 240)
    :param aws_conn_id: The Airflow connection used for AWS credentials.
    :param region_name: The AWS region of the domain.
    :param verify: Whether to verify SSL certificates.
    :param botocore_config: Configuration dictionary (key-values) for the botocore client.
    """

    aws_hook_class = CustomerProfilesHook

    def __init__(
        self,
        *,
        domain_name: str,
        workflow_id: str,
        waiter_delay: int = 30,
        waiter_max_attempts: int = 240,
        aws_conn_id: str | None = "aws_default",
        region_name: str | None = None,
        verify: bool | str | None = None,
        botocore_config: dict | None = None,
    ) -> None:
        super().__init__(
            serialized_fields={"domain_name": domain_name, "workflow_id": workflow_id},
            waiter_name="workflow_complete",
            waiter_args={"DomainName": domain_name, "WorkflowId": workflow_id},
            failure_message=f"Integration workflow {workflow_id} did not complete",
            status_message=f"Integration workflow {workflow_id}",
            status_queries=WORKFLOW_STATUS_QUERIES,
            return_key="workflow_id",
            return_value=workflow_id,
            waiter_delay=waiter_delay,
            waiter_max_attempts=waiter_max_attempts,
            aws_conn_id=aws_conn_id,
            region_name=region_name,
            verify=verify,
            botocore_config=botocore_config,
        )


class CustomerProfilesIdentityResolutionJobCompleteTrigger(AwsBaseWaiterTrigger):
    """
    Fire when an identity-resolution job ends COMPLETED; an error event when it ends FAILED.

    PARTIAL_SUCCESS (some data left unmerged by a system error) is a success only with
    ``partial_success_is_success=True``. The error event's ``message`` carries the job's
    status and ``Message``.

    :param domain_name: The Customer Profiles domain.
    :param job_id: The identity-resolution job to wait for.
    :param partial_success_is_success: Whether PARTIAL_SUCCESS counts as success. (default: False)
    :param waiter_delay: Seconds between checks. (default: 60)
    :param waiter_max_attempts: Checks before giving up. (default: 720)
    :param aws_conn_id: The Airflow connection used for AWS credentials.
    :param region_name: The AWS region of the domain.
    :param verify: Whether to verify SSL certificates.
    :param botocore_config: Configuration dictionary (key-values) for the botocore client.
    """

    aws_hook_class = CustomerProfilesHook

    def __init__(
        self,
        *,
        domain_name: str,
        job_id: str,
        partial_success_is_success: bool = False,
        waiter_delay: int = 60,
        waiter_max_attempts: int = 720,
        aws_conn_id: str | None = "aws_default",
        region_name: str | None = None,
        verify: bool | str | None = None,
        botocore_config: dict | None = None,
    ) -> None:
        super().__init__(
            serialized_fields={
                "domain_name": domain_name,
                "job_id": job_id,
                "partial_success_is_success": partial_success_is_success,
            },
            waiter_name=identity_resolution_waiter_name(partial_success_is_success),
            waiter_args={"DomainName": domain_name, "JobId": job_id},
            failure_message=f"Identity resolution job {job_id} did not succeed",
            status_message=f"Identity resolution job {job_id}",
            status_queries=IDENTITY_RESOLUTION_JOB_STATUS_QUERIES,
            return_key="job_id",
            return_value=job_id,
            waiter_delay=waiter_delay,
            waiter_max_attempts=waiter_max_attempts,
            aws_conn_id=aws_conn_id,
            region_name=region_name,
            verify=verify,
            botocore_config=botocore_config,
        )


def identity_resolution_waiter_name(partial_success_is_success: bool) -> str:
    """The waiter that treats PARTIAL_SUCCESS as the caller asks."""
    if partial_success_is_success:
        return "identity_resolution_job_complete_or_partial"
    return "identity_resolution_job_complete"


class CustomerProfilesIdentityResolutionJobStartedTrigger(BaseTrigger):
    """
    Fire with the ``job_id`` of the first identity-resolution job at or after a time, once it has started.

    The service runs these jobs on its own weekly schedule and has no API to start one. Its next
    run is listed ahead of time as PENDING, and a schedule change replaces that PENDING job, so
    this polls ListIdentityResolutionJobs, re-reading which job is the first with ``JobStartTime``
    at or after ``started_after``, until that job has left PENDING; then the completion trigger
    can wait on a job id that will not change. It is not a waiter trigger: a waiter cannot
    compare timestamps. Throttled polls are retried at the next interval.

    :param domain_name: The Customer Profiles domain.
    :param started_after: ISO 8601 time (with offset); the job must start at or after it.
    :param waiter_delay: Seconds between polls. (default: 300)
    :param waiter_max_attempts: Polls before giving up with an error event. (default: 2016, one week)
    :param aws_conn_id: The Airflow connection used for AWS credentials.
    :param region_name: The AWS region of the domain.
    :param verify: Whether to verify SSL certificates.
    :param botocore_config: Configuration dictionary (key-values) for the botocore client.
    """

    def __init__(
        self,
        *,
        domain_name: str,
        started_after: str,
        waiter_delay: int = 300,
        waiter_max_attempts: int = 2016,
        aws_conn_id: str | None = "aws_default",
        region_name: str | None = None,
        verify: bool | str | None = None,
        botocore_config: dict | None = None,
    ) -> None:
        super().__init__()
        self.domain_name = domain_name
        self.started_after = started_after
        self.waiter_delay = waiter_delay
        self.waiter_max_attempts = waiter_max_attempts
        self.aws_conn_id = aws_conn_id
        self.region_name = region_name
        self.verify = verify
        self.botocore_config = botocore_config

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "domain_name": self.domain_name,
                "started_after": self.started_after,
                "waiter_delay": self.waiter_delay,
                "waiter_max_attempts": self.waiter_max_attempts,
                "aws_conn_id": self.aws_conn_id,
                "region_name": self.region_name,
                "verify": self.verify,
                "botocore_config": self.botocore_config,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        hook = CustomerProfilesHook(
            aws_conn_id=self.aws_conn_id,
            region_name=self.region_name,
            verify=self.verify,
            config=self.botocore_config,
        )
        started_after = dt.datetime.fromisoformat(self.started_after)
        async with await hook.get_async_conn() as client:
            for attempt in range(1, self.waiter_max_attempts + 1):
                try:
                    job = await hook.async_find_identity_resolution_job(client, self.domain_name, started_after)
                except ClientError as error:
                    if error.response.get("Error", {}).get("Code") != "ThrottlingException":
                        raise
                    self.log.info("Listing identity resolution jobs was throttled; retrying")
                else:
                    if job is not None and job.get("Status") != "PENDING":
                        self.log.info("Identity resolution job %s has started: %s", job["JobId"], job["Status"])
                        yield TriggerEvent({"status": "success", "job_id": job["JobId"]})
                        return
                    self.log.info(
                        "No identity resolution job at or after %s has started yet (first: %s; check %d of %d)",
                        self.started_after,
                        job["JobId"] if job else None,
                        attempt,
                        self.waiter_max_attempts,
                    )
                if attempt < self.waiter_max_attempts:
                    await asyncio.sleep(self.waiter_delay)
        yield TriggerEvent(
            {
                "status": "error",
                "message": f"No identity resolution job at or after {self.started_after} started "
                f"in domain {self.domain_name} after {self.waiter_max_attempts} checks",
            }
        )
