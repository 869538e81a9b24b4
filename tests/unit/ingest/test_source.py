"""Resolving what a user names (file, list, glob, directory) into Parquet files, on the local filesystem."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from airflow_provider_customerprofiles.ingest.source import SourceError, resolve_sources
from airflow_provider_customerprofiles.storage import MissingSettingsError


@pytest.fixture
def tree(tmp_path):
    for name in ("2024/a.parquet", "2024/b.parquet", "2025/c.parquet", "2025/_SUCCESS", "2025/.hidden.parquet"):
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.table({"x": [1]}), path)
    return tmp_path


def uris(files):
    return [f.uri for f in files]


def test_directory_lists_parquet_files_recursively_in_order(tree):
    assert uris(resolve_sources(str(tree))) == [
        str(tree / "2024/a.parquet"),
        str(tree / "2024/b.parquet"),
        str(tree / "2025/c.parquet"),
    ]


def test_glob(tree):
    assert uris(resolve_sources(str(tree / "*/[bc].parquet"))) == [
        str(tree / "2024/b.parquet"),
        str(tree / "2025/c.parquet"),
    ]


def test_list_keeps_order_and_loads_each_file_once(tree):
    files = resolve_sources([str(tree / "2025"), str(tree / "2024/a.parquet"), str(tree / "2025/c.parquet")])
    assert uris(files) == [str(tree / "2025/c.parquet"), str(tree / "2024/a.parquet")]


def test_missing_path_is_named(tree):
    with pytest.raises(SourceError, match=r"nope\.parquet does not exist"):
        resolve_sources(str(tree / "nope.parquet"))


def test_empty_list():
    with pytest.raises(SourceError, match="No source"):
        resolve_sources([])


def test_s3_without_settings_is_refused():
    with pytest.raises(MissingSettingsError, match=r"^s3://bucket/key.parquet \(source\): on S3, but no S3"):
        resolve_sources("s3://bucket/key.parquet")
