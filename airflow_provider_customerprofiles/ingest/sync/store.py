"""
The state's I/O in one place: whole small objects, create-only objects, and Parquet files.

Written against the loader's current storage helpers; the project's storage package
replaces them here only.
"""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from airflow_provider_customerprofiles.ingest.storage import (
    delete,
    filesystem_and_path,
    join_uri,
    read_bytes,
    write_bytes,
)
from airflow_provider_customerprofiles.s3 import S3Settings, is_s3

# S3 answers a create-only PUT on an existing key with 412 (or 409 while another write races it).
_EXISTS_CODES = {"PreconditionFailed", "412", "ConditionalRequestConflict", "409"}


class StateStore:
    """A directory (local path or ``s3://`` prefix) holding one sync state."""

    def __init__(self, uri: str, s3: S3Settings | None) -> None:
        self.uri = uri.rstrip("/")
        self._s3 = s3

    def uri_of(self, *parts: str) -> str:
        return join_uri(self.uri, *parts)

    def read(self, name: str) -> bytes | None:
        return read_bytes(self.uri_of(name), self._s3)

    def write(self, name: str, data: bytes) -> None:
        """Replace ``name`` atomically."""
        write_bytes(self.uri_of(name), data, self._s3)

    def create(self, name: str, data: bytes) -> bool:
        """Write ``name`` only if it does not exist yet; False when it does (local ``O_EXCL``, S3 ``If-None-Match``)."""
        uri = self.uri_of(name)
        if is_s3(uri):
            assert self._s3 is not None
            bucket, key = filesystem_and_path(uri, self._s3)[1].split("/", 1)
            try:
                self._s3.client.put_object(
                    Bucket=bucket, Key=key, Body=data, IfNoneMatch="*", ServerSideEncryption="AES256"
                )
            except self._s3.client.exceptions.ClientError as exc:
                if exc.response.get("Error", {}).get("Code") in _EXISTS_CODES:
                    return False
                raise
            return True
        Path(uri).parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(uri, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return False
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        return True

    def delete(self, name: str) -> None:
        delete(self.uri_of(name), self._s3)

    def delete_dir(self, name: str) -> None:
        filesystem, path = filesystem_and_path(self.uri_of(name), self._s3)
        if filesystem.get_file_info(path).type != pafs.FileType.NotFound:
            filesystem.delete_dir(path)

    def list_dir(self, name: str) -> list[str]:
        """Names of the files directly below ``name`` (sorted; empty when it does not exist)."""
        filesystem, path = filesystem_and_path(self.uri_of(name), self._s3)
        infos = filesystem.get_file_info(pafs.FileSelector(path, allow_not_found=True))
        return sorted(info.base_name for info in infos if info.type == pafs.FileType.File)

    def list_subdirs(self, name: str) -> list[str]:
        filesystem, path = filesystem_and_path(self.uri_of(name), self._s3)
        infos = filesystem.get_file_info(pafs.FileSelector(path, allow_not_found=True))
        return sorted(info.base_name for info in infos if info.type == pafs.FileType.Directory)

    def write_table(self, name: str, table: pa.Table) -> None:
        filesystem, path = filesystem_and_path(self.uri_of(name), self._s3)
        if not is_s3(self.uri):
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, path, filesystem=filesystem, compression="zstd")

    def read_table(self, name: str) -> pa.Table | None:
        filesystem, path = filesystem_and_path(self.uri_of(name), self._s3)
        if filesystem.get_file_info(path).type == pafs.FileType.NotFound:
            return None
        return pq.read_table(path, filesystem=filesystem)
