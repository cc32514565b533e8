"""The ``near_duplicate`` check: sets of examples (almost) identical in feature space.

Two examples are near duplicates when one is among the other's ``k`` nearest neighbours at a
distance of at most ``threshold`` times the typical (median) nearest-neighbour distance; the
sets are the connected groups of such pairs, identified by their lowest row number. A set whose
members carry different labels is a label conflict, the strongest sign that one of them is
wrong; sets of exact copies (distance 0) with conflicting labels are counted separately.

The score is the distance to the nearest neighbour divided by the typical one, capped at 1, so
an example is flagged exactly when its score is at most ``threshold``.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from labelaudit._validate import check_threshold
from labelaudit.audit._base import Check, CheckResult, register_check
from labelaudit.audit._inputs import AuditInputs


def near_duplicate_sets(
    rows: np.ndarray, indices: np.ndarray, distances: np.ndarray, radius: float, num_examples: int
) -> np.ndarray:
    """Set id (lowest member row) of every example, ``-1`` for examples in no set.

    >>> near_duplicate_sets(np.array([0, 1, 2]), np.array([[1], [0], [1]]),
    ...                     np.array([[0.0], [0.0], [3.0]]), 0.5, 4)
    array([ 0,  0, -1, -1])
    """
    close = distances <= radius
    source = np.repeat(rows, indices.shape[1])[close.ravel()]
    target = indices[close]
    pairs = sparse.coo_matrix(
        (np.ones(len(source), dtype=np.int8), (source, target)), shape=(num_examples, num_examples)
    )
    _, component = connected_components(pairs, directed=True, connection="weak")
    in_set = np.zeros(num_examples, dtype=bool)
    in_set[source] = in_set[target] = True
    first = np.full(num_examples, num_examples, dtype=np.int64)
    np.minimum.at(first, component, np.arange(num_examples))
    return np.where(in_set, first[component], -1)


@register_check
class NearDuplicateCheck(Check):
    """Near-duplicate sets, with label conflicts called out.

    Parameters: ``threshold`` (default 0.05, relative to the median nearest-neighbour
    distance). Extra columns: ``near_duplicate_set`` (lowest row of the set, -1 if none),
    ``near_duplicate_distance`` (to the nearest neighbour) and ``near_duplicate_label_conflict``.
    """

    name = "near_duplicate"
    needs = (("neighbors",),)
    params: ClassVar[dict[str, Any]] = {"threshold": 0.05}

    def run(self, inputs: AuditInputs, *, threshold: float) -> CheckResult:
        threshold = check_threshold(threshold)
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
        score = np.minimum(distance / typical, 1.0)
        is_issue = set_id >= 0
        conflict = np.zeros(n, dtype=bool)
        exact_conflicts = 0
        if inputs.labels is not None and is_issue.any():
            members = np.flatnonzero(is_issue)
            codes = inputs.labels.codes[members]
            sets = set_id[members]
            order = np.lexsort((codes, sets))
            sets, codes = sets[order], codes[order]
            boundaries = np.r_[True, sets[1:] != sets[:-1]]
            low = np.minimum.reduceat(codes, np.flatnonzero(boundaries))
            high = np.maximum.reduceat(codes, np.flatnonzero(boundaries))
            conflicting_sets = sets[boundaries][low != high]
            conflict = np.isin(set_id, conflicting_sets) & is_issue
            exact = np.isin(set_id, conflicting_sets) & (distance == 0)
            exact_conflicts = len(np.unique(set_id[exact]))
        num_sets = len(np.unique(set_id[is_issue]))
        notes = graph.notes(
            f"{num_sets} sets; {len(np.unique(set_id[conflict]))} with conflicting labels"
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
                "radius": radius,
                "typical_distance": typical,
                "num_sets": num_sets,
                "num_conflicting_sets": len(np.unique(set_id[conflict])),
                "num_exact_conflicting_sets": int(exact_conflicts),
            },
            notes=notes,
        )
