"""Credentials that change mid-run: the S3 client and pyarrow's filesystem keep working with the new ones.

The server checks signatures against the keys it issued, and the first key is deleted after
the switch, so a client or filesystem still holding it would be refused.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from airflow_provider_customerprofiles.storage import AccessDeniedError, S3Settings, resolve
from tests.integration.storage.conftest import RotatingSource


def _write_parquet(location, rows: list[int]) -> None:
    with location.filesystem.open_output_stream(location.path) as sink:
        pq.write_table(pa.table({"row": rows}), sink)


def _read_parquet(location) -> list[int]:
    with location.filesystem.open_input_file(location.path) as source:
        return pq.read_table(source).column("row").to_pylist()


def test_reads_and_writes_keep_working_after_the_credentials_rotate(authenticated_s3):
    source = RotatingSource(authenticated_s3.first)
    settings = S3Settings(region="us-east-1", endpoint_url=authenticated_s3.url, credentials=source.credentials())
    root = resolve("s3://rotation-test/run", settings)
    root.child("checkpoint.json").write_bytes(b"before")
    _write_parquet(root.child("before.parquet"), [1, 2])
    filesystem_before = root.filesystem

    source.current = authenticated_s3.second
    refreshes_before = source.refreshes
    authenticated_s3.revoke_first()

    root.child("checkpoint.json").write_bytes(b"after")
    assert root.child("checkpoint.json").read_bytes() == b"after"
    _write_parquet(root.child("after.parquet"), [3])
    assert _read_parquet(root.child("before.parquet")) == [1, 2]
    assert [f.name for f in root.list_files()] == ["after.parquet", "before.parquet", "checkpoint.json"]
    assert root.filesystem is not filesystem_before  # rebuilt once for the new keys, then reused
    assert root.filesystem is root.filesystem
    assert source.refreshes > refreshes_before


def test_frozen_credentials_are_refused_once_revoked(authenticated_s3):
    """The control: the same steps with settings that cannot refresh fail, naming the URI."""
    settings = S3Settings(
        authenticated_s3.first.access_key,
        authenticated_s3.first.secret_key,
        region="us-east-1",
        endpoint_url=authenticated_s3.url,
    )
    checkpoint = resolve("s3://rotation-test/run/checkpoint.json", settings, "checkpoint_uri")
    checkpoint.write_bytes(b"before")

    authenticated_s3.revoke_first()

    with pytest.raises(AccessDeniedError, match=r"^s3://rotation-test/run/checkpoint.json \(checkpoint_uri\): "):
        checkpoint.write_bytes(b"after")
    with pytest.raises(AccessDeniedError, match=r"^s3://rotation-test/run \(source\): cannot list"):
        resolve("s3://rotation-test/run", settings, "source").list_files()
