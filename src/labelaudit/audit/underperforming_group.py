"""The ``underperforming_group`` check: regions of feature space where labels fit badly.

Groups are the connected components of the mutual neighbour graph (an edge joins two examples
when each is among the other's ``k`` nearest neighbours) with at least ``min_group_size``
members; an example in a smaller component then joins the group most of its own neighbours
belong to (the lowest group id on a tie), if any. A group's quality is the mean label
quality score (:func:`labelaudit.get_label_quality_scores`) of its members divided by the mean
over the whole dataset. Every member of a group whose ratio is below ``threshold`` is flagged;
a member's score is its group's ratio capped at 1 (1 outside any group).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from labelaudit._validate import check_threshold
from labelaudit.audit._base import Check, CheckResult, register_check
from labelaudit.audit._inputs import AuditInputs
from labelaudit.audit._knn import KnnGraph
from labelaudit.audit._rows import RowFunction, label_scores


def mutual_groups(graph: KnnGraph, min_group_size: int) -> np.ndarray:
    """Group id of every example (lowest member row of its component), ``-1`` for none.

    >>> from labelaudit.audit._knn import build_knn_graph
    >>> g = build_knn_graph(np.array([[0.0], [0.1], [0.25], [9.0], [9.1], [np.nan]]), 1)
    >>> mutual_groups(g, 2)
    array([ 0,  0,  0,  3,  3, -1])
    """
    n = graph.num_examples
    source = np.repeat(graph.rows, graph.k)
    target = graph.indices.ravel()
    edges = sparse.coo_matrix(
        (np.ones(len(source), dtype=np.int8), (source, target)), shape=(n, n)
    ).tocsr()
    edges.sum_duplicates()
    mutual = edges.multiply(edges.T)
    _, component = connected_components(mutual, directed=False)
    sizes = np.bincount(component)
    first = np.full(len(sizes), n, dtype=np.int64)
    np.minimum.at(first, component, np.arange(n))
    group = np.where(sizes[component] >= min_group_size, first[component], -1)
    outside = np.flatnonzero(group[graph.rows] < 0)
    voter = np.repeat(outside, graph.k)
    vote = group[graph.indices[outside]].ravel()
    counted = vote >= 0  # neighbours outside every group do not vote
    votes = (
        sparse.coo_matrix(
            (np.ones(int(counted.sum())), (voter[counted], vote[counted])),
            shape=(len(graph.rows), n),
        )
        .tocsr()
        .tocoo()
    )  # one entry per (voter, group) with its count
    order = np.lexsort((votes.col, -votes.data, votes.row))
    voters = votes.row[order]
    best = order[np.r_[True, voters[1:] != voters[:-1]]] if len(order) else order
    group[graph.rows[votes.row[best]]] = votes.col[best]
    return group


@register_check
class UnderperformingGroupCheck(Check):
    """Groups of neighbours whose label quality is far below the dataset's.

    Parameters: ``threshold`` (default 0.5), ``min_group_size`` (default ``None``: the larger
    of 20 and n / 1000). Extra columns: ``underperforming_group`` (group id, -1 if none) and
    ``underperforming_group_quality`` (the group's mean label quality).
    """

    name = "underperforming_group"
    needs = (("labels",), ("pred_probs",), ("neighbors",))
    params: ClassVar[dict[str, Any]] = {"threshold": 0.5, "min_group_size": None}

    def reads(
        self, inputs: AuditInputs, *, threshold: float, min_group_size: int | None
    ) -> dict[str, RowFunction]:
        return label_scores(inputs.labels.codes, "self_confidence")

    def run(
        self, inputs: AuditInputs, *, threshold: float, min_group_size: int | None
    ) -> CheckResult:
        threshold = check_threshold(threshold)
        n = inputs.num_examples
        if min_group_size is None:
            min_group_size = max(20, n // 1000)
        if (
            isinstance(min_group_size, bool)
            or not isinstance(min_group_size, (int, np.integer))
            or min_group_size < 2
        ):
            raise ValueError(
                f"min_group_size={min_group_size!r} is not valid; use an integer >= 2 or None."
            )
        graph = inputs.graph
        read = self.reads(inputs, threshold=threshold, min_group_size=min_group_size)
        (quality,) = inputs.row_values(read).values()
        quality = quality.astype(np.float64)
        overall = float(quality.mean())
        group = mutual_groups(graph, int(min_group_size))
        in_group = group >= 0
        ids, inverse = np.unique(group[in_group], return_inverse=True)
        group_quality = np.full(n, np.nan)
        ratio = np.ones(n)
        if len(ids):
            means = np.bincount(inverse, weights=quality[in_group]) / np.bincount(inverse)
            group_quality[in_group] = means[inverse]
            ratio[in_group] = means[inverse] / overall if overall > 0 else 1.0
        score = np.minimum(ratio, 1.0)
        score[~graph.covered()] = np.nan
        is_issue = np.nan_to_num(score, nan=1.0) < threshold
        bad = np.unique(group[is_issue])
        notes = graph.notes(
            f"{len(ids)} groups of at least {min_group_size}; {len(bad)} underperforming."
        )
        return CheckResult(
            is_issue=is_issue,
            score=score,
            columns={
                "underperforming_group": group,
                "underperforming_group_quality": group_quality,
            },
            summary_score=float(np.nanmin(score)) if np.isfinite(score).any() else 1.0,
            info={
                "num_groups": len(ids),
                "underperforming_groups": bad.tolist(),
                "overall_quality": overall,
            },
            notes=notes,
        )
