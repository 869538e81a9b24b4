"""The sync state's storage: its operations on a directory and on S3, and failures that name sync_state_uri."""

from __future__ import annotations

import os
import re

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from botocore.stub import Stubber

from airflow_provider_customerprofiles.ingest.sync import SyncState
from airflow_provider_customerprofiles.ingest.sync.store import StateStore
from airflow_provider_customerprofiles.storage import (
    MissingSettingsError,
    S3Settings,
    StorageError,
    UnsupportedLocationError,
)


def test_an_unsupported_scheme_is_refused_naming_the_argument(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UnsupportedLocationError, match=r"ftp://host/state \(sync_state_uri\)"):
        SyncState("ftp://host/state", "m" * 64).open()
    assert list(tmp_path.iterdir()) == []  # nothing written to a local directory named "ftp:"


def test_an_s3_state_without_settings_is_refused_naming_the_argument():
    with pytest.raises(MissingSettingsError, match=r"s3://bucket/state \(sync_state_uri\)"):
        SyncState("s3://bucket/state", "m" * 64)


# -- the store's operations, the same on a local directory and on S3 (moto's server over HTTP)


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path) -> StateStore:
    if request.param == "local":
        return StateStore(str(tmp_path / "state"), None)
    server = request.getfixturevalue("moto_s3_server")
    bucket = request.getfixturevalue("s3_bucket")
    return StateStore(f"s3://{bucket}/state", S3Settings("testing", "testing", endpoint_url=server))


def test_a_missing_object_reads_as_none_and_a_written_one_is_replaced_whole(store):
    assert store.read("manifest.json") is None
    store.write("manifest.json", b"first, longer")
    store.write("manifest.json", b"second")
    assert store.read("manifest.json") == b"second"
    assert store.uri_of("manifest.json") == store.uri + "/manifest.json"


def test_create_only_writes_once_and_the_first_writer_keeps_the_object(store):
    assert store.create("lease.json", b"first") is True
    assert store.create("lease.json", b"second") is False
    assert store.read("lease.json") == b"first"
    store.delete("lease.json")
    assert store.read("lease.json") is None
    assert store.create("lease.json", b"third") is True


def test_listings_are_sorted_names_of_files_or_directories_directly_below(store):
    table = pa.table({"h1": pa.array([1, 2], pa.uint64())})
    for name in ("pending/run-b/2.parquet", "pending/run-b/10.parquet", "pending/run-a/1.parquet"):
        store.write_table(name, table)
    store.write("pending/note", b"x")

    assert store.list_subdirs("pending") == ["run-a", "run-b"]
    assert store.list_dir("pending") == ["note"]
    assert store.list_dir("pending/run-b") == ["10.parquet", "2.parquet"]
    assert store.list_dir("nothing-here") == [] and store.list_subdirs("nothing-here") == []
    store.delete_dir("pending/run-b")
    assert store.list_subdirs("pending") == ["run-a"]


def test_tables_round_trip_compressed_and_a_missing_one_reads_as_none(store):
    table = pa.table({"h1": pa.array([3, 1], pa.uint64()), "fp": pa.array([7, 9], pa.uint64())})

    store.write_table("generations/gen-1/bucket-00000.parquet", table)

    assert store.read_table("generations/gen-1/bucket-00000.parquet").equals(table)
    assert store.read_table("generations/gen-1/bucket-00001.parquet") is None
    location = store.location_of("generations/gen-1/bucket-00000.parquet")
    with location.filesystem.open_input_file(location.path) as source:
        assert pq.ParquetFile(source).metadata.row_group(0).column(0).compression == "ZSTD"


def test_a_local_lease_is_readable_by_its_owner_only(tmp_path):
    store = StateStore(str(tmp_path / "state"), None)
    store.create("lease.json", b"{}")
    assert os.stat(tmp_path / "state" / "lease.json").st_mode & 0o777 == 0o600


def test_a_create_that_s3_refuses_for_another_reason_fails_naming_the_state(moto_s3_server):
    store = StateStore("s3://no-such-bucket/state", S3Settings("testing", "testing", endpoint_url=moto_s3_server))
    with pytest.raises(StorageError, match=r"s3://no-such-bucket/state/lease.json \(sync_state_uri\)"):
        store.create("lease.json", b"{}")


# -- S3's answers to a create-only PUT, and what each failure names


def offline_s3_store() -> tuple[S3Settings, StateStore]:
    """A store on an S3 endpoint nobody listens on: its client's answers come from a botocore Stubber."""
    settings = S3Settings("testing", "testing", endpoint_url="http://127.0.0.1:1")
    return settings, StateStore("s3://bucket/state", settings)


@pytest.mark.parametrize(
    ("code", "status"),
    [("PreconditionFailed", 412), ("412", 412), ("ConditionalRequestConflict", 409), ("409", 409)],
)
def test_an_s3_create_that_finds_the_object_there_or_racing_returns_false(code, status):
    settings, store = offline_s3_store()
    with Stubber(settings.client) as stub:
        stub.add_client_error("put_object", service_error_code=code, http_status_code=status)
        assert store.create("lease.json", b"{}") is False
        stub.assert_no_pending_responses()


def test_an_s3_create_sends_a_create_only_put_of_the_bytes():
    settings, store = offline_s3_store()
    with Stubber(settings.client) as stub:
        expected = {"Bucket": "bucket", "Key": "state/lease.json", "Body": b"{}", "IfNoneMatch": "*"}
        stub.add_response("put_object", {}, {**expected, **settings.put_arguments()})
        assert store.create("lease.json", b"{}") is True
        stub.assert_no_pending_responses()


def test_another_s3_refusal_is_raised_naming_the_state():
    settings, store = offline_s3_store()
    with Stubber(settings.client) as stub:
        stub.add_client_error("put_object", service_error_code="InternalError", http_status_code=500)
        with pytest.raises(
            StorageError, match=r"^s3://bucket/state/lease.json \(sync_state_uri\): cannot create: InternalError$"
        ):
            store.create("lease.json", b"{}")


def test_local_failures_name_the_operation_and_the_state(tmp_path):
    store = StateStore(str(tmp_path / "state"), None)
    store.write("taken", b"a file where a directory would be")
    where = re.escape(f"{store.uri}/taken") + r".* \(sync_state_uri\): cannot"
    with pytest.raises(StorageError, match=where + " create"):
        store.create("taken/lease.json", b"{}")
    with pytest.raises(StorageError, match=where + " list"):
        store.list_dir("taken")
    (tmp_path / "state" / "tables" / "t.parquet").mkdir(parents=True)
    with pytest.raises(StorageError, match=re.escape(f"{store.uri}/tables/t.parquet") + r".*: cannot write"):
        store.write_table("tables/t.parquet", pa.table({"h1": pa.array([1], pa.uint64())}))


def test_a_local_create_makes_the_missing_directories(tmp_path):
    store = StateStore(str(tmp_path / "state"), None)
    assert store.create("a/b/lease.json", b"x") is True
    assert store.create("a/c.json", b"y") is True
    assert (store.read("a/b/lease.json"), store.read("a/c.json")) == (b"x", b"y")
