"""Read identity-resolution result files, whatever their format, into normalized record batches.

AWS does not document the format of the files a job writes to S3, so this reader
is tolerant: CSV (or TSV, ``;``/``|`` separated), JSON Lines, a JSON array or an
object holding one, and Parquet, each plain or gzipped (detected from magic bytes
first, the file name second). Column names are matched loosely (``MatchId``,
``match_id``, ``matchId`` ...), and a group may be one row per profile or one row
with a list of profile ids. Error messages name files, formats and column names,
never values: result files hold customer identifiers.
"""

from __future__ import annotations

import csv
import json
import re
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from itertools import chain
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.fs as pafs
import pyarrow.json as pajson
import pyarrow.parquet as pq

from airflow_provider_customerprofiles.matches.location import Location
from airflow_provider_customerprofiles.matches.normalize import MatchStream, as_utc, constant_columns
from airflow_provider_customerprofiles.matches.schema import MATCHES_SCHEMA, SOURCE_S3_RESULTS

HEAD_BYTES = 64 * 1024
GZIP_MAGIC = b"\x1f\x8b"
PARQUET_MAGIC = b"PAR1"

# Loose column names (lower case, letters and digits only) for each field we need.
ALIASES: dict[str, set[str]] = {
    "match_id": {"matchid", "matchgroupid", "groupid", "clusterid"},
    "profile_id": {"profileid"},
    "profile_ids": {"profileids", "profiles", "profileidlist", "matchedprofileids"},
    "confidence_score": {"confidencescore", "confidence", "score", "matchscore"},
    "match_group_size": {"matchgroupsize", "groupsize", "numberofprofiles", "profilecount"},
    "generated_at": {"matchgenerationdate", "matchgenerationtime", "matchgeneratedat", "generationdate", "generatedat"},
    "job_id": {"jobid"},
}
RECORD_LIST_HINTS = ("matches", "results", "items", "records", "data")


class UnreadableResultsError(ValueError):
    """The result files could not be understood; the message lists what was found, never contents."""


@dataclass(frozen=True)
class ResultFile:
    """One result file and what it turned out to be."""

    location: Location
    format: str
    gzipped: bool

    def describe(self) -> str:
        return f"{self.location.uri} ({self.format}{', gzip' if self.gzipped else ''})"


