"""S3 settings for the engines, taken only from the Airflow ``aws`` connection (never the environment)."""

from __future__ import annotations

from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook

from airflow_provider_customerprofiles.s3 import S3Settings


def s3_settings_from_connection(
    aws_conn_id: str | None, region_name: str | None, verify: bool | str | None
) -> S3Settings:
    """The connection's credentials, region, S3 endpoint (``service_config.s3.endpoint_url``) and TLS setting."""
    hook = AwsBaseHook(aws_conn_id=aws_conn_id, client_type="s3", region_name=region_name, verify=verify)
    where = {
        "region": hook.conn_region_name,
        "endpoint_url": hook.conn_config.get_service_endpoint_url("s3"),
        "verify": hook.verify,
    }
    if hook.get_session().get_credentials() is None:  # the engines then say which s3:// location needs them
        return S3Settings(**where)
    credentials = hook.get_credentials()
    return S3Settings(
        access_key=credentials.access_key,
        secret_key=credentials.secret_key,
        session_token=credentials.token,
        **where,
    )
