"""S3Settings carries credentials: they never show in its text, and it cannot be pickled or put in XCom."""

from __future__ import annotations

import copy
import logging
import pickle

import pytest

from airflow_provider_customerprofiles.s3 import S3Settings

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
