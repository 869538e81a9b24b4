"""The operators' S3 settings keep the connection's refreshing credentials, not a frozen copy of its keys.

An ``aws`` connection with ``role_arn`` assumes the role through moto's STS (signature checks on);
the assumed credentials last 15 minutes, so botocore refreshes them on every use, as it would
near the end of a long run. Every S3 write must then be signed with a newly assumed key.
"""

from __future__ import annotations

import json

from botocore.credentials import RefreshableCredentials

from airflow_provider_customerprofiles.hooks.storage import s3_settings_for
from airflow_provider_customerprofiles.storage import resolve

ROLE_POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
ASSUME_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}],
}
TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}],
}


def _role_connection(authenticated_s3, monkeypatch) -> str:
    iam = authenticated_s3.client("iam", authenticated_s3.second)
    role = iam.create_role(RoleName="writer", AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]
    iam.put_role_policy(RoleName="writer", PolicyName="s3", PolicyDocument=json.dumps(ROLE_POLICY))
    iam.put_user_policy(UserName="loader", PolicyName="assume", PolicyDocument=json.dumps(ASSUME_POLICY))
    extra = {
        "region_name": "us-east-1",
        "endpoint_url": authenticated_s3.url,
        "aws_access_key_id": authenticated_s3.first.access_key,
        "aws_secret_access_key": authenticated_s3.first.secret_key,
        "role_arn": role["Arn"],
        "assume_role_kwargs": {"DurationSeconds": 900},
        "service_config": {"sts": {"endpoint_url": authenticated_s3.url}},
    }
    monkeypatch.setenv("AIRFLOW_CONN_S3_ROLE", json.dumps({"conn_type": "aws", "extra": extra}))
    return "s3_role"


def test_settings_hold_the_sessions_refreshing_credentials_and_writes_use_each_new_key(authenticated_s3, monkeypatch):
    settings = s3_settings_for(["s3://rotation-test/run/"], _role_connection(authenticated_s3, monkeypatch), None, None)

    assert isinstance(settings.credentials, RefreshableCredentials)
    assert settings.access_key is None  # no frozen copy of the keys
    checkpoint = resolve("s3://rotation-test/run/checkpoint.json", settings, "checkpoint_uri")
    checkpoint.write_bytes(b"first")
    first_key = settings.credentials.get_frozen_credentials().access_key
    checkpoint.write_bytes(b"second")
    second_key = settings.credentials.get_frozen_credentials().access_key

    assert first_key != second_key != authenticated_s3.first.access_key  # assumed anew, not the user's key
    assert checkpoint.read_bytes() == b"second"
