"""One storage layer for local paths, ``file://`` and ``s3://``: every engine reads and writes through it.

No Airflow import: the Airflow side that builds :class:`S3Settings` from a connection is
``airflow_provider_customerprofiles.hooks.storage``.
"""

from airflow_provider_customerprofiles.storage.errors import (
    AccessDeniedError,
    LocationNotFoundError,
    MissingSettingsError,
    StorageError,
    UnsupportedLocationError,
)
from airflow_provider_customerprofiles.storage.location import Location, canonical_uri, is_s3, join_uri, resolve
from airflow_provider_customerprofiles.storage.s3_settings import CredentialsProvider, S3Settings

__all__ = [
    "AccessDeniedError",
    "CredentialsProvider",
    "Location",
    "LocationNotFoundError",
    "MissingSettingsError",
    "S3Settings",
    "StorageError",
    "UnsupportedLocationError",
    "canonical_uri",
    "is_s3",
    "join_uri",
    "resolve",
]