def loose(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def map_columns(names: list[str]) -> dict[str, str]:
    """Field -> the column that holds it, for the fields the column names reveal."""
    by_loose = {loose(name): name for name in names}
    return {field: by_loose[alias] for field, aliases in ALIASES.items() for alias in aliases if alias in by_loose}


def find_result_files(prefix: Location) -> list[Location]:
    """Every data file under ``prefix`` (recursively), skipping empty objects and ``_``/``.`` names."""
    files = prefix.list_files() or ([prefix] if prefix.is_file() else [])
    return [
        file
        for file in files
        if file.filesystem.get_file_info(file.path).size
        and not any(part.startswith(("_", ".")) for part in file.path[len(prefix.path) :].split("/"))
    ]


def sniff(location: Location) -> tuple[ResultFile, bytes]:
    """The file's format (magic bytes first, extension second) and its first decompressed bytes."""
    with location.filesystem.open_input_file(location.path) as source:
        raw = source.read(HEAD_BYTES)
    gzipped = raw.startswith(GZIP_MAGIC)
    try:
        head = zlib.decompressobj(wbits=31).decompress(raw) if gzipped else raw
    except zlib.error:
        head = b""  # corrupt: reading it will fail, and say which file
    name = location.name.lower().removesuffix(".gz").removesuffix(".gzip")
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(PARQUET_MAGIC):
        fmt = "parquet"
    elif text.startswith(b"["):
        fmt = "json"
    elif text.startswith(b"{"):
        fmt = "jsonl" if name.endswith((".jsonl", ".ndjson")) or _looks_like_json_lines(text) else "json"
    else:
        fmt = "csv"
    return ResultFile(location, fmt, gzipped), head


def _looks_like_json_lines(text: bytes) -> bool:
    first, newline, rest = text.partition(b"\n")
    if not newline or not rest.strip():
        return False
    try:
        return isinstance(json.loads(first), dict)
    except ValueError:
        return False


def read_raw(file: ResultFile, head: bytes) -> Iterator[pa.Table]:
    """The file's rows as Arrow tables with their original column names (CSV columns stay strings)."""
    fs, path = file.location.filesystem, file.location.path
    compression = "gzip" if file.gzipped else None
    if file.format == "parquet":
        if file.gzipped:  # Parquet needs random access: inflate into memory first
            with fs.open_input_stream(path, compression=compression) as source:
                handle = pa.BufferReader(source.read())
        else:
            handle = fs.open_input_file(path)
        with handle:
            for batch in pq.ParquetFile(handle).iter_batches(batch_size=50_000):
                yield pa.Table.from_batches([batch])
    elif file.format == "jsonl":
        with fs.open_input_stream(path, compression=compression) as source:
            for batch in pajson.open_json(source):
                yield pa.Table.from_batches([batch])
    elif file.format == "json":
        with fs.open_input_stream(path, compression=compression) as source:
            document = json.loads(source.read())
        yield pa.Table.from_pylist(_records(document))
    else:
        yield from _read_csv(fs, path, compression, head)


def _records(document: Any) -> list[dict[str, Any]]:
    """The list of records in a JSON document: the document itself, or the one list it holds."""
    if isinstance(document, list) and all(isinstance(item, dict) for item in document):
        return document
    if isinstance(document, dict):
        lists = {
            key: value
            for key, value in document.items()
            if isinstance(value, list) and value and all(isinstance(item, dict) for item in value)
        }
        preferred = [key for key in lists if loose(key) in RECORD_LIST_HINTS]
        if len(lists) == 1 or preferred:
            return lists[(preferred or list(lists))[0]]
        raise _ColumnsError(f"a JSON object with keys {sorted(document)} and no single list of records")
    raise _ColumnsError(f"a JSON {type(document).__name__}, not a list of records")


def _read_csv(fs: pafs.FileSystem, path: str, compression: str | None, head: bytes) -> Iterator[pa.Table]:
    first_line = head.decode("utf-8-sig", errors="replace").splitlines()[0] if head.strip() else ""
    delimiter = max(",\t;|", key=first_line.count)
    header = next(csv.reader([first_line], delimiter=delimiter))
    convert = pacsv.ConvertOptions(column_types=dict.fromkeys(header, pa.string()), strings_can_be_null=True)
    with fs.open_input_stream(path, compression=compression) as source:
        reader = pacsv.open_csv(
            source,
            read_options=pacsv.ReadOptions(block_size=8 << 20),
            parse_options=pacsv.ParseOptions(delimiter=delimiter),
            convert_options=convert,
        )
        for batch in reader:
            yield pa.Table.from_batches([batch])


class _ColumnsError(ValueError):
    """Internal: why one file's rows cannot be normalized (names only, no values)."""


def normalize_table(
    table: pa.Table, job_id: str | None, default_generated_at: Callable[[], datetime | None]
) -> pa.RecordBatch:
    """Raw result rows -> rows of the match dataset schema (job_id, when given, wins over the file's)."""
    columns = map_columns(table.column_names)
    if "match_id" not in columns or not {"profile_id", "profile_ids"} & columns.keys():
        raise _ColumnsError(f"columns {table.column_names} (need a match id and a profile id or id list)")
    rows = len(table)
    match_id = _as_string(table[columns["match_id"]])
    score = _as_number(table, columns, "confidence_score")
    size = _as_number(table, columns, "match_group_size")
    generated = _generated_at(table, columns, default_generated_at)
    jobs = _as_string(table[columns["job_id"]]) if "job_id" in columns and job_id is None else None
    if "profile_id" in columns:
        profile_id = _as_string(table[columns["profile_id"]])
        if size is None:
            counts = pc.value_counts(match_id)
            size = counts.field("counts").take(pc.index_in(match_id, counts.field("values")))
    else:
        id_lists = _as_id_lists(table[columns["profile_ids"]])
        parents = pc.list_parent_indices(id_lists)
        profile_id = pc.list_flatten(id_lists)
        size = pc.list_value_length(id_lists) if size is None else size
        match_id, score, size, generated = (array.take(parents) for array in (match_id, score, size, generated))
        jobs = jobs.take(parents) if jobs is not None else None
        rows = len(profile_id)
    if match_id.null_count or profile_id.null_count:
        raise _ColumnsError("rows without a match id or profile id")
    _, job_column, source = constant_columns(rows, None, job_id, SOURCE_S3_RESULTS)
    arrays = [
        match_id,
        profile_id,
        score,
        size.cast(pa.int32()),
        generated,
        jobs if jobs is not None else job_column,
        source,
    ]
    return pa.RecordBatch.from_arrays(arrays, schema=MATCHES_SCHEMA)


def _as_string(column: pa.ChunkedArray) -> pa.Array:
    return column.combine_chunks().cast(pa.string())


def _as_number(table: pa.Table, columns: dict[str, str], field: str) -> pa.Array | None:
    """A float64 column (strings such as "0.93" included); for a missing score, nulls; else None."""
    if field not in columns:
        return pa.nulls(len(table), pa.float64()) if field == "confidence_score" else None
    try:
        return table[columns[field]].combine_chunks().cast(pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        raise _ColumnsError(f"a {columns[field]} column that is not numeric") from None


def _as_id_lists(column: pa.ChunkedArray) -> pa.Array:
    """list<string> from a list column, or from a string such as ``a;b`` or ``["a", "b"]``."""
    array = column.combine_chunks()
    if pa.types.is_list(array.type) or pa.types.is_large_list(array.type):
        return array.cast(pa.list_(pa.string()))
    if not pa.types.is_string(array.type):
        raise _ColumnsError(f"a profile id list column of type {array.type}")
    separators = r"[^A-Za-z0-9_-]+"
    trimmed = pc.replace_substring_regex(array, f"^{separators}|{separators}$", "")
    parts = pc.split_pattern_regex(trimmed, separators)
    return pc.if_else(pc.equal(trimmed, ""), pa.scalar([], pa.list_(pa.string())), parts)


def _generated_at(table: pa.Table, columns: dict[str, str], default: Callable[[], datetime | None]) -> pa.Array:
    """The generation instant per row, from the file or else the job; UTC."""
    if "generated_at" in columns:
        values = _to_timestamps(table[columns["generated_at"]].combine_chunks())
        if not values.null_count:
            return values
    else:
        values = pa.nulls(len(table), MATCHES_SCHEMA.field("match_generated_at").type)
    fallback = default()
    if fallback is None:
        raise _ColumnsError(f"columns {table.column_names} (no match generation date, and none known for the job)")
    return pc.fill_null(values, pa.scalar(as_utc(fallback), values.type))


def _to_timestamps(array: pa.Array) -> pa.Array:
    """Timestamps, dates, epoch seconds (or milliseconds) or ISO 8601 strings -> UTC timestamps."""
    target = MATCHES_SCHEMA.field("match_generated_at").type
    if pa.types.is_timestamp(array.type) or pa.types.is_date(array.type):
        return array.cast(target)
    distinct = array.unique()
    try:
        parsed = [_parse_instant(value) for value in distinct.to_pylist()]
    except (TypeError, ValueError, OverflowError):
        raise _ColumnsError("a match generation date column that is neither a timestamp nor epoch seconds") from None
    return pa.array(parsed, target).take(pc.index_in(array, distinct))


def _parse_instant(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return as_utc(datetime.fromisoformat(value))
    seconds = value / 1000 if abs(value) > 1e11 else value
    return datetime.fromtimestamp(seconds, timezone.utc)


def stream_results(
    prefix: Location,
    job_id: str | None,
    default_generated_at: Callable[[], datetime | None] = lambda: None,
) -> MatchStream:
    """Normalized rows of every result file under ``prefix``; fails clearly if any file is not understood.

    ``default_generated_at`` is called (once) only if the files carry no generation date.
    """
    files = find_result_files(prefix)
    if not files:
        raise UnreadableResultsError(f"No result files under {prefix.uri}")
    fallback = _once(default_generated_at)
    batches = chain.from_iterable(_normalized(file, job_id, fallback, files) for file in files)
    read: list[pa.RecordBatch] = []
    generated_at = None
    for batch in batches:
        read.append(batch)
        if batch.num_rows:
            generated_at = batch.column("match_generated_at")[0].as_py()
            break
    else:
        generated_at = fallback()
    return MatchStream(
        generated_at=as_utc(generated_at) if generated_at else None,
        batches=chain(read, batches),
        source=SOURCE_S3_RESULTS,
        job_id=job_id,
    )


def _normalized(
    location: Location, job_id: str | None, fallback: Callable[[], datetime | None], all_files: list[Location]
) -> Iterator[pa.RecordBatch]:
    """One file's normalized batches; a file whose groups need counting is read whole first."""
    file, head = sniff(location)
    try:
        raw = read_raw(file, head)
        first = next(raw, None)
        if first is None:
            return
        columns = map_columns(first.column_names)
        if "profile_id" in columns and "match_group_size" not in columns:
            raw = iter([pa.concat_tables([first, *raw], promote_options="permissive")])
        else:
            raw = chain([first], raw)
        for table in raw:
            yield normalize_table(table, job_id, fallback)
    except _ColumnsError as exc:
        raise UnreadableResultsError(_explain(file, str(exc), all_files)) from None
    except (pa.ArrowException, ValueError, UnicodeDecodeError, EOFError, zlib.error, OSError) as exc:
        raise UnreadableResultsError(_explain(file, f"unparseable content ({type(exc).__name__})", all_files)) from None


def _explain(file: ResultFile, problem: str, all_files: list[Location]) -> str:
    found = ", ".join(location.uri for location in all_files)
    return (
        f"Cannot read identity-resolution results: {file.describe()} holds {problem}. "
        f"Files found: {found}. Supported: CSV/TSV, JSON Lines, JSON, Parquet (optionally gzipped) "
        f"with columns such as MatchId, ProfileId or ProfileIds, ConfidenceScore, MatchGenerationDate."
    )


def _once(function: Callable[[], datetime | None]) -> Callable[[], datetime | None]:
    cache: list[datetime | None] = []

    def call() -> datetime | None:
        if not cache:
            cache.append(function())
        return cache[0]

    return call


def exporting_location_uri(location: dict[str, Any] | str) -> str:
    """``s3://bucket/key`` from an ``ExportingLocation`` (or its ``S3Exporting`` part, or a URI)."""
    if isinstance(location, str):
        return location
    s3 = location.get("S3Exporting", location)
    if not s3.get("S3BucketName"):
        raise ValueError(f"Exporting location has no S3BucketName (keys found: {sorted(location)})")
    return f"s3://{s3['S3BucketName']}/{s3.get('S3KeyName', '').strip('/')}"
