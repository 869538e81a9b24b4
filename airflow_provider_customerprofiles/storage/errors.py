"""
One error vocabulary for every file the provider reads or writes.

Messages name the URI and, when known, the argument it came from (``dead_letter_uri``,
``audit_uri`` ...) plus the storage's reason (an error code or class), never file contents.
"""

from __future__ import annotations


class StorageError(Exception):
    """A location cannot be read or written; ``reason`` is the storage's short answer (an error code)."""

    def __init__(self, uri: str, argument: str | None, reason: str, action: str | None = None) -> None:
        self.uri = uri
        self.argument = argument
        self.reason = reason
        self.action = action
        where = f"{uri} ({argument})" if argument else uri
        super().__init__(f"{where}: cannot {action}: {reason}" if action else f"{where}: {reason}")


class UnsupportedLocationError(StorageError, ValueError):
    """The URI is not a local path, ``file://``, ``s3://`` or ``s3a://`` location."""


class MissingSettingsError(StorageError):
    """An ``s3://`` location without S3 settings or credentials."""


class LocationNotFoundError(StorageError):
    """The object, file, bucket or directory does not exist."""


class AccessDeniedError(StorageError):
    """The credentials may not read or write the location."""
