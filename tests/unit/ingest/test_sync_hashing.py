"""Key hashes and mapping fingerprints: the halves, the empty input, phone numbers, and what a fingerprint names."""

from __future__ import annotations

import hashlib

import numpy as np

from airflow_provider_customerprofiles.ingest.keys import grouping_key
from airflow_provider_customerprofiles.ingest.sync.hashing import (
    SCHEME,
    KeyHasher,
    grouping_forms,
    mapping_fingerprint,
)

SALT = bytes(range(32))


def test_a_key_hash_is_the_keyed_blake2b_of_its_grouping_form_in_two_big_endian_halves():
    keys = ["Ann@Example.com", "+1 555 010 2030", "Ärger"]
    high, low = KeyHasher(SALT).hash_keys(keys)
    for key, h1, h2 in zip(keys, high.tolist(), low.tolist(), strict=True):
        digest = hashlib.blake2b(grouping_key(key).encode(), key=SALT, digest_size=16).digest()
        assert (h1, h2) == (int.from_bytes(digest[:8], "big"), int.from_bytes(digest[8:], "big"))
    assert high.dtype == low.dtype == np.uint64 and high.shape == low.shape == (3,)


def test_another_salt_gives_other_hashes():
    one, other = KeyHasher(SALT).hash_keys(["a"]), KeyHasher(SALT[::-1]).hash_keys(["a"])
    assert one[0][0] != other[0][0] and one[1][0] != other[1][0]


def test_no_keys_hash_to_empty_uint64_halves():
    high, low = KeyHasher(SALT).hash_keys([])
    assert (high.dtype, low.dtype, len(high), len(low)) == (np.uint64, np.uint64, 0, 0)


def test_an_eleven_digit_number_with_a_leading_one_groups_with_its_ten_digits():
    ascii_only = ["+1 (555) 010-2030", "5550102030", "15550102030", "25550102030", "1555010203"]
    assert grouping_forms(ascii_only).to_pylist() == [
        b"5550102030",
        b"5550102030",
        b"5550102030",
        b"25550102030",
        b"1555010203",
    ]
    mixed = [*ascii_only, "Ä"]
    assert grouping_forms(mixed).to_pylist() == [grouping_key(key).encode() for key in mixed]


def test_no_keys_have_no_grouping_forms():
    assert grouping_forms([]).to_pylist() == []


def test_a_mapping_fingerprint_names_the_scheme_and_every_part():
    fingerprint = mapping_fingerprint("PROFILE", ("id", "Id"), False)
    assert fingerprint == mapping_fingerprint("PROFILE", ("id", "Id"), False)
    assert len(fingerprint) == 64 and int(fingerprint, 16) >= 0
    others = {
        mapping_fingerprint("PROFILE", ("id", "Id"), True),
        mapping_fingerprint("Orders", ("id", "Id"), False),
        mapping_fingerprint("PROFILE", ("id", "Other"), False),
        mapping_fingerprint("PROFILE", ("id", "Id")),
    }
    assert fingerprint not in others and len(others) == 4
    # Stable across releases: a new formula would count every row of every existing state as changed.
    assert fingerprint == hashlib.sha256(repr((SCHEME, "PROFILE", ("id", "Id"), False)).encode()).hexdigest()
