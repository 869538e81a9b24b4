"""Where a match dataset lives: its URI in canonical form (``file:///dir`` or ``s3://bucket/prefix``).

Assets, XCom and partition URIs all carry the canonical form, so a local path and its
``file://`` spelling name the same dataset.
"""

from __future__ import annotations

from airflow_provider_customerprofiles.storage import Location, S3Settings, canonical_uri
from airflow_provider_customerprofiles.storage import resolve as resolve_location


def resolve(uri: str, s3: S3Settings | None = None, argument: str = "destination") -> Location:
    """The dataset's :class:`Location`, in canonical URI form."""
    return resolve_location(canonical_uri(uri, argument), s3, argument)


__all__ = ["Location", "canonical_uri", "resolve"]
