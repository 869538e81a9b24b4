"""
What the state stores instead of keys and objects: a keyed hash of the key, a fingerprint of the object.

The key hash is keyed BLAKE2b under the state's own random salt, of the key's grouping
form (:func:`~airflow_provider_customerprofiles.ingest.keys.grouping_key`, so values
the service treats as one key are one entry), 128 bits kept as two uint64. Without the
salt, a hash of an email cannot be tested against a list of emails. The fingerprint is
64 bits of BLAKE2b of the row's values and types (see :mod:`.rows`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

import numpy as np

from airflow_provider_customerprofiles.ingest.keys import grouping_key

# Part of every mapping fingerprint: a state whose hashes were computed another way counts
# every row as changed once (and is rebuilt) instead of missing changes. Change it with
# the key hash, the row bytes of .rows, or the encoder's JSON for the same values.
SCHEME = "blake2b-keys/arrow-netstring-rows/1"


def keyed_digests(messages: Iterable[bytes | memoryview], key: bytes, size: int) -> np.ndarray:
    """Keyed BLAKE2b of each message as big-endian uint64s (``size`` 8: one per message, 16: two)."""
    base = hashlib.blake2b(digest_size=size, key=key)  # keying costs a block: done once, then copied
    digests = []
    for message in messages:
        one = base.copy()
        one.update(message)
        digests.append(one.digest())
    return np.frombuffer(b"".join(digests), dtype=">u8").astype(np.uint64)


class KeyHasher:
    def __init__(self, salt: bytes) -> None:
        self._salt = salt

    def hash_keys(self, keys: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(high, low) uint64 halves of each key's 128-bit keyed hash."""
        halves = keyed_digests((grouping_key(key).encode() for key in keys), self._salt, 16).reshape(-1, 2)
        return halves[:, 0].copy(), halves[:, 1].copy()


def mapping_fingerprint(*parts: object) -> str:
    """Names what the fingerprints were computed under (hash scheme, target, column mapping, null handling)."""
    return hashlib.sha256(repr((SCHEME, *parts)).encode()).hexdigest()
