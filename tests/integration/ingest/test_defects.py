"""Regressions for the ingest defects of issue 9, against the local service over HTTP."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from airflow_provider_customerprofiles.ingest.loader import LoadOptions, load
from tests.integration.ingest.support import (
    DOMAIN,
    OBJECT_TYPE,
    account_of,
    all_accounts,
    by_rid,
    read_dead_letters,
    stored_objects,
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
