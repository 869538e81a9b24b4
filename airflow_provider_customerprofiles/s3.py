"""
S3 access shared by the ingest and match-export engines, built only from explicit settings.

The operators take the settings from an Airflow connection; nothing here reads
credentials or a region from the environment, and nothing imports Airflow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, NoReturn
from urllib.parse import urlsplit

import pyarrow.fs as pafs


def is_s3(uri: str) -> bool:
    """Whether ``uri`` names S3 (``s3://`` or Hadoop's ``s3a://``)."""
    return uri.startswith(("s3://", "s3a://"))


@dataclass(frozen=True)
class S3Settings:
    """Credentials and endpoint (``endpoint_url`` reaches moto or another S3 server; may be plain http).

    ``verify`` is boto's: a bool, or a CA bundle path that pyarrow uses too.
    The secret key and session token never appear in ``repr()``/``str()`` (so not in a log or a
    traceback's locals either), and the settings refuse to be pickled or serialized (XCom).
    """

    access_key: str | None = None
    secret_key: str | None = field(default=None, repr=False)
    session_token: str | None = field(default=None, repr=False)
    region: str | None = None
    endpoint_url: str | None = None
    verify: bool | str | None = None

    def __reduce__(self) -> NoReturn:
        raise TypeError("S3Settings holds credentials: it is not pickled or copied; build it where it is used")

    def serialize(self) -> NoReturn:
        """Airflow's serializer (XCom) calls this before falling back to the dataclass fields."""
        raise TypeError("S3Settings holds credentials: it is never serialized")

    @cached_property
    def filesystem(self) -> pafs.S3FileSystem:
        """pyarrow's native S3 filesystem, for streaming Parquet with ranged reads."""
        if not (self.access_key and self.secret_key):
            raise ValueError("s3:// URIs need S3 credentials; none were given")
        options: dict[str, Any] = {
            "access_key": self.access_key,
            "secret_key": self.secret_key,
            "session_token": self.session_token,
            "region": self.region or "us-east-1",
        }
        if self.endpoint_url:
            endpoint = urlsplit(self.endpoint_url)
            options["scheme"] = endpoint.scheme or "https"
            options["endpoint_override"] = endpoint.netloc or endpoint.path
        if isinstance(self.verify, str):
            options["tls_ca_file_path"] = self.verify
        return pafs.S3FileSystem(**options)

    @cached_property
    def client(self) -> Any:
        """A boto3 S3 client, for whole-object writes with server-side encryption."""
        import boto3

        return boto3.client(
            "s3",
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            aws_session_token=self.session_token,
            region_name=self.region or "us-east-1",
            endpoint_url=self.endpoint_url,
            verify=self.verify,
        )
