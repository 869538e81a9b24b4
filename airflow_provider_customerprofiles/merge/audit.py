"""
The merge audit: one JSON Lines record per group (ids, score, outcome), never profile data.

Merges cannot be undone, so the location is proven writable before the first merge; an
audit that fails only after merging would leave merges nobody recorded.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Iterable
from typing import Any

from airflow_provider_customerprofiles.storage import S3Settings, StorageError, resolve


class AuditLocationError(Exception):
    """The audit location cannot be written. Nothing was merged."""


class AuditLog:
    """Where a run's audit goes: a local path or ``s3://`` (written with server-side encryption)."""

    def __init__(self, uri: str, s3: S3Settings | None = None) -> None:
        self.uri = uri
        self._s3 = s3

    def check_writable(self) -> None:
        """Write and remove a marker beside the audit file; raises AuditLocationError naming ``audit_uri``."""
        try:
            resolve(posixpath.dirname(self.uri) or ".", self._s3, "audit_uri").check_writable()
        except StorageError as exc:
            raise AuditLocationError(
                f"The audit location {self.uri} (audit_uri) is not writable, so nothing was merged: {exc.reason}"
            ) from exc

    def write(self, records: Iterable[dict[str, Any]]) -> None:
        """Replace the audit file with ``records``, one JSON object a line."""
        body = "".join(json.dumps(record, sort_keys=True) + "\n" for record in records)
        resolve(self.uri, self._s3, "audit_uri").write_bytes(body.encode())
