"""S3 settings for the storage layer, taken only from the Airflow ``aws`` connection (never the environment)."""

from __future__ import annotations

from collections.abc import Iterable

from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook

from airflow_provider_customerprofiles.storage import S3Settings, is_s3


def s3_settings_from_connection(
    aws_conn_id: str | None, region_name: str | None, verify: bool | str | None
) -> S3Settings:
    """The connection's credentials, region, TLS setting and S3 options.

    The credentials are the session's own object, not a copy of its keys: assumed-role and
    web-identity credentials refresh themselves before they expire, so a long run keeps
    working. The connection's ``service_config.s3`` may give ``endpoint_url``,
    ``server_side_encryption`` (``AES256`` by default, or ``aws:kms``) and ``sse_kms_key_id``.
    Without credentials the settings carry none, and the engine names the ``s3://`` location
    that needs them.
    """
    hook = AwsBaseHook(aws_conn_id=aws_conn_id, client_type="s3", region_name=region_name, verify=verify)
    s3_options = hook.conn_config.get_service_config("s3")
    return S3Settings(
        region=hook.conn_region_name,
        endpoint_url=hook.conn_config.get_service_endpoint_url("s3"),
        verify=hook.verify,
        credentials=hook.get_session().get_credentials(),
        encryption=s3_options.get("server_side_encryption", "AES256"),
        kms_key_id=s3_options.get("sse_kms_key_id"),
    )


def s3_settings_for(
    uris: Iterable[str | None], aws_conn_id: str | None, region_name: str | None, verify: bool | str | None
) -> S3Settings | None:
    """The connection's S3 settings when one of ``uris`` is on S3; None (no connection lookup) otherwise."""
    if not any(uri and is_s3(uri) for uri in uris):
        return None
    return s3_settings_from_connection(aws_conn_id, region_name, verify)
