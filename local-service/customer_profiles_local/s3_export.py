"""Writes an identity-resolution job's match results to S3 (the local service's own file format).

AWS documents no format for these "result files"; this one is the local service's choice:
``{S3KeyName}/{JobId}/matches.csv`` with a header row and one row per profile in a match group:
``MatchId,ProfileId,ConfidenceScore,MatchGroupSize,MatchGenerationDate`` (ISO-8601 UTC).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from customer_profiles_local.matching import MatchGroup

COLUMNS = ("MatchId", "ProfileId", "ConfidenceScore", "MatchGroupSize", "MatchGenerationDate")
FILE_NAME = "matches.csv"
# The local service signs S3 requests with fixed dummy keys: it targets moto or a local S3 stand-in.
_DUMMY_KEY = "local-customer-profiles"


class ExportFailed(Exception):
    """The result file could not be written; the message holds no customer data."""


def key_prefix(configured_key: str | None, job_id: str) -> str:
    """The per-job prefix the files go under (reported as ExportingLocation.S3Exporting.S3KeyName)."""
    base = (configured_key or "").strip("/")
    return f"{base}/{job_id}/" if base else f"{job_id}/"


def render_csv(groups: Iterable[MatchGroup], generated_at: dt.datetime) -> bytes:
    generated = generated_at.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for group in groups:
        for profile_id in group.profile_ids:
            writer.writerow((group.match_id, profile_id, group.confidence_score, len(group.profile_ids), generated))
    return out.getvalue().encode()


def export_matches(
    endpoint_url: str | None, bucket: str, prefix: str, groups: Iterable[MatchGroup], generated_at: dt.datetime
) -> str:
    """Write ``matches.csv`` under ``prefix`` in ``bucket``; returns its key. Raises ExportFailed."""
    if not endpoint_url:
        raise ExportFailed("the local service has no S3 endpoint configured")
    client = boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        region_name="us-east-1",
        aws_access_key_id=_DUMMY_KEY,
        aws_secret_access_key=_DUMMY_KEY,
        config=Config(connect_timeout=2, read_timeout=10, retries={"mode": "standard", "max_attempts": 2}),
    )
    key = prefix + FILE_NAME
    try:
        client.put_object(Bucket=bucket, Key=key, Body=render_csv(groups, generated_at), ContentType="text/csv")
    except ClientError as exc:
        raise ExportFailed(f"S3 answered {exc.response.get('Error', {}).get('Code', 'an error')}") from None
    except BotoCoreError as exc:
        raise ExportFailed(f"S3 could not be reached ({type(exc).__name__})") from None
    return key
