"""The ``label`` check: examples whose given label is probably wrong.

With ``pred_probs`` it is confident learning as in :func:`labelaudit.find_label_issues` and
:func:`labelaudit.get_label_quality_scores`. Without them it builds out-of-sample probabilities
from the neighbour graph: each example's probabilities are the label shares of its ``k``
neighbours (itself excluded), with one pseudo-count spread evenly over the classes, and then
applies the same confident learning. Rows without neighbours are left out, and so is every row
when the labels of the rows it covers hold a single class (a note says so).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from labelaudit._kernels import SCORE_METHODS, largest_margin_rows, smallest_per_group
from labelaudit._validate import check_choice, check_two_classes
from labelaudit.audit._base import Check, CheckResult, register_check
from labelaudit.audit._inputs import AuditInputs
from labelaudit.audit._knn import KnnGraph
from labelaudit.audit._rows import (
    RowFunction,
    label_score_name,
    label_scores,
    predicted_labels,
    row_pass,
)
from labelaudit.filter import PrunePlan, check_filter_options
from labelaudit.noise import Passes, num_label_issues


def knn_pred_probs(graph: KnnGraph, codes: np.ndarray, num_classes: int) -> np.ndarray:
    """Out-of-sample probabilities of the covered rows from their neighbours' labels.

    Row ``i`` of the result belongs to ``graph.rows[i]``: ``(counts + 1/K) / (k + 1)``.

    Examples
    --------
    >>> import numpy as np
    >>> from labelaudit.audit._knn import build_knn_graph
    >>> g = build_knn_graph(np.array([[0.0], [0.1], [0.2], [5.0]]), 2)
    >>> knn_pred_probs(g, np.array([0, 0, 1, 1]), 2).round(2)
    array([[0.5 , 0.5 ],
           [0.5 , 0.5 ],
           [0.83, 0.17],
           [0.5 , 0.5 ]])
    """
    counts = np.zeros((len(graph.rows), num_classes))
    np.add.at(
        counts, (np.repeat(np.arange(len(graph.rows)), graph.k), codes[graph.indices].ravel()), 1.0
    )
    return (counts + 1.0 / num_classes) / (graph.k + 1.0)


def label_issue_mask(
    passes: Passes, filter_by: str, frac_noise: float, scores: dict[str, np.ndarray]
) -> np.ndarray:
    """The mask of :func:`labelaudit.find_label_issues` over already opened ``passes``.

    ``passes`` keep self-confidence and the row sample; ``scores`` hold the ``low_*`` rules'
    label quality scores (see :func:`_row_functions`). Other options are the defaults.
    """
    n = passes.num_examples
    codes = passes.labels.codes
    if filter_by == "predicted_neq_given":
        return ~passes.counts.agrees
    mask = np.zeros(n, dtype=bool)
    if filter_by == "confident_learning":
        mask[passes.counts.off_diagonal_rows] = True
        return mask
    if filter_by in ("low_normalized_margin", "low_self_confidence"):
        num = num_label_issues(
            codes, passes.pred_probs, estimation_method="off_diagonal_custom",
            confident_joint=passes.counts.confident_joint, n_jobs=passes.n_jobs,
        )
        key = scores[label_score_name(filter_by.removeprefix("low_"))]
        mask[smallest_per_group(np.zeros(n, dtype=np.int64), key, np.array([num]))] = True
        return mask
    plan = PrunePlan(
        filter_by, passes.class_counts, passes.counts.joint, confident_joint=None,
        frac_noise=frac_noise, min_examples_per_class=1, num_to_remove_per_class=None,
    )
    mask = plan.class_mask(codes, passes.stats.self_confidence, passes.counts.agrees)
    if plan.per_cell is not None:
        mask &= largest_margin_rows(
            codes, passes.pred_probs, plan.per_cell, plan.label_counts, passes.counts.sample,
            n_jobs=passes.n_jobs, lowest_value=passes.stats.lowest_value,
        )
    return mask


def _check_options(filter_by: str, frac_noise: Any, method: str) -> float:
    """``frac_noise``, after checking the options as the core functions do."""
    check_choice("method", method, SCORE_METHODS)
    return check_filter_options(filter_by, frac_noise, 1, None, None, None, None)[0]


def _row_functions(codes: np.ndarray, filter_by: str, method: str) -> dict[str, RowFunction]:
    """What the label check reads per row: the predicted label and the scores it needs."""
    wanted = {**predicted_labels(), **label_scores(codes, method)}
    if filter_by.startswith("low_"):
        wanted.update(label_scores(codes, filter_by.removeprefix("low_")))
    return wanted


@register_check
class LabelCheck(Check):
    """Probably mislabelled examples (confident learning).

    Parameters (through ``issue_types={"label": {...}}``): ``filter_by`` and ``frac_noise`` as
    in :func:`labelaudit.find_label_issues`, ``method`` as in
    :func:`labelaudit.get_label_quality_scores`. Extra columns: ``given_label`` and
    ``predicted_label`` (the most probable class; the given label for rows left out).
    """

    name = "label"
    needs = (("labels",), ("pred_probs", "neighbors"))
    params: ClassVar[dict[str, Any]] = {
        "filter_by": "prune_by_noise_rate",
        "frac_noise": 1.0,
        "method": "self_confidence",
    }

    def reads(
        self, inputs: AuditInputs, *, filter_by: str, frac_noise: float, method: str
    ) -> dict[str, RowFunction]:
        _check_options(filter_by, frac_noise, method)
        if inputs.pred_probs is None:
            return {}
        return _row_functions(inputs.labels.codes, filter_by, method)

    def run(
        self, inputs: AuditInputs, *, filter_by: str, frac_noise: float, method: str
    ) -> CheckResult:
        frac_noise = _check_options(filter_by, frac_noise, method)
        labels = inputs.labels
        n, k = inputs.num_examples, labels.num_classes
        notes: list[str] = []
        if inputs.pred_probs is not None:
            rows = np.arange(n)
            pred_probs = inputs.pred_probs
            source = "pred_probs"
        else:
            graph = inputs.graph
            rows = graph.rows
            pred_probs = knn_pred_probs(graph, labels.codes, k)
            source = "neighbors"
            notes = graph.notes(
                f"probabilities from the labels of each example's {graph.k} nearest neighbours."
            )
        codes = labels.codes[rows]
        is_issue = np.zeros(n, dtype=bool)
        score = np.full(n, np.nan)
        predicted = np.full(n, -1, dtype=np.int64)
        try:
            check_two_classes(np.bincount(codes, minlength=k), labels.classes)
        except ValueError as err:  # nothing to tell the labels from: every row is left out
            notes = [*notes, f"every row left out: {err}"]
            rows = rows[:0]
        if len(rows):
            functions = _row_functions(codes, filter_by, method)
            if inputs.pred_probs is not None:  # the audit's passes and per-row values
                passes, values = inputs.passes, inputs.row_values(functions)
            else:
                passes = Passes(
                    codes, pred_probs, n_jobs=inputs.n_jobs, keep_self_confidence=True,
                    with_sample=True,
                )
                values = row_pass(pred_probs, functions, n_jobs=inputs.n_jobs, validate=False)
            is_issue[rows] = label_issue_mask(passes, filter_by, frac_noise, values)
            score[rows] = values[label_score_name(method)]
            predicted[rows] = values["predicted_label"]
        classes = labels.classes
        given_names = classes[labels.codes]
        predicted_names = np.where(predicted >= 0, classes[np.maximum(predicted, 0)], given_names)
        return CheckResult(
            is_issue=is_issue,
            score=score,
            columns={"given_label": given_names, "predicted_label": predicted_names},
            info={"source": source, "num_classes": int(k)},
            notes=notes,
        )
