"""Several models' ``pred_probs`` as one: the weights of the members and their weighted mean.

A Python list or tuple whose elements are all 2-D arrays of one shape is an ensemble (a list of
rows of floats stays one array). :func:`combine_pred_probs` turns an ensemble into a
:class:`WeightedProbs`, which the passes read block by block like any array: no member is
copied and no ``n x K`` mean is made.

Weightings (``weight_ensemble_members_by``), all computed from each member's self-confidence
``p_m[y]`` and whether its most probable class is the given label (one pass per member):

* ``"likelihood"`` (labelaudit's default): the mixture weights that maximise the likelihood of
  the given labels, ``prod_i sum_m w_m p_m[i, y_i]`` (EM, deterministic, from uniform weights).
  A member that explains the labels better gets more weight and one that adds nothing gets none,
  so the mixture explains the labels at least as well as its best member;
* ``"accuracy"``: proportional to each member's accuracy on the given labels;
* ``"log_loss_search"``: ``exp(-t * log_loss_m)`` normalised, with the ``t`` of
  ``log_loss_search_T_values`` whose mixture has the lowest log loss;
* ``"uniform"``; ``"custom"``: ``custom_weights``, normalised.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from labelaudit._kernels import check_block_values, run_pass, self_confidence_dtype
from labelaudit._validate import (
    as_pred_probs,
    check_choice,
    check_lengths,
    check_n_jobs,
    encode_labels,
)

logger = logging.getLogger(__name__)

WEIGHTINGS = ("likelihood", "accuracy", "log_loss_search", "uniform", "custom")
LOG_LOSS_SEARCH_T_VALUES = (0.0001, 0.001, 0.01, 0.1, 1.0, 10.0, 100.0, 200.0)
_EM_STEPS = 1000
_EM_TOLERANCE = 1e-12
_LOG_FLOOR = 1e-15  # a probability of 0 counts as this in a log loss


def is_ensemble(pred_probs: Any) -> bool:
    """Whether ``pred_probs`` is a list or tuple of 2-D arrays (see the module documentation).

    >>> is_ensemble([np.eye(2), np.eye(2)]), is_ensemble([[.5, .5], [.1, .9]])
    (True, False)
    """
    return (
        isinstance(pred_probs, (list, tuple))
        and len(pred_probs) > 0
        and all(np.ndim(member) == 2 for member in pred_probs)
    )


class WeightedProbs:
    """The weighted mean of the members' ``pred_probs``, computed for the rows that are read.

    Has ``shape``, ``dtype``, ``ndim`` and row slicing, so the passes read it like a memory map.

    >>> mean = WeightedProbs([np.array([[1., 0.]]), np.array([[0., 1.]])], np.array([.75, .25]))
    >>> mean[0:1]
    array([[0.75, 0.25]])
    """

    ndim = 2

    def __init__(self, members: list[Any], weights: np.ndarray) -> None:
        self.members = members
        self.weights = weights
        self.shape = tuple(members[0].shape)
        self.dtype = np.result_type(*(self_confidence_dtype(m.dtype) for m in members))

    def __getitem__(self, key: Any) -> np.ndarray:
        out = np.zeros_like(np.asarray(self.members[0][key], dtype=self.dtype))
        for weight, member in zip(self.weights, self.members):
            out += self.dtype.type(weight) * np.asarray(member[key], dtype=self.dtype)
        return out

    def __repr__(self) -> str:
        return f"WeightedProbs({len(self.members)} members, weights={np.round(self.weights, 4).tolist()})"


def check_members(pred_probs_list: Any) -> list[Any]:
    """The members of an ensemble, each checked like ``pred_probs``, all of one shape."""
    if not isinstance(pred_probs_list, (list, tuple)) or not pred_probs_list:
        raise TypeError(
            "pred_probs_list must be a non-empty list or tuple of pred_probs arrays (one per "
            f"model); found {type(pred_probs_list).__name__}."
        )
    members = [as_pred_probs(member) for member in pred_probs_list]
    for m, member in enumerate(members[1:], start=1):
        if tuple(member.shape) != tuple(members[0].shape):
            raise ValueError(
                f"the models of an ensemble must give pred_probs of one shape; model {m} has "
                f"{tuple(member.shape)} but model 0 has {tuple(members[0].shape)}. Predict the "
                "same rows and classes with every model."
            )
    return members


class _MemberPass:
    """Checks a member's values; keeps its self-confidence and whether its argmax is the label."""

    def __init__(self, num_rows: int) -> None:
        self.self_confidence = np.empty(num_rows)
        self.correct = np.empty(num_rows, dtype=bool)

    def block(self, start: int, labels: np.ndarray, values: np.ndarray) -> None:
        check_block_values(values, start)
        stop = start + len(labels)
        self.self_confidence[start:stop] = values[np.arange(len(labels)), labels]
        self.correct[start:stop] = values.argmax(axis=1) == labels

    def add(self, part: Any) -> None:
        """Nothing to merge: each block wrote its rows."""


def _member_values(codes: np.ndarray, members: list[Any], n_jobs: int | None) -> list[_MemberPass]:
    found = []
    for m, member in enumerate(members):
        task = _MemberPass(len(codes))
        try:
            run_pass(task, codes, member, n_jobs=n_jobs)
        except ValueError as err:
            raise ValueError(f"model {m} of the ensemble: {err}") from None
        found.append(task)
    return found


