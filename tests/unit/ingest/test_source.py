"""Resolving what a user names (file, list, glob, directory) into Parquet files, on the local filesystem."""

from __future__ import annotations

import re

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from airflow_provider_customerprofiles.ingest.source import (
    SourceError,
    SourceFile,
    iter_row_group_batches,
    resolve_sources,
)
from airflow_provider_customerprofiles.storage import MissingSettingsError, S3Settings, resolve
from tests.conftest import s3_client


@pytest.fixture
def tree(tmp_path):
    names = ("2024/a.parquet", "2024/b.parquet", "2025/c.parquet", "2025/d.parq", "2025/e.pq")
    for name in (*names, "2025/_SUCCESS", "2025/_temporary.parquet", "2025/.hidden.parquet", "2025/notes.txt"):
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
        str(tree / "2025/d.parq"),
        str(tree / "2025/e.pq"),
    ]


def test_glob(tree):
    assert uris(resolve_sources(str(tree / "*/[bc].parquet"))) == [
        str(tree / "2024/b.parquet"),
        str(tree / "2025/c.parquet"),
    ]


def test_list_keeps_order_and_loads_each_file_once(tree):
    files = resolve_sources([str(tree / "2025"), str(tree / "2024/a.parquet"), str(tree / "2025/c.parquet")])
    assert uris(files) == [str(tree / f"2025/{name}") for name in ("c.parquet", "d.parq", "e.pq")] + [
        str(tree / "2024/a.parquet")
    ]


def test_missing_path_is_named(tree):
    with pytest.raises(SourceError, match=r"nope\.parquet does not exist"):
        resolve_sources(str(tree / "nope.parquet"))


def test_empty_list():
    with pytest.raises(SourceError, match=r"^No source was given$"):
        resolve_sources([])


def test_s3_without_settings_is_refused():
    with pytest.raises(MissingSettingsError, match=r"^s3://bucket/key.parquet \(source\): on S3, but no S3"):
        resolve_sources("s3://bucket/key.parquet")


def test_a_directory_or_glob_without_parquet_files_is_named(tree):
    with pytest.raises(SourceError, match=r"2025/\*\.csv matches no Parquet file$"):
        resolve_sources(str(tree / "2025/*.csv"))
    (tree / "empty").mkdir()
    with pytest.raises(SourceError, match=r"empty matches no Parquet file$"):
        resolve_sources(str(tree / "empty"))


def test_s3_prefix_is_listed_with_the_given_settings(moto_s3_server, s3_bucket):
    client = s3_client(moto_s3_server)
    for key in ("in/a.parquet", "in/b.parquet", "in/_SUCCESS"):
        client.put_object(Bucket=s3_bucket, Key=key, Body=b"not read here")
    s3 = S3Settings("testing", "testing", region="us-east-1", endpoint_url=moto_s3_server)

    files = resolve_sources([f"s3://{s3_bucket}/in/"], s3)

    assert uris(files) == [f"s3://{s3_bucket}/in/a.parquet", f"s3://{s3_bucket}/in/b.parquet"]


def two_row_groups(path) -> SourceFile:
    pq.write_table(pa.table({"x": [1, 2, 3, 4, 5], "y": list("abcde")}), path, row_group_size=3)
    return SourceFile(resolve(str(path)))


def test_a_row_group_streams_in_batches_of_the_projected_columns(tmp_path):
    source = two_row_groups(tmp_path / "t.parquet")
    parquet = source.open()

    first = list(iter_row_group_batches(parquet, source.uri, 0, ["x"], batch_rows=2))
    second = list(iter_row_group_batches(parquet, source.uri, 1, None, batch_rows=2))

    assert [batch.to_pydict() for batch in first] == [{"x": [1, 2]}, {"x": [3]}]
    assert [batch.to_pydict() for batch in second] == [{"x": [4, 5], "y": ["d", "e"]}]


def test_a_file_that_is_not_parquet_is_named(tmp_path):
    path = tmp_path / "t.parquet"
    path.write_bytes(b"id,name\n1,Ann\n")
    source = SourceFile(resolve(str(path)))

    with pytest.raises(SourceError, match=rf"^{re.escape(str(path))} is not a readable Parquet file: ") as raised:
        source.open()
    assert raised.value.__cause__ is None


def test_an_unreadable_row_group_names_the_file_and_the_row_group(tmp_path):
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"x": list(range(1000))}), path, row_group_size=500, compression="snappy")
    source = SourceFile(resolve(str(path)))
    parquet = source.open()
    data = bytearray(path.read_bytes())
    second_group = parquet.metadata.row_group(1).column(0).data_page_offset
    data[second_group : second_group + 64] = b"\xff" * 64
    path.write_bytes(bytes(data))
    parquet = source.open()

    with pytest.raises(SourceError, match=rf"^{re.escape(str(path))}: row group 1 cannot be read: "):
        list(iter_row_group_batches(parquet, source.uri, 1, None, batch_rows=100))
    assert len(list(iter_row_group_batches(parquet, source.uri, 0, None, batch_rows=100))) == 5
