"""The ``non_iid`` check: does the order of the rows carry information?

If examples were shuffled (independent and identically distributed), an example's nearest
neighbours in feature space would sit at random positions in the dataset. The statistic of row
``i`` is the mean of ``log(1 + |i - j|)`` over its neighbours ``j`` (small when neighbours are
close in position); the dataset's statistic is the mean over rows (over ``max_test_rows`` rows
drawn once with ``seed`` when there are more). A permutation test (the positions randomly
permuted ``num_permutations`` times) gives the p-value: the share of permutations whose
statistic is at most the observed one, counting the observed order itself.

Each row's score is a one-sided p-value of its own neighbours' positions: under random order
a neighbour ``j`` of row ``i`` sits at a position uniform over the other rows, so
``u = P(|i - U| <= |i - j|)`` is uniform on (0, 1] given ``i``'s position, and Fisher's method
combines the ``k`` values (``-2 * sum(log u)`` is chi-squared with ``2k`` degrees of freedom).
Rows are flagged only when the dataset's p-value is below ``alpha``, and then those whose score
is below ``row_threshold``.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from scipy.special import gammaincc

from labelaudit.audit._base import Check, CheckResult, register_check
from labelaudit.audit._inputs import AuditInputs


def position_statistic(rows: np.ndarray, indices: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Per-row mean of ``log(1 + |position gap|)`` to each neighbour.

    >>> position_statistic(np.array([0, 1]), np.array([[1], [0]]), np.arange(2)).round(3)
    array([0.693, 0.693])
    """
    gaps = np.abs(positions[rows][:, None] - positions[indices]).astype(np.float64)
    return np.log1p(gaps).mean(axis=1)


def row_p_values(rows: np.ndarray, indices: np.ndarray, num_examples: int) -> np.ndarray:
    """Fisher-combined p-value per row that its neighbours are this close in position by chance.

    >>> row_p_values(np.array([0, 50]), np.array([[1, 2], [10, 90]]), 101).round(4)
    array([0.0019, 0.9256])
    """
    position = rows[:, None]
    gap = np.abs(position - indices)
    within = np.minimum(gap, position) + np.minimum(gap, num_examples - 1 - position)
    u = within / (num_examples - 1)
    return gammaincc(indices.shape[1], -np.log(u).sum(axis=1))


@register_check
class NonIIDCheck(Check):
    """Whether neighbours in feature space are unusually close in row order.

    Parameters: ``num_permutations`` (default 100), ``max_test_rows`` (default 10000),
    ``alpha`` (default 0.05), ``row_threshold`` (default 0.0001) and ``seed`` (default 0). The summary score is the
    p-value. Extra column: ``non_iid_statistic``.
    """

    name = "non_iid"
    needs = (("neighbors",),)
    params: ClassVar[dict[str, Any]] = {
        "num_permutations": 100,
        "max_test_rows": 10_000,
        "alpha": 0.05,
        "row_threshold": 0.0001,
        "seed": 0,
    }

    def run(
        self,
        inputs: AuditInputs,
        *,
        num_permutations: int,
        max_test_rows: int,
        alpha: float,
        row_threshold: float,
        seed: int,
    ) -> CheckResult:
        for name, value in (
            ("num_permutations", num_permutations),
            ("max_test_rows", max_test_rows),
        ):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name}={value!r} is not valid; use a positive integer.")
        graph = inputs.graph
        n = inputs.num_examples
        observed = position_statistic(graph.rows, graph.indices, np.arange(n))
        rng = np.random.default_rng(seed)
        tested = np.arange(len(graph.rows))
        if len(tested) > max_test_rows:
            tested = np.sort(rng.choice(len(tested), size=max_test_rows, replace=False))
        rows, indices = graph.rows[tested], graph.indices[tested]
        null_means = np.array(
            [
                position_statistic(rows, indices, rng.permutation(n)).mean()
                for _ in range(num_permutations)
            ]
        )
        test_statistic = float(observed[tested].mean())
        p_value = float(
            (1 + np.count_nonzero(null_means <= test_statistic)) / (1 + num_permutations)
        )
        row_p = row_p_values(graph.rows, graph.indices, n)
        score = np.full(n, np.nan)
        score[graph.rows] = row_p
        statistic = np.full(n, np.nan)
        statistic[graph.rows] = observed
        is_issue = np.zeros(n, dtype=bool)
        if p_value < alpha:
            is_issue[graph.rows] = row_p < row_threshold
        notes = graph.notes(
            f"permutation test p-value {p_value:.3g} ({num_permutations} permutations)."
        )
        return CheckResult(
            is_issue=is_issue,
            score=score,
            columns={"non_iid_statistic": statistic},
            summary_score=p_value,
            info={
                "p_value": p_value,
                "statistic": test_statistic,
                "null_mean": float(null_means.mean()),
                "null_std": float(null_means.std()),
            },
            notes=notes,
        )
