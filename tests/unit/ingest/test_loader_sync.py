"""Changed-only loads (``sync_state_uri``): each run sends exactly the new and changed rows (issue 13)."""

from __future__ import annotations

import logging
import math
import re
import uuid
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from botocore.exceptions import EndpointConnectionError

from airflow_provider_customerprofiles.ingest.loader import LoadOptions, LoadResult, PreflightError, load
from airflow_provider_customerprofiles.ingest.sync import LeaseHeldError, SyncState
from airflow_provider_customerprofiles.storage import S3Settings
from tests.conftest import s3_client
from tests.integration.ingest.support import (
    account_of,
    create_events_type,
    create_object_type,
    create_target,
    write_snapshot,
)
from tests.unit.ingest.test_loader_resume import crash_on

ROWS = 40
TEXT = pa.string()


def base() -> dict[str, int]:
    return {f"r{i:06d}": 0 for i in range(ROWS)}


def sync_run(target, tmp_path: Path, run: str, pairs, text_type=TEXT, **extra) -> tuple[LoadResult, int]:
    """Load one snapshot as run ``run``; returns its result and the objects it sent."""
    before = target.client.objects
    source = write_snapshot(tmp_path / f"{run}.parquet", pairs, text_type)
    options = target.options(
        tmp_path,
        dead_letter_uri=str(tmp_path / "dead" / run),
        checkpoint_uri=str(tmp_path / "checkpoints" / f"{run}.json"),
        sync_state_uri=str(tmp_path / "state"),
        **extra,
    )
    result = load(target.client, source, options)
    assert result.rows_read == result.objects_written + result.dead_lettered + result.rows_unchanged
    return result, target.client.objects - before


def seqs(target) -> dict[str, int]:
    return {rid: obj["seq"] for rid, obj in target.stored().items()}


def test_each_run_sends_exactly_the_changed_and_added_rows(target, tmp_path):
    first, sent = sync_run(target, tmp_path, "night-1", base())
    assert (sent, first.objects_written, first.rows_unchanged, first.sync_state_uri) == (
        ROWS,
        ROWS,
        0,
        str(tmp_path / "state"),
    )

    changed = {**base(), "r000003": 1, "r000017": 1, "r000018": 1, "r000039": 1}
    changed |= {f"r{i:06d}": 2 for i in range(ROWS, ROWS + 3)}
    second, sent = sync_run(target, tmp_path, "night-2", changed)
    assert (sent, second.objects_written, second.rows_unchanged) == (7, 7, ROWS - 4)

    third, sent = sync_run(target, tmp_path, "night-3", changed)
    assert (sent, third.rows_unchanged, third.rows_read) == (0, ROWS + 3, ROWS + 3)
    assert seqs(target) == changed


def test_unchanged_rows_are_told_apart_in_each_file_of_the_input(target, tmp_path):
    options = {"sync_state_uri": str(tmp_path / "state")}
    first = write_snapshot(tmp_path / "in" / "a.parquet", {f"r{i:06d}": 0 for i in range(20)})
    write_snapshot(tmp_path / "in" / "b.parquet", {f"r{i:06d}": 0 for i in range(20, 30)})
    load(target.client, str(tmp_path / "in"), target.options(tmp_path, checkpoint_uri=None, **options))

    write_snapshot(Path(first), {**{f"r{i:06d}": 0 for i in range(20)}, "r000002": 5})
    write_snapshot(tmp_path / "in" / "b.parquet", {**{f"r{i:06d}": 0 for i in range(20, 30)}, "r000021": 5})
    before = target.client.objects
    result = load(target.client, str(tmp_path / "in"), target.options(tmp_path, checkpoint_uri=None, **options))

    assert (target.client.objects - before, result.rows_unchanged) == (2, 28)
    assert (seqs(target)["r000002"], seqs(target)["r000021"]) == (5, 5)


