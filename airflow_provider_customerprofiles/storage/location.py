"""
A place to read or write: a local path, a ``file://`` URI or an ``s3://`` (``s3a://``) URI.

Every engine reaches storage through :class:`Location`: whole objects (checkpoints,
dead-letter parts, audits, markers) are written atomically (a local temp file and a
rename, or one S3 PUT with server-side encryption, because they may hold PII), and
pyarrow streams through :attr:`Location.filesystem` and :attr:`Location.path`. Failures
raise the :mod:`.errors` classes, naming the URI and the argument it came from.
"""

from __future__ import annotations

import fnmatch
import os
import re
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit

import pyarrow.fs as pafs

from airflow_provider_customerprofiles.storage.errors import (
    AccessDeniedError,
    LocationNotFoundError,
    MissingSettingsError,
    StorageError,
    UnsupportedLocationError,
)
from airflow_provider_customerprofiles.storage.s3_settings import S3Settings

S3_SCHEMES = ("s3://", "s3a://")
_GLOB = re.compile(r"[*?\[]")
# botocore's error codes, and the same errors as pyarrow's messages spell them.
_NOT_FOUND_CODES = {"NoSuchKey", "NoSuchBucket", "404", "NotFound", "NO_SUCH_BUCKET", "NO_SUCH_KEY"}
_DENIED_CODES = {
    "AccessDenied",
    "403",
    "Forbidden",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "ACCESS_DENIED",
    "INVALID_ACCESS_KEY_ID",
    "SIGNATURE_DOES_NOT_MATCH",
    "EXPIRED_TOKEN",
}
_PYARROW_CODE = re.compile(r"AWS Error ([A-Z_]+)")


def is_s3(uri: str) -> bool:
    """Whether ``uri`` names S3 (``s3://`` or Hadoop's ``s3a://``)."""
    return uri.startswith(S3_SCHEMES)


def join_uri(base: str, *parts: str) -> str:
    """``parts`` below ``base`` (a local path or a URI), joined with single slashes; no I/O."""
    names = [part.strip("/") for part in parts if part.strip("/")]
    return "/".join([base.rstrip("/"), *names])


def canonical_uri(uri: str, argument: str | None = None) -> str:
    """``s3://bucket/prefix`` or ``file:///absolute/dir``, without a trailing slash; no I/O."""
    if is_s3(uri):
        parts = urlsplit(uri)
        if not parts.netloc:
            raise UnsupportedLocationError(uri, argument, "an S3 URI that names no bucket")
        return f"s3://{parts.netloc}/{parts.path.strip('/')}".rstrip("/")
    return "file://" + (_local_path(uri, argument).rstrip("/") or "/")


def _local_path(uri: str, argument: str | None) -> str:
    if uri.startswith("file://"):
        return urlsplit(uri).path
    if "://" in uri:
        raise UnsupportedLocationError(uri, argument, "unsupported URI scheme: use a local path, file:// or s3://")
    return os.path.abspath(uri)


def resolve(uri: str, s3: S3Settings | None = None, argument: str | None = None) -> Location:
    """The :class:`Location` of ``uri``; an ``s3://`` URI needs settings with credentials.

    The URI keeps the user's style: a local path stays a path (made absolute), ``file://``
    stays ``file://``, and ``s3a://`` becomes ``s3://``. ``argument`` names where the URI
    came from, for error messages.
    """
    if is_s3(uri):
        parts = urlsplit(uri)
        if not parts.netloc:
            raise UnsupportedLocationError(uri, argument, "an S3 URI that names no bucket")
        if s3 is None or not s3.has_credentials:
            raise MissingSettingsError(
                uri,
                argument,
                "on S3, but no S3 credentials were given (pass S3Settings; the operator takes them from "
                "its aws_conn_id connection, which gives none)",
            )
        key = parts.path.strip("/")
        return Location(f"s3://{parts.netloc}/{key}".rstrip("/"), f"{parts.netloc}/{key}".rstrip("/"), argument, s3)
    path = _local_path(uri, argument)
    shown = "file://" + path if uri.startswith("file://") else path
    return Location(shown, path, argument)


