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
from itertools import pairwise

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from airflow_provider_customerprofiles.ingest.keys import NATIONAL_NUMBER, grouping_key

# Part of every mapping fingerprint: a state whose hashes were computed another way counts
# every row as changed once (and is rebuilt) instead of missing changes. Change it with
# the key hash, the row bytes of .rows, or the encoder's JSON for the same values.
SCHEME = "blake2b-keys/arrow-netstring-rows/2"


def keyed_digests(messages: Iterable[bytes | memoryview], key: bytes, size: int) -> np.ndarray:
    """Keyed BLAKE2b of each message as big-endian uint64s (``size`` 8: one per message, 16: two)."""
    base = hashlib.blake2b(digest_size=size, key=key)  # keying costs a block: done once, then copied
    digests = []
    for message in messages:
        one = base.copy()
        one.update(message)
        digests.append(one.digest())
    return np.frombuffer(b"".join(digests), dtype=">u8").astype(np.uint64)


def binary_digests(values: pa.Array, key: bytes, size: int) -> np.ndarray:
    """:func:`keyed_digests` of each value of a large_binary array (no nulls), read from its buffers."""
    _, offsets_buffer, data_buffer = values.buffers()
    offsets = np.frombuffer(offsets_buffer, dtype=np.int64)[values.offset : values.offset + len(values) + 1]
    data = memoryview(data_buffer) if data_buffer is not None else memoryview(b"")
    return keyed_digests((data[lo:hi] for lo, hi in pairwise(offsets.tolist())), key, size)


def grouping_forms(keys: Sequence[str]) -> pa.Array:
    """
    ``keys.grouping_key`` of each key, as large_binary. ASCII keys, the usual case, by Arrow
    kernels: NFKC leaves ASCII as it is, casefolding it is lower-casing, and its letters and
    digits are a-z and 0-9. Any other key goes through ``grouping_key`` itself.
    """
    values = pa.array(keys, pa.string())
    forms = pc.replace_substring_regex(pc.ascii_lower(values), "[^a-z0-9]+", "")
    forms = pc.replace_substring_regex(forms, NATIONAL_NUMBER.pattern, r"\1")
    is_ascii = pc.string_is_ascii(values)
    if not pc.all(is_ascii).as_py():
        plain = is_ascii.to_pylist()
        forms = pa.array(
            [form if ok else grouping_key(key) for key, form, ok in zip(keys, forms.to_pylist(), plain, strict=True)]
        )
    return forms.cast(pa.large_binary())


class KeyHasher:
    def __init__(self, salt: bytes) -> None:
        self._salt = salt

    def hash_keys(self, keys: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(high, low) uint64 halves of each key's 128-bit keyed hash."""
        if not keys:
            return np.empty(0, dtype=np.uint64), np.empty(0, dtype=np.uint64)
        halves = binary_digests(grouping_forms(keys), self._salt, 16).reshape(-1, 2)
        return halves[:, 0].copy(), halves[:, 1].copy()


def mapping_fingerprint(*parts: object) -> str:
    """Names what the fingerprints were computed under (hash scheme, target, column mapping, null handling)."""
    return hashlib.sha256(repr((SCHEME, *parts)).encode()).hexdigest()
