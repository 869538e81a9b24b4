"""
Parquet inputs: resolve what the user named into files, and stream them in record batches.

A source is one path or URI, or a list of them; each may be a file, a glob
(``*``, ``?``, ``[``) or a directory / prefix (every ``*.parquet`` below it).
Reading goes row group by row group, batch by batch, with only the projected
columns and a small read buffer, so memory does not grow with file size.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from airflow_provider_customerprofiles.ingest.storage import filesystem_and_path
from airflow_provider_customerprofiles.s3 import S3Settings, is_s3

_GLOB_CHARS = re.compile(r"[*?\[]")
READ_BUFFER_BYTES = 1 << 20


class SourceError(Exception):
    """A source cannot be found or read; the message names the file."""


@dataclass(frozen=True)
class SourceFile:
    """One Parquet file: the URI users see (in logs, dead letters, checkpoints) and how to open it."""

    uri: str
    filesystem: pafs.FileSystem
    path: str

    def open(self) -> pq.ParquetFile:
        """Open the footer only; raises SourceError naming the file when it is not readable Parquet."""
        try:
            handle = self.filesystem.open_input_file(self.path)
            return pq.ParquetFile(handle, buffer_size=READ_BUFFER_BYTES, pre_buffer=False)
        except (OSError, pa.ArrowException) as exc:
            raise SourceError(f"{self.uri} is not a readable Parquet file: {exc}") from None


def _to_uri(original: str, path: str) -> str:
    return f"s3://{path}" if is_s3(original) else path


def _is_data_file(path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    return not name.startswith(("_", ".")) and name.endswith((".parquet", ".parq", ".pq"))


def _expand(entry: str, s3: S3Settings | None) -> list[SourceFile]:
    fs, path = filesystem_and_path(entry, s3)
    if _GLOB_CHARS.search(path):
        base = path[: _GLOB_CHARS.search(path).start()].rsplit("/", 1)[0]
        infos = fs.get_file_info(pafs.FileSelector(base, recursive=True, allow_not_found=True))
        paths = [i.path for i in infos if i.type == pafs.FileType.File and fnmatch.fnmatchcase(i.path, path)]
    else:
        info = fs.get_file_info(path)
        if info.type == pafs.FileType.File:
            paths = [path]
        elif info.type == pafs.FileType.Directory:
            infos = fs.get_file_info(pafs.FileSelector(path, recursive=True))
            paths = [i.path for i in infos if i.type == pafs.FileType.File and _is_data_file(i.path)]
        else:
            raise SourceError(f"{entry} does not exist")
    if not paths:
        raise SourceError(f"{entry} matches no Parquet file")
    return [SourceFile(_to_uri(entry, p), fs, p) for p in sorted(paths)]


def resolve_sources(source: str | Sequence[str], s3: S3Settings | None = None) -> list[SourceFile]:
    """Every file the source names, in a stable order, each once."""
    entries = [source] if isinstance(source, str) else list(source)
    if not entries:
        raise SourceError("No source was given")
    seen: dict[str, SourceFile] = {}
    for entry in entries:
        for file in _expand(entry, s3):
            seen.setdefault(file.uri, file)
    return list(seen.values())


def iter_row_group_batches(
    parquet: pq.ParquetFile, uri: str, row_group: int, columns: list[str] | None, batch_rows: int
) -> Iterator[pa.RecordBatch]:
    """Stream one row group in batches; a decoding error names the file and row group."""
    try:
        yield from parquet.iter_batches(batch_size=batch_rows, row_groups=[row_group], columns=columns)
    except (OSError, pa.ArrowException) as exc:
        raise SourceError(f"{uri}: row group {row_group} cannot be read: {exc}") from None
