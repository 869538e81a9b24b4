"""
Sensors for Customer Profiles: integration workflows and identity-resolution jobs.

They subclass the Amazon provider's ``AwsBaseSensor``, which that provider marks internal;
we accept that because this package pins ``apache-airflow-providers-amazon`` to one major
version (9.x).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NoReturn

from airflow.providers.amazon.aws.sensors.base_aws import AwsBaseSensor
from airflow.providers.amazon.aws.utils import validate_execute_complete_event
from airflow.providers.amazon.aws.utils.mixins import aws_template_fields
from airflow.providers.common.compat.sdk import AirflowException, conf
from airflow.sdk import PokeReturnValue

from airflow_provider_customerprofiles.hooks.customer_profiles import (
    IDENTITY_RESOLUTION_JOB_STATUS_QUERIES,
    WORKFLOW_STATUS_QUERIES,
    CustomerProfilesHook,
    describe_status,
    identity_resolution_job_result,
)
from airflow_provider_customerprofiles.links.customer_profiles import (
    CustomerProfilesIdentityResolutionLink,
    CustomerProfilesWorkflowLink,
)
from airflow_provider_customerprofiles.templating import (
    AWS_ARGUMENTS,
    FLAG,
    ConvertsTemplatedArguments,
    Moment,
    OrNone,
)
from airflow_provider_customerprofiles.triggers.customer_profiles import (
    CustomerProfilesIdentityResolutionJobCompleteTrigger,
    CustomerProfilesIdentityResolutionJobStartedTrigger,
    CustomerProfilesWorkflowCompleteTrigger,
)

if TYPE_CHECKING:
    from airflow.sdk import Context

# When a run has neither a data interval nor a logical date (a manual run in Airflow 3), look
# back one week: the service runs identity resolution weekly.
DEFAULT_LOOKBACK = dt.timedelta(days=7)


class CustomerProfilesWorkflowSensor(ConvertsTemplatedArguments, AwsBaseSensor[CustomerProfilesHook]):
    """
    Wait for an integration workflow to be COMPLETE.

    Fails with the service's ``ErrorDescription`` when the workflow ends FAILED or CANCELLED;
    every other status (NOT_STARTED, IN_PROGRESS, SPLIT, RETRY) keeps waiting. Each check logs
    the status and step progress.

    :param domain_name: The domain name. (templated)
    :param workflow_id: The workflow to wait for. (templated)
    :param deferrable: Wait in the triggerer instead of a worker slot.
        (default: the ``[operators] default_deferrable`` setting)
    :param poke_interval: Seconds between checks. (default: 30)
    :param max_retries: Checks before giving up, in deferrable mode. (default: 240)
    :param aws_conn_id: The Airflow ``aws`` connection. (templated)
    :param region_name: AWS region; the connection's when not given. (templated)
    :param verify: Whether to verify SSL certificates. (templated)
    :param botocore_config: Configuration dictionary for the botocore client.
    """

    aws_hook_class = CustomerProfilesHook
    template_fields: Sequence[str] = aws_template_fields("domain_name", "workflow_id")
    argument_types = AWS_ARGUMENTS
    operator_extra_links = (CustomerProfilesWorkflowLink(),)
    FAILURE_STATES = ("FAILED", "CANCELLED")

    def __init__(
        self,
        *,
        domain_name: str,
        workflow_id: str,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        poke_interval: float = 30,
        max_retries: int = 240,
        **kwargs: Any,
    ) -> None:
        super().__init__(poke_interval=poke_interval, **kwargs)
        self.domain_name = domain_name
        self.workflow_id = workflow_id
        self.deferrable = deferrable
        self.max_retries = max_retries

    def execute(self, context: Context) -> Any:
        CustomerProfilesWorkflowLink.persist(
            context=context,
            operator=self,
            region_name=self.hook.conn_region_name,
            aws_partition=self.hook.conn_partition,
            domain_name=self.domain_name,
            workflow_id=self.workflow_id,
        )
        if not self.deferrable:
            return super().execute(context)
        self.defer(
            trigger=CustomerProfilesWorkflowCompleteTrigger(
                domain_name=self.domain_name,
                workflow_id=self.workflow_id,
                waiter_delay=max(1, round(self.poke_interval)),
                waiter_max_attempts=self.max_retries,
                aws_conn_id=self.aws_conn_id,
                region_name=self.region_name,
                verify=self.verify,
                botocore_config=self.botocore_config,
            ),
            method_name="execute_complete",
        )

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> None:
        event = validate_execute_complete_event(event)
        if event["status"] != "success":
            raise AirflowException(event["message"])
        self.log.info("Integration workflow %s is COMPLETE", event["workflow_id"])

    def poke(self, context: Context) -> bool:
        workflow = self.hook.conn.get_workflow(DomainName=self.domain_name, WorkflowId=self.workflow_id)
        status = describe_status(workflow, WORKFLOW_STATUS_QUERIES)
        if workflow["Status"] in self.FAILURE_STATES:
            raise AirflowException(f"Integration workflow {self.workflow_id} ended {status}")
        self.log.info("Integration workflow %s: %s", self.workflow_id, status)
        return workflow["Status"] == "COMPLETE"


class CustomerProfilesIdentityResolutionJobSensor(ConvertsTemplatedArguments, AwsBaseSensor[CustomerProfilesHook]):
    """
    Wait for an identity-resolution job to finish, and return where its results are.

    The service runs these jobs on the domain's weekly ``JobSchedule``; there is no API to
    start one. So the sensor waits either for a given ``job_id`` or, without one, for the
    first job that starts (or is scheduled to start) at or after ``started_after``: until such
    a job is listed it keeps waiting, then it waits for that job to end. The service lists its
    next run ahead of time as PENDING; which job is first is re-read on every check until it
    has started.

    ``started_after`` defaults to the run's ``data_interval_start``; a manual run in Airflow 3
    has none, then the ``logical_date`` is used, and when that is also missing, now minus one
    week.

    Success is COMPLETED, and PARTIAL_SUCCESS too when ``partial_success_is_success=True``.
    That is off by default because a partial job left some data unmerged by a system error:
    downstream merges or exports should opt in knowingly. FAILED (and PARTIAL_SUCCESS when not
    accepted) fails the task with the job's ``Message``.

    Returns (XCom) ``{"job_id", "status", "job_stats", "exporting_location"}`` where
    ``exporting_location`` is the ``s3://`` URI of the job's result files, or None.

    :param domain_name: The domain name. (templated)
    :param job_id: The job to wait for; when None, the first job starting at or after
        ``started_after``. (templated)
    :param started_after: A datetime or ISO 8601 string (UTC when it has no offset). (templated)
    :param partial_success_is_success: Accept PARTIAL_SUCCESS as success. (default: False) (templated)
    :param deferrable: Wait in the triggerer instead of a worker slot.
        (default: the ``[operators] default_deferrable`` setting)
    :param poke_interval: Seconds between checks. (default: 300)
    :param max_retries: Checks before giving up, per deferred phase (waiting for the job to
        start, then for it to end). (default: 2016, one week at the default interval)
    :param aws_conn_id: The Airflow ``aws`` connection. (templated)
    :param region_name: AWS region; the connection's when not given. (templated)
    :param verify: Whether to verify SSL certificates. (templated)
    :param botocore_config: Configuration dictionary for the botocore client.
    """

    aws_hook_class = CustomerProfilesHook
    template_fields: Sequence[str] = aws_template_fields(
        "domain_name", "job_id", "started_after", "partial_success_is_success"
    )
    argument_types = {
        **AWS_ARGUMENTS,
        "started_after": OrNone(Moment()),
        "partial_success_is_success": FLAG,
    }
    operator_extra_links = (CustomerProfilesIdentityResolutionLink(),)
    ENDED_STATES = ("COMPLETED", "PARTIAL_SUCCESS", "FAILED")

    def __init__(
        self,
        *,
        domain_name: str,
        job_id: str | None = None,
        started_after: dt.datetime | str | None = None,
        partial_success_is_success: bool = False,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        poke_interval: float = 300,
        max_retries: int = 2016,
        **kwargs: Any,
    ) -> None:
        super().__init__(poke_interval=poke_interval, **kwargs)
        self.domain_name = domain_name
        self.job_id = job_id
        self.started_after = started_after
        self.partial_success_is_success = partial_success_is_success
        self.deferrable = deferrable
        self.max_retries = max_retries

    @property
    def success_states(self) -> tuple[str, ...]:
        return ("COMPLETED", "PARTIAL_SUCCESS") if self.partial_success_is_success else ("COMPLETED",)

    def resolve_started_after(self, context: Context) -> dt.datetime:
        """``started_after`` as an aware datetime, with the documented fallbacks."""
        moment = self.started_after or context.get("data_interval_start") or context.get("logical_date")
        if moment is None:
            return dt.datetime.now(dt.timezone.utc) - DEFAULT_LOOKBACK
        return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)

    def execute(self, context: Context) -> Any:
        CustomerProfilesIdentityResolutionLink.persist(
            context=context,
            operator=self,
            region_name=self.hook.conn_region_name,
            aws_partition=self.hook.conn_partition,
            domain_name=self.domain_name,
        )
        if not self.deferrable:
            return super().execute(context)
        started_after = self.resolve_started_after(context)
        job = self._find_job(started_after)
        if job is not None and (self.job_id or job.get("Status") != "PENDING"):
            # A job that has already ended completes the task here: deferring would only add a triggerer round
            # trip, and Airflow can fail a task whose trigger fires within a second of its deferral.
            if job.get("Status") in self.ENDED_STATES:
                return self._ended(job)
            self._defer_until_done(job["JobId"])
        # Until the job has started, which job comes first can still change (a schedule change
        # replaces the PENDING run), so the trigger keeps re-reading the list.
        self.log.info("No identity resolution job at or after %s has started yet: waiting", started_after)
        self.defer(
            trigger=CustomerProfilesIdentityResolutionJobStartedTrigger(
                domain_name=self.domain_name,
                started_after=started_after.isoformat(),
                **self._trigger_arguments(),
            ),
            method_name="job_started",
        )

    def job_started(self, context: Context, event: dict[str, Any] | None = None) -> NoReturn:
        """Resume when a job has been listed; now wait for that job to end."""
        event = validate_execute_complete_event(event)
        if event["status"] != "success":
            raise AirflowException(event["message"])
        self._defer_until_done(event["job_id"])

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> dict[str, Any]:
        event = validate_execute_complete_event(event)
        if event["status"] != "success":
            raise AirflowException(event["message"])
        return self._ended(
            self.hook.conn.get_identity_resolution_job(DomainName=self.domain_name, JobId=event["job_id"])
        )

    def poke(self, context: Context) -> PokeReturnValue | bool:
        started_after = self.resolve_started_after(context)
        job = self._find_job(started_after)
        if job is None:
            self.log.info("No identity resolution job starts at or after %s yet", started_after)
            return False
        if job.get("Status") in self.ENDED_STATES:
            return PokeReturnValue(is_done=True, xcom_value=self._ended(job))
        self.log.info(
            "Identity resolution job %s: %s", job["JobId"], describe_status(job, IDENTITY_RESOLUTION_JOB_STATUS_QUERIES)
        )
        return False

    def _find_job(self, started_after: dt.datetime) -> dict[str, Any] | None:
        """``job_id``'s job, or else the first job at or after ``started_after`` (None when none is listed)."""
        if self.job_id:
            return self.hook.conn.get_identity_resolution_job(DomainName=self.domain_name, JobId=self.job_id)
        return self.hook.find_identity_resolution_job(self.domain_name, started_after)

    def _ended(self, job: dict[str, Any]) -> dict[str, Any]:
        """Log how the job ended and return its XCom result; fail with its message unless it succeeded."""
        status = describe_status(job, IDENTITY_RESOLUTION_JOB_STATUS_QUERIES)
        if job.get("Status") not in self.success_states:
            raise AirflowException(f"Identity resolution job {job['JobId']} ended {status}")
        self.log.info(
            "Identity resolution job %s %s (started %s, ended %s)",
            job["JobId"],
            status,
            job.get("JobStartTime"),
            job.get("JobEndTime"),
        )
        return identity_resolution_job_result(job)

    def _defer_until_done(self, job_id: str) -> NoReturn:
        self.defer(
            trigger=CustomerProfilesIdentityResolutionJobCompleteTrigger(
                domain_name=self.domain_name,
                job_id=job_id,
                partial_success_is_success=self.partial_success_is_success,
                **self._trigger_arguments(),
            ),
            method_name="execute_complete",
        )

    def _trigger_arguments(self) -> dict[str, Any]:
        return {
            "waiter_delay": max(1, round(self.poke_interval)),
            "waiter_max_attempts": self.max_retries,
            "aws_conn_id": self.aws_conn_id,
            "region_name": self.region_name,
            "verify": self.verify,
            "botocore_config": self.botocore_config,
        }
