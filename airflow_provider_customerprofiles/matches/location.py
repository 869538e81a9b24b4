"""Where a match dataset lives: a local directory or an ``s3://`` prefix, as a pyarrow filesystem.

S3 access is configured only from the values passed in (the operator takes them
from the Airflow connection); nothing is read from the environment.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import urlsplit

import pyarrow.fs as pafs

from airflow_provider_customerprofiles.s3 import S3Settings, is_s3


@dataclass(frozen=True)
class Location:
    """A path on a filesystem, plus the URI users see (``s3://...`` or ``file://...``)."""

    filesystem: pafs.FileSystem
    path: str
    uri: str

    def child(self, name: str) -> Location:
        return Location(self.filesystem, f"{self.path}/{name}", f"{self.uri}/{name}")

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    def exists(self) -> bool:
        return self.filesystem.get_file_info(self.path).type != pafs.FileType.NotFound


def canonical_uri(uri: str) -> str:
    """``s3://bucket/prefix`` or ``file:///absolute/dir``, without a trailing slash; no I/O."""
    if is_s3(uri):
        parts = urlsplit(uri)
        if not parts.netloc:
            raise ValueError(f"S3 URI {uri!r} names no bucket")
        return f"s3://{parts.netloc}/{parts.path.strip('/')}".rstrip("/")
    if uri.startswith("file://"):
        uri = urlsplit(uri).path
    elif "://" in uri:
        raise ValueError(f"Unsupported URI scheme in {uri!r}: use a local path, file:// or s3://")
    return "file://" + (os.path.abspath(uri).rstrip("/") or "/")


def resolve(uri: str, s3: S3Settings | None = None) -> Location:
    """Turn ``s3://bucket/prefix``, ``file:///dir`` or a local path into a :class:`Location`."""
    uri = canonical_uri(uri)
    if uri.startswith("s3://"):
        if s3 is None:
            raise ValueError(f"{uri} is on S3 but no S3 settings were given")
        return Location(s3.filesystem, uri.removeprefix("s3://"), uri)
    return Location(pafs.LocalFileSystem(), uri.removeprefix("file://"), uri)
