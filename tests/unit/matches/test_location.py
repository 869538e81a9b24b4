"""Dataset URIs: what users write -> the filesystem path and the URI assets and XCom carry."""

from __future__ import annotations

import pyarrow.fs as pafs
import pytest

from airflow_provider_customerprofiles.matches.location import canonical_uri, resolve
from airflow_provider_customerprofiles.matches.results_reader import exporting_location_uri
from airflow_provider_customerprofiles.s3 import S3Settings


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


@pytest.mark.parametrize("given", ["gs://bucket/x", "s3:///no-bucket"])
def test_unsupported_uris_are_refused(given):
    with pytest.raises(ValueError, match=r"Unsupported URI scheme|names no bucket"):
        canonical_uri(given)


def test_s3_settings_come_only_from_the_arguments():
    location = resolve(
        "s3://bucket/m", S3Settings("AKID", "SECRET", region="eu-west-1", endpoint_url="http://127.0.0.1:9000")
    )
    assert isinstance(location.filesystem, pafs.S3FileSystem)
    assert location.filesystem.region == "eu-west-1"
    assert location.path == "bucket/m" and location.child("x").uri == "s3://bucket/m/x"


@pytest.mark.parametrize(
    "location",
    [
        {"S3Exporting": {"S3BucketName": "b", "S3KeyName": "ir/job/"}},
        {"S3BucketName": "b", "S3KeyName": "/ir/job"},
        "s3://b/ir/job",
    ],
)
def test_exporting_location_uri(location):
    assert exporting_location_uri(location) == "s3://b/ir/job"


def test_an_exporting_location_without_bucket_is_refused():
    with pytest.raises(ValueError, match=r"no S3BucketName \(keys found: \['S3Exporting'\]\)"):
        exporting_location_uri({"S3Exporting": {}})