def test_changed_rows_are_picked_out_of_batches_with_string_view_columns(target, tmp_path):
    # Arrow cannot take rows of a string_view column (Parquet keeps the type): the loader slices instead.
    sync_run(target, tmp_path, "night-1", base(), text_type=pa.string_view())
    changed = {**base(), "r000001": 1, "r000002": 1, "r000004": 1, "r000006": 1, "r000033": 1}
    second, sent = sync_run(target, tmp_path, "night-2", changed, text_type=pa.string_view())
    assert (sent, second.rows_unchanged) == (5, ROWS - 5)  # rows 10-29: two batches with nothing to send
    assert seqs(target) == changed


def test_rows_not_accepted_are_sent_again_next_run(target, tmp_path):
    source = write_snapshot(tmp_path / "in.parquet", base())
    table = pq.read_table(source).append_column("score", pa.array([math.nan if i == 30 else 1.0 for i in range(ROWS)]))
    pq.write_table(table, source)
    options = target.options(tmp_path, sync_state_uri=str(tmp_path / "state"), checkpoint_uri=None, max_attempts=1)

    def unreachable(objects: list[str]) -> None:
        if any('"r000003"' in obj for obj in objects):
            raise EndpointConnectionError(endpoint_url="http://unreachable")

    target.client.before_put = unreachable
    first = load(target.client, source, options)
    refused = first.dead_lettered - 1  # the rows of the failed call; row 30 is refused before sending
    assert refused >= 1
    target.client.before_put = lambda objects: None

    second = load(target.client, source, options)
    assert (second.objects_written, second.dead_lettered, second.rows_unchanged) == (refused, 1, ROWS - 1 - refused)
    third = load(target.client, source, options)
    assert (third.objects_written, third.dead_lettered, third.rows_unchanged) == (0, 1, ROWS - 1)
    assert len(target.stored()) == ROWS - 1


def test_the_last_row_of_a_repeated_key_wins_and_stays_unsent(target, tmp_path):
    rows = [*base().items(), ("r000007", 5), ("r000003", 6)]
    _, sent = sync_run(target, tmp_path, "night-1", rows)
    assert sent == ROWS + 2
    assert (seqs(target)["r000007"], seqs(target)["r000003"]) == (5, 6)
    result, sent = sync_run(target, tmp_path, "night-2", rows)
    assert (sent, result.rows_unchanged) == (0, ROWS + 2)
    # The earlier row of a repeated key changes: the key's rows are sent again, in order; the last still wins.
    rows[7] = ("r000007", 9)
    _, sent = sync_run(target, tmp_path, "night-3", rows)
    assert sent == 2
    assert seqs(target)["r000007"] == 5


def test_a_mapping_change_sends_every_row(target, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="airflow_provider_customerprofiles.ingest.sync.state")
    changed_mapping = "was kept under another column mapping"
    sync_run(target, tmp_path, "night-1", base())
    columns = {"rid": "rid", "acct": "acct"}  # seq no longer sent
    result, sent = sync_run(target, tmp_path, "night-2", base(), columns=columns)
    assert (sent, result.rows_unchanged) == (ROWS, 0)
    assert changed_mapping in caplog.text
    caplog.clear()
    _, sent = sync_run(target, tmp_path, "night-3", base(), columns=columns)
    assert sent == 0
    # The same mapping in another order: the objects' field order changes, so each is sent, but the state stays.
    _, sent = sync_run(target, tmp_path, "night-4", base(), columns={"acct": "acct", "rid": "rid"})
    assert sent == ROWS
    assert changed_mapping not in caplog.text
    _, sent = sync_run(target, tmp_path, "night-5", base(), columns={"acct": "acct", "rid": "rid"}, keep_nulls=True)
    assert sent == ROWS
    assert changed_mapping in caplog.text


def test_a_run_on_a_state_in_use_is_refused_before_it_sends(target, tmp_path):
    holder = SyncState(str(tmp_path / "state"), "x" * 64).open()
    try:
        with pytest.raises(LeaseHeldError, match="in use by another run"):
            sync_run(target, tmp_path, "night-1", base())
    finally:
        holder.close()
    assert target.client.objects == 0