def likelihood_weights(self_confidence: np.ndarray) -> np.ndarray:
    """EM for the mixture weights of the columns of ``self_confidence`` (rows = examples).

    >>> likelihood_weights(np.array([[.9, .5], [.8, .5], [.9, .5]])).round(3).tolist()
    [1.0, 0.0]
    """
    num_members = self_confidence.shape[1]
    weights = np.full(num_members, 1.0 / num_members)
    for _ in range(_EM_STEPS):
        mixed = np.maximum(self_confidence @ weights, _LOG_FLOOR)
        updated = (self_confidence * weights / mixed[:, None]).mean(axis=0)
        updated /= updated.sum()
        done = np.abs(updated - weights).max() < _EM_TOLERANCE
        weights = updated
        if done:
            break
    return weights


def _log_loss(self_confidence: np.ndarray) -> np.ndarray:
    return -np.log(np.maximum(self_confidence, _LOG_FLOOR)).mean(axis=0)


def _log_loss_search(self_confidence: np.ndarray, t_values: Any) -> np.ndarray:
    losses = _log_loss(self_confidence)
    best, best_loss = None, np.inf
    for t in t_values:
        raw = np.exp(-float(t) * (losses - losses.min()))
        weights = raw / raw.sum()
        loss = float(_log_loss(self_confidence @ weights))
        if loss < best_loss:
            best, best_loss = weights, loss
    return best


def _check_weight_options(
    method: str, num_members: int, custom_weights: Any, t_values: Any
) -> np.ndarray | None:
    check_choice("weight_ensemble_members_by", method, WEIGHTINGS)
    if method != "custom":
        if custom_weights is not None:
            raise ValueError(
                "custom_weights is used only with weight_ensemble_members_by='custom'; drop it "
                f"or set that (got {method!r})."
            )
    else:
        weights = np.asarray(custom_weights if custom_weights is not None else [], dtype=np.float64)
        if weights.shape != (num_members,) or not np.isfinite(weights).all() or (weights < 0).any() \
                or weights.sum() <= 0:
            raise ValueError(
                f"weight_ensemble_members_by='custom' needs custom_weights: {num_members} finite "
                f"non-negative numbers (one per model, not all 0); got {custom_weights!r}."
            )
        return weights / weights.sum()
    if method == "log_loss_search":
        values = np.asarray(t_values, dtype=np.float64)
        if values.ndim != 1 or not len(values) or not np.isfinite(values).all() or (values < 0).any():
            raise ValueError(
                "log_loss_search_T_values must be a non-empty list of non-negative numbers; "
                f"got {t_values!r}."
            )
    return None


def ensemble_weights(
    labels: Any,
    pred_probs_list: Any,
    *,
    weight_ensemble_members_by: str = "likelihood",
    custom_weights: Any = None,
    log_loss_search_T_values: Any = LOG_LOSS_SEARCH_T_VALUES,
    classes: Any = None,
    n_jobs: int | None = None,
) -> np.ndarray:
    """The weight of each model of an ensemble (they add up to 1); see the module documentation.

    Examples
    --------
    >>> good = np.array([[.9, .1], [.2, .8], [.7, .3], [.1, .9]])
    >>> poor = np.array([[.5, .5], [.5, .5], [.5, .5], [.5, .5]])
    >>> ensemble_weights([0, 1, 0, 1], [good, poor]).round(3).tolist()
    [1.0, 0.0]
    >>> ensemble_weights([0, 1, 0, 1], [good, poor], weight_ensemble_members_by="accuracy").tolist()
    [0.6666666666666666, 0.3333333333333333]
    """
    members = check_members(pred_probs_list)
    fixed = _check_weight_options(
        weight_ensemble_members_by, len(members), custom_weights, log_loss_search_T_values
    )
    n_jobs = check_n_jobs(n_jobs)
    encoded = encode_labels(labels, members[0].shape[1], classes=classes)
    check_lengths(encoded, members[0])
    codes = encoded.codes
    found = _member_values(codes, members, n_jobs)  # checks every value, whatever the weighting
    if fixed is not None:
        return fixed
    if weight_ensemble_members_by == "uniform":
        return np.full(len(members), 1.0 / len(members))
    if weight_ensemble_members_by == "accuracy":
        accuracy = np.array([task.correct.mean() for task in found])
        if accuracy.sum() == 0:
            return np.full(len(members), 1.0 / len(members))
        return accuracy / accuracy.sum()
    self_confidence = np.stack([task.self_confidence for task in found], axis=1)
    if weight_ensemble_members_by == "log_loss_search":
        return _log_loss_search(self_confidence, log_loss_search_T_values)
    return likelihood_weights(self_confidence)


def combine_pred_probs(
    labels: Any,
    pred_probs: Any,
    *,
    classes: Any = None,
    weight_ensemble_members_by: str = "likelihood",
    custom_weights: Any = None,
    log_loss_search_T_values: Any = LOG_LOSS_SEARCH_T_VALUES,
    n_jobs: int | None = None,
) -> Any:
    """``pred_probs`` as it is, or an ensemble's weighted mean (:class:`WeightedProbs`).

    Examples
    --------
    >>> good = np.array([[.9, .1], [.2, .8], [.7, .3], [.1, .9]])
    >>> poor = np.array([[.5, .5], [.5, .5], [.5, .5], [.5, .5]])
    >>> combine_pred_probs([0, 1, 0, 1], [good, poor])[:2].round(3).tolist()
    [[0.9, 0.1], [0.2, 0.8]]
    >>> combine_pred_probs([0, 1], [[.6, .4], [.3, .7]])
    [[0.6, 0.4], [0.3, 0.7]]
    """
    if not is_ensemble(pred_probs):
        return pred_probs
    weights = ensemble_weights(
        labels, pred_probs, weight_ensemble_members_by=weight_ensemble_members_by,
        custom_weights=custom_weights, log_loss_search_T_values=log_loss_search_T_values,
        classes=classes, n_jobs=n_jobs,
    )
    logger.info("ensemble of %d models, weights %s", len(pred_probs), np.round(weights, 4).tolist())
    return WeightedProbs(check_members(pred_probs), weights)
