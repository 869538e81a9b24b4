"""Regressions for the ingest defects of issue 9, against the local service over HTTP."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from airflow_provider_customerprofiles.ingest.loader import LoadOptions, load
from airflow_provider_customerprofiles.storage import MissingSettingsError
from airflow_provider_customerprofiles.transfers.parquet_to_customer_profiles import (
    ParquetToCustomerProfilesOperator,
)
from tests.integration.ingest.support import (
    DOMAIN,
    OBJECT_TYPE,
    account_of,
    all_accounts,
    by_rid,
    create_target,
    match_everything_accepted,
    put_requests,
    read_dead_letters,
    stored_objects,
    write_rows,
)

EMAIL_TYPE = "ByEmail"


def options(tmp_path: Path, object_type: str = OBJECT_TYPE, **overrides: Any) -> LoadOptions:
    settings = {
        "dead_letter_uri": str(tmp_path / "dead"),
        "checkpoint_uri": str(tmp_path / "checkpoint.json"),
        "commit_interval": 0.2,
        "batch_rows": 100,
        "max_failed_ratio": 1.0,
        **overrides,
    }
    return LoadOptions(DOMAIN, object_type, **settings)


def create_email_type(client: Any) -> None:
    """An object type whose UNIQUE key is an EMAIL_ADDRESS field (the service lower-cases its values)."""
    client.put_profile_object_type(
        DomainName=DOMAIN,
        ObjectTypeName=EMAIL_TYPE,
        Description="unique by email",
        AllowProfileCreation=True,
        Fields={
            "email": {"Source": "_source.email", "Target": "_profile.Attributes.email", "ContentType": "EMAIL_ADDRESS"},
            "acct": {"Source": "_source.acct", "Target": "_profile.AccountNumber"},
        },
        Keys={
            "by_email": [{"StandardIdentifiers": ["UNIQUE"], "FieldNames": ["email"]}],
            "_account": [{"StandardIdentifiers": ["PROFILE"], "FieldNames": ["acct"]}],
        },
    )


def stored_of_type(endpoint: Any, object_type: str) -> list[dict[str, Any]]:
    match_everything_accepted(endpoint)
    client = endpoint.client()
    objects = []
    for account in all_accounts():
        for profile in client.search_profiles(DomainName=DOMAIN, KeyName="_account", Values=[account])["Items"]:
            page = client.list_profile_objects(
                DomainName=DOMAIN, ObjectTypeName=object_type, ProfileId=profile["ProfileId"], MaxResults=100
            )
            assert "NextToken" not in page
            objects.extend(json.loads(item["Object"]) for item in page["Items"])
    return objects


def test_last_row_wins_for_keys_the_service_trims(emulator, tmp_path):
    endpoint, client = emulator()
    keys = 200
    rids = [rid for i in range(keys) for rid in (f"K-{i}", f"K-{i} ")]
    source = tmp_path / "trimmed.parquet"
    pq.write_table(
        pa.table({"rid": rids, "acct": [account_of(i // 2) for i in range(2 * keys)], "seq": list(range(2 * keys))}),
        source,
    )

    result = load(client, str(source), options(tmp_path))

    assert result.rows_read == result.objects_written == 2 * keys
    stored = {obj["rid"].strip(): obj["seq"] for obj in stored_objects(endpoint, all_accounts())}
    assert stored == {f"K-{i}": 2 * i + 1 for i in range(keys)}


def test_last_row_wins_for_email_keys_the_service_lower_cases(emulator, tmp_path):
    endpoint, client = emulator()
    create_email_type(endpoint.client())
    keys = 200
    emails = [email for i in range(keys) for email in (f"A{i}@x.com", f"a{i}@x.com")]
    source = tmp_path / "emails.parquet"
    pq.write_table(
        pa.table(
            {"email": emails, "acct": [account_of(i // 2) for i in range(2 * keys)], "seq": list(range(2 * keys))}
        ),
        source,
    )

    result = load(client, str(source), options(tmp_path, EMAIL_TYPE))

    assert result.rows_read == result.objects_written == 2 * keys
    stored = {obj["email"].lower(): obj["seq"] for obj in stored_of_type(endpoint, EMAIL_TYPE)}
    assert stored == {f"a{i}@x.com": 2 * i + 1 for i in range(keys)}


def test_invalid_utf8_is_dead_lettered_naming_the_column_and_the_load_goes_on(emulator, tmp_path):
    endpoint, client = emulator()
    rows, bad_row = 3000, 2000
    names = [b"secret\xff" if i == bad_row else f"name {i}".encode() for i in range(rows)]
    source = tmp_path / "not-utf8.parquet"
    pq.write_table(
        pa.table(
            {
                "rid": [f"r{i:06d}" for i in range(rows)],
                "acct": [account_of(i) for i in range(rows)],
                "name": pa.array(names, pa.binary()).view(pa.string()),
            }
        ),
        source,
        row_group_size=1000,
    )

    result = load(client, str(source), options(tmp_path, batch_rows=500))

    assert (result.rows_read, result.objects_written, result.dead_lettered) == (rows, rows - 1, 1)
    [dead] = read_dead_letters(tmp_path / "dead")
    assert (dead["source_file"], dead["row_index"], dead["error_code"]) == (str(source), bad_row, "REJECTED")
    assert dead["error_message"] == "text that is not valid UTF-8 in column(s) 'name'"
    assert "secret" not in json.dumps(dead)
    stored = by_rid(stored_objects(endpoint, all_accounts()))
    assert set(stored) == {f"r{i:06d}" for i in range(rows)} - {f"r{bad_row:06d}"}
    checkpoint = json.loads((tmp_path / "checkpoint.json").read_text())
    assert checkpoint["files"][str(source)]["done"] == [[0, rows]]


def test_s3_source_without_credentials_names_the_uri_through_the_operator(
    customer_profiles_emulator_factory, monkeypatch, tmp_path
):
    endpoint = customer_profiles_emulator_factory(conn_id="cp_no_s3_credentials")
    create_target(endpoint.client())
    monkeypatch.setenv(
        "AIRFLOW_CONN_CP_NO_CREDENTIALS",
        json.dumps({"conn_type": "aws", "extra": {"region_name": "us-east-1", "endpoint_url": endpoint.url}}),
    )
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    operator = ParquetToCustomerProfilesOperator(
        task_id="load",
        source="s3://bucket/in/",
        domain_name=DOMAIN,
        object_type_name=OBJECT_TYPE,
        dead_letter_uri=str(tmp_path / "dead"),
        checkpoint_uri=str(tmp_path / "checkpoints"),
        aws_conn_id="cp_no_credentials",
    )
    context = {"ti": SimpleNamespace(dag_id="d", task_id="load", map_index=-1), "run_id": "manual"}

    with pytest.raises(MissingSettingsError, match=r"^s3://bucket/in/ \(source\): on S3, but no S3 credentials"):
        operator.execute(context)

    assert put_requests(endpoint) == 0


def test_a_unique_key_of_only_whitespace_is_dead_lettered(emulator, tmp_path):
    endpoint, client = emulator()
    source = write_rows(tmp_path / "rows.parquet", 10)
    table = pq.read_table(source)
    rids = [" \t " if i == 3 else rid for i, rid in enumerate(table["rid"].to_pylist())]
    pq.write_table(table.set_column(0, "rid", pa.array(rids)), source)

    result = load(client, str(source), options(tmp_path))

    assert (result.rows_read, result.objects_written, result.dead_lettered) == (10, 9, 1)
    [dead] = read_dead_letters(tmp_path / "dead")
    assert (dead["row_index"], dead["error_code"]) == (3, "REJECTED")
    assert dead["error_message"] == "unique key field 'rid' holds only whitespace"
    assert len(by_rid(stored_objects(endpoint, all_accounts()))) == 9


def runs_of_keys(path: Path, keys: int, run: int, bad_rows: frozenset[int] = frozenset()) -> Path:
    """``keys`` unique keys, each on ``run`` adjacent rows; ``bad_rows`` get an account number the service refuses."""
    rows = keys * run
    pq.write_table(
        pa.table(
            {
                "rid": [f"k{i // run:04d}" for i in range(rows)],
                "acct": ["x" * 300 if i in bad_rows else account_of(i // run) for i in range(rows)],
                "seq": list(range(rows)),
            }
        ),
        path,
    )
    return path


def test_runs_of_one_key_fill_whole_batches_and_the_last_row_wins(emulator, tmp_path):
    endpoint, client = emulator()
    keys, run = 100, 5
    source = runs_of_keys(tmp_path / "runs.parquet", keys, run)

    result = load(client, str(source), options(tmp_path))

    assert result.rows_read == result.objects_written == keys * run
    # Each row is sent, in calls of ten where the keys allow: before, every repeat forced out a call.
    assert result.requests <= 2 * keys * run // 10
    stored = {rid: obj["seq"] for rid, obj in by_rid(stored_objects(endpoint, all_accounts())).items()}
    assert stored == {f"k{k:04d}": k * run + run - 1 for k in range(keys)}


def test_in_a_run_the_last_accepted_row_wins_and_only_the_refused_row_is_dead_lettered(emulator, tmp_path):
    endpoint, client = emulator(fault_rate=0.2)
    keys, run, refused = 40, 5, 7  # the last row of key 7's run is refused by the service
    last = refused * run + run - 1
    source = runs_of_keys(tmp_path / "runs.parquet", keys, run, bad_rows=frozenset({last}))

    result = load(client, str(source), options(tmp_path))

    assert (result.rows_read, result.objects_written, result.dead_lettered) == (keys * run, keys * run - 1, 1)
    [dead] = read_dead_letters(tmp_path / "dead")
    assert (dead["row_index"], dead["error_code"]) == (last, "400")
    stored = {rid: obj["seq"] for rid, obj in by_rid(stored_objects(endpoint, all_accounts())).items()}
    assert stored == {f"k{k:04d}": k * run + run - 1 - (k == refused) for k in range(keys)}
