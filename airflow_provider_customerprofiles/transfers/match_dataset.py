"""What the match-export operators share: the dataset's filesystem from an AWS connection, and its asset."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow.providers.amazon.aws.hooks.base_aws import AwsGenericHook
from airflow.sdk import Asset, AssetAlias

from airflow_provider_customerprofiles.matches.location import (
    Location,
    S3Settings,
    canonical_uri,
    is_s3_uri,
    resolve,
)


def open_dataset(uri: str, aws_hook: AwsGenericHook) -> Location:
    """A local directory, or an S3 prefix reached with the connection's credentials and S3 endpoint."""
    if not is_s3_uri(uri):
        return resolve(uri)
    credentials = aws_hook.get_credentials()
    return resolve(
        uri,
        S3Settings(
            access_key=credentials.access_key,
            secret_key=credentials.secret_key,
            session_token=credentials.token,
            region=aws_hook.conn_region_name,
            endpoint_url=aws_hook.conn_config.get_service_endpoint_url("s3"),
            ca_bundle=aws_hook.verify if isinstance(aws_hook.verify, str) else None,
        ),
    )


def as_bool(value: bool | str) -> bool:
    """A flag that may arrive as rendered template text ("False" must stay false)."""
    return value.strip().lower() in ("true", "1", "yes") if isinstance(value, str) else bool(value)


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
