"""Run the loader in its own process, so a test can kill it hard. Argument: JSON settings."""

from __future__ import annotations

import json
import sys

import boto3
from botocore.config import Config

from airflow_provider_customerprofiles.ingest.loader import LoadOptions, client_config, load


def main(settings: dict) -> None:
    client = boto3.client(
        "customer-profiles",
        endpoint_url=settings["endpoint_url"],
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(**client_config()),
    )
    load(client, settings["source"], LoadOptions(**settings["options"]))


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