def test_a_run_that_dies_releases_the_state_and_its_retry_completes_it(target, tmp_path):
    source = write_snapshot(tmp_path / "night-1.parquet", base(), row_group_size=20)
    options = target.options(
        tmp_path, max_workers=1, sync_state_uri=str(tmp_path / "state"), checkpoint_uri=str(tmp_path / "cp.json")
    )
    target.client.before_put = crash_on(25)
    with pytest.raises(RuntimeError, match="the task died"):
        load(target.client, source, options)
    sent_before = target.client.objects

    target.client.before_put = lambda objects: None
    retry = load(target.client, source, options)  # the lease was released, and the state is found as left

    assert (retry.rows_skipped, retry.rows_read, retry.objects_written) == (20, 20, 20)
    assert target.client.objects - sent_before == 20
    assert seqs(target) == base()
    _, sent = sync_run(target, tmp_path, "night-2", base())
    assert sent == 0
    assert not any((tmp_path / "state" / "pending").iterdir())


def test_a_state_needs_a_unique_key(target, tmp_path):
    create_events_type(target.client, target.domain)
    source = write_snapshot(tmp_path / "events.parquet", base())
    options = target.options(tmp_path, sync_state_uri=str(tmp_path / "state"))
    options.object_type_name = "Events"

    with pytest.raises(PreflightError) as refused:
        load(target.client, source, options)

    assert str(refused.value) == (
        "Object type Events has no UNIQUE key: a sync state compares rows by their unique key, "
        "so sync_state_uri needs one"
    )
    assert not (tmp_path / "state").exists()
    assert target.client.objects == 0


def test_source_outputs_and_state_on_s3(target, moto_s3_server, s3_bucket, tmp_path):
    settings = S3Settings("testing", "testing", region="us-east-1", endpoint_url=moto_s3_server)
    s3 = s3_client(moto_s3_server)
    pairs = {**base(), "r000004": math.nan}
    local = write_snapshot(tmp_path / "night.parquet", pairs)
    s3.put_object(Bucket=s3_bucket, Key="in/night.parquet", Body=Path(local).read_bytes())
    options = target.options(
        tmp_path,
        dead_letter_uri=f"s3://{s3_bucket}/dead",
        checkpoint_uri=f"s3://{s3_bucket}/checkpoint.json",
        sync_state_uri=f"s3://{s3_bucket}/state",
    )

    first = load(target.client, f"s3://{s3_bucket}/in/", options, settings)
    second = load(target.client, f"s3://{s3_bucket}/in/night.parquet", options, settings)

    assert (first.objects_written, first.dead_lettered, second.rows_skipped) == (ROWS - 1, 1, ROWS)
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=s3_bucket)["Contents"]}
    assert {"checkpoint.json", "in/night.parquet"} <= keys
    assert any(k.startswith("dead/part-") for k in keys)
    assert any(k.startswith("state/") for k in keys)
    options.checkpoint_uri = None
    third = load(target.client, f"s3://{s3_bucket}/in/night.parquet", options, settings)
    assert (third.rows_unchanged, third.objects_written, third.dead_lettered) == (ROWS - 1, 0, 1)


def test_a_retry_counts_the_unchanged_rows_of_the_ranges_left(target, tmp_path, caplog):
    sync_run(target, tmp_path, "night-1", base())
    # Rows 0-9 fill the first call; row 33 waits for the end of the file, and its call fails.
    changed = {**base(), **{f"r{i:06d}": 1 for i in range(10)}, "r000033": 1}
    source = write_snapshot(tmp_path / "night-2.parquet", changed)
    options = target.options(
        tmp_path, max_workers=1, sync_state_uri=str(tmp_path / "state"), checkpoint_uri=str(tmp_path / "cp.json")
    )
    target.client.before_put = crash_on(33)
    with pytest.raises(RuntimeError, match="the task died"):
        load(target.client, source, options)
    target.client.before_put = lambda objects: None
    caplog.set_level(logging.INFO, logger="airflow_provider_customerprofiles.ingest.loader")
    caplog.clear()  # the earlier runs' lines are captured too when the logger is already at INFO

    retry = load(target.client, source, options)

    assert (retry.rows_skipped, retry.rows_read, retry.rows_unchanged, retry.objects_written) == (30, 10, 9, 1)
    (compared,) = [m for m in caplog.messages if m.startswith("Sync state compared in ")]
    seconds, counts = re.fullmatch(r"Sync state compared in ([0-9.]+)s: (.*)", compared).groups()
    # The log rounds to 0.1 s: a comparison of 0.06 s of a 0.09 s run reads "0.1".
    assert (counts, float(seconds) <= retry.seconds + 0.05) == ("29 of 40 rows unchanged", True)
    _, sent = sync_run(target, tmp_path, "night-3", changed)  # the rows the first try sent are in the state
    assert sent == 0
    assert seqs(target) == changed


