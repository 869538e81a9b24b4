"""The sync state's storage: failures speak the storage layer's vocabulary and name sync_state_uri."""

from __future__ import annotations

import pytest

from airflow_provider_customerprofiles.ingest.sync import SyncState
from airflow_provider_customerprofiles.storage import MissingSettingsError, UnsupportedLocationError


def test_an_unsupported_scheme_is_refused_naming_the_argument(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UnsupportedLocationError, match=r"ftp://host/state \(sync_state_uri\)"):
        SyncState("ftp://host/state", "m" * 64).open()
    assert list(tmp_path.iterdir()) == []  # nothing written to a local directory named "ftp:"


def test_an_s3_state_without_settings_is_refused_naming_the_argument():
    with pytest.raises(MissingSettingsError, match=r"s3://bucket/state \(sync_state_uri\)"):
        SyncState("s3://bucket/state", "m" * 64)
