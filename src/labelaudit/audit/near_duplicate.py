"""The ``near_duplicate`` check: sets of examples that are (almost) the same.

Two kinds of evidence, chosen by ``method``:

* ``"features"``: two examples are near duplicates when one is among the other's ``k`` nearest
  neighbours at a distance of at most ``threshold`` times the typical (median) nearest-neighbour
  distance. The score is the distance to the nearest neighbour over the typical one, capped at 1,
  so an example is flagged exactly when its score is at most ``threshold``.
* ``"hashes"`` (images): two images are near duplicates when their 64-bit perceptual hashes
  (:data:`labelaudit.io.images.MEASUREMENTS`) differ in at most ``hash_distance`` bits (0: the
  same picture at 32 x 32, which survives resizing, recompression and changes of brightness). The
  pairs are found without comparing every pair: hashes within ``d`` bits agree exactly on one of
  ``d + 1`` disjoint blocks of bits, so only images sharing a block are compared. The score is the
  Hamming distance to the nearest near duplicate over 64, 1 for an image without one.

``"auto"`` uses hashes when the audit has images, else features. The sets are the connected
groups of near-duplicate pairs, identified by their lowest row number. A set whose members carry
different labels is a label conflict, the strongest sign that one of them is wrong.
"""

from __future__ import annotations

import itertools
from typing import Any, ClassVar

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from labelaudit._validate import check_choice, check_threshold
from labelaudit.audit._base import Check, CheckResult, register_check
from labelaudit.audit._inputs import AuditInputs

METHODS = ("auto", "features", "hashes")
HASH_BITS = 64


def sets_from_pairs(source: np.ndarray, target: np.ndarray, num_examples: int) -> np.ndarray:
    """Set id (lowest member row) of every example joined by the pairs ``source[i]``-``target[i]``,
    ``-1`` for examples in no pair.

    >>> sets_from_pairs(np.array([3, 1]), np.array([1, 4]), 6).tolist()
    [-1, 1, -1, 1, 1, -1]
    """
    pairs = sparse.coo_matrix(
        (np.ones(len(source), dtype=np.int8), (source, target)), shape=(num_examples, num_examples)
    )
    _, component = connected_components(pairs, directed=True, connection="weak")
    in_set = np.zeros(num_examples, dtype=bool)
    in_set[source] = in_set[target] = True
    first = np.full(num_examples, num_examples, dtype=np.int64)
    np.minimum.at(first, component, np.arange(num_examples))
    return np.where(in_set, first[component], -1)


def near_duplicate_sets(
    rows: np.ndarray, indices: np.ndarray, distances: np.ndarray, radius: float, num_examples: int
) -> np.ndarray:
    """Set id of every example from a neighbour graph: pairs at most ``radius`` apart.

    >>> near_duplicate_sets(np.array([0, 1, 2]), np.array([[1], [0], [1]]),
    ...                     np.array([[0.0], [0.0], [3.0]]), 0.5, 4)
    array([ 0,  0, -1, -1])
    """
    close = distances <= radius
    return sets_from_pairs(np.repeat(rows, indices.shape[1])[close.ravel()], indices[close], num_examples)


