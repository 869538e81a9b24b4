"""
The comparisons, on one bucket at a time, as numpy array operations.

Rows are (h1, h2) key-hash halves, a fingerprint ``fp`` and a rank ``order`` (file
number << 40 | row number; the commit adds a run number << 56). A *group* is the rows
of one key in its grouping form (``keys.grouping_key``, broader than any normalisation
the service applies): the service ends with the group's last row only if the whole
group is sent in order. So the state holds one fingerprint per group: the row's own
for a group of one row, a hash of the rows' fingerprints in order for a larger group;
a group is unchanged when that fingerprint equals the state's, and a changed group
sends all its rows.
"""

from __future__ import annotations

import hashlib

import numpy as np

ROW_BITS = 40
RUN_SHIFT = 56


def rank(file_number: int | np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Each row's place in the input: its file number (one, or one per row) above its row number."""
    return (np.asarray(file_number, dtype=np.int64) << np.int64(ROW_BITS)) | rows.astype(np.int64)


def _starts(h1: np.ndarray, h2: np.ndarray) -> np.ndarray:
    """For arrays sorted by key: True where a new key starts."""
    starts = np.ones(len(h1), dtype=bool)
    starts[1:] = (h1[1:] != h1[:-1]) | (h2[1:] != h2[:-1])
    return starts


def _sorted(rows: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Rows sorted by (key, rank), each row's group number, and each group's first position."""
    by_key = np.lexsort((rows["order"], rows["h2"], rows["h1"]))
    ordered = {name: values[by_key] for name, values in rows.items()}
    starts = _starts(ordered["h1"], ordered["h2"])
    return ordered, np.cumsum(starts) - 1, np.flatnonzero(starts)


def group_fingerprints(ordered: dict[str, np.ndarray], first: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each group's fingerprint and row count (rows sorted as by :func:`_sorted`)."""
    sizes = np.diff(np.append(first, len(ordered["fp"])))
    combined = ordered["fp"][first].copy()
    for g in np.flatnonzero(sizes > 1):  # repeated keys: rare
        row_fps = ordered["fp"][first[g] : first[g] + sizes[g]].astype("<u8").tobytes()
        combined[g] = np.frombuffer(hashlib.blake2b(row_fps, digest_size=8).digest(), dtype="<u8")[0]
    return combined, sizes


def _state_equal(state: dict[str, np.ndarray], h1: np.ndarray, h2: np.ndarray, fp: np.ndarray) -> np.ndarray:
    """For each (h1, h2, fp) (unique keys): whether the state holds that key with that fingerprint."""
    n_state = len(state["h1"])
    k1, k2 = np.concatenate([state["h1"], h1]), np.concatenate([state["h2"], h2])
    f = np.concatenate([state["fp"], fp])
    tag = np.concatenate([np.zeros(n_state, dtype=np.int8), np.ones(len(h1), dtype=np.int8)])
    merged = np.lexsort((tag, k2, k1))
    k1, k2, f, tag = k1[merged], k2[merged], f[merged], tag[merged]
    equal = np.zeros(len(k1), dtype=bool)
    equal[1:] = (k1[1:] == k1[:-1]) & (k2[1:] == k2[:-1]) & (tag[:-1] == 0) & (f[1:] == f[:-1])
    result = np.empty(len(h1), dtype=bool)
    result[merged[tag == 1] - n_state] = equal[tag == 1]
    return result


def compare(snap: dict[str, np.ndarray], state: dict[str, np.ndarray]) -> tuple[np.ndarray, dict[int, tuple[int, int]]]:
    """
    The ranks of rows to leave unsent (their group is unchanged), and for each row of a
    changed group of several rows, rank -> (group fingerprint, group size), which the
    loader stages in place of the row's own when the service accepts the row.
    """
    if len(snap["h1"]) == 0:
        return np.empty(0, dtype=np.int64), {}
    ordered, group, first = _sorted(snap)
    combined, sizes = group_fingerprints(ordered, first)
    unchanged = _state_equal(state, ordered["h1"][first], ordered["h2"][first], combined)
    in_changed_groups = {}
    for g in np.flatnonzero(~unchanged & (sizes > 1)):
        for order in ordered["order"][first[g] : first[g] + sizes[g]]:
            in_changed_groups[int(order)] = (int(combined[g]), int(sizes[g]))
    return ordered["order"][unchanged[group]], in_changed_groups


def fold(state: dict[str, np.ndarray], accepted: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """
    The state after ``accepted`` rows (h1, h2, fp = the group fingerprint, order, size),
    sorted by key. A group's fingerprint enters the state only when every row of the
    group was accepted in one run (the latest for that key); otherwise the state keeps
    what it had, so the group counts as changed next time and is sent again.
    """
    if len(accepted["h1"]):
        ordered, group, first = _sorted(accepted)
        last = np.append(first[1:], len(group)) - 1
        run = ordered["order"] >> np.int64(RUN_SHIFT)
        in_last_run = run == run[last][group]
        complete = np.bincount(group, weights=in_last_run, minlength=len(first)) == ordered["size"][last]
        update = {name: ordered[name][last][complete] for name in ("h1", "h2", "fp")}
    else:
        update = {name: accepted[name] for name in ("h1", "h2", "fp")}
    n_state = len(state["h1"])
    k1, k2 = np.concatenate([state["h1"], update["h1"]]), np.concatenate([state["h2"], update["h2"]])
    f = np.concatenate([state["fp"], update["fp"]])
    tag = np.concatenate([np.zeros(n_state, dtype=np.int8), np.ones(len(update["h1"]), dtype=np.int8)])
    merged = np.lexsort((tag, k2, k1))
    k1, k2, f = k1[merged], k2[merged], f[merged]
    keep = np.append(_starts(k1, k2)[1:], True) if len(k1) else np.empty(0, dtype=bool)
    return {"h1": k1[keep], "h2": k2[keep], "fp": f[keep]}
