"""Export every GetMatches page of a domain into a partitioned Parquet dataset."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow.providers.amazon.aws.operators.base_aws import AwsBaseOperator
from airflow.providers.amazon.aws.utils.mixins import aws_template_fields
from airflow.sdk.exceptions import AirflowSkipException

from airflow_provider_customerprofiles.hooks.customer_profiles import CustomerProfilesHook
from airflow_provider_customerprofiles.matches.dataset import write_partition
from airflow_provider_customerprofiles.matches.normalize import stream_get_matches
from airflow_provider_customerprofiles.transfers.match_dataset import (
    as_bool,
    default_outlets,
    emit_dataset_event,
    open_dataset,
)


class CustomerProfilesMatchesToParquetOperator(AwsBaseOperator[CustomerProfilesHook]):
    """
    Write the domain's latest identity-resolution matches (GetMatches, every page) to Parquet.

    One row per profile in a match group, in the Hive partition
    ``match_generation_date=YYYY-MM-DD/`` of ``destination``. Pages are streamed
    into row groups, so memory does not grow with the number of matches. The
    partition appears atomically (``_SUCCESS`` written last); if it is already
    complete the export is skipped after one GetMatches call, unless ``overwrite``.
    Returns ``{"uri", "rows", "match_generation_date", "skipped"}`` and emits an
    asset event for ``destination`` with those figures as extra. Skips the task when
    the domain has no match generation yet.

    :param domain_name: The Customer Profiles domain. (templated)
    :param destination: Dataset root: a local directory, ``file://`` or ``s3://bucket/prefix``. (templated)
    :param overwrite: Rewrite the partition even if it is complete. (templated)
    :param page_size: GetMatches ``MaxResults``, 1..100. (templated)
    :param row_group_rows: Rows buffered per Parquet row group. (templated)
    :param aws_conn_id: AWS connection for Customer Profiles and, for ``s3://``, S3 (its
        ``service_config.s3.endpoint_url`` or ``endpoint_url`` is honoured). (templated)
    :param region_name: AWS region. (templated)
    :param verify: Verify TLS certificates, or a CA bundle path. (templated)
    :param botocore_config: botocore client configuration. (templated)
    """

    aws_hook_class = CustomerProfilesHook
    template_fields: Sequence[str] = aws_template_fields(
        "domain_name", "destination", "overwrite", "page_size", "row_group_rows", "botocore_config"
    )

    def __init__(
        self,
        *,
        domain_name: str,
        destination: str,
        overwrite: bool = False,
        page_size: int = 100,
        row_group_rows: int = 100_000,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("outlets", default_outlets(destination))
        super().__init__(**kwargs)
        self.domain_name = domain_name
        self.destination = destination
        self.overwrite = overwrite
        self.page_size = page_size
        self.row_group_rows = row_group_rows

    def execute(self, context: Any) -> dict[str, Any]:
        dataset = open_dataset(self.destination, self.hook)
        pages = self.hook.iterate_pages("get_matches", DomainName=self.domain_name, MaxResults=int(self.page_size))
        result = write_partition(
            stream_get_matches(pages),
            dataset,
            overwrite=as_bool(self.overwrite),
            row_group_rows=int(self.row_group_rows),
        )
        if result.uri is None:
            raise AirflowSkipException(f"Domain {self.domain_name} has no match generation yet")
        self.log.info(
            "%s %d match rows of %s in %s",
            "Kept" if result.skipped else "Wrote",
            result.rows,
            result.match_generation_date,
            result.uri,
        )
        emit_dataset_event(context, self.outlets, dataset.uri, result.as_dict())
        return result.as_dict()
