"""Moved to :mod:`airflow_provider_customerprofiles.storage`; kept only until the last callers switch."""

from airflow_provider_customerprofiles.storage import S3Settings, is_s3

__all__ = ["S3Settings", "is_s3"]
