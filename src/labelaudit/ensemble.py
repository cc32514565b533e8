"""Label quality scores from an ensemble of models.

:func:`get_label_quality_ensemble_scores` combines the models' ``pred_probs`` with weights learned
from the labels (see :mod:`labelaudit._ensemble` for the weightings) and scores the weighted
mean, read block by block. The same ensembles are accepted wherever one ``pred_probs`` is: a
list or tuple of 2-D arrays of one shape passed to :func:`labelaudit.find_label_issues`,
:func:`labelaudit.get_label_quality_scores` or :func:`labelaudit.health_summary` is combined with
the default weighting, ``"likelihood"``.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from labelaudit._ensemble import (
    LOG_LOSS_SEARCH_T_VALUES,
    WeightedProbs,
    check_members,
    ensemble_weights,
)
from labelaudit._passes import open_passes
from labelaudit._validate import check_bool, check_choice
from labelaudit.rank import RANK_METHODS, check_adjustable, scores_for

logger = logging.getLogger(__name__)


def get_label_quality_ensemble_scores(
    labels: Any,
    pred_probs_list: Any,
    *,
    method: str = "self_confidence",
    adjust_pred_probs: bool = False,
    weight_ensemble_members_by: str = "likelihood",
    custom_weights: Any = None,
    log_loss_search_T_values: Any = LOG_LOSS_SEARCH_T_VALUES,
    verbose: bool = True,
    classes: Any = None,
    n_jobs: int | None = None,
) -> np.ndarray:
    """Score each given label with several models' ``pred_probs`` (lower = more likely wrong).

    Parameters
    ----------
    labels : array-like of shape (n,)
        Given labels, as in :func:`labelaudit.get_label_quality_scores`.
    pred_probs_list : list or tuple of array-likes of shape (n, K)
        One out-of-sample ``pred_probs`` per model, same rows and columns.
    method, adjust_pred_probs
        The score of the weighted mean, as in :func:`labelaudit.get_label_quality_scores`.
    weight_ensemble_members_by : {"likelihood", "accuracy", "log_loss_search", "uniform", "custom"}
        How much each model counts; ``"likelihood"`` learns it from the labels.
    custom_weights : array-like of shape (num_models,), optional
        With ``"custom"``: non-negative weights (normalised here).
    log_loss_search_T_values : sequence of float
        With ``"log_loss_search"``: the temperatures tried.
    verbose : bool, default True
        Log the weights (``logging``, level INFO).
    classes, n_jobs
        As in :func:`labelaudit.find_label_issues`.

    Returns
    -------
    ndarray of shape (n,)

    Examples
    --------
    >>> import numpy as np
    >>> from labelaudit import get_label_quality_ensemble_scores
    >>> good = np.array([[.9, .1], [.2, .8], [.7, .3], [.1, .9]])
    >>> poor = np.array([[.5, .5], [.5, .5], [.5, .5], [.5, .5]])
    >>> get_label_quality_ensemble_scores([0, 0, 0, 1], [good, poor]).round(3)
    array([0.845, 0.241, 0.673, 0.845])
    >>> get_label_quality_ensemble_scores([0, 0, 0, 1], [good, poor],
    ...                                   weight_ensemble_members_by="uniform").round(3)
    array([0.7 , 0.35, 0.6 , 0.7 ])
    """
    check_choice("method", method, RANK_METHODS)
    adjust_pred_probs = check_bool("adjust_pred_probs", adjust_pred_probs)
    check_adjustable("method", method, adjust_pred_probs)
    verbose = check_bool("verbose", verbose)
    members = check_members(pred_probs_list)
    weights = ensemble_weights(
        labels, members, weight_ensemble_members_by=weight_ensemble_members_by,
        custom_weights=custom_weights, log_loss_search_T_values=log_loss_search_T_values,
        classes=classes, n_jobs=n_jobs,
    )
    if verbose:
        logger.info("ensemble weights (%s): %s", weight_ensemble_members_by, np.round(weights, 4).tolist())
    passes = open_passes(labels, WeightedProbs(members, weights), classes=classes, n_jobs=n_jobs)
    return scores_for(passes, method, adjust_pred_probs)
