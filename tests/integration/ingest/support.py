"""The target every ingest test loads into, Parquet inputs, and ways to read back what the service stored."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

DOMAIN = "ingest-test"
OBJECT_TYPE = "Backfill"
ACCOUNTS = 20  # rows spread over this many profiles (the PROFILE key), to read them back


def create_target(client: Any, domain: str = DOMAIN, object_type: str = OBJECT_TYPE) -> None:
    """A domain and an object type whose UNIQUE key is ``rid`` and whose PROFILE key is ``acct``."""
    client.create_domain(DomainName=domain, DefaultExpirationDays=30)
    create_object_type(client, domain, object_type)


def create_object_type(client: Any, domain: str, object_type: str) -> None:
    """The ingest tests' object type (UNIQUE ``rid``, PROFILE ``acct``) in an existing domain."""
    client.put_profile_object_type(
        DomainName=domain,
        ObjectTypeName=object_type,
        Description="ingest tests",
        AllowProfileCreation=True,
        Fields={
            "rid": {"Source": "_source.rid", "Target": "_profile.Attributes.rid"},
            "acct": {"Source": "_source.acct", "Target": "_profile.AccountNumber"},
        },
        Keys={
            "backfill_rid": [{"StandardIdentifiers": ["UNIQUE"], "FieldNames": ["rid"]}],
            "_account": [{"StandardIdentifiers": ["PROFILE"], "FieldNames": ["acct"]}],
        },
    )


def create_events_type(client: Any, domain: str, object_type: str = "Events") -> None:
    """An object type with no UNIQUE key (only the PROFILE key ``acct``): every row is its own object."""
    client.put_profile_object_type(
        DomainName=domain,
        ObjectTypeName=object_type,
        Description="no unique key",
        AllowProfileCreation=True,
        Fields={"acct": {"Source": "_source.acct", "Target": "_profile.AccountNumber"}},
        Keys={"_account": [{"StandardIdentifiers": ["PROFILE"], "FieldNames": ["acct"]}]},
    )


def stored_objects(endpoint: Any, accounts: list[str], domain: str = DOMAIN) -> list[dict[str, Any]]:
    """
    Every object stored under the given account numbers, read through SearchProfiles + ListProfileObjects.

    Reading back verifies a load, it is not under test: injected faults are switched off first.
    """
    endpoint.server.knobs.fault_rate = 0.0
    match_everything_accepted(endpoint)
    client = endpoint.client()
    objects = []
    for account in accounts:
        profiles = client.search_profiles(DomainName=domain, KeyName="_account", Values=[account])["Items"]
        for profile in profiles:
            token = None
            while True:
                page = client.list_profile_objects(
                    DomainName=domain,
                    ObjectTypeName=OBJECT_TYPE,
                    ProfileId=profile["ProfileId"],
                    MaxResults=100,
                    **({"NextToken": token} if token else {}),
                )
                objects.extend(json.loads(item["Object"]) for item in page["Items"])
                token = page.get("NextToken")
                if not token:
                    break
    return objects


def match_everything_accepted(endpoint: Any) -> None:
    """Move the service's clock past its matching delay, so every object it accepted is matched and searchable."""
    endpoint.admin("POST", "clock", {"AdvanceSeconds": endpoint.server.state.config.matching_delay_seconds})


def by_rid(objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Index objects by unique key, failing if any key is stored twice."""
    index: dict[str, dict[str, Any]] = {}
    for obj in objects:
        assert obj["rid"] not in index, "an object is stored twice"
        index[obj["rid"]] = obj
    return index


def account_of(i: int) -> str:
    return f"acct-{i % ACCOUNTS:02d}"


def all_accounts() -> list[str]:
    return [account_of(i) for i in range(ACCOUNTS)]


def write_rows(path: Path, rows: int, start: int = 0, row_group_size: int | None = None, **extra: list) -> Path:
    """A Parquet file of ``rows`` rows: rid, acct, seq, plus ``extra`` columns."""
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.table(
        {
            "rid": [f"r{i:06d}" for i in range(start, start + rows)],
            "acct": [account_of(i) for i in range(start, start + rows)],
            "seq": list(range(start, start + rows)),
            **extra,
        }
    )
    pq.write_table(table, path, row_group_size=row_group_size)
    return path


def write_snapshot(
    path: Path,
    pairs: dict[str, int] | list[tuple[str, int]],
    text_type: pa.DataType | None = None,
    row_group_size: int | None = None,
) -> str:
    """One row per (rid, seq) pair, in the order given (a list of pairs may repeat a rid); rids look like r000042;
    ``text_type``: the Arrow type of the text columns (string by default)."""
    pairs = list(pairs.items()) if isinstance(pairs, dict) else pairs
    text_type = text_type or pa.string()
    table = pa.table(
        {
            "rid": pa.array([rid for rid, _ in pairs], text_type),
            "acct": pa.array([account_of(int(rid[1:])) for rid, _ in pairs], text_type),
            "seq": [seq for _, seq in pairs],
        }
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, row_group_size=row_group_size)
    return str(path)


def write_versions(path: Path, keys: int, versions: int) -> str:
    """``versions`` rows for each of ``keys`` rids, key after key in turn: the last row of each key is its newest."""
    rows = keys * versions
    table = pa.table(
        {
            "rid": [f"k{i % keys:03d}" for i in range(rows)],
            "acct": [account_of(i % keys) for i in range(rows)],
            "version": [i // keys for i in range(rows)],
        }
    )
    pq.write_table(table, path)
    return str(path)


def read_dead_letters(directory: Path) -> list[dict[str, Any]]:
    records = []
    for part in sorted(directory.rglob("part-*.jsonl")):
        records.extend(json.loads(line) for line in part.read_text().splitlines())
    return records


def put_requests(endpoint: Any, admitted_only: bool = False) -> int:
    """Put calls that reached the service; ``admitted_only`` leaves out those its quota throttled."""
    operations = endpoint.metrics()["operations"]
    counts = [operations.get(op, {}) for op in ("BatchPutProfileObject", "PutProfileObject")]
    return sum(c.get("requests", 0) - (c.get("throttled", 0) if admitted_only else 0) for c in counts)
