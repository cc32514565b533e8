"""Label quality scores: one number per example in [0, 1], lower = more likely mislabelled.

Methods (``p`` is the row of ``pred_probs``, ``y`` the given label):

* ``"self_confidence"``: ``p[y]``;
* ``"normalized_margin"``: ``(p[y] - max_{j != y} p[j] + 1) / 2``;
* ``"confidence_weighted_entropy"``: ``log(1 + r) / r`` of ``r = H(p) / p[y]``, with ``H`` the
  entropy of ``p`` divided by ``log K`` (1 in the limit of a one-hot row on ``y``, 0 when
  ``p[y] = 0``).

With ``adjust_pred_probs=True`` each class's threshold (its mean self-confidence) is subtracted
from its column, the largest threshold added back, and rows renormalised, which removes a
model's bias towards classes it is generally confident about (a class with no examples uses
the largest threshold of the others).

``"auto"`` is labelaudit's own score, the normalized margin of the model's belief corrected by
the estimated noise (:mod:`labelaudit.auto`); ``adjust_pred_probs`` does not apply to it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from labelaudit._ensemble import combine_pred_probs
from labelaudit._kernels import SCORE_METHODS
from labelaudit._passes import Passes, open_passes
from labelaudit._validate import check_bool, check_choice, check_positive_int, check_rank_kwargs
from labelaudit.auto import auto_scores

RANK_METHODS = (*SCORE_METHODS, "auto")


def check_adjustable(method_name: str, method: str, adjust_pred_probs: bool) -> None:
    """Refuse ``adjust_pred_probs`` with the ``"auto"`` score, which corrects by itself."""
    if method == "auto" and adjust_pred_probs:
        raise ValueError(
            f"{method_name}='auto' corrects the model's class biases by itself and takes no "
            "adjust_pred_probs; drop adjust_pred_probs or pick another score."
        )


def adjustment_thresholds(passes: Passes) -> np.ndarray:
    """Per-class thresholds subtracted by ``adjust_pred_probs`` (see the module documentation).

    Shared by the quality scores, the ranking of flagged rows and the outlier check so that all
    three adjust the same way; a class with no examples takes the largest threshold of the others.
    """
    thresholds = passes.stats.thresholds.copy()
    finite = np.isfinite(thresholds)
    thresholds[~finite] = thresholds[finite].max() if finite.any() else 0.0
    return thresholds


def scores_for(
    passes: Passes, method: str, adjust_pred_probs: bool, rows: np.ndarray | None = None
) -> np.ndarray:
    """Scores of every row (or of the sorted ``rows``) of already validated inputs.

    Runs pass 1 first when adjusting.
    """
    if method == "auto":
        scores = auto_scores(passes)
        return scores if rows is None else scores[rows]
    adjust = adjustment_thresholds(passes) if adjust_pred_probs else None
    return passes.scores(method, adjust) if rows is None else passes.scores_at(rows, method, adjust)


def get_label_quality_scores(
    labels: Any,
    pred_probs: Any,
    *,
    method: str = "self_confidence",
    adjust_pred_probs: bool = False,
    classes: Any = None,
    n_jobs: int | None = None,
) -> np.ndarray:
    """Score how likely each given label is to be correct (lower = more likely wrong).

    Parameters
    ----------
    labels : array-like of shape (n,)
        Given labels: indices ``0..K-1`` or class names (see ``classes``).
    pred_probs : array-like of shape (n, K)
        Out-of-sample predicted probabilities.
    method : {"self_confidence", "normalized_margin", "confidence_weighted_entropy", "auto"}
        See the module documentation for the formulas.
    adjust_pred_probs : bool, default False
        Subtract per-class thresholds before scoring (see the module documentation).
    classes, n_jobs
        As in :func:`labelaudit.find_label_issues`.

    Returns
    -------
    ndarray of shape (n,)
        float32 for float16/float32 input, float64 otherwise.

    Notes
    -----
    Scores are per row, so labels of a single class are scored too (the estimates of noise,
    such as :func:`labelaudit.find_label_issues`, refuse them).

    Examples
    --------
    >>> import numpy as np
    >>> from labelaudit import get_label_quality_scores
    >>> pred_probs = np.array([[.9, .1], [.2, .8], [.3, .7]])
    >>> get_label_quality_scores([0, 0, 1], pred_probs)
    array([0.9, 0.2, 0.7])
    >>> get_label_quality_scores([0, 0, 1], pred_probs, method="normalized_margin")
    array([0.9, 0.2, 0.7])
    """
    check_choice("method", method, RANK_METHODS)
    adjust_pred_probs = check_bool("adjust_pred_probs", adjust_pred_probs)
    check_adjustable("method", method, adjust_pred_probs)
    pred_probs = combine_pred_probs(labels, pred_probs, classes=classes)
    passes = open_passes(labels, pred_probs, classes=classes, n_jobs=n_jobs)
    return scores_for(passes, method, adjust_pred_probs)


def get_self_confidence_for_each_label(labels: Any, pred_probs: Any) -> np.ndarray:
    """``pred_probs[i, labels[i]]`` for every example: ``method="self_confidence"``.

    >>> import numpy as np
    >>> from labelaudit import get_self_confidence_for_each_label
    >>> get_self_confidence_for_each_label([0, 1], np.array([[.9, .1], [.6, .4]]))
    array([0.9, 0.4])
    """
    return get_label_quality_scores(labels, pred_probs, method="self_confidence")


def get_normalized_margin_for_each_label(labels: Any, pred_probs: Any) -> np.ndarray:
    """``(p[y] - max_{j != y} p[j] + 1) / 2`` for every example: ``method="normalized_margin"``.

    >>> import numpy as np
    >>> from labelaudit import get_normalized_margin_for_each_label
    >>> get_normalized_margin_for_each_label([0, 1], np.array([[.9, .1], [.6, .4]]))
    array([0.9, 0.4])
    """
    return get_label_quality_scores(labels, pred_probs, method="normalized_margin")


def get_confidence_weighted_entropy_for_each_label(labels: Any, pred_probs: Any) -> np.ndarray:
    """``log(1 + r) / r`` of ``r = H(p) / p[y]``: ``method="confidence_weighted_entropy"``.

    >>> import numpy as np
    >>> from labelaudit import get_confidence_weighted_entropy_for_each_label
    >>> get_confidence_weighted_entropy_for_each_label([0, 1, 0], np.array([[.5, .5], [1., 0.], [1., 0.]]))
    array([0.54930614, 0.        , 1.        ])
    """
    return get_label_quality_scores(labels, pred_probs, method="confidence_weighted_entropy")


def find_top_issues(quality_scores: Any, *, top: int | None = 10) -> np.ndarray:
    """Indices of the ``top`` lowest ``quality_scores``, lowest first (ties: lower index first).

    ``top=None`` or more than there are ranks every index.

    >>> from labelaudit import find_top_issues
    >>> find_top_issues([0.9, 0.1, 0.5, 0.1], top=3)
    array([1, 3, 2])
    """
    scores = np.asarray(quality_scores)
    if scores.ndim != 1 or scores.dtype.kind not in "iuf" or np.isnan(scores).any():
        raise ValueError(
            "quality_scores must be a 1-D array of numbers without NaN (one score per example); "
            f"found shape {scores.shape} and dtype {scores.dtype}."
        )
    top = len(scores) if top is None else min(check_positive_int("top", top), len(scores))
    return np.argsort(scores, kind="stable")[:top].astype(np.int64)


def rank_rows(rows: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """``rows`` ordered by (score, row index), lowest score first."""
    rows = np.sort(np.asarray(rows, dtype=np.int64))
    return rows[np.argsort(scores, kind="stable")]


def order_label_issues(
    label_issues_mask_or_indices: Any,
    labels: Any,
    pred_probs: Any,
    *,
    rank_by: str = "self_confidence",
    rank_by_kwargs: dict[str, Any] | None = None,
    classes: Any = None,
    n_jobs: int | None = None,
) -> np.ndarray:
    """Order flagged examples from most to least likely mislabelled.

    Takes a boolean mask of length ``n`` or an array of row indices; returns row indices sorted
    by label quality score (``rank_by``), ties by row index.

    Examples
    --------
    >>> import numpy as np
    >>> from labelaudit import order_label_issues
    >>> pred_probs = np.array([[.9, .1], [.2, .8], [.6, .4], [.3, .7]])
    >>> order_label_issues(np.array([False, True, True, False]), [0, 0, 0, 1], pred_probs)
    array([1, 2])
    """
    check_choice("rank_by", rank_by, RANK_METHODS)
    adjust = check_rank_kwargs(rank_by_kwargs)
    check_adjustable("rank_by", rank_by, adjust)
    passes = open_passes(labels, pred_probs, classes=classes, n_jobs=n_jobs)
    rows = _as_rows(label_issues_mask_or_indices, passes.num_examples)
    return rank_rows(rows, scores_for(passes, rank_by, adjust, np.sort(rows)))


def _as_rows(mask_or_indices: Any, num_examples: int) -> np.ndarray:
    arr = np.asarray(mask_or_indices)
    if arr.dtype == bool:
        if arr.shape != (num_examples,):
            raise ValueError(
                f"label_issues_mask_or_indices is a boolean mask of shape {arr.shape}; a mask "
                f"needs one entry per example ({num_examples})."
            )
        return np.flatnonzero(arr)
    if arr.ndim != 1 or (arr.size and not np.issubdtype(arr.dtype, np.integer)):
        raise ValueError(
            "label_issues_mask_or_indices must be a boolean mask or a 1-D array of row indices."
        )
    if arr.size and (arr.min() < 0 or arr.max() >= num_examples):
        raise ValueError(
            f"label_issues_mask_or_indices has row indices outside 0..{num_examples - 1}."
        )
    if len(np.unique(arr)) != len(arr):
        raise ValueError("label_issues_mask_or_indices lists a row more than once.")
    return arr.astype(np.int64)
