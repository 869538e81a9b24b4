"""Local locations: URIs as users write them, atomic whole-object writes, listing, and errors that name the URI."""

from __future__ import annotations

import os

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq
import pytest

from airflow_provider_customerprofiles.storage import (
    LocationNotFoundError,
    MissingSettingsError,
    S3Settings,
    StorageError,
    UnsupportedLocationError,
    canonical_uri,
    resolve,
)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("s3://bucket/prefix/matches/", "s3://bucket/prefix/matches"),
        ("s3a://bucket/x", "s3://bucket/x"),
        ("s3://bucket", "s3://bucket"),
        ("/data/matches/", "file:///data/matches"),
        ("file:///data/matches", "file:///data/matches"),
    ],
)
def test_canonical_uri(given, expected):
    assert canonical_uri(given) == expected


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("gs://bucket/x", r"^gs://bucket/x \(destination\): unsupported URI scheme"),
        ("s3:///no-bucket", r"^s3:///no-bucket \(destination\): an S3 URI that names no bucket"),
    ],
)
def test_unsupported_uris_are_refused_naming_the_argument(given, message):
    with pytest.raises(UnsupportedLocationError, match=message):
        canonical_uri(given, "destination")
    with pytest.raises(UnsupportedLocationError, match=message):
        resolve(given, argument="destination")


def test_a_location_keeps_the_style_the_user_wrote(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert resolve("out/dead").uri == f"{tmp_path}/out/dead"
    assert resolve(f"file://{tmp_path}/out").child("a", "/b/").uri == f"file://{tmp_path}/out/a/b"
    assert resolve(f"file://{tmp_path}/out").child("x").path == f"{tmp_path}/out/x"


def test_s3_locations_are_built_from_the_settings_only():
    settings = S3Settings("AKID", "SECRET", region="eu-west-1", endpoint_url="http://127.0.0.1:9000")
    location = resolve("s3a://bucket/m/", settings)

    assert (location.uri, location.path, location.child("x").uri) == ("s3://bucket/m", "bucket/m", "s3://bucket/m/x")
    assert isinstance(location.filesystem, pafs.S3FileSystem)
    assert location.filesystem.region == "eu-west-1"


@pytest.mark.parametrize("settings", [None, S3Settings(region="eu-west-1")])
def test_an_s3_location_without_credentials_names_the_uri_and_argument(settings):
    expected = r"^s3://bucket/in/ \(source\): on S3, but no S3 credentials were given"
    with pytest.raises(MissingSettingsError, match=expected):
        resolve("s3://bucket/in/", settings, "source")


def test_whole_objects_round_trip_and_replace_atomically(tmp_path):
    target = resolve(str(tmp_path / "deep" / "dir" / "cp.json"))
    target.write_bytes(b"first")
    target.write_bytes(b"second")

    assert target.read_bytes() == b"second"
    assert os.listdir(tmp_path / "deep" / "dir") == ["cp.json"]  # no temporary file left behind
    target.delete()
    target.delete()  # already gone: nothing happens
    assert not target.exists()


def test_reading_a_missing_file_names_the_uri_and_argument(tmp_path):
    missing = resolve(str(tmp_path / "nope.json"), argument="checkpoint_uri")
    with pytest.raises(LocationNotFoundError) as error:
        missing.read_bytes()
    assert str(error.value) == f"{tmp_path}/nope.json (checkpoint_uri): cannot read: not found"
    assert isinstance(error.value, StorageError)


def test_a_file_in_the_way_is_a_storage_error_naming_the_uri(tmp_path):
    (tmp_path / "taken").write_bytes(b"")
    with pytest.raises(StorageError, match=rf"^{tmp_path}/taken/dead \(dead_letter_uri\): cannot write: "):
        resolve(str(tmp_path / "taken" / "dead"), argument="dead_letter_uri").check_writable()


def test_check_writable_leaves_nothing_behind(tmp_path):
    resolve(str(tmp_path / "dead")).check_writable()
    assert list((tmp_path / "dead").iterdir()) == []


def test_list_and_glob_return_files_below_in_order(tmp_path):
    for name in ("2024/b.parquet", "2024/a.parquet", "2025/c.parquet", "2025/_SUCCESS"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"")
    root = resolve(f"file://{tmp_path}")

    assert [f.uri for f in root.list_files()] == [
        f"file://{tmp_path}/{name}" for name in ("2024/a.parquet", "2024/b.parquet", "2025/_SUCCESS", "2025/c.parquet")
    ]
    pattern = root.child("*/[ac].parquet")
    assert pattern.is_pattern and not root.is_pattern
    assert [f.name for f in pattern.glob()] == ["a.parquet", "c.parquet"]
    assert resolve(str(tmp_path / "missing")).list_files() == []


def test_pyarrow_streams_through_the_filesystem_and_path(tmp_path):
    directory = resolve(str(tmp_path / "ds"))
    directory.make_dir()
    file = directory.child("part.parquet")
    with file.filesystem.open_output_stream(file.path) as sink:
        pq.write_table(pa.table({"x": [1, 2, 3]}), sink)

    with file.filesystem.open_input_file(file.path) as source:
        assert pq.read_table(source).column("x").to_pylist() == [1, 2, 3]
    assert file.is_file() and not directory.is_file()
    directory.delete_dir()
    assert not directory.exists()
