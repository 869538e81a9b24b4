"""
Where the loader reads and writes: local paths or ``s3://`` URIs.

S3 access is built only from the settings passed in (the caller takes them from an
Airflow connection); nothing here reads credentials from the environment. Small
outputs (checkpoints, dead-letter parts) are written whole, atomically: a local
rename, or one S3 PUT with server-side encryption, because dead letters hold PII.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pyarrow.fs as pafs

from airflow_provider_customerprofiles.s3 import S3Settings, is_s3


def split_s3(uri: str) -> tuple[str, str]:
    """``s3://bucket/key`` -> ``("bucket", "key")``."""
    parts = urlsplit(uri)
    return parts.netloc, parts.path.lstrip("/")


def join_uri(base: str, *parts: str) -> str:
    """Join path parts onto a local path or an ``s3://`` URI with single slashes."""
    return "/".join([base.rstrip("/"), *(p.strip("/") for p in parts)])


def filesystem_and_path(uri: str, s3: S3Settings | None) -> tuple[pafs.FileSystem, str]:
    """The pyarrow filesystem for ``uri`` and the path inside it."""
    if is_s3(uri):
        if s3 is None:
            raise ValueError(f"{uri} is on S3 but no S3 settings were given")
        bucket, key = split_s3(uri)
        return s3.filesystem, f"{bucket}/{key}"
    return pafs.LocalFileSystem(), os.path.abspath(uri)


def write_bytes(uri: str, data: bytes, s3: S3Settings | None) -> None:
    """Write a whole object atomically; on S3 with SSE (AES256)."""
    if is_s3(uri):
        if s3 is None:
            raise ValueError(f"{uri} is on S3 but no S3 settings were given")
        bucket, key = split_s3(uri)
        s3.client.put_object(Bucket=bucket, Key=key, Body=data, ServerSideEncryption="AES256")
        return
    target = Path(uri)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def delete(uri: str, s3: S3Settings | None) -> None:
    """Remove an object; nothing happens when it does not exist."""
    if is_s3(uri):
        if s3 is None:
            raise ValueError(f"{uri} is on S3 but no S3 settings were given")
        bucket, key = split_s3(uri)
        s3.client.delete_object(Bucket=bucket, Key=key)
        return
    Path(uri).unlink(missing_ok=True)


def check_writable(directory_uri: str, s3: S3Settings | None) -> None:
    """Write and remove a marker object under ``directory_uri``; raises what the write raises."""
    marker = join_uri(directory_uri, f".write-check-{uuid.uuid4().hex}")
    write_bytes(marker, b"", s3)
    delete(marker, s3)


def read_bytes(uri: str, s3: S3Settings | None) -> bytes | None:
    """The object's bytes, or ``None`` when it does not exist."""
    if is_s3(uri):
        if s3 is None:
            raise ValueError(f"{uri} is on S3 but no S3 settings were given")
        bucket, key = split_s3(uri)
        try:
            return s3.client.get_object(Bucket=bucket, Key=key)["Body"].read()
        except s3.client.exceptions.NoSuchKey:
            return None
    path = Path(uri)
    return path.read_bytes() if path.exists() else None
