"""The bucket kernels on hand-made rows: which keys are one group, a group's fingerprint, what the fold keeps."""

from __future__ import annotations

import hashlib

import numpy as np

from airflow_provider_customerprofiles.ingest.sync import kernels


def rows(h1: list[int], h2: list[int], fp: list[int], order: list[int], **more: list[int]) -> dict[str, np.ndarray]:
    columns = {"h1": np.array(h1, np.uint64), "h2": np.array(h2, np.uint64), "fp": np.array(fp, np.uint64)}
    return {
        **columns,
        "order": np.array(order, np.int64),
        **{name: np.array(values, np.int64) for name, values in more.items()},
    }


EMPTY_STATE = {name: np.empty(0, np.uint64) for name in ("h1", "h2", "fp")}


def test_keys_that_share_the_high_half_of_their_hash_are_two_keys():
    snapshot = rows(h1=[7, 7], h2=[1, 2], fp=[10, 20], order=[0, 1])
    state = {"h1": np.array([7], np.uint64), "h2": np.array([1], np.uint64), "fp": np.array([10], np.uint64)}
    unchanged, groups = kernels.compare(snapshot, state)
    assert (unchanged.tolist(), groups) == ([0], {})


def test_a_groups_fingerprint_is_the_blake2b_of_its_rows_fingerprints_in_order():
    # States keep group fingerprints across releases: another formula would count every repeated key as changed.
    snapshot = rows(h1=[1, 1, 2], h2=[1, 1, 2], fp=[11, 22, 33], order=[5, 3, 4])
    _, groups = kernels.compare(snapshot, EMPTY_STATE)
    row_fps = np.array([22, 11], "<u8").tobytes()  # in input order: rank 3 before rank 5
    expected = int.from_bytes(hashlib.blake2b(row_fps, digest_size=8).digest(), "little")
    assert groups == {3: (expected, 2), 5: (expected, 2)}


def test_only_rows_of_changed_repeated_keys_carry_a_group_fingerprint():
    snapshot = rows(h1=[1, 2, 2, 3, 3], h2=[1, 2, 2, 3, 3], fp=[10, 20, 21, 30, 31], order=[0, 1, 2, 3, 4])
    fingerprints, _ = kernels.group_fingerprints(snapshot, first=np.array([0, 1, 3]))  # the rows are in key order
    state = {"h1": np.array([3], np.uint64), "h2": np.array([3], np.uint64), "fp": fingerprints[2:]}
    unchanged, groups = kernels.compare(snapshot, state)
    assert unchanged.tolist() == [3, 4]
    assert groups == {1: (int(fingerprints[1]), 2), 2: (int(fingerprints[1]), 2)}


def test_a_group_accepted_across_two_runs_keeps_the_states_fingerprint():
    # Each run saw one of the key's two rows: neither run sent the whole group in order.
    state = {"h1": np.array([1], np.uint64), "h2": np.array([1], np.uint64), "fp": np.array([99], np.uint64)}
    run = 1 << kernels.RUN_SHIFT
    split = rows(h1=[1, 1], h2=[1, 1], fp=[50, 50], order=[run | 0, 2 * run | 1], size=[2, 2])
    assert kernels.fold(state, split)["fp"].tolist() == [99]
    whole = rows(h1=[1, 1], h2=[1, 1], fp=[50, 50], order=[2 * run | 0, 2 * run | 1], size=[2, 2])
    assert kernels.fold(state, whole)["fp"].tolist() == [50]