def conflicting_labels(set_id: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Whether each example is in a set whose members do not all carry the same label.

    >>> conflicting_labels(np.array([0, 0, 2, 2, -1]), np.array([1, 1, 0, 1, 0])).tolist()
    [False, False, True, True, False]
    """
    members = np.flatnonzero(set_id >= 0)
    if not len(members):
        return np.zeros(len(set_id), dtype=bool)
    sets, labels = set_id[members], codes[members]
    order = np.lexsort((labels, sets))
    sets, labels = sets[order], labels[order]
    starts = np.flatnonzero(np.r_[True, sets[1:] != sets[:-1]])
    mixed = sets[starts][np.minimum.reduceat(labels, starts) != np.maximum.reduceat(labels, starts)]
    return np.isin(set_id, mixed) & (set_id >= 0)


def bit_count(values: np.ndarray) -> np.ndarray:
    """Number of set bits of each uint64.

    >>> bit_count(np.array([0, 1, 255, 2**63], dtype=np.uint64)).tolist()
    [0, 1, 8, 1]
    """
    if hasattr(np, "bitwise_count"):  # numpy >= 2
        return np.bitwise_count(values).astype(np.int64)
    as_bytes = np.ascontiguousarray(values, dtype=np.uint64).view(np.uint8).reshape(-1, 8)
    return np.unpackbits(as_bytes, axis=1).sum(axis=1, dtype=np.int64)


def hash_pairs(hashes: np.ndarray, max_distance: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every pair ``(i, j)``, ``i < j``, of 64-bit hashes at most ``max_distance`` bits apart,
    with that distance (copies of one hash are chained to its first row, distance 0).

    >>> h = np.array([0b1111, 0b0111, 0b1111, 0b11110000], dtype=np.uint64)
    >>> [a.tolist() for a in hash_pairs(h, 1)]
    [[0, 0], [2, 1], [0, 1]]
    """
    unique, first, inverse = np.unique(hashes, return_index=True, return_inverse=True)
    inverse = inverse.ravel()
    copies = np.flatnonzero(first[inverse] != np.arange(len(hashes)))
    sources, targets = [first[inverse[copies]]], [copies]
    found: set[tuple[int, int]] = set()
    blocks = max_distance + 1
    edges = np.linspace(0, HASH_BITS, blocks + 1).astype(np.uint64)
    if max_distance > 0:
        for low, high in itertools.pairwise(edges):
            key = (unique >> low) & np.uint64((1 << int(high - low)) - 1)
            order = np.argsort(key, kind="stable")
            key = key[order]
            starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
            ends = np.r_[starts[1:], len(key)]
            for start, end in zip(starts[ends - starts > 1], ends[ends - starts > 1]):
                group = order[start:end]
                a, b = np.triu_indices(len(group), 1)
                close = bit_count(unique[group[a]] ^ unique[group[b]]) <= max_distance
                found.update(zip(group[a][close].tolist(), group[b][close].tolist()))
    if found:
        a, b = np.array(sorted(found)).T
        sources.append(first[a])
        targets.append(first[b])
    rows = np.concatenate(sources), np.concatenate(targets)
    source, target = np.minimum(*rows), np.maximum(*rows)
    return source, target, bit_count(hashes[source] ^ hashes[target])


@register_check
class NearDuplicateCheck(Check):
    """Near-duplicate sets, with label conflicts called out (see the module).

    Parameters: ``method`` ("auto", "features" or "hashes"), ``threshold`` (features: default
    0.05 of the median nearest-neighbour distance) and ``hash_distance`` (hashes: default 0 bits).
    Extra columns: ``near_duplicate_set`` (lowest row of the set, -1 if none),
    ``near_duplicate_distance`` (features: to the nearest neighbour; hashes: bits to the nearest
    near duplicate, NaN without one) and ``near_duplicate_label_conflict``.
    """

    name = "near_duplicate"
    needs = (("neighbors", "images"),)
    params: ClassVar[dict[str, Any]] = {"threshold": 0.05, "method": "auto", "hash_distance": 0}

    def run(
        self, inputs: AuditInputs, *, threshold: float, method: str, hash_distance: int
    ) -> CheckResult:
        threshold = check_threshold(threshold)
        check_choice("issue_types['near_duplicate']['method']", method, METHODS)
        if isinstance(hash_distance, bool) or not isinstance(hash_distance, (int, np.integer)) or not (
            0 <= hash_distance <= 16
        ):
            raise ValueError(
                f"hash_distance={hash_distance!r} is not valid; use a whole number of bits in 0..16 "
                "(0: identical perceptual hashes)."
            )
        available = inputs.available()
        if method == "auto":
            method = "hashes" if "images" in available else "features"
        needed = {"features": ("neighbors", "features or knn_graph"), "hashes": ("images", "images")}
        if needed[method][0] not in available:
            raise ValueError(
                f"near_duplicate with method={method!r} needs {needed[method][1]}; pass it to Audit.run."
            )
        if method == "hashes":
            set_id, distance, score, info = self._by_hashes(inputs, int(hash_distance))
        else:
            set_id, distance, score, info = self._by_features(inputs, threshold)
        is_issue = set_id >= 0
        conflict = np.zeros(inputs.num_examples, dtype=bool)
        if inputs.labels is not None:
            conflict = conflicting_labels(set_id, inputs.labels.codes)
        num_sets = len(np.unique(set_id[is_issue]))
        num_conflicting = len(np.unique(set_id[conflict]))
        exact_conflicts = len(np.unique(set_id[conflict & (distance == 0)]))
        found = (
            f"{num_sets} sets; {num_conflicting} with conflicting labels"
            f" ({exact_conflicts} of them exact copies)."
        )
        return CheckResult(
            is_issue=is_issue,
            score=score,
            columns={
                "near_duplicate_set": set_id,
                "near_duplicate_distance": distance,
                "near_duplicate_label_conflict": conflict,
            },
            summary_score=1.0 - float(is_issue.mean()),
            info={
                "method": method,
                **info,
                "num_sets": num_sets,
                "num_conflicting_sets": num_conflicting,
                "num_exact_conflicting_sets": exact_conflicts,
            },
            notes=inputs.graph.notes(found) if method == "features" else [found],
        )

    @staticmethod
    def _by_features(inputs: AuditInputs, threshold: float) -> tuple[Any, ...]:
        graph = inputs.graph
        n = inputs.num_examples
        nearest = graph.distances[:, 0]
        typical = float(np.median(nearest))
        if typical == 0:
            positive = graph.distances[graph.distances > 0]
            typical = float(np.median(positive)) if positive.size else 1.0
        radius = threshold * typical
        set_id = near_duplicate_sets(graph.rows, graph.indices, graph.distances, radius, n)
        distance = np.full(n, np.nan)
        distance[graph.rows] = nearest
        info = {"radius": radius, "typical_distance": typical}
        return set_id, distance, np.minimum(distance / typical, 1.0), info

    @staticmethod
    def _by_hashes(inputs: AuditInputs, hash_distance: int) -> tuple[Any, ...]:
        measurements = inputs.images
        n = inputs.num_examples
        measured = measurements["perceptual_hash"].notna().to_numpy()
        readable = np.flatnonzero(measured)
        hashes = measurements["perceptual_hash"].to_numpy()[readable].astype(np.uint64)
        source, target, bits = hash_pairs(hashes, hash_distance)
        source, target = readable[source], readable[target]
        set_id = sets_from_pairs(source, target, n)
        distance = np.full(n, np.inf)
        np.minimum.at(distance, source, bits)
        np.minimum.at(distance, target, bits)
        distance[np.isinf(distance)] = np.nan
        score = np.where(np.isnan(distance), 1.0, distance / HASH_BITS)
        score[~measured] = np.nan
        return set_id, distance, score, {"hash_distance": hash_distance}
