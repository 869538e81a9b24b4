"""
S3 access built only from explicit settings, with credentials that may refresh during a run.

Nothing here reads credentials or a region from the environment, and nothing imports
Airflow: the operators build the settings from an Airflow connection
(``hooks/storage.py``). Credentials are a *provider*, botocore's credentials object:
refreshable ones (assumed role, web identity) renew themselves in the last 15 minutes
before they expire. The boto3 client signs every request with the provider's current
credentials; pyarrow's S3 filesystem takes only static keys, so it is rebuilt whenever
the provider's frozen credentials change.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, NoReturn, Protocol
from urllib.parse import urlsplit

import pyarrow.fs as pafs
from botocore.credentials import CredentialProvider, CredentialResolver, Credentials, ReadOnlyCredentials

DEFAULT_REGION = "us-east-1"
ENCRYPTIONS = ("AES256", "aws:kms")


class CredentialsProvider(Protocol):
    """botocore's ``Credentials`` or ``RefreshableCredentials`` (a session's ``get_credentials()``)."""

    def get_frozen_credentials(self) -> ReadOnlyCredentials: ...


class _GivenCredentials(CredentialProvider):
    """The one source in the client's credential chain: no environment, no files, no instance metadata."""

    METHOD = "airflow-connection"

    def __init__(self, credentials: CredentialsProvider) -> None:
        super().__init__()
        self._credentials = credentials

    def load(self) -> CredentialsProvider:
        return self._credentials


@dataclass(frozen=True, eq=False)
class S3Settings:
    """Credentials and endpoint (``endpoint_url`` reaches moto or another S3 server; may be plain http).

    Give static keys, or ``credentials``: a provider that may refresh (it wins over the keys).
    ``verify`` is boto's: a bool, or a CA bundle path that pyarrow uses too. Whole-object
    writes use server-side ``encryption`` (``AES256``, or ``aws:kms`` with ``kms_key_id``).
    No secret appears in ``repr()``/``str()`` (so not in a log or a traceback's locals),
    and the settings refuse to be pickled, copied or serialized (XCom).
    """

    access_key: str | None = None
    secret_key: str | None = field(default=None, repr=False)
    session_token: str | None = field(default=None, repr=False)
    region: str | None = None
    endpoint_url: str | None = None
    verify: bool | str | None = None
    credentials: CredentialsProvider | None = field(default=None, repr=False)
    encryption: str = "AES256"
    kms_key_id: str | None = None
    _filesystem: _FilesystemCache = field(default_factory=lambda: _FilesystemCache(), init=False, repr=False)

    def __post_init__(self) -> None:
        if self.encryption not in ENCRYPTIONS:
            raise ValueError(f"encryption must be one of {ENCRYPTIONS}, not {self.encryption!r}")
        if self.kms_key_id and self.encryption != "aws:kms":
            raise ValueError("kms_key_id needs encryption='aws:kms'")

    def __reduce__(self) -> NoReturn:
        raise TypeError("S3Settings holds credentials: it is not pickled or copied; build it where it is used")

    def serialize(self) -> NoReturn:
        """Airflow's serializer (XCom) calls this before falling back to the dataclass fields."""
        raise TypeError("S3Settings holds credentials: it is never serialized")

    @property
    def has_credentials(self) -> bool:
        return self.credentials is not None or bool(self.access_key and self.secret_key)

    @cached_property
    def _provider(self) -> CredentialsProvider | None:
        if self.credentials is not None:
            return self.credentials
        if self.access_key and self.secret_key:
            return Credentials(self.access_key, self.secret_key, self.session_token)
        return None

    def put_arguments(self) -> dict[str, str]:
        """The server-side encryption arguments of an S3 PUT."""
        arguments = {"ServerSideEncryption": self.encryption}
        if self.kms_key_id:
            arguments["SSEKMSKeyId"] = self.kms_key_id
        return arguments

    def filesystem(self) -> pafs.S3FileSystem:
        """pyarrow's native S3 filesystem (ranged reads, streaming), built with the current credentials."""
        if self._provider is None:
            raise ValueError("no S3 credentials were given")
        return self._filesystem.get(self._provider.get_frozen_credentials(), self._filesystem_options)

    def _filesystem_options(self, frozen: ReadOnlyCredentials) -> dict[str, Any]:
        options: dict[str, Any] = {
            "access_key": frozen.access_key,
            "secret_key": frozen.secret_key,
            "session_token": frozen.token,
            "region": self.region or DEFAULT_REGION,
        }
        if self.endpoint_url:
            endpoint = urlsplit(self.endpoint_url)
            options["scheme"] = endpoint.scheme or "https"
            options["endpoint_override"] = endpoint.netloc or endpoint.path
        if isinstance(self.verify, str):
            options["tls_ca_file_path"] = self.verify
        return options

    @cached_property
    def client(self) -> Any:
        """A boto3 S3 client that signs each request with the provider's current credentials."""
        import boto3
        import botocore.session

        session = botocore.session.Session()
        session.register_component("credential_provider", CredentialResolver([_GivenCredentials(self._provider)]))
        return boto3.Session(botocore_session=session).client(
            "s3",
            region_name=self.region or DEFAULT_REGION,
            endpoint_url=self.endpoint_url,
            verify=self.verify,
        )


class _FilesystemCache:
    """The last S3 filesystem and the credentials it was built with; rebuilt when they change."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._built_with: ReadOnlyCredentials | None = None
        self._filesystem: pafs.S3FileSystem | None = None

    def get(self, frozen: ReadOnlyCredentials, options: Any) -> pafs.S3FileSystem:
        with self._lock:
            if self._filesystem is None or tuple(frozen) != self._built_with:
                self._filesystem = pafs.S3FileSystem(**options(frozen))
                self._built_with = tuple(frozen)
            return self._filesystem