@dataclass(frozen=True)
class Location:
    """A file or directory (prefix): the URI users see and the path inside its filesystem."""

    uri: str
    path: str
    argument: str | None = None
    s3: S3Settings | None = field(default=None, repr=False)

    @property
    def is_s3(self) -> bool:
        return self.s3 is not None

    @property
    def filesystem(self) -> pafs.FileSystem:
        """The pyarrow filesystem to stream with; on S3 built with the current credentials."""
        return self.s3.filesystem() if self.s3 is not None else pafs.LocalFileSystem()

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    def child(self, *parts: str) -> Location:
        """The location of ``parts`` below this one, joined with single slashes."""
        return self._at(join_uri(self.path, *parts))

    def _at(self, path: str) -> Location:
        """Another path on the same filesystem, shown in this location's URI style."""
        scheme = self.uri[: len(self.uri) - len(self.path)]  # "s3://", "file://" or ""
        return replace(self, uri=scheme + path, path=path)

    def exists(self) -> bool:
        with self.errors("look up"):
            return self.filesystem.get_file_info(self.path).type != pafs.FileType.NotFound

    def is_file(self) -> bool:
        with self.errors("look up"):
            return self.filesystem.get_file_info(self.path).type == pafs.FileType.File

    def read_bytes(self) -> bytes:
        """The whole object; raises LocationNotFoundError when it does not exist."""
        with self.errors("read"):
            if self.s3 is not None:
                bucket, key = self._bucket_and_key()
                return self.s3.client.get_object(Bucket=bucket, Key=key)["Body"].read()
            return Path(self.path).read_bytes()

    def write_bytes(self, data: bytes) -> None:
        """Write a whole object atomically; on S3 one PUT with server-side encryption."""
        with self.errors("write"):
            if self.s3 is not None:
                bucket, key = self._bucket_and_key()
                self.s3.client.put_object(Bucket=bucket, Key=key, Body=data, **self.s3.put_arguments())
                return
            _replace_file(Path(self.path), data)

    def delete(self) -> None:
        """Remove the object; nothing happens when it does not exist."""
        with self.errors("delete"):
            if self.s3 is not None:
                bucket, key = self._bucket_and_key()
                self.s3.client.delete_object(Bucket=bucket, Key=key)
            else:
                Path(self.path).unlink(missing_ok=True)

    def move_to(self, target: Location) -> None:
        """Move this file to ``target`` on the same storage; on S3 a copy with server-side encryption, then a delete.

        pyarrow's streaming writes send no encryption header, so a file streamed to a staging
        place is encrypted when it is moved to its final one.
        """
        with self.errors("move"):
            if self.s3 is not None:
                bucket, key = self._bucket_and_key()
                target_bucket, target_key = target._bucket_and_key()
                copy_source = {"Bucket": bucket, "Key": key}
                self.s3.client.copy(copy_source, target_bucket, target_key, ExtraArgs=self.s3.put_arguments())
                self.s3.client.delete_object(Bucket=bucket, Key=key)
            else:
                Path(target.path).parent.mkdir(parents=True, exist_ok=True)
                os.replace(self.path, target.path)

    def _bucket_and_key(self) -> tuple[str, str]:
        bucket, _, key = self.path.partition("/")
        if not key:
            raise StorageError(self.uri, self.argument, "names a bucket, not an object")
        return bucket, key

    def make_dir(self) -> None:
        """Local directories must exist before a file is opened in them; object stores have none to make."""
        if self.s3 is None:
            with self.errors("create"):
                Path(self.path).mkdir(parents=True, exist_ok=True)

    def delete_dir(self) -> None:
        """Remove the directory (prefix) and everything under it; nothing happens when it does not exist."""
        if self.exists():
            with self.errors("delete"):
                self.filesystem.delete_dir(self.path)

    def list_files(self) -> list[Location]:
        """Every file below this directory (prefix), recursively, sorted; none when it does not exist."""
        with self.errors("list"):
            selector = pafs.FileSelector(self.path, recursive=True, allow_not_found=True)
            infos = self.filesystem.get_file_info(selector)
        return sorted((self._at(i.path) for i in infos if i.type == pafs.FileType.File), key=lambda f: f.path)

    def glob(self) -> list[Location]:
        """The files this location's path matches as a pattern (``*``, ``?``, ``[``), sorted."""
        pattern = self.path
        base = pattern[: _GLOB.search(pattern).start()].rsplit("/", 1)[0] if self.is_pattern else pattern
        return [file for file in self._at(base).list_files() if fnmatch.fnmatchcase(file.path, pattern)]

    @property
    def is_pattern(self) -> bool:
        return _GLOB.search(self.path) is not None

    def check_writable(self) -> None:
        """Write and remove a marker in this directory (prefix), so a bad location fails before real work."""
        marker = self.child(f".write-check-{uuid.uuid4().hex}")
        try:
            marker.write_bytes(b"")
            marker.delete()
        except StorageError as exc:  # name the directory the user gave, not the marker
            raise type(exc)(self.uri, self.argument, exc.reason, exc.action) from exc

    @contextmanager
    def errors(self, action: str) -> Iterator[None]:
        """Turn filesystem and S3 failures into :class:`StorageError` naming this location."""
        try:
            yield
        except StorageError as exc:
            raise type(exc)(exc.uri, exc.argument, exc.reason, action) from None
        except (FileNotFoundError, NotADirectoryError):  # a file where a directory would be: nothing is there
            raise LocationNotFoundError(self.uri, self.argument, "not found", action) from None
        except PermissionError:
            raise AccessDeniedError(self.uri, self.argument, "access denied", action) from None
        except Exception as exc:
            code = _error_code(exc)
            if code is None and not isinstance(exc, OSError):
                raise
            reason = _client_error_code(exc) or str(exc)
            if code in _NOT_FOUND_CODES:
                raise LocationNotFoundError(self.uri, self.argument, reason, action) from exc
            if code in _DENIED_CODES:
                raise AccessDeniedError(self.uri, self.argument, reason, action) from exc
            raise StorageError(self.uri, self.argument, reason, action) from exc


def _client_error_code(exc: Exception) -> str | None:
    """botocore's error code (``NoSuchKey``, ``AccessDenied`` ...), or None for another exception."""
    response = getattr(exc, "response", None)
    return response.get("Error", {}).get("Code") if isinstance(response, dict) else None


def _error_code(exc: Exception) -> str | None:
    """The S3 error code of a botocore or a pyarrow failure, if it has one."""
    found = _PYARROW_CODE.search(str(exc)) if isinstance(exc, OSError) else None
    return _client_error_code(exc) or (found.group(1) if found else None)


def _replace_file(target: Path, data: bytes) -> None:
    """Write to a temporary file beside ``target`` and rename it over ``target``."""
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
