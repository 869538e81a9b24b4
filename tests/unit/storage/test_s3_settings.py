"""S3Settings carries credentials: they never show in its text, and it cannot be pickled or put in XCom."""

from __future__ import annotations

import copy
import logging
import pickle

import pytest
from botocore.credentials import Credentials

from airflow_provider_customerprofiles.storage import S3Settings

SECRET, TOKEN = "wJalrXUtnFEMI-K7MDENG-secret", "FwoGZXIvYXdzEJr-session-token"


@pytest.fixture
def settings() -> S3Settings:
    return S3Settings("AKIDEXAMPLE", SECRET, TOKEN, region="eu-west-1", endpoint_url="http://127.0.0.1:9000")


def test_text_forms_show_the_endpoint_but_no_secret(settings, caplog):
    caplog.set_level(logging.INFO)
    logging.getLogger("test").info("settings %s %r", settings, settings)
    texts = [repr(settings), str(settings), f"{settings}", "%s" % (settings,), caplog.text]  # noqa: UP031

    for text in texts:
        assert "eu-west-1" in text
        assert "http://127.0.0.1:9000" in text
        assert SECRET not in text
        assert TOKEN not in text


def test_an_exception_that_formats_the_settings_holds_no_secret(settings):
    with pytest.raises(ValueError) as error:
        raise ValueError(f"cannot reach S3 with {settings!r}")
    assert SECRET not in str(error.value)


@pytest.mark.parametrize("duplicate", [pickle.dumps, copy.copy, copy.deepcopy])
def test_it_refuses_to_be_pickled_or_copied(settings, duplicate):
    with pytest.raises(TypeError, match="S3Settings holds credentials"):
        duplicate(settings)


def test_airflow_refuses_to_serialize_it_for_xcom(settings):
    from airflow.sdk.serde import serialize

    with pytest.raises(TypeError, match="S3Settings holds credentials: it is never serialized"):
        serialize({"s3": settings})


def test_the_credentials_still_reach_the_clients(settings):
    credentials = settings.client._request_signer._credentials.get_frozen_credentials()
    assert (credentials.access_key, credentials.secret_key, credentials.token) == ("AKIDEXAMPLE", SECRET, TOKEN)


def test_a_given_provider_wins_over_static_keys_and_stays_out_of_the_text():
    provider = Credentials("AKIDPROVIDED", SECRET, TOKEN)
    settings = S3Settings("AKIDSTATIC", "static-secret", credentials=provider, region="eu-west-1")

    assert settings.client._request_signer._credentials is provider
    assert SECRET not in repr(settings) and "static-secret" not in repr(settings)


def test_settings_without_credentials_say_so():
    assert not S3Settings(region="eu-west-1").has_credentials
    with pytest.raises(ValueError, match="no S3 credentials were given"):
        S3Settings(region="eu-west-1").filesystem()


@pytest.mark.parametrize(
    ("given", "arguments"),
    [
        ({}, {"ServerSideEncryption": "AES256"}),
        ({"encryption": "aws:kms"}, {"ServerSideEncryption": "aws:kms"}),
        ({"encryption": "aws:kms", "kms_key_id": "k-1"}, {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": "k-1"}),
    ],
)
def test_server_side_encryption_is_aes256_unless_kms_is_asked_for(given, arguments):
    assert S3Settings("AKID", SECRET, **given).put_arguments() == arguments


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"encryption": "none"}, r"encryption must be one of \('AES256', 'aws:kms'\), not 'none'"),
        ({"kms_key_id": "k-1"}, r"kms_key_id needs encryption='aws:kms'"),
    ],
)
def test_encryption_settings_are_checked(given, message):
    with pytest.raises(ValueError, match=message):
        S3Settings("AKID", SECRET, **given)
