"""Export every GetMatches page of a domain into a partitioned Parquet dataset."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow.providers.amazon.aws.utils.mixins import aws_template_fields
from airflow.sdk.exceptions import AirflowSkipException

from airflow_provider_customerprofiles.matches.normalize import stream_get_matches
from airflow_provider_customerprofiles.templating import Number
from airflow_provider_customerprofiles.transfers.match_dataset import MatchDatasetExportOperator


class CustomerProfilesMatchesToParquetOperator(MatchDatasetExportOperator):
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

    template_fields: Sequence[str] = aws_template_fields(
        "domain_name", "destination", "overwrite", "page_size", "row_group_rows", "botocore_config"
    )
    argument_types = {**MatchDatasetExportOperator.argument_types, "page_size": Number(int)}

    def __init__(self, *, page_size: int = 100, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.page_size = page_size

    def execute(self, context: Any) -> dict[str, Any]:
        dataset = self.open_dataset(self.destination)
        pages = self.hook.iterate_pages("get_matches", DomainName=self.domain_name, MaxResults=self.page_size)
        result = self.write(stream_get_matches(pages), dataset)
        if result.uri is None:
            raise AirflowSkipException(f"Domain {self.domain_name} has no match generation yet")
        return self.publish(context, dataset, result)
