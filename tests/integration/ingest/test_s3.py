"""``s3://`` sources, dead letters and checkpoints, through moto's S3 server over HTTP."""

from __future__ import annotations

import io
import json
import math

import pyarrow.parquet as pq

from airflow_provider_customerprofiles.ingest.loader import LoadOptions, load
from airflow_provider_customerprofiles.storage import S3Settings
from tests.conftest import s3_client
from tests.integration.ingest.support import DOMAIN, OBJECT_TYPE, all_accounts, by_rid, stored_objects, write_rows


def test_s3_prefix_source_and_encrypted_dead_letters(emulator, moto_s3_server, s3_bucket, tmp_path):
    endpoint, client = emulator()
    s3 = s3_client(moto_s3_server)
    for name, start in (("a.parquet", 0), ("b.parquet", 30)):
        local = write_rows(tmp_path / name, 30, start=start, score=[math.nan if i == 4 else 1.0 for i in range(30)])
        s3.upload_file(str(local), s3_bucket, f"input/{name}")
    s3.put_object(Bucket=s3_bucket, Key="input/_SUCCESS", Body=b"")
    settings = S3Settings("testing", "testing", region="us-east-1", endpoint_url=moto_s3_server)

    result = load(
        client,
        f"s3://{s3_bucket}/input/",
        LoadOptions(
            DOMAIN,
            OBJECT_TYPE,
            dead_letter_uri=f"s3://{s3_bucket}/dead/",
            dead_letter_format="parquet",
            checkpoint_uri=f"s3://{s3_bucket}/checkpoints/run.json",
            max_failed_ratio=0.1,
        ),
        s3=settings,
    )

    assert (result.files, result.rows_read, result.objects_written, result.dead_lettered) == (2, 60, 58, 2)
    assert len(by_rid(stored_objects(endpoint, all_accounts()))) == 58
    parts = s3.list_objects_v2(Bucket=s3_bucket, Prefix="dead/")["Contents"]
    rows = []
    for part in parts:
        assert s3.head_object(Bucket=s3_bucket, Key=part["Key"])["ServerSideEncryption"] == "AES256"
        body = s3.get_object(Bucket=s3_bucket, Key=part["Key"])["Body"].read()
        rows.extend(pq.read_table(io.BytesIO(body)).to_pylist())
    assert sorted((r["source_file"], r["row_index"]) for r in rows) == [
        (f"s3://{s3_bucket}/input/a.parquet", 4),
        (f"s3://{s3_bucket}/input/b.parquet", 4),
    ]
    checkpoint = json.loads(s3.get_object(Bucket=s3_bucket, Key="checkpoints/run.json")["Body"].read())
    assert checkpoint["totals"] == {"accepted": 58, "rejected": 2}


def test_s3_glob_source(emulator, moto_s3_server, s3_bucket, tmp_path):
    _, client = emulator()
    s3 = s3_client(moto_s3_server)
    s3.upload_file(str(write_rows(tmp_path / "x.parquet", 5)), s3_bucket, "in/2024/x.parquet")
    s3.upload_file(str(write_rows(tmp_path / "y.parquet", 7, start=5)), s3_bucket, "in/2025/y.parquet")
    settings = S3Settings("testing", "testing", region="us-east-1", endpoint_url=moto_s3_server)

    result = load(
        client,
        f"s3://{s3_bucket}/in/2025/*.parquet",
        LoadOptions(DOMAIN, OBJECT_TYPE, dead_letter_uri=str(tmp_path / "dead")),
        s3=settings,
    )

    assert (result.files, result.objects_written) == (1, 7)
