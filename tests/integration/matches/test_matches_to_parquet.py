"""GetMatches from the local service over HTTP into Parquet, on local disk and on moto's S3."""

from __future__ import annotations

import pyarrow.dataset as ds
import pyarrow.fs as pafs
import pytest
from airflow.sdk import Asset, AssetAlias
from airflow.sdk.exceptions import AirflowSkipException

from airflow_provider_customerprofiles.matches.dataset import write_partition
from airflow_provider_customerprofiles.matches.location import resolve
from airflow_provider_customerprofiles.matches.normalize import stream_get_matches
from airflow_provider_customerprofiles.storage import S3Settings
from airflow_provider_customerprofiles.transfers.matches_to_parquet import CustomerProfilesMatchesToParquetOperator
from tests.conftest import s3_client

PARTITION = "match_generation_date=2026-11-21"


def destination_for(kind: str, tmp_path, s3_bucket_factory) -> str:
    return str(tmp_path / "matches") if kind == "local" else f"s3://{s3_bucket_factory()}/exports/matches"


@pytest.fixture
def new_bucket(moto_s3_server, request):
    def create() -> str:
        name = f"cp-matches-{abs(hash(request.node.name)) % 10**8}"
        s3_client(moto_s3_server).create_bucket(Bucket=name)
        return name

    return create


def read_dataset(uri: str, s3_url: str):
    location = resolve(uri, S3Settings("testing", "testing", region="us-east-1", endpoint_url=s3_url))
    return ds.dataset(location.path, filesystem=location.filesystem, partitioning="hive").to_table()


def listing(uri: str, s3_url: str) -> dict[str, tuple[int, object]]:
    location = resolve(uri, S3Settings("testing", "testing", region="us-east-1", endpoint_url=s3_url))
    infos = location.filesystem.get_file_info(pafs.FileSelector(location.path, recursive=True))
    return {info.path: (info.size, info.mtime) for info in infos if info.type == pafs.FileType.File}


@pytest.mark.parametrize("kind", ["local", "s3"])
def test_every_page_lands_once_and_reruns_skip(match_service, outlet_context, tmp_path, new_bucket, kind):
    entries = match_service.seed(groups=303, group_size=2)
    destination = destination_for(kind, tmp_path, new_bucket)
    operator = CustomerProfilesMatchesToParquetOperator(
        task_id="export",
        domain_name=match_service.domain,
        destination=destination,
        page_size=7,  # 303 groups: 43 full pages and one of 2
        row_group_rows=100,
        aws_conn_id=match_service.conn_id,
    )

    result = operator.execute(outlet_context)

    uri = destination if kind == "s3" else f"file://{destination}"
    assert result == {
        "uri": f"{uri}/{PARTITION}",
        "rows": entries,
        "match_generation_date": "2026-11-21",
        "skipped": False,
        "summary": result["summary"],
    }
    table = read_dataset(destination, match_service.s3_url)
    assert table.num_rows == entries == 606
    group_scores = table.group_by("match_id").aggregate([("confidence_score", "max")])["confidence_score_max"]
    summary = result["summary"]
    assert (summary["groups"], summary["rows"], summary["group_sizes"]) == (303, 606, {"2": 303})
    quantiles = summary["confidence_quantiles"]
    lowest, highest = min(group_scores.to_pylist()), max(group_scores.to_pylist())
    assert quantiles["p0"] == pytest.approx(lowest, abs=0.001) and quantiles["p0"] <= lowest  # 0.001 steps
    assert quantiles["p100"] == pytest.approx(highest, abs=0.001) and quantiles["p100"] <= highest
    assert len(table.column("match_id").unique()) == 303
    assert len(table.column("profile_id").unique()) == entries
    served = match_service.endpoint.client().get_matches(DomainName=match_service.domain, MaxResults=100)
    first = served["Matches"][0]
    rows = table.filter(ds.field("match_id") == first["MatchId"])
    assert sorted(rows.column("profile_id").to_pylist()) == sorted(first["ProfileIds"])
    assert set(rows.column("confidence_score").to_pylist()) == {first["ConfidenceScore"]}
    assert operator.outlets == [Asset(uri)]
    assert outlet_context["outlet_events"][Asset(uri)].extra == result
    calls = match_service.endpoint.metrics()

    before = listing(destination, match_service.s3_url)
    again = CustomerProfilesMatchesToParquetOperator(
        task_id="export",
        domain_name=match_service.domain,
        destination=destination,
        page_size=7,
        aws_conn_id=match_service.conn_id,
    ).execute(outlet_context)
    assert again == {**result, "skipped": True}
    assert listing(destination, match_service.s3_url) == before
    assert _get_matches_calls(match_service.endpoint.metrics()) == _get_matches_calls(calls) + 1

    match_service.seed(groups=100, group_size=3, seed=2)  # same generation date, new content
    rewritten = CustomerProfilesMatchesToParquetOperator(
        task_id="export",
        domain_name=match_service.domain,
        destination=destination,
        overwrite=True,
        aws_conn_id=match_service.conn_id,
    ).execute(outlet_context)
    assert rewritten["rows"] == 300 and not rewritten["skipped"]
    assert read_dataset(destination, match_service.s3_url).num_rows == 300


