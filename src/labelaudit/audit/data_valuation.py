"""The ``data_valuation`` check: how much each example helps a k-nearest-neighbour classifier.

k-nearest-neighbour Shapley values (Jia et al., VLDB 2019), with every example in turn as the
validation point and its neighbours in the shared graph (nearest first) as the training set.
For a validation example with label ``y`` and neighbours ``a_1 .. a_M`` (``M`` = the graph's
``k``) among ``N`` examples, with ``K`` = ``k`` of the classifier:

* ``s(a_M) = [y(a_M) = y] / N`` (exact when the examples beyond the graph agree with ``y`` as
  ``a_M`` does);
* ``s(a_j) = s(a_{j+1}) + ([y(a_j) = y] - [y(a_{j+1}) = y]) / K * min(K, j) / j``.

An example's value is the sum of its ``s`` over every validation example it neighbours; its
score is ``1 / (1 + exp(-value))`` (0.5 for no effect), and it is flagged when the value is
negative (it makes its neighbours' predictions worse). Not run by default.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from labelaudit._validate import check_k
from labelaudit.audit._base import Check, CheckResult, register_check
from labelaudit.audit._inputs import AuditInputs


def knn_shapley(
    rows: np.ndarray, indices: np.ndarray, codes: np.ndarray, k: int, num_examples: int
) -> np.ndarray:
    """Sum of k-NN Shapley values of every example over the validation rows ``rows``.

    >>> knn_shapley(np.array([0, 1, 2]), np.array([[2, 1], [0, 2], [0, 1]]), np.array([0, 0, 1]), 1, 3)
    array([ 1.        ,  0.33333333, -0.66666667])
    """
    m = indices.shape[1]
    k = min(k, m)
    agree = (codes[indices] == codes[rows][:, None]).astype(np.float64)
    j = np.arange(1, m)
    steps = (agree[:, :-1] - agree[:, 1:]) / k * (np.minimum(k, j) / j)
    values = np.empty_like(agree)
    values[:, -1] = agree[:, -1] / len(rows)
    values[:, :-1] = values[:, -1:] + np.cumsum(steps[:, ::-1], axis=1)[:, ::-1]
    return np.bincount(indices.ravel(), weights=values.ravel(), minlength=num_examples)


@register_check
class DataValuationCheck(Check):
    """Examples whose presence hurts a k-NN classifier (negative Shapley value).

    Parameters: ``k`` (the classifier's neighbours, default 10, at most the graph's ``k``).
    Extra column: ``data_valuation_value``.
    """

    name = "data_valuation"
    needs = (("labels",), ("neighbors",))
    params: ClassVar[dict[str, Any]] = {"k": 10}
    default = False

    def run(self, inputs: AuditInputs, *, k: int) -> CheckResult:
        k = check_k(k)
        graph = inputs.graph
        n = inputs.num_examples
        value = knn_shapley(graph.rows, graph.indices, inputs.labels.codes, k, n)
        score = 1.0 / (1.0 + np.exp(-value))
        notes = graph.notes()
        return CheckResult(
            is_issue=value < 0,
            score=score,
            columns={"data_valuation_value": value},
            info={"k": min(k, graph.k)},
            notes=notes,
        )
