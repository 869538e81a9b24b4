"""
Operators for Customer Profiles: domain and object-type set-up, integration workflows, merges.

They subclass the Amazon provider's ``AwsBaseOperator``, which that provider marks internal;
we accept that because this package pins ``apache-airflow-providers-amazon`` to one major
version (9.x). The API logic lives on :class:`CustomerProfilesHook` and, for merges, in the
Airflow-free ``merge`` engine; these classes only template arguments, call the hook or the
engine, defer, and push small results (ids, counts, URIs).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.providers.amazon.aws.operators.base_aws import AwsBaseOperator
from airflow.providers.amazon.aws.utils import validate_execute_complete_event
from airflow.providers.amazon.aws.utils.mixins import aws_template_fields
from airflow.providers.common.compat.sdk import AirflowException, conf

from airflow_provider_customerprofiles.hooks.customer_profiles import CustomerProfilesHook
from airflow_provider_customerprofiles.hooks.storage import s3_settings_for
from airflow_provider_customerprofiles.links.customer_profiles import (
    CustomerProfilesDomainLink,
    CustomerProfilesWorkflowLink,
)
from airflow_provider_customerprofiles.merge.engine import (
    DEFAULT_MAX_MERGES,
    DRY_RUN_BY_DEFAULT,
    MergeOptions,
    merge_matches,
)
from airflow_provider_customerprofiles.templating import (
    AWS_ARGUMENTS,
    FLAG,
    MAPPING,
    Collection,
    ConvertsTemplatedArguments,
    Number,
    OrNone,
)
from airflow_provider_customerprofiles.triggers.customer_profiles import (
    CustomerProfilesWorkflowCompleteTrigger,
)

if TYPE_CHECKING:
    from airflow.sdk import Context


def _present(**settings: Any) -> dict[str, Any]:
    """The settings the user gave (not None), keyed by their API names."""
    return {key: value for key, value in settings.items() if value is not None}


class CustomerProfilesCreateDomainOperator(ConvertsTemplatedArguments, AwsBaseOperator[CustomerProfilesHook]):
    """
    Create a Customer Profiles domain, or bring an existing one to the given settings.

    Idempotent: it reads the domain first and writes only when a given setting differs
    (CreateDomain when missing, UpdateDomain when changed); otherwise it logs "unchanged".
    Only the settings you pass are compared, so values the service fills in itself (such
    as the default ``JobSchedule``) are not drift. Removing a nested setting is therefore not
    detected: set it explicitly instead (for example ``AutoMerging: {"Enabled": False}``).

    Returns ``{"domain_name", "changed", "action"}`` where action is created/updated/unchanged.

    :param domain_name: The domain name. (templated)
    :param default_expiration_days: Days before data in the domain expires; required to create. (templated)
    :param matching: The ``Matching`` (identity resolution) settings: ``Enabled``, ``JobSchedule``,
        ``AutoMerging``, ``ExportingConfig``. (templated)
    :param rule_based_matching: The ``RuleBasedMatching`` settings. (templated)
    :param default_encryption_key: KMS key ARN for the domain's data. (templated)
    :param dead_letter_queue_url: SQS queue URL for ingestion errors. (templated)
    :param tags: Tags to set on the domain (existing other tags are kept). (templated)
    :param aws_conn_id: The Airflow ``aws`` connection. (templated)
    :param region_name: AWS region; the connection's when not given. (templated)
    :param verify: Whether to verify SSL certificates. (templated)
    :param botocore_config: Configuration dictionary for the botocore client.
    """

    aws_hook_class = CustomerProfilesHook
    template_fields: Sequence[str] = aws_template_fields(
        "domain_name",
        "default_expiration_days",
        "matching",
        "rule_based_matching",
        "default_encryption_key",
        "dead_letter_queue_url",
        "tags",
    )
    template_fields_renderers: ClassVar[dict] = {
        "matching": "json",
        "rule_based_matching": "json",
        "tags": "json",
    }
    argument_types = {
        **AWS_ARGUMENTS,
        "default_expiration_days": Number(int),
        "matching": MAPPING,
        "rule_based_matching": MAPPING,
        "tags": MAPPING,
    }
    operator_extra_links = (CustomerProfilesDomainLink(),)

    def __init__(
        self,
        *,
        domain_name: str,
        default_expiration_days: int,
        matching: dict[str, Any] | None = None,
        rule_based_matching: dict[str, Any] | None = None,
        default_encryption_key: str | None = None,
        dead_letter_queue_url: str | None = None,
        tags: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.domain_name = domain_name
        self.default_expiration_days = default_expiration_days
        self.matching = matching
        self.rule_based_matching = rule_based_matching
        self.default_encryption_key = default_encryption_key
        self.dead_letter_queue_url = dead_letter_queue_url
        self.tags = tags

    def execute(self, context: Context) -> dict[str, Any]:
        settings = _present(
            DefaultExpirationDays=self.default_expiration_days,
            Matching=self.matching,
            RuleBasedMatching=self.rule_based_matching,
            DefaultEncryptionKey=self.default_encryption_key,
            DeadLetterQueueUrl=self.dead_letter_queue_url,
            Tags=self.tags or None,
        )
        action = self.hook.ensure_domain(self.domain_name, settings)
        self.log.info("Domain %s: %s", self.domain_name, action)
        CustomerProfilesDomainLink.persist(
            context=context,
            operator=self,
            region_name=self.hook.conn_region_name,
            aws_partition=self.hook.conn_partition,
            domain_name=self.domain_name,
        )
        return {"domain_name": self.domain_name, "changed": action != "unchanged", "action": action}


class CustomerProfilesPutObjectTypeOperator(ConvertsTemplatedArguments, AwsBaseOperator[CustomerProfilesHook]):
    """
    Create or update a profile object type (its field mappings and keys).

    Idempotent like :class:`CustomerProfilesCreateDomainOperator`: GetProfileObjectType first,
    PutProfileObjectType only when a given setting differs, "unchanged" otherwise.

    Returns ``{"domain_name", "object_type_name", "changed", "action"}``.

    :param domain_name: The domain name. (templated)
    :param object_type_name: The object type name. (templated)
    :param description: The object type's description. (templated)
    :param fields: ``Fields``: field name to ``{Source, Target, ContentType}``. (templated)
    :param keys: ``Keys``: key name to a list of ``{StandardIdentifiers, FieldNames}``. (templated)
    :param template_id: A service template to base the type on (then leave fields and keys out). (templated)
    :param allow_profile_creation: Whether an object that matches no profile creates one. (templated)
    :param expiration_days: Days before objects of this type expire. (templated)
    :param tags: Tags for the object type. (templated)
    :param object_type_kwargs: Any other PutProfileObjectType arguments, by their API names
        (``SourceLastUpdatedTimestampFormat``, ``EncryptionKey``, ``MaxProfileObjectCount``,
        ``SourcePriority``). (templated)
    :param aws_conn_id: The Airflow ``aws`` connection. (templated)
    :param region_name: AWS region; the connection's when not given. (templated)
    :param verify: Whether to verify SSL certificates. (templated)
    :param botocore_config: Configuration dictionary for the botocore client.
    """

    aws_hook_class = CustomerProfilesHook
    template_fields: Sequence[str] = aws_template_fields(
        "domain_name",
        "object_type_name",
        "description",
        "fields",
        "keys",
        "template_id",
        "allow_profile_creation",
        "expiration_days",
        "tags",
        "object_type_kwargs",
    )
    template_fields_renderers: ClassVar[dict] = {
        "fields": "json",
        "keys": "json",
        "object_type_kwargs": "json",
    }
    argument_types = {
        **AWS_ARGUMENTS,
        "fields": MAPPING,
        "keys": MAPPING,
        "allow_profile_creation": OrNone(FLAG),
        "expiration_days": OrNone(Number(int)),
        "tags": MAPPING,
        "object_type_kwargs": MAPPING,
    }
    operator_extra_links = (CustomerProfilesDomainLink(),)

    def __init__(
        self,
        *,
        domain_name: str,
        object_type_name: str,
        description: str,
        fields: dict[str, Any] | None = None,
        keys: dict[str, Any] | None = None,
        template_id: str | None = None,
        allow_profile_creation: bool | None = None,
        expiration_days: int | None = None,
        tags: dict[str, str] | None = None,
        object_type_kwargs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.domain_name = domain_name
        self.object_type_name = object_type_name
        self.description = description
        self.fields = fields
        self.keys = keys
        self.template_id = template_id
        self.allow_profile_creation = allow_profile_creation
        self.expiration_days = expiration_days
        self.tags = tags
        self.object_type_kwargs = object_type_kwargs

    def execute(self, context: Context) -> dict[str, Any]:
        settings = _present(
            Description=self.description,
            Fields=self.fields,
            Keys=self.keys,
            TemplateId=self.template_id,
            AllowProfileCreation=self.allow_profile_creation,
            ExpirationDays=self.expiration_days,
            Tags=self.tags or None,
            **(self.object_type_kwargs or {}),
        )
        action = self.hook.ensure_profile_object_type(self.domain_name, self.object_type_name, settings)
        self.log.info("Object type %s in domain %s: %s", self.object_type_name, self.domain_name, action)
        CustomerProfilesDomainLink.persist(
            context=context,
            operator=self,
            region_name=self.hook.conn_region_name,
            aws_partition=self.hook.conn_partition,
            domain_name=self.domain_name,
        )
        return {
            "domain_name": self.domain_name,
            "object_type_name": self.object_type_name,
            "changed": action != "unchanged",
            "action": action,
        }


class CustomerProfilesCreateIntegrationWorkflowOperator(
    ConvertsTemplatedArguments, AwsBaseOperator[CustomerProfilesHook]
):
    """
    Start an integration workflow (historical AppFlow ingestion) and, by default, wait for it.

    Returns the workflow id. While waiting synchronously it logs the workflow's status and
    step progress (steps completed / total, records processed) on every check; with
    ``deferrable=True`` the wait happens in the triggerer. A workflow that ends FAILED or
    CANCELLED fails the task with the service's ``ErrorDescription``.

    :param domain_name: The domain name. (templated)
    :param integration_config: ``IntegrationConfig``: ``{"AppflowIntegration": {"FlowDefinition": ...,
        "Batches": [...]}}``. (templated)
    :param object_type_name: The object type the ingested records become. (templated)
    :param role_arn: IAM role the service assumes to run the flows. (templated)
    :param workflow_type: The workflow type; the API knows only ``APPFLOW_INTEGRATION``. (templated)
    :param tags: Tags for the workflow. (templated)
    :param wait_for_completion: Wait until the workflow ends. (default: True)
    :param waiter_delay: Seconds between status checks. (default: 30)
    :param waiter_max_attempts: Status checks before giving up. (default: 240)
    :param deferrable: Wait in the triggerer instead of a worker slot (implies waiting).
        (default: the ``[operators] default_deferrable`` setting)
    :param aws_conn_id: The Airflow ``aws`` connection. (templated)
    :param region_name: AWS region; the connection's when not given. (templated)
    :param verify: Whether to verify SSL certificates. (templated)
    :param botocore_config: Configuration dictionary for the botocore client.
    """

    aws_hook_class = CustomerProfilesHook
    template_fields: Sequence[str] = aws_template_fields(
        "domain_name", "integration_config", "object_type_name", "role_arn", "workflow_type", "tags"
    )
    template_fields_renderers: ClassVar[dict] = {"integration_config": "json", "tags": "json"}
    argument_types = {**AWS_ARGUMENTS, "integration_config": Collection((dict,)), "tags": MAPPING}
    operator_extra_links = (CustomerProfilesWorkflowLink(),)

    def __init__(
        self,
        *,
        domain_name: str,
        integration_config: dict[str, Any],
        object_type_name: str,
        role_arn: str,
        workflow_type: str = "APPFLOW_INTEGRATION",
        tags: dict[str, str] | None = None,
        wait_for_completion: bool = True,
        waiter_delay: int = 30,
        waiter_max_attempts: int = 240,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.domain_name = domain_name
        self.integration_config = integration_config
        self.object_type_name = object_type_name
        self.role_arn = role_arn
        self.workflow_type = workflow_type
        self.tags = tags
        self.wait_for_completion = wait_for_completion
        self.waiter_delay = waiter_delay
        self.waiter_max_attempts = waiter_max_attempts
        self.deferrable = deferrable

    def execute(self, context: Context) -> str:
        workflow_id = self.hook.conn.create_integration_workflow(
            DomainName=self.domain_name,
            WorkflowType=self.workflow_type,
            IntegrationConfig=self.integration_config,
            ObjectTypeName=self.object_type_name,
            RoleArn=self.role_arn,
            **_present(Tags=self.tags or None),
        )["WorkflowId"]
        self.log.info("Started integration workflow %s in domain %s", workflow_id, self.domain_name)
        CustomerProfilesWorkflowLink.persist(
            context=context,
            operator=self,
            region_name=self.hook.conn_region_name,
            aws_partition=self.hook.conn_partition,
            domain_name=self.domain_name,
            workflow_id=workflow_id,
        )
        if self.deferrable:
            self.defer(
                trigger=CustomerProfilesWorkflowCompleteTrigger(
                    domain_name=self.domain_name,
                    workflow_id=workflow_id,
                    waiter_delay=self.waiter_delay,
                    waiter_max_attempts=self.waiter_max_attempts,
                    aws_conn_id=self.aws_conn_id,
                    region_name=self.region_name,
                    verify=self.verify,
                    botocore_config=self.botocore_config,
                ),
                method_name="execute_complete",
            )
        elif self.wait_for_completion:
            self.hook.wait_for_workflow(self.domain_name, workflow_id, self.waiter_delay, self.waiter_max_attempts)
            self._log_steps(workflow_id)
        return workflow_id

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> str:
        event = validate_execute_complete_event(event)
        if event["status"] != "success":
            raise AirflowException(event["message"])
        self._log_steps(event["workflow_id"])
        return event["workflow_id"]

    def _log_steps(self, workflow_id: str) -> None:
        summary = self.hook.summarize_workflow_steps(self.domain_name, workflow_id)
        self.log.info(
            "Integration workflow %s is COMPLETE: %d steps %s, %d records processed",
            workflow_id,
            summary["steps"],
            summary["steps_by_status"],
            summary["records_processed"],
        )


class CustomerProfilesMergeMatchesOperator(ConvertsTemplatedArguments, AwsBaseOperator[CustomerProfilesHook]):
    """
    Merge the identity-resolution match groups you trust, with guardrails (merges cannot be undone).

    A thin adapter over :func:`~airflow_provider_customerprofiles.merge.merge_matches`, which
    runs without Airflow:

    1. Proves ``audit_uri`` writable (writes and removes a marker beside it) before anything
       else, so a missing bucket or directory fails the task naming the URI and ``audit_uri``
       while nothing is merged yet.
    2. Reads the latest matches (GetMatches, every page) and keeps the groups with
       ``ConfidenceScore >= min_confidence``, best score first (ties by MatchId).
    3. Walks them in that order, skipping groups with fewer than two profiles still existing
       (already merged by an earlier run: re-runs are safe), until ``max_merges`` groups are planned;
       the rest wait for the next run (``groups_deferred``).
    4. In each group the main profile is the smallest ProfileId (deterministic: the same group
       always merges into the same profile); the others are merged into it. Field values
       follow MergeProfiles' defaults (the main profile's values are kept).
    5. Calls GetAutoMergingPreview with ``consolidation`` / ``conflict_resolution`` (default: the
       domain's AutoMerging settings) and ``min_confidence`` and logs its counts. When
       ``check_preview`` is on and the preview says more profiles would be merged than this run
       plans to merge, it stops before merging anything (in a dry run it only warns): the backlog
       is bigger than ``max_merges`` allows, so a person should look first. Turn it off to merge
       the backlog ``max_merges`` groups per run.
    6. With ``dry_run=True`` (the default) nothing is merged. Otherwise MergeProfiles per group.
    7. Writes a JSON Lines audit file to ``audit_uri`` (a local path or ``s3://bucket/key``
       through the same connection, with server-side encryption), one line per group: match id,
       score, main profile id, merged profile ids and the outcome (``merged``, ``would_merge``,
       ``skipped_stale``). It is written even when a merge fails midway, for what was done until then.

    Returns ``{"groups_considered", "groups_merged", "profiles_merged", "groups_skipped",
    "groups_deferred", "preview_profiles_to_merge", "dry_run", "audit_uri"}``; in a dry run
    ``groups_merged`` and ``profiles_merged`` count what would have been merged.

    :param domain_name: The domain name. (templated)
    :param min_confidence: Lowest ConfidenceScore (0..1) of a group to merge. (templated)
    :param audit_uri: Where to write the audit file (local path or ``s3://``). (templated)
    :param dry_run: Merge nothing; report and audit what would merge. (default: True) (templated)
    :param max_merges: Most groups merged in one run. (default: 100) (templated)
    :param consolidation: ``Consolidation`` for the preview, e.g.
        ``{"MatchingAttributesList": [["EmailAddress"]]}``. (templated)
    :param conflict_resolution: ``ConflictResolution`` for the preview, e.g.
        ``{"ConflictResolvingModel": "RECENCY"}``. (templated)
    :param check_preview: Refuse to merge when the preview exceeds this run's plan.
        (default: True) (templated)
    :param aws_conn_id: The Airflow ``aws`` connection (Customer Profiles and, for ``s3://``, S3). (templated)
    :param region_name: AWS region; the connection's when not given. (templated)
    :param verify: Whether to verify SSL certificates. (templated)
    :param botocore_config: Configuration dictionary for the botocore client.
    """

    aws_hook_class = CustomerProfilesHook
    template_fields: Sequence[str] = aws_template_fields(
        "domain_name",
        "min_confidence",
        "audit_uri",
        "dry_run",
        "max_merges",
        "consolidation",
        "conflict_resolution",
        "check_preview",
    )
    template_fields_renderers: ClassVar[dict] = {"consolidation": "json", "conflict_resolution": "json"}
    argument_types = {
        **AWS_ARGUMENTS,
        "min_confidence": Number(float, at_least=0, at_most=1),
        "dry_run": FLAG,
        "max_merges": Number(int, at_least=0),
        "consolidation": MAPPING,
        "conflict_resolution": MAPPING,
        "check_preview": FLAG,
    }
    operator_extra_links = (CustomerProfilesDomainLink(),)

    def __init__(
        self,
        *,
        domain_name: str,
        min_confidence: float,
        audit_uri: str,
        dry_run: bool = DRY_RUN_BY_DEFAULT,
        max_merges: int = DEFAULT_MAX_MERGES,
        consolidation: dict[str, Any] | None = None,
        conflict_resolution: dict[str, Any] | None = None,
        check_preview: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.domain_name = domain_name
        self.min_confidence = min_confidence
        self.audit_uri = audit_uri
        self.dry_run = dry_run
        self.max_merges = max_merges
        self.consolidation = consolidation
        self.conflict_resolution = conflict_resolution
        self.check_preview = check_preview

    def execute(self, context: Context) -> dict[str, Any]:
        CustomerProfilesDomainLink.persist(
            context=context,
            operator=self,
            region_name=self.hook.conn_region_name,
            aws_partition=self.hook.conn_partition,
            domain_name=self.domain_name,
        )
        options = MergeOptions(
            domain_name=self.domain_name,
            min_confidence=self.min_confidence,
            audit_uri=self.audit_uri,
            dry_run=self.dry_run,
            max_merges=self.max_merges,
            consolidation=self.consolidation,
            conflict_resolution=self.conflict_resolution,
            check_preview=self.check_preview,
        )
        s3 = s3_settings_for([self.audit_uri], self.aws_conn_id, self.region_name, self.verify)
        matches = self.hook.iterate_items("get_matches", DomainName=self.domain_name)
        result = merge_matches(self.hook.conn, matches, options, s3)
        self.log.info(
            "%s %d groups (%d profiles); audit written to %s",
            "Would merge" if result.dry_run else "Merged",
            result.groups_merged,
            result.profiles_merged,
            result.audit_uri,
        )
        return result.as_dict()