@pytest.mark.parametrize("other", ["domain", "object type"])
def test_a_state_kept_for_another_target_sends_every_row(target, tmp_path, other):
    sync_run(target, tmp_path, "night-1", base())
    if other == "domain":
        target.domain = "d-" + uuid.uuid4().hex[:12]
        create_target(target.client, target.domain)
        other_target = target.options(tmp_path)
    else:
        create_object_type(target.client, target.domain, "Other")
        other_target = target.options(tmp_path)
        other_target.object_type_name = "Other"
    result = load(
        target.client,
        write_snapshot(tmp_path / "night-2.parquet", base()),
        LoadOptions(**{**other_target.__dict__, "sync_state_uri": str(tmp_path / "state"), "checkpoint_uri": None}),
    )
    assert (result.objects_written, result.rows_unchanged) == (ROWS, 0)


def test_columns_left_out_are_no_change(target, tmp_path):
    columns = {"rid": "rid", "acct": "acct"}
    sync_run(target, tmp_path, "night-1", base(), columns=columns)
    result, sent = sync_run(target, tmp_path, "night-2", {**base(), "r000001": 7}, columns=columns)
    assert (sent, result.rows_unchanged) == (0, ROWS)


def test_rows_are_compared_by_their_key_after_renaming(target, tmp_path):
    def renamed_run(run: str, values: dict[str, int]) -> int:
        before = target.client.objects
        source = tmp_path / f"{run}.parquet"
        table = pa.table(
            {"id": list(values), "account": [account_of(int(r[1:])) for r in values], "seq": list(values.values())}
        )
        pq.write_table(table, source)
        options = target.options(tmp_path, checkpoint_uri=None, sync_state_uri=str(tmp_path / "state"))
        options.columns = {"id": "rid", "account": "acct", "seq": "seq"}
        load(target.client, str(source), options)
        return target.client.objects - before

    assert renamed_run("night-1", base()) == ROWS
    assert renamed_run("night-2", {**base(), "r000001": 7}) == 1
    assert seqs(target)["r000001"] == 7


def test_a_new_unique_key_is_a_new_mapping_even_with_the_same_values(target, tmp_path, caplog):
    """The service now tells objects apart by another field: what the state knows under the old key is not used."""
    caplog.set_level(logging.INFO, logger="airflow_provider_customerprofiles.ingest.sync.state")
    rids = list(base())
    source = tmp_path / "night.parquet"
    pq.write_table(pa.table({"rid": rids, "code": rids, "acct": [account_of(i) for i in range(ROWS)]}), source)
    options = target.options(tmp_path, sync_state_uri=str(tmp_path / "state"), checkpoint_uri=None)
    assert load(target.client, str(source), options).objects_written == ROWS

    target.client.put_profile_object_type(
        DomainName=target.domain,
        ObjectTypeName=options.object_type_name,
        Description="UNIQUE key moved to code",
        AllowProfileCreation=True,
        Fields={
            "rid": {"Source": "_source.rid", "Target": "_profile.Attributes.rid"},
            "code": {"Source": "_source.code", "Target": "_profile.Attributes.code"},
            "acct": {"Source": "_source.acct", "Target": "_profile.AccountNumber"},
        },
        Keys={
            "by_code": [{"StandardIdentifiers": ["UNIQUE"], "FieldNames": ["code"]}],
            "_account": [{"StandardIdentifiers": ["PROFILE"], "FieldNames": ["acct"]}],
        },
    )
    result = load(target.client, str(source), options)

    assert (result.objects_written, result.rows_unchanged) == (ROWS, 0)
    assert "was kept under another column mapping" in caplog.text
