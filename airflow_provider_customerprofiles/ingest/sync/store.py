"""
The state's I/O in one place: whole small objects, create-only objects, and Parquet files.

Everything goes through the project's storage layer, so a failure names the state's URI
and ``sync_state_uri``, never file contents.
"""

from __future__ import annotations

import os

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from airflow_provider_customerprofiles.storage import Location, LocationNotFoundError, S3Settings, resolve

ARGUMENT = "sync_state_uri"
# S3 answers a create-only PUT on an existing key with 412 (or 409 while another write races it).
_EXISTS_CODES = {"PreconditionFailed", "412", "ConditionalRequestConflict", "409"}


class StateStore:
    """A directory (local path or ``s3://`` prefix) holding one sync state."""

    def __init__(self, uri: str, s3: S3Settings | None) -> None:
        self._root = resolve(uri, s3, ARGUMENT)
        self.uri = self._root.uri

    def location_of(self, name: str) -> Location:
        return self._root.child(name)

    def uri_of(self, name: str) -> str:
        return self.location_of(name).uri

    def read(self, name: str) -> bytes | None:
        """The object's bytes, or ``None`` when it does not exist."""
        try:
            return self.location_of(name).read_bytes()
        except LocationNotFoundError:
            return None

    def write(self, name: str, data: bytes) -> None:
        """Replace ``name`` atomically."""
        self.location_of(name).write_bytes(data)

    def create(self, name: str, data: bytes) -> bool:
        """Write ``name`` only if it does not exist yet; False when it does (local ``O_EXCL``, S3 ``If-None-Match``)."""
        location = self.location_of(name)
        with location.errors("create"):
            if location.s3 is not None:
                return _create_on_s3(location, data)
            os.makedirs(os.path.dirname(location.path), exist_ok=True)
            try:
                fd = os.open(location.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                return False
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            return True

    def delete(self, name: str) -> None:
        self.location_of(name).delete()

    def delete_dir(self, name: str) -> None:
        self.location_of(name).delete_dir()

    def list_dir(self, name: str) -> list[str]:
        """Names of the files directly below ``name`` (sorted; empty when it does not exist)."""
        return self._list(name, pafs.FileType.File)

    def list_subdirs(self, name: str) -> list[str]:
        """Names of the directories (prefixes) directly below ``name`` (sorted; empty when it does not exist)."""
        return self._list(name, pafs.FileType.Directory)

    def _list(self, name: str, kind: pafs.FileType) -> list[str]:
        location = self.location_of(name)
        with location.errors("list"):
            infos = location.filesystem.get_file_info(pafs.FileSelector(location.path, allow_not_found=True))
        return sorted(info.base_name for info in infos if info.type == kind)

    def write_table(self, name: str, table: pa.Table) -> None:
        directory, _, _ = name.rpartition("/")
        self.location_of(directory).make_dir()
        location = self.location_of(name)
        with location.errors("write"):
            pq.write_table(table, location.path, filesystem=location.filesystem, compression="zstd")

    def read_table(self, name: str) -> pa.Table | None:
        """The Parquet file ``name``, or ``None`` when it does not exist."""
        location = self.location_of(name)
        if not location.exists():
            return None
        with location.errors("read"):
            return pq.read_table(location.path, filesystem=location.filesystem)


def _create_on_s3(location: Location, data: bytes) -> bool:
    assert location.s3 is not None
    bucket, _, key = location.path.partition("/")
    client = location.s3.client
    try:
        client.put_object(Bucket=bucket, Key=key, Body=data, IfNoneMatch="*", **location.s3.put_arguments())
    except client.exceptions.ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in _EXISTS_CODES:
            return False
        raise
    return True
