"""
What the state stores instead of keys and objects: a keyed hash of the key, a fingerprint of the object.

The key hash is HMAC-SHA256 under the state's own random salt, of the key's grouping
form (:func:`~airflow_provider_customerprofiles.ingest.keys.grouping_key`, so values
the service treats as one key are one entry), cut to 128 bits and kept as two uint64.
Without the salt, a hash of an email cannot be tested against a list of emails.
The fingerprint is the first 64 bits of BLAKE2b of the object JSON exactly as sent.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

import numpy as np

from airflow_provider_customerprofiles.ingest.keys import grouping_key


class KeyHasher:
    def __init__(self, salt: bytes) -> None:
        self._salt = salt

    def hash_keys(self, keys: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(high, low) uint64 halves of each key's 128-bit keyed hash."""
        salt = self._salt
        digests = b"".join(hmac.digest(salt, grouping_key(key).encode(), "sha256")[:16] for key in keys)
        halves = np.frombuffer(digests, dtype=">u8").astype(np.uint64).reshape(-1, 2)
        return halves[:, 0].copy(), halves[:, 1].copy()


def fingerprints(objects: Sequence[str]) -> np.ndarray:
    """A uint64 fingerprint of each object's JSON."""
    digests = b"".join(hashlib.blake2b(obj.encode(), digest_size=8).digest() for obj in objects)
    return np.frombuffer(digests, dtype=">u8").astype(np.uint64)


def mapping_fingerprint(*parts: object) -> str:
    """Names what the fingerprints were computed under (target, column mapping, null handling)."""
    return hashlib.sha256(repr(parts).encode()).hexdigest()
