"""The old function-style storage calls, now over :mod:`airflow_provider_customerprofiles.storage`.

Kept only until the last callers (the sync state, the Parquet transfer) use ``storage.resolve``.
"""

from __future__ import annotations

import pyarrow.fs as pafs

from airflow_provider_customerprofiles.storage import LocationNotFoundError, S3Settings, resolve


def join_uri(base: str, *parts: str) -> str:
    """Join path parts onto a local path or an ``s3://`` URI with single slashes."""
    return "/".join([base.rstrip("/"), *(p.strip("/") for p in parts)])


def filesystem_and_path(uri: str, s3: S3Settings | None) -> tuple[pafs.FileSystem, str]:
    location = resolve(uri, s3)
    return location.filesystem, location.path


def write_bytes(uri: str, data: bytes, s3: S3Settings | None) -> None:
    resolve(uri, s3).write_bytes(data)


def delete(uri: str, s3: S3Settings | None) -> None:
    resolve(uri, s3).delete()


def check_writable(directory_uri: str, s3: S3Settings | None) -> None:
    resolve(directory_uri, s3).check_writable()


def read_bytes(uri: str, s3: S3Settings | None) -> bytes | None:
    """The object's bytes, or ``None`` when it does not exist."""
    try:
        return resolve(uri, s3).read_bytes()
    except LocationNotFoundError:
        return None
