"""The partition writer: every page lands, re-runs skip, crashes leave no visible half partition."""

from __future__ import annotations

import json
import os
from datetime import timedelta

import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from airflow_provider_customerprofiles.matches.dataset import (
    IncompletePartitionError,
    read_partition,
    write_partition,
)
from airflow_provider_customerprofiles.matches.location import resolve
from airflow_provider_customerprofiles.matches.normalize import stream_get_matches
from airflow_provider_customerprofiles.matches.schema import MATCHES_SCHEMA
from tests.unit.matches.pages import GENERATED_AT, make_pages

PARTITION = "match_generation_date=2026-11-21"


def snapshot(root) -> dict[str, tuple[int, int]]:
    """Every file under root with its size and mtime (ns)."""
    found = {}
    for directory, _, files in os.walk(root):
        for name in files:
            stat = os.stat(os.path.join(directory, name))
            found[os.path.relpath(os.path.join(directory, name), root)] = (stat.st_size, stat.st_mtime_ns)
    return found


@pytest.mark.parametrize(
    ("groups", "group_size", "page_size", "row_group_rows"), [(1234, 2, 100, 1000), (97, 3, 7, 50)]
)
def test_every_page_is_exported(tmp_path, groups, group_size, page_size, row_group_rows):
    result = write_partition(
        stream_get_matches(make_pages(groups, group_size, page_size)),
        resolve(str(tmp_path)),
        row_group_rows=row_group_rows,
    )

    assert result.rows == groups * group_size
    assert result.uri == f"file://{tmp_path}/{PARTITION}"
    assert result.match_generation_date == "2026-11-21" and not result.skipped
    table = ds.dataset(tmp_path, partitioning="hive").to_table()
    assert table.num_rows == groups * group_size
    assert sorted(set(table.column("match_id").to_pylist())) == [f"match-{i:07d}" for i in range(groups)]
    assert len(table.column("profile_id").unique()) == groups * group_size
    assert set(table.column("match_group_size").to_pylist()) == {group_size}
    assert set(table.column("match_generation_date").to_pylist()) == {"2026-11-21"}
    assert table.select(MATCHES_SCHEMA.names).schema == MATCHES_SCHEMA
    metadata = pq.ParquetFile(tmp_path / PARTITION / "part-00000.parquet").metadata
    page_rows = page_size * group_size
    rows_per_group = -(-row_group_rows // page_rows) * page_rows  # whole pages until the threshold
    assert metadata.num_row_groups == -(-groups * group_size // rows_per_group) > 1
    marker = json.loads((tmp_path / PARTITION / "_SUCCESS").read_text())
    assert marker["rows"] == groups * group_size and marker["files"] == ["part-00000.parquet"]


def test_second_run_skips_and_changes_nothing(tmp_path):
    first = write_partition(stream_get_matches(make_pages(300)), resolve(str(tmp_path)))
    before = snapshot(tmp_path)
    pages_read = []

    def counted():
        for page in make_pages(300):
            pages_read.append(page)
            yield page

    second = write_partition(stream_get_matches(counted()), resolve(str(tmp_path)))

    assert second.skipped and second.rows == first.rows == 600 and second.uri == first.uri
    assert snapshot(tmp_path) == before
    assert len(pages_read) == 1  # one call to learn the generation date, nothing more


def test_overwrite_rewrites_the_partition(tmp_path):
    write_partition(stream_get_matches(make_pages(300)), resolve(str(tmp_path)))
    before = snapshot(tmp_path)

    again = write_partition(stream_get_matches(make_pages(150, 3)), resolve(str(tmp_path)), overwrite=True)

    assert not again.skipped and again.rows == 450
    after = snapshot(tmp_path)
    assert after[f"{PARTITION}/part-00000.parquet"] != before[f"{PARTITION}/part-00000.parquet"]
    assert pq.read_table(tmp_path / PARTITION / "part-00000.parquet").num_rows == 450


def crashing(pages, after: int):
    for number, page in enumerate(pages, start=1):
        if number > after:
            raise ConnectionError("network went away")
        yield page


def test_crash_mid_export_leaves_no_visible_partition(tmp_path):
    with pytest.raises(ConnectionError):
        write_partition(stream_get_matches(crashing(make_pages(1000), 4)), resolve(str(tmp_path)), row_group_rows=200)

    assert not (tmp_path / PARTITION / "_SUCCESS").exists()
    assert not (tmp_path / PARTITION / "part-00000.parquet").exists()
    assert not list((tmp_path / "_temporary").glob("*"))
    with pytest.raises(IncompletePartitionError):
        read_partition(resolve(str(tmp_path / PARTITION)))

    result = write_partition(stream_get_matches(make_pages(1000)), resolve(str(tmp_path)))
    assert result.rows == 2000 and not result.skipped


def test_crash_during_overwrite_keeps_the_old_partition(tmp_path):
    write_partition(stream_get_matches(make_pages(100)), resolve(str(tmp_path)))

    with pytest.raises(ConnectionError):
        write_partition(stream_get_matches(crashing(make_pages(500), 2)), resolve(str(tmp_path)), overwrite=True)

    marker, batches = read_partition(resolve(str(tmp_path / PARTITION)))
    assert marker["rows"] == 200 and sum(batch.num_rows for batch in batches) == 200


def test_a_later_run_cleans_leftovers_of_a_killed_export(tmp_path):
    staging = tmp_path / "_temporary" / PARTITION
    staging.mkdir(parents=True)
    (staging / "part-00000.parquet").write_bytes(b"half a file")
    (tmp_path / PARTITION).mkdir()
    (tmp_path / PARTITION / "part-00000.parquet").write_bytes(b"moved before the kill")

    result = write_partition(stream_get_matches(make_pages(10)), resolve(str(tmp_path)))

    assert result.rows == 20 and not staging.exists()
    assert pq.read_table(tmp_path / PARTITION / "part-00000.parquet").num_rows == 20


def test_a_new_generation_during_the_export_fails_the_export(tmp_path):
    def changing():
        yield from make_pages(100, page_size=50)
        yield from make_pages(100, page_size=50, generated_at=GENERATED_AT + timedelta(days=7))

    with pytest.raises(RuntimeError, match="generation changed"):
        write_partition(stream_get_matches(changing()), resolve(str(tmp_path)))
    assert not (tmp_path / PARTITION).exists()


def test_no_generation_yet_writes_nothing(tmp_path):
    result = write_partition(stream_get_matches(iter([{"Matches": [], "PotentialMatches": 0}])), resolve(str(tmp_path)))

    assert result.skipped and result.uri is None and result.rows == 0
    assert not any(tmp_path.iterdir())


def test_a_generation_without_matches_is_an_empty_complete_partition(tmp_path):
    result = write_partition(stream_get_matches(make_pages(0)), resolve(str(tmp_path)))

    assert result.rows == 0 and not result.skipped
    marker, batches = read_partition(resolve(str(tmp_path / PARTITION)))
    assert marker["rows"] == 0 and sum(batch.num_rows for batch in batches) == 0


def test_read_partition_refuses_a_path_that_is_not_a_partition(tmp_path):
    with pytest.raises(ValueError, match="not a partition"):
        read_partition(resolve(str(tmp_path)))
