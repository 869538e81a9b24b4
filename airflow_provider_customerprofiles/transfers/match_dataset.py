"""What the match-dataset operators share: the dataset opened with the AWS connection, its asset, the export steps."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow.providers.amazon.aws.operators.base_aws import AwsBaseOperator
from airflow.sdk import Asset, AssetAlias

from airflow_provider_customerprofiles.hooks.customer_profiles import CustomerProfilesHook
from airflow_provider_customerprofiles.hooks.storage import s3_settings_for
from airflow_provider_customerprofiles.lineage import customer_profiles_name, operator_lineage, storage_name
from airflow_provider_customerprofiles.matches.dataset import PartitionResult, write_partition
from airflow_provider_customerprofiles.matches.location import Location, canonical_uri, resolve
from airflow_provider_customerprofiles.matches.normalize import MatchStream
from airflow_provider_customerprofiles.templating import AWS_ARGUMENTS, FLAG, ConvertsTemplatedArguments, Number


def open_dataset(uri: str, aws_conn_id: str | None, region_name: str | None, verify: bool | str | None) -> Location:
    """A local directory, or an S3 prefix reached with the connection's credentials and S3 endpoint."""
    return resolve(uri, s3_settings_for([uri], aws_conn_id, region_name, verify))


def default_outlets(destination: str) -> list[Asset]:
    """The dataset as an asset, when its URI is known at parse time (not a template)."""
    return [] if "{{" in destination or "{%" in destination else [Asset(canonical_uri(destination))]


def emit_dataset_event(context: Any, outlets: Sequence[Any], dataset_uri: str, extra: dict[str, Any]) -> None:
    """Attach ``extra`` to the event of the asset named ``dataset_uri``, or add it through an asset alias."""
    events = context["outlet_events"]
    for outlet in outlets:
        if isinstance(outlet, AssetAlias):
            events[outlet].add(Asset(dataset_uri), extra=extra)
        elif isinstance(outlet, Asset) and outlet.uri == dataset_uri:
            events[outlet].extra = extra


class MatchDatasetExportOperator(ConvertsTemplatedArguments, AwsBaseOperator[CustomerProfilesHook]):
    """Base of the operators that write one partition of the match dataset, so both report it the same way."""

    aws_hook_class = CustomerProfilesHook
    argument_types = {**AWS_ARGUMENTS, "overwrite": FLAG, "row_group_rows": Number(int, at_least=1)}

    def __init__(
        self,
        *,
        domain_name: str,
        destination: str,
        overwrite: bool = False,
        row_group_rows: int = 100_000,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("outlets", default_outlets(destination))
        super().__init__(**kwargs)
        self.domain_name = domain_name
        self.destination = destination
        self.overwrite = overwrite
        self.row_group_rows = row_group_rows
        self._read_uris: list[str] = []  # storage read besides the matches, for lineage
        self._result: PartitionResult | None = None

    def open_dataset(self, uri: str) -> Location:
        return open_dataset(uri, self.aws_conn_id, self.region_name, self.verify)

    def write(self, stream: MatchStream, dataset: Location) -> PartitionResult:
        return write_partition(stream, dataset, overwrite=self.overwrite, row_group_rows=self.row_group_rows)

    def publish(self, context: Any, dataset: Location, result: PartitionResult) -> dict[str, Any]:
        """Log what was written, attach it to the dataset's asset event, and return it for XCom."""
        self.log.info(
            "%s %d match rows of %s in %s",
            "Kept" if result.skipped else "Wrote",
            result.rows,
            result.match_generation_date,
            result.uri,
        )
        emit_dataset_event(context, self.outlets, dataset.uri, result.as_dict())
        self._result = result
        return result.as_dict()

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """Inputs: the domain's matches (and any result files read); output: the partition, with its new rows."""
        inputs = [customer_profiles_name(self.hook, self.domain_name, "matches"), *map(storage_name, self._read_uris)]
        result = self._result
        if result is None or result.uri is None:  # failed, or nothing to write
            return operator_lineage(inputs, [], None)
        return operator_lineage(inputs, [storage_name(result.uri)], None if result.skipped else result.rows)
