"""Where a match dataset lives: a local directory or an ``s3://`` prefix, as a pyarrow filesystem.

S3 access is configured only from the values passed in (the operator takes them
from the Airflow connection); nothing is read from the environment.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import urlsplit

import pyarrow.fs as pafs


@dataclass(frozen=True)
class S3Settings:
    """Credentials and endpoint for pyarrow's S3 filesystem."""

    access_key: str | None = None
    secret_key: str | None = None
    session_token: str | None = None
    region: str | None = None
    endpoint_url: str | None = None
    ca_bundle: str | None = None

    def filesystem(self) -> pafs.S3FileSystem:
        """An S3 filesystem using exactly these settings (a custom endpoint may be plain http)."""
        options: dict[str, object] = {
            "access_key": self.access_key,
            "secret_key": self.secret_key,
            "session_token": self.session_token,
            "region": self.region,
            "tls_ca_file_path": self.ca_bundle,
        }
        if self.endpoint_url:
            parts = urlsplit(self.endpoint_url)
            options["scheme"] = parts.scheme or "https"
            options["endpoint_override"] = parts.netloc or parts.path
        return pafs.S3FileSystem(**{key: value for key, value in options.items() if value is not None})


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


def is_s3_uri(uri: str) -> bool:
    return uri.startswith(("s3://", "s3a://"))


def canonical_uri(uri: str) -> str:
    """``s3://bucket/prefix`` or ``file:///absolute/dir``, without a trailing slash; no I/O."""
    if is_s3_uri(uri):
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
        return Location((s3 or S3Settings()).filesystem(), uri.removeprefix("s3://"), uri)
    return Location(pafs.LocalFileSystem(), uri.removeprefix("file://"), uri)
