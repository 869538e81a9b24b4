"""End to end on a distributed deployment: Airflow 3 with the CeleryExecutor (two workers as separate
processes, Redis broker, PostgreSQL metadata and result backend) runs a backfill mapped over Parquet
files in moto's S3, with checkpoints and dead letters on S3 and one shared quota in Redis, against the
local service with AWS quotas. Midway one worker and its task processes are killed with SIGKILL: the
retries run on the other worker and resume from the checkpoints on S3."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import redis

from tests.conftest import s3_client
from tests.e2e.airflow_stack import REDIS_HOST, REDIS_PORT, AirflowStack, airflow_stack
from tests.eventually import eventually
from tests.integration.ingest.support import DOMAIN, OBJECT_TYPE, account_of, create_target

DAGS = Path(__file__).parent / "dags"
DAG_ID = "e2e_celery_backfill"
FILES, ROWS = 4, 6000
REPEATS = 150  # the last rows of each file repeat the first keys: objects < rows
QUOTA_DB = 8  # the shared quota's Redis database (the broker uses 7)
WORKERS = ("worker-a", "worker-b")


def is_bad(file: int, row: int) -> bool:
    """Rows the loader must dead-letter (a NaN score), spread through every file."""
    return row % 997 == 5 + file


def rid(file: int, row: int) -> str:
    return f"f{file}-{row % (ROWS - REPEATS):05d}"


def write_sources(tmp_path: Path, endpoint_url: str, bucket: str) -> list[str]:
    s3 = s3_client(endpoint_url)
    uris = []
    for file in range(FILES):
        local = tmp_path / f"part-{file}.parquet"
        table = pa.table(
            {
                "rid": [rid(file, row) for row in range(ROWS)],
                "acct": [account_of(row) for row in range(ROWS)],
                "seq": list(range(ROWS)),
                "score": [math.nan if is_bad(file, row) else float(row) for row in range(ROWS)],
            }
        )
        pq.write_table(table, local, row_group_size=500)
        s3.upload_file(str(local), bucket, f"lake/part-{file}.parquet")
        uris.append(f"s3://{bucket}/lake/part-{file}.parquet")
    return uris


def running_on(stack: AirflowStack, run_id: str) -> dict[str, list[int]]:
    """Map indexes of the load's running instances, by the worker that runs them."""
    rows = stack.query(
        "SELECT hostname, map_index FROM task_instance WHERE dag_id = %s AND run_id = %s AND task_id = 'load' "
        "AND state = 'running'",
        DAG_ID,
        run_id,
    )
    found: dict[str, list[int]] = {}
    for hostname, map_index in rows:
        found.setdefault(hostname, []).append(map_index)
    return found


def checkpointed_rows(s3, bucket: str, run_id: str, map_index: int) -> int:
    """Rows the load's checkpoint on S3 records as accepted so far (0 before its first commit)."""
    key = f"state/checkpoints/{DAG_ID}/load/{run_id}/map_index={map_index}.json"
    try:
        return json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())["totals"]["accepted"]
    except s3.exceptions.NoSuchKey:
        return 0


def kill_one_worker_midway(stack: AirflowStack, run_id: str, s3, bucket: str) -> tuple[str, list[int]]:
    """Once both workers run loads and each load on the first has committed a checkpoint, SIGKILL its tree."""
    victim = WORKERS[0]
    deadline = time.monotonic() + 150
    while time.monotonic() < deadline:
        running = running_on(stack, run_id)
        if set(WORKERS) <= set(running) and all(checkpointed_rows(s3, bucket, run_id, m) for m in running[victim]):
            stack.kill_worker(victim)
            return victim, sorted(running[victim])
        time.sleep(0.5)
    raise TimeoutError(f"both workers never ran checkpointed loads at once; task logs in {stack.home}")


def dead_letter_records(endpoint_url: str, bucket: str) -> list[dict]:
    s3 = s3_client(endpoint_url)
    records = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="state/dead_letters/"):
        for item in page.get("Contents", []):
            body = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read().decode()
            records.extend(json.loads(line) for line in body.splitlines() if line)
    return records