def _get_matches_calls(metrics: dict) -> int:
    return metrics["operations"]["GetMatches"]["requests"]


def test_a_crash_on_s3_leaves_no_visible_partition(match_service, new_bucket):
    match_service.seed(groups=200)
    bucket = new_bucket()
    s3 = S3Settings("testing", "testing", region="us-east-1", endpoint_url=match_service.s3_url)
    client = match_service.endpoint.client()

    def pages(crash_after: int | None):
        token = None
        for number in range(1, 10**6):
            if crash_after is not None and number > crash_after:
                raise ConnectionResetError("connection reset by peer")
            page = client.get_matches(
                DomainName=match_service.domain, MaxResults=50, **({"NextToken": token} if token else {})
            )
            yield page
            token = page.get("NextToken")
            if not token:
                return

    root = resolve(f"s3://{bucket}/m", s3)
    with pytest.raises(ConnectionResetError):
        write_partition(stream_get_matches(pages(crash_after=3)), root, row_group_rows=100)

    keys = [obj["Key"] for obj in s3_client(match_service.s3_url).list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert not [key for key in keys if key.startswith(f"m/{PARTITION}/") and not key.endswith("/")]

    result = write_partition(stream_get_matches(pages(crash_after=None)), root)
    assert result.rows == 400
    keys = {obj["Key"] for obj in s3_client(match_service.s3_url).list_objects_v2(Bucket=bucket)["Contents"]}
    assert {f"m/{PARTITION}/_SUCCESS", f"m/{PARTITION}/part-00000.parquet"} <= keys
    assert not [key for key in keys if key.startswith("m/_temporary/") and not key.endswith("/")]


def test_a_domain_without_a_match_run_skips_the_task(match_service, outlet_context, tmp_path):
    operator = CustomerProfilesMatchesToParquetOperator(
        task_id="export", domain_name=match_service.domain, destination=str(tmp_path), aws_conn_id=match_service.conn_id
    )
    with pytest.raises(AirflowSkipException):
        operator.execute(outlet_context)
    assert not any(tmp_path.iterdir())


def test_a_templated_destination_reports_through_an_asset_alias(match_service, outlet_context, tmp_path):
    match_service.seed(groups=10)
    alias = AssetAlias("customer-profiles-matches")
    operator = CustomerProfilesMatchesToParquetOperator(
        task_id="export",
        domain_name=match_service.domain,
        destination="{{ params.root }}",
        aws_conn_id=match_service.conn_id,
        outlets=[alias],
    )
    operator.destination = str(tmp_path)  # what rendering the template gives

    result = operator.execute(outlet_context)

    (event,) = outlet_context["outlet_events"][alias].asset_alias_events
    assert event.dest_asset_key.uri == f"file://{tmp_path}" and event.extra == result


def test_partition_files_on_s3_carry_server_side_encryption(match_service, new_bucket):
    """pyarrow streams the data file unencrypted to staging; the move into the partition encrypts it."""
    match_service.seed(groups=20)
    bucket = new_bucket()
    s3 = S3Settings("testing", "testing", region="us-east-1", endpoint_url=match_service.s3_url, encryption="aws:kms")
    client = match_service.endpoint.client()
    page = client.get_matches(DomainName=match_service.domain, MaxResults=100)

    write_partition(stream_get_matches(iter([page])), resolve(f"s3://{bucket}/m", s3))

    s3_objects = s3_client(match_service.s3_url)
    for name in ("part-00000.parquet", "_SUCCESS"):
        head = s3_objects.head_object(Bucket=bucket, Key=f"m/{PARTITION}/{name}")
        assert head.get("ServerSideEncryption") == "aws:kms", name
