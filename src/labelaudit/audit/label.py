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

from labelaudit._kernels import SCORE_METHODS
from labelaudit._passes import Passes, open_passes
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
from labelaudit.filter import RULES, FlagPlan, check_filter_options


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


def label_issue_mask(passes: Passes, filter_by: str, frac_noise: float) -> np.ndarray:
    """The mask of :func:`labelaudit.find_label_issues` over already opened ``passes`` (which
    keep what every rule needs: self-confidence and the row sample); other options the defaults."""
    plan = FlagPlan(passes, filter_by, frac_noise=frac_noise)
    return np.asarray(RULES[filter_by].select(passes, plan).mask_in(passes))


def _check_options(filter_by: str, frac_noise: Any, method: str) -> float:
    """``frac_noise``, after checking the options as the core functions do."""
    check_choice("method", method, SCORE_METHODS)
    return check_filter_options(filter_by, frac_noise, 1, None, None, None, None)[0]


def _row_functions(codes: np.ndarray, method: str) -> dict[str, RowFunction]:
    """What the label check reads per row: the predicted label and its score."""
    return {**predicted_labels(), **label_scores(codes, method)}


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
        "filter_by": "auto",
        "frac_noise": 1.0,
        "method": "self_confidence",
    }

    def reads(
        self, inputs: AuditInputs, *, filter_by: str, frac_noise: float, method: str
    ) -> dict[str, RowFunction]:
        _check_options(filter_by, frac_noise, method)
        if inputs.pred_probs is None:
            return {}
        return _row_functions(inputs.labels.codes, method)

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
            functions = _row_functions(codes, method)
            if inputs.pred_probs is not None:  # the audit's passes and per-row values
                passes, values = inputs.passes, inputs.row_values(functions)
            else:
                passes = open_passes(
                    codes, pred_probs, n_jobs=inputs.n_jobs, **RULES[filter_by].pass_options
                )
                values = row_pass(pred_probs, functions, n_jobs=inputs.n_jobs, validate=False)
            is_issue[rows] = label_issue_mask(passes, filter_by, frac_noise)
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
