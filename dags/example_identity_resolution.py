"""
Weekly identity resolution: wait for the service's job, then merge the matches you trust.

The service runs identity resolution itself, weekly at the domain's ``JobSchedule`` (there is
no API to start a job). This DAG runs on the same weekly schedule:

1. ``create_bucket``: the S3 bucket for the job's result files and the merge audit, created
   when missing (the Amazon provider's ``S3CreateBucketOperator``).
2. ``configure_matching``: idempotent domain set-up with identity resolution enabled, the job
   schedule, result files exported to the bucket, and the consolidation / conflict-resolution
   rules the merge preview uses (auto-merge itself stays off: merges happen below, with guardrails).
3. ``wait_for_identity_resolution``: waits in the triggerer (deferrable, no worker slot held) for
   the first job that starts at or after the run's data interval start; returns ``{"job_id",
   "status", "job_stats", "exporting_location"}``. On a domain where this run turns matching on,
   that is the first job, which the service runs within 24 hours of enabling matching (the local
   service in ``docker-compose.yaml``: 30 seconds), so a first manual run ends on its own.
4. ``merge_matches``: reads GetMatches, keeps groups at ``min_confidence`` or above, checks
   GetAutoMergingPreview, merges at most ``max_merges`` groups, and writes a JSON Lines audit
   (ids and scores only) to ``s3://{bucket}/merge-audit/{ds}.jsonl``. ``dry_run`` is on by
   default: turn it off once the audit looks right. Merges cannot be undone.

Copy and adapt the run parameters. To try it against the local Customer Profiles service, point
the ``aws`` connection at it and at an S3-compatible store with the extra
``{"region_name": "us-east-1", "service_config": {"customer-profiles": {"endpoint_url": "http://127.0.0.1:PORT"},
"s3": {"endpoint_url": "http://127.0.0.1:S3PORT"}}}``.
"""

from __future__ import annotations

import datetime as dt

from airflow.providers.amazon.aws.operators.s3 import S3CreateBucketOperator
from airflow.sdk import DAG, Param

from airflow_provider_customerprofiles.operators.customer_profiles import (
    CustomerProfilesCreateDomainOperator,
    CustomerProfilesMergeMatchesOperator,
)
from airflow_provider_customerprofiles.sensors.customer_profiles import CustomerProfilesIdentityResolutionJobSensor

AWS_CONN_ID = "{{ params.aws_conn_id }}"
DOMAIN_NAME = "{{ params.domain_name }}"
RESULTS_PREFIX = "identity-resolution"  # where the job writes its result files in the bucket

MATCHING = {
    "Enabled": True,
    "JobSchedule": {"DayOfTheWeek": "SATURDAY", "Time": "00:00"},
    "AutoMerging": {
        "Enabled": False,
        "Consolidation": {"MatchingAttributesList": [["EmailAddress"], ["FirstName", "LastName", "PhoneNumber"]]},
        "ConflictResolution": {"ConflictResolvingModel": "RECENCY"},
    },
    "ExportingConfig": {"S3Exporting": {"S3BucketName": "{{ params.bucket }}", "S3KeyName": RESULTS_PREFIX}},
}

with DAG(
    dag_id="example_identity_resolution",
    description="Wait for the weekly identity-resolution job and merge high-confidence matches with guardrails",
    doc_md=__doc__,
    schedule="0 0 * * 6",  # the job's schedule: each run covers the week from one job to the next
    start_date=dt.datetime(2024, 1, 6),
    catchup=False,
    max_active_runs=1,
    render_template_as_native_obj=True,
    tags=["customer-profiles", "example"],
    params={
        "aws_conn_id": Param(
            "aws_default", type="string", description="Airflow aws connection for Customer Profiles and S3"
        ),
        "domain_name": Param("retail", type="string", description="Customer Profiles domain, created when missing"),
        "bucket": Param(
            "customer-profiles-examples",
            type="string",
            description="S3 bucket for the job's result files and the merge audit; created when missing",
        ),
        "min_confidence": Param(
            0.95, type="number", minimum=0, maximum=1, description="Merge only match groups scored at least this"
        ),
        "max_merges": Param(100, type="integer", minimum=1, description="Most match groups merged in one run"),
        "dry_run": Param(True, type="boolean", description="Write the audit of what would merge, merge nothing"),
    },
) as dag:
    create_bucket = S3CreateBucketOperator(
        task_id="create_bucket", bucket_name="{{ params.bucket }}", aws_conn_id=AWS_CONN_ID
    )
    configure_matching = CustomerProfilesCreateDomainOperator(
        task_id="configure_matching",
        domain_name=DOMAIN_NAME,
        default_expiration_days=365,
        matching=MATCHING,
        aws_conn_id=AWS_CONN_ID,
    )
    wait_for_job = CustomerProfilesIdentityResolutionJobSensor(
        task_id="wait_for_identity_resolution",
        domain_name=DOMAIN_NAME,
        deferrable=True,
        # One ListIdentityResolutionJobs call a minute from the triggerer (no worker slot): the run ends
        # within a minute of the job, also of the first job, which comes within 24 hours of enabling matching.
        poke_interval=60,
        max_retries=7 * 24 * 60,  # a week of checks
        aws_conn_id=AWS_CONN_ID,
    )
    merge_matches = CustomerProfilesMergeMatchesOperator(
        task_id="merge_matches",
        domain_name=DOMAIN_NAME,
        min_confidence="{{ params.min_confidence }}",
        max_merges="{{ params.max_merges }}",
        dry_run="{{ params.dry_run }}",
        audit_uri="s3://{{ params.bucket }}/merge-audit/{{ ds }}.jsonl",
        aws_conn_id=AWS_CONN_ID,
    )
    create_bucket >> configure_matching >> wait_for_job >> merge_matches
