"""Read an identity-resolution job's S3 result files into the partitioned Parquet match dataset."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any

from airflow.providers.amazon.aws.utils.mixins import aws_template_fields
from airflow.sdk.exceptions import AirflowException

from airflow_provider_customerprofiles.matches.results_reader import exporting_location_uri, stream_results
from airflow_provider_customerprofiles.templating import Collection, OrNone
from airflow_provider_customerprofiles.transfers.match_dataset import MatchDatasetExportOperator


class CustomerProfilesIdentityResolutionResultsToParquetOperator(MatchDatasetExportOperator):
    """
    Normalize the result files of an identity-resolution job into the match dataset (``job_id`` filled).

    The files are read from ``exporting_location`` (for example the
    ``exporting_location`` in the XCom of ``CustomerProfilesIdentityResolutionJobSensor``)
    or, when it is not given, from the job's ``ExportingLocation`` (GetIdentityResolutionJob).
    Their format is not documented by AWS, so the reader accepts CSV, JSON Lines,
    JSON and Parquet, gzipped or not, with loosely matched column names; anything
    else fails with a message listing the files, formats and column names found.
    Output, atomicity, idempotency, return value and asset event are those of
    :class:`~airflow_provider_customerprofiles.transfers.matches_to_parquet.CustomerProfilesMatchesToParquetOperator`.

    :param domain_name: The Customer Profiles domain. (templated)
    :param job_id: The identity-resolution job. (templated)
    :param destination: Dataset root: a local directory, ``file://`` or ``s3://bucket/prefix``. (templated)
    :param exporting_location: ``{"S3Exporting": {"S3BucketName", "S3KeyName"}}`` or an ``s3://`` URI;
        default: ask the service. (templated)
    :param overwrite: Rewrite the partition even if it is complete. (templated)
    :param row_group_rows: Rows buffered per Parquet row group. (templated)
    :param aws_conn_id: AWS connection for Customer Profiles and S3. (templated)
    :param region_name: AWS region. (templated)
    :param verify: Verify TLS certificates, or a CA bundle path. (templated)
    :param botocore_config: botocore client configuration. (templated)
    """

    template_fields: Sequence[str] = aws_template_fields(
        "domain_name",
        "job_id",
        "destination",
        "exporting_location",
        "overwrite",
        "row_group_rows",
        "botocore_config",
    )
    # A rendered XCom of the sensor's ``exporting_location`` dict arrives as its repr.
    argument_types = {
        **MatchDatasetExportOperator.argument_types,
        "exporting_location": OrNone(Collection((dict,), text=True)),
    }

    def __init__(self, *, job_id: str, exporting_location: dict[str, Any] | str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.job_id = job_id
        self.exporting_location = exporting_location

    def execute(self, context: Any) -> dict[str, Any]:
        job = cache(self._describe_job)
        location = self.exporting_location or job().get("ExportingLocation")
        if not location:
            raise AirflowException(
                f"Identity-resolution job {self.job_id} has no ExportingLocation: set the domain's "
                "Matching.ExportingConfig.S3Exporting (jobs that auto-merge do not export matches)"
            )
        results = self.open_dataset(exporting_location_uri(location))
        self._read_uris = [results.uri]
        dataset = self.open_dataset(self.destination)
        self.log.info("Reading identity-resolution results of job %s from %s", self.job_id, results.uri)
        stream = stream_results(results, self.job_id, default_generated_at=lambda: _job_time(job()))
        return self.publish(context, dataset, self.write(stream, dataset))

    def _describe_job(self) -> dict[str, Any]:
        return self.hook.conn.get_identity_resolution_job(DomainName=self.domain_name, JobId=self.job_id)


def _job_time(job: dict[str, Any]) -> datetime | None:
    """When the job generated its matches, for result files that do not say."""
    return job.get("JobEndTime") or job.get("JobStartTime")
