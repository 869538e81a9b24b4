"""``s3://`` locations through moto's S3 server over HTTP: encryption, listing, streaming, errors."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from airflow_provider_customerprofiles.storage import LocationNotFoundError, S3Settings, StorageError, resolve
from tests.conftest import s3_client


@pytest.fixture
def settings(moto_s3_server) -> S3Settings:
    return S3Settings("testing", "testing", region="us-east-1", endpoint_url=moto_s3_server)


def test_whole_objects_are_written_with_aes256_by_default(settings, moto_s3_server, s3_bucket):
    target = resolve(f"s3://{s3_bucket}/dead/part-0.jsonl", settings)
    target.write_bytes(b'{"row": 1}\n')

    head = s3_client(moto_s3_server).head_object(Bucket=s3_bucket, Key="dead/part-0.jsonl")
    assert head["ServerSideEncryption"] == "AES256"
    assert target.read_bytes() == b'{"row": 1}\n' and target.exists() and target.is_file()
    target.delete()
    assert not target.exists()


def test_kms_encryption_with_a_key_id(moto_s3_server, s3_bucket):
    kms = S3Settings(
        "testing", "testing", endpoint_url=moto_s3_server, encryption="aws:kms", kms_key_id="alias/customer-data"
    )
    resolve(f"s3://{s3_bucket}/audit.jsonl", kms).write_bytes(b"{}\n")

    head = s3_client(moto_s3_server).head_object(Bucket=s3_bucket, Key="audit.jsonl")
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["SSEKMSKeyId"].endswith("alias/customer-data")


def test_list_glob_and_streaming(settings, s3_bucket):
    root = resolve(f"s3a://{s3_bucket}/in/", settings)
    for name in ("2024/a.parquet", "2025/b.parquet", "2025/c.csv"):
        file = root.child(name)
        with file.filesystem.open_output_stream(file.path) as sink:
            pq.write_table(pa.table({"name": [name]}), sink)

    assert [f.uri for f in root.list_files()] == [
        f"s3://{s3_bucket}/in/{name}" for name in ("2024/a.parquet", "2025/b.parquet", "2025/c.csv")
    ]
    matched = root.child("*/*.parquet").glob()
    assert [f.name for f in matched] == ["a.parquet", "b.parquet"]
    with matched[1].filesystem.open_input_file(matched[1].path) as source:
        assert pq.read_table(source).column("name").to_pylist() == ["2025/b.parquet"]
    root.delete_dir()
    assert root.list_files() == []


def test_check_writable_leaves_nothing_behind(settings, moto_s3_server, s3_bucket):
    resolve(f"s3://{s3_bucket}/checkpoints", settings).check_writable()
    assert s3_client(moto_s3_server).list_objects_v2(Bucket=s3_bucket).get("KeyCount") == 0


def test_a_missing_object_names_the_uri_and_argument(settings, s3_bucket):
    with pytest.raises(LocationNotFoundError) as error:
        resolve(f"s3://{s3_bucket}/cp.json", settings, "checkpoint_uri").read_bytes()
    assert str(error.value) == f"s3://{s3_bucket}/cp.json (checkpoint_uri): cannot read: NoSuchKey"


def test_a_missing_bucket_fails_check_writable_naming_the_directory(settings):
    location = resolve("s3://no-such-bucket-here/dead", settings, "dead_letter_uri")
    with pytest.raises(LocationNotFoundError, match=r"^s3://no-such-bucket-here/dead \(dead_letter_uri\): "):
        location.check_writable()


def test_a_refused_write_names_the_uri_but_not_the_body(settings, s3_bucket):
    body = b'{"email": "customer@example.com"}'
    with pytest.raises(LocationNotFoundError) as missing_bucket:
        resolve("s3://no-such-bucket-here/part.jsonl", settings).write_bytes(body)
    with pytest.raises(StorageError) as bucket_root:
        resolve(f"s3://{s3_bucket}", settings, "audit_uri").write_bytes(body)

    assert str(missing_bucket.value) == "s3://no-such-bucket-here/part.jsonl: cannot write: NoSuchBucket"
    assert str(bucket_root.value) == f"s3://{s3_bucket} (audit_uri): cannot write: names a bucket, not an object"
    assert "customer@example.com" not in str(missing_bucket.value) + str(bucket_root.value)
