"""
Parquet inputs: resolve what the user named into files, and stream them in record batches.

A source is one path or URI, or a list of them; each may be a file, a glob
(``*``, ``?``, ``[``) or a directory / prefix (every ``*.parquet`` below it).
Reading goes row group by row group, batch by batch, with only the projected
columns and a small read buffer, so memory does not grow with file size.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.parquet as pq

from airflow_provider_customerprofiles.storage import Location, S3Settings, resolve

READ_BUFFER_BYTES = 1 << 20


class SourceError(Exception):
    """A source cannot be found or read; the message names the file."""


@dataclass(frozen=True)
class SourceFile:
    """One Parquet file: the URI users see (in logs, dead letters, checkpoints) and where it is."""

    location: Location

    @property
    def uri(self) -> str:
        return self.location.uri

    def open(self) -> pq.ParquetFile:
        """Open the footer only; raises SourceError naming the file when it is not readable Parquet."""
        try:
            handle = self.location.filesystem.open_input_file(self.location.path)
            return pq.ParquetFile(handle, buffer_size=READ_BUFFER_BYTES, pre_buffer=False)
        except (OSError, pa.ArrowException) as exc:
            raise SourceError(f"{self.uri} is not a readable Parquet file: {exc}") from None


def _is_data_file(location: Location) -> bool:
    return not location.name.startswith(("_", ".")) and location.name.endswith((".parquet", ".parq", ".pq"))


def _expand(entry: str, s3: S3Settings | None) -> list[SourceFile]:
    location = resolve(entry, s3, "source")
    if location.is_pattern:
        files = location.glob()
    elif location.is_file():
        files = [location]
    elif location.exists():
        files = [file for file in location.list_files() if _is_data_file(file)]
    else:
        raise SourceError(f"{entry} does not exist")
    if not files:
        raise SourceError(f"{entry} matches no Parquet file")
    return [SourceFile(file) for file in files]


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
