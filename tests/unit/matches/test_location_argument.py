"""A dataset location's failures name the argument the user set: ``destination`` unless told otherwise."""

from __future__ import annotations

import pytest

from airflow_provider_customerprofiles.matches.location import resolve
from airflow_provider_customerprofiles.storage import (
    LocationNotFoundError,
    MissingSettingsError,
    UnsupportedLocationError,
)


def test_failures_name_destination_by_default(tmp_path):
    with pytest.raises(UnsupportedLocationError, match=r"\(destination\)"):
        resolve("ftp://host/matches")
    with pytest.raises(MissingSettingsError, match=r"\(destination\)"):
        resolve("s3://bucket/matches")
    with pytest.raises(LocationNotFoundError, match=r"\(destination\)"):
        resolve(str(tmp_path / "missing")).read_bytes()


def test_failures_name_the_argument_given(tmp_path):
    with pytest.raises(UnsupportedLocationError, match=r"\(results_uri\)"):
        resolve("ftp://host/matches", argument="results_uri")
    with pytest.raises(MissingSettingsError, match=r"\(results_uri\)"):
        resolve("s3://bucket/matches", argument="results_uri")
    with pytest.raises(LocationNotFoundError, match=r"\(results_uri\)"):
        resolve(str(tmp_path / "missing"), argument="results_uri").read_bytes()