def test_celery_workers_survive_a_killed_worker_and_resume_from_s3_checkpoints(
    customer_profiles_emulator_factory, moto_s3_server, s3_bucket, postgres_dsn, tmp_path
):
    started = time.monotonic()
    service = customer_profiles_emulator_factory(quotas="aws", conn_id="aws_default")
    create_target(service.client(), DOMAIN, OBJECT_TYPE)
    redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=QUOTA_DB).flushdb()
    sources = write_sources(tmp_path, moto_s3_server, s3_bucket)
    endpoints = {"customer-profiles": service.url, "s3": moto_s3_server, "sts": moto_s3_server}
    service_config = {name: {"endpoint_url": url} for name, url in endpoints.items()}
    env = {
        "AIRFLOW_CONN_AWS_DEFAULT": service.connection_uri(extra={"service_config": service_config}),
        "AIRFLOW_CONN_CP_QUOTA": json.dumps(
            {"conn_type": "redis", "host": REDIS_HOST, "port": REDIS_PORT, "extra": {"db": QUOTA_DB}}
        ),
        "AIRFLOW__CUSTOMER_PROFILES__INGEST_STATE_URI": f"s3://{s3_bucket}/state",
        # A killed task stops heartbeating: its supervisor beats every 2 s (default 5) and the scheduler looks
        # every second (default 10) for tasks silent 10 s (default 300), so the retry starts about 10 s after
        # the kill, not minutes; 10 s still allows four missed beats from a worker on a busy machine.
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "10",
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "1",
        "AIRFLOW__WORKERS__MIN_HEARTBEAT_INTERVAL": "2",
    }
    good_keys = {rid(f, r) for f in range(FILES) for r in range(ROWS) if not is_bad(f, r)}
    bad_rows = {(sources[f], r) for f in range(FILES) for r in range(ROWS) if is_bad(f, r)}

    with airflow_stack(tmp_path / "airflow-home", DAGS, env, executor="CeleryExecutor", workers=WORKERS) as stack:
        run_id = stack.trigger(
            DAG_ID, conf={"sources": sources, "domain_name": DOMAIN, "object_type_name": OBJECT_TYPE}
        )
        victim, killed = kill_one_worker_midway(stack, run_id, s3_client(moto_s3_server), s3_bucket)
        state = stack.wait_for_run(DAG_ID, run_id, timeout=180)
        final = stack.query(
            "SELECT map_index, try_number, hostname, state FROM task_instance "
            "WHERE dag_id = %s AND run_id = %s AND task_id = 'load' ORDER BY map_index",
            DAG_ID,
            run_id,
        )
        first_tries = dict(
            stack.query(
                "SELECT map_index, hostname FROM task_instance_history "
                "WHERE dag_id = %s AND run_id = %s AND task_id = 'load' AND try_number = 1",
                DAG_ID,
                run_id,
            )
        )
        results = {
            map_index: value if isinstance(value, dict) else json.loads(value)
            for map_index, value in stack.query(
                "SELECT map_index, value FROM xcom WHERE dag_id = %s AND run_id = %s AND task_id = 'load' "
                "AND key = 'return_value'",
                DAG_ID,
                run_id,
            )
        }
        logs = stack.task_log_text()

    assert state == "success", logs[-5000:]
    assert killed, "the killed worker ran no load"
    survivor = WORKERS[1]
    for map_index, try_number, hostname, ti_state in final:
        assert ti_state == "success"
        if map_index in killed:
            # The retry ran on the other worker and resumed: the first try's finished rows were skipped.
            assert (first_tries[map_index], try_number, hostname) == (victim, 2, survivor)
            assert results[map_index]["rows_skipped"] > 0
        else:
            assert try_number == 1
    # Exact final counts: one object per distinct key, every bad row dead-lettered (a row may be twice).
    client = service.client()
    eventually(
        lambda: client.get_domain(DomainName=DOMAIN)["Stats"],
        lambda stats: stats["ObjectCount"] == len(good_keys),
        "every object matched",
    )
    records = dead_letter_records(moto_s3_server, s3_bucket)
    assert {(r["source_file"], r["row_index"]) for r in records} == bad_rows
    resent = sum(results[m]["rows_resent"] for m in killed)
    print(
        f"\nCelery e2e: killed {victim} running map indexes {killed}; rows sent twice (upper bound) {resent}; "
        f"dead-letter records {len(records)} for {len(bad_rows)} bad rows; {time.monotonic() - started:.0f} s"
    )
