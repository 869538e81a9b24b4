"""
ParquetToCustomerProfilesOperator: bulk-load Parquet rows as profile objects, at the account's API quota.

Thin by design: it resolves the hooks, computes this task instance's checkpoint and
dead-letter locations, and calls the engine in :mod:`airflow_provider_customerprofiles.ingest`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import replace
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.providers.amazon.aws.operators.base_aws import AwsBaseOperator
from airflow.providers.amazon.aws.utils.mixins import aws_template_fields

from airflow_provider_customerprofiles.hooks.customer_profiles import CustomerProfilesHook
from airflow_provider_customerprofiles.hooks.storage import s3_settings_for
from airflow_provider_customerprofiles.ingest.loader import (
    DEFAULT_MAX_REQUESTS_PER_SECOND,
    DEFAULT_MAX_WORKERS,
    LoadOptions,
    client_config,
    load,
)
from airflow_provider_customerprofiles.ingest.shared_quota import SharedRateLimiter
from airflow_provider_customerprofiles.lineage import customer_profiles_name, operator_lineage, storage_name
from airflow_provider_customerprofiles.storage import join_uri
from airflow_provider_customerprofiles.templating import (
    AWS_ARGUMENTS,
    FLAG,
    Collection,
    ConvertsTemplatedArguments,
    Number,
    OrNone,
)
from airflow_provider_customerprofiles.transfers.ingest_state import check_state_is_shared, state_base_uri
from airflow_provider_customerprofiles.transfers.ingest_stats import StatsMetrics
from airflow_provider_customerprofiles.transfers.quota_connection import shared_rate_limiter

if TYPE_CHECKING:
    from airflow.sdk import Context

_UNSAFE = re.compile(r"[^A-Za-z0-9._=-]+")


def instance_key(context: Context) -> str:
    """``<dag_id>/<task_id>/<run_id>/map_index=<n>``: one place per task instance, shared by its tries."""
    ti = context["ti"]
    parts = (ti.dag_id, ti.task_id, context["run_id"], f"map_index={ti.map_index}")
    return "/".join(_UNSAFE.sub("_", part) for part in parts)


class ParquetToCustomerProfilesOperator(ConvertsTemplatedArguments, AwsBaseOperator[CustomerProfilesHook]):
    """
    Load Parquet rows into a Customer Profiles object type with BatchPutProfileObject.

    Streams the files (bounded memory), sends ten objects a call from a pool of workers
    under an adaptive rate limit, retries throttles and server errors, writes rows the
    service refuses to dead-letter files, and checkpoints finished row ranges so a
    retried task resumes. Rows with the same unique key are applied in file order.
    Works with ``.partial(...).expand(source=[...])``: every mapped instance has its own
    checkpoint and dead-letter location (both include the map index).

    Returns ``{"rows_read", "objects_written", "dead_lettered", "dead_letter_uri", ...}``
    (counts, timings, retry and throttle counts; never row contents).

    :param source: Parquet file(s): a local path or ``s3://`` URI, a list of them, a glob, or a
        directory / prefix (every ``*.parquet`` below it). (templated)
    :param domain_name: The Customer Profiles domain. (templated)
    :param object_type_name: The object type to put objects into; its UNIQUE key orders and
        de-duplicates writes. (templated)
    :param columns: Columns to send: a list, or a dict Parquet column -> object field name to
        rename; all columns when not given. (templated)
    :param dead_letter_uri: Base location (local path or ``s3://`` URI) for dead-letter files;
        this task instance writes under ``<base>/<dag_id>/<task_id>/<run_id>/map_index=<n>/``.
        Defaults to ``<[customer_profiles] ingest_state_uri>/dead_letters``. (templated)
    :param dead_letter_format: ``"jsonl"`` (default) or ``"parquet"``. (templated)
    :param max_failed_ratio: Fail the task after the load when more than this share of rows
        was dead-lettered; 0 (default) fails on any. (templated)
    :param max_requests_per_second: Client-side ceiling on API calls a second, lowered
        automatically on throttling. Default 97: the 100 TPS quota is shared account-wide. (templated)
    :param max_workers: Concurrent API calls (default 16). (templated)
    :param quota_conn_id: An Airflow ``redis`` connection to a store shared by every load of the
        account and Region: together they stay under ``max_requests_per_second``, each gets a fair
        share, and a throttle slows them all. None (default): this load paces itself alone. If the
        store does not answer, the load continues on its own limit. (templated)
    :param checkpoint_uri: Base location for checkpoints; this task instance uses
        ``<base>/<dag_id>/<task_id>/<run_id>/map_index=<n>.json``. Defaults to
        ``<[customer_profiles] ingest_state_uri>/checkpoints``. Under a distributed executor
        (Celery, Kubernetes ...) checkpoints and dead letters on local disk fail the task before
        any work: a retry on another worker would not find them. (templated)
    :param sync_state_uri: A sync state for this domain and object type (local directory or
        ``s3://`` prefix; keep one per target). Only rows whose unique key is new or whose
        object changed since the service last accepted it are sent; the rest count as
        ``rows_unchanged``. One run at a time per state; not with ``.expand()``: pass the
        whole snapshot as ``source``. None (default) sends every row. Keys that leave the
        snapshot are not deleted. (templated)
    :param use_batch_api: BatchPutProfileObject (default); False sends one PutProfileObject
        per row. (templated)
    :param keep_nulls: Send null values as JSON ``null`` instead of omitting them. (templated)
    :param aws_conn_id: The Airflow ``aws`` connection, for Customer Profiles and S3. (templated)
    :param region_name: AWS region; the connection's when not given. (templated)
    :param verify: Whether to verify SSL certificates. (templated)
    :param botocore_config: Extra botocore client settings, merged over the loader's
        (a connection per worker, botocore retries off). (templated)
    """

    aws_hook_class = CustomerProfilesHook
    template_fields: Sequence[str] = aws_template_fields(
        "source",
        "domain_name",
        "object_type_name",
        "columns",
        "dead_letter_uri",
        "dead_letter_format",
        "max_failed_ratio",
        "max_requests_per_second",
        "max_workers",
        "quota_conn_id",
        "checkpoint_uri",
        "sync_state_uri",
        "use_batch_api",
        "keep_nulls",
        "botocore_config",
    )
    template_fields_renderers: ClassVar[dict] = {"columns": "json", "botocore_config": "json"}
    argument_types = {
        **AWS_ARGUMENTS,
        # A list of sources rendered from a template (an XCom, a param) arrives as its repr.
        "source": Collection((list,), text=True),
        "columns": OrNone(Collection((list, dict))),
        "max_failed_ratio": Number(float, at_least=0, at_most=1),
        "max_requests_per_second": Number(float, greater_than=0),
        "max_workers": Number(int, at_least=1),
        "use_batch_api": FLAG,
        "keep_nulls": FLAG,
    }
    ui_color = "#f9c915"

    def __init__(
        self,
        *,
        source: str | list[str],
        domain_name: str,
        object_type_name: str,
        columns: list[str] | dict[str, str] | None = None,
        dead_letter_uri: str | None = None,
        dead_letter_format: str = "jsonl",
        max_failed_ratio: float = 0.0,
        max_requests_per_second: float = DEFAULT_MAX_REQUESTS_PER_SECOND,
        max_workers: int = DEFAULT_MAX_WORKERS,
        quota_conn_id: str | None = None,
        checkpoint_uri: str | None = None,
        sync_state_uri: str | None = None,
        use_batch_api: bool = True,
        keep_nulls: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.source = source
        self.domain_name = domain_name
        self.object_type_name = object_type_name
        self.columns = columns
        self.dead_letter_uri = dead_letter_uri
        self.dead_letter_format = dead_letter_format
        self.max_failed_ratio = max_failed_ratio
        self.max_requests_per_second = max_requests_per_second
        self.max_workers = max_workers
        self.quota_conn_id = quota_conn_id
        self.checkpoint_uri = checkpoint_uri
        self.sync_state_uri = sync_state_uri
        self.use_batch_api = use_batch_api
        self.keep_nulls = keep_nulls
        self._result: dict[str, Any] | None = None

    @property
    def _hook_parameters(self) -> dict[str, Any]:
        config = {**client_config(self.max_workers), **(self.botocore_config or {})}
        return {**super()._hook_parameters, "config": config}

    def execute(self, context: Context) -> dict[str, Any]:
        if self.sync_state_uri and context["ti"].map_index >= 0:
            raise ValueError(
                "sync_state_uri cannot be used with .expand(): mapped instances would compare parts of one "
                "snapshot against one state (and refuse each other's lease). Pass the whole snapshot as one "
                "source list (source=[...]) to a single task."
            )
        key = instance_key(context)
        dead_letter_uri = join_uri(self.dead_letter_uri or join_uri(state_base_uri(), "dead_letters"), key)
        checkpoint_uri = join_uri(self.checkpoint_uri or join_uri(state_base_uri(), "checkpoints"), key) + ".json"
        check_state_is_shared({"checkpoint_uri": checkpoint_uri, "dead_letter_uri": dead_letter_uri}, self.executor)
        sources = [self.source] if isinstance(self.source, str) else list(self.source)
        options = LoadOptions(
            domain_name=self.domain_name,
            object_type_name=self.object_type_name,
            dead_letter_uri=dead_letter_uri,
            columns=self.columns,
            dead_letter_format=self.dead_letter_format,
            max_failed_ratio=self.max_failed_ratio,
            max_requests_per_second=self.max_requests_per_second,
            max_workers=self.max_workers,
            checkpoint_uri=checkpoint_uri,
            sync_state_uri=self.sync_state_uri or None,
            use_batch_api=self.use_batch_api,
            keep_nulls=self.keep_nulls,
            metrics=StatsMetrics(self.domain_name, self.object_type_name),
        )
        locations = [*sources, dead_letter_uri, checkpoint_uri, self.sync_state_uri]
        s3 = s3_settings_for(locations, self.aws_conn_id, self.region_name, self.verify)
        self.log.info(
            "Loading %s; checkpoint %s; dead letters under %s", ", ".join(sources), checkpoint_uri, dead_letter_uri
        )
        with self._rate_limiter() as rate_limiter:
            result = load(self.hook.conn, self.source, replace(options, rate_limiter=rate_limiter), s3)
        self._result = result.as_dict()
        return self._result

    def _rate_limiter(self) -> SharedRateLimiter | nullcontext[None]:
        """The shared quota of ``quota_conn_id``, left when the load ends; none without it."""
        if not self.quota_conn_id:
            return nullcontext()
        return shared_rate_limiter(self.quota_conn_id, self.hook, self.max_requests_per_second)

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """Inputs: the Parquet sources; output: the object type, with the objects written."""
        sources = [self.source] if isinstance(self.source, str) else self.source
        object_type = customer_profiles_name(self.hook, self.domain_name, f"object-types/{self.object_type_name}")
        written = None if self._result is None else self._result["objects_written"]  # None: the load failed
        return operator_lineage(map(storage_name, sources), [object_type], written)
