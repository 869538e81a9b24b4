"""Dataset URIs: what users write -> the filesystem path and the URI assets and XCom carry."""

from __future__ import annotations

import pyarrow.fs as pafs
import pytest

from airflow_provider_customerprofiles.matches.location import resolve
from airflow_provider_customerprofiles.matches.results_reader import exporting_location_uri
from airflow_provider_customerprofiles.storage import S3Settings


def test_a_dataset_location_is_in_canonical_form(tmp_path):
    assert resolve(f"{tmp_path}/matches/").uri == f"file://{tmp_path}/matches"  # the cases: tests/unit/storage


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
