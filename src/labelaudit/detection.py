"""Label issues in object detection: missing, swapped and badly located boxes.

``labels`` has one dict per image, ``{"bboxes": (m, 4) array of x1, y1, x2, y2, "labels": (m,)
class ids}`` (other keys such as ``"image_name"`` are ignored). ``predictions`` has one entry per
image from an out-of-sample detector, before or after non-maximum suppression, in either of two
forms:

* a dict like the labels with ``"scores": (q,)`` confidences in [0, 1];
* the reference's per-class form (MMDetection's): a sequence of K arrays, ``predictions[i][k]``
  of shape (q_k, 5) holding ``x1, y1, x2, y2, pred_prob`` of the boxes predicted as class ``k``.
  Its boxes are taken in class order (all of class 0 first), which is the order of the per-box
  scores of predicted boxes.

Every image is scored from its own boxes only, so a score never depends on which other images
are in the same call. With ``IoU`` the intersection over union of two boxes and ``t`` the
``iou_threshold``, the three box scores (in [0, 1], lower = more likely wrong) are:

* **missing** (the reference's *overlooked*), for each predicted box ``p``: ``1 - score(p)``
  when no labelled box of any class overlaps it with ``IoU >= t`` (the model sees an object
  nobody labelled), else 1;
* **swap**, for each labelled box ``b`` of class ``c``: ``1 - max(0, other - same)``, where
  ``other`` is the highest score of the predictions of another class with ``IoU(b, p) >= t`` and
  ``same`` that of the predictions of class ``c`` (0 when there are none). With
  ``overlapping_label_check`` (the default) a labelled box that another labelled box of a
  different class covers with ``IoU >= 0.95`` scores at most ``1 - IoU``: the annotation gives
  one object two classes, so one of them is wrong;
* **location** (the reference's *badloc*), for each labelled box ``b`` of class ``c``:
  ``1 - score(p) * (1 - IoU(b, p))`` for the prediction ``p`` of class ``c`` that overlaps ``b``
  most (ties: higher score, then lower index); 1 when no prediction of class ``c`` overlaps ``b``
  (nothing to say where it should be).

An image's score for each kind is the lowest of its boxes' (1 without boxes), and its label
quality score the lowest of the three; ``aggregation_weights`` scale each kind's evidence
``1 - score`` by its weight relative to the largest weight before taking the lowest. A labelled
box the model does not detect at all is not scored as an issue: the model gives no evidence
against it.

Examples
--------
>>> import numpy as np
>>> from labelaudit import detection
>>> labels = [{"bboxes": np.array([[0, 0, 10, 10]]), "labels": np.array([0])},
...           {"bboxes": np.zeros((0, 4)), "labels": np.array([], dtype=int)}]
>>> predictions = [{"bboxes": np.array([[0, 0, 10, 10]]), "labels": np.array([0]),
...                 "scores": np.array([0.9])},
...                {"bboxes": np.array([[5, 5, 20, 20]]), "labels": np.array([1]),
...                 "scores": np.array([0.8])}]
>>> detection.get_label_quality_scores(labels, predictions).round(3)
array([1. , 0.2])
>>> detection.find_label_issues(labels, predictions, return_indices_ranked_by="label_quality")
array([1])

The same predictions in the per-class form:

>>> per_class = [[np.array([[0, 0, 10, 10, 0.9]]), np.zeros((0, 5))],
...              [np.zeros((0, 5)), np.array([[5, 5, 20, 20, 0.8]])]]
>>> detection.get_label_quality_scores(labels, per_class).round(3)
array([1. , 0.2])
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from labelaudit._structured import (
    check_class_ids,
    check_per_item,
    check_pooling,
    class_name,
    pool_segments,
)
from labelaudit._validate import check_bool, check_choice, check_fraction, check_positive_int
from labelaudit.rank import rank_rows

logger = logging.getLogger(__name__)

__all__ = [
    "bounding_box_size_distribution",
    "box_iou",
    "calculate_per_class_metrics",
    "class_label_distribution",
    "class_summary",
    "compute_badloc_box_scores",
    "compute_overlooked_box_scores",
    "compute_swap_box_scores",
    "find_label_issues",
    "get_average_per_class_confusion_matrix",
    "get_label_quality_scores",
    "get_sorted_bbox_count_idxs",
    "issue_scores",
    "issues_from_scores",
    "object_counts_per_image",
    "plot_boxes",
    "plot_class_distribution",
    "plot_class_size_distributions",
    "pool_box_scores_per_image",
    "suggested_labels",
    "visualize",
]

ISSUE_KINDS = ("missing", "swap", "location")
RANKINGS = ("label_quality", *ISSUE_KINDS)
# the reference's names of the three kinds, the keys of ``aggregation_weights``
AGGREGATION_KEYS = ("overlooked", "swap", "badloc")
LABEL_OVERLAP = 0.95  # labelled boxes of two classes overlapping this much describe one object
IOU_THRESHOLDS = np.round(np.arange(0.5, 0.951, 0.05), 2)  # the COCO range of the metrics
SAVE_FORMATS = ("png", "pdf", "ps", "eps", "svg")


@dataclass(frozen=True)
class _ImageBoxes:
    """Checked boxes of one image: corners (m, 4) float64, class ids (m,), scores (m,) or None."""

    bboxes: np.ndarray
    labels: np.ndarray
    scores: np.ndarray | None

    def confident(self, least: float) -> _ImageBoxes:
        """The predicted boxes scoring at least ``least``."""
        keep = self.scores >= least
        return _ImageBoxes(self.bboxes[keep], self.labels[keep], self.scores[keep])


def _check_corners(name: str, values: Any) -> np.ndarray:
    boxes = np.asarray(values, dtype=np.float64) if np.size(values) else np.empty((0, 4))
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise ValueError(
            f"{name} must have shape (boxes, 4) holding x1, y1, x2, y2; found shape "
            f"{boxes.shape}."
        )
    if not np.isfinite(boxes).all() or (boxes[:, 2] < boxes[:, 0]).any() or (
        boxes[:, 3] < boxes[:, 1]
    ).any():
        raise ValueError(
            f"{name} must hold finite corners with x2 >= x1 and y2 >= y1; convert "
            "(x, y, width, height) boxes with x2 = x + width, y2 = y + height."
        )
    return boxes


def _check_confidences(name: str, values: np.ndarray) -> np.ndarray:
    if not (np.isfinite(values).all() and (values >= 0).all() and (values <= 1).all()):
        raise ValueError(
            f"{name} must be confidences in [0, 1]; found values from "
            f"{values.min():g} to {values.max():g}. Pass probabilities, not logits."
        )
    return values


def _check_image(name: str, entry: Any, with_scores: bool) -> _ImageBoxes:
    keys = ("bboxes", "labels", "scores") if with_scores else ("bboxes", "labels")
    if not isinstance(entry, Mapping) or any(k not in entry for k in keys):
        found = f" with keys {sorted(entry)!r}" if isinstance(entry, Mapping) else ""
        raise ValueError(
            f"{name} must be a dict with keys {', '.join(map(repr, keys))}; found "
            f"{type(entry).__name__}{found}."
        )
    boxes = _check_corners(f"{name}['bboxes']", entry["bboxes"])
    ids = check_class_ids(f"{name}['labels']", entry["labels"])
    if len(ids) != len(boxes):
        raise ValueError(
            f"{name}['labels'] has {len(ids)} entries but {name}['bboxes'] has {len(boxes)} boxes; "
            "give one class per box."
        )
    scores = None
    if with_scores:
        scores = np.asarray(entry["scores"], dtype=np.float64).reshape(-1)
        if len(scores) != len(boxes):
            raise ValueError(
                f"{name}['scores'] has {len(scores)} entries but {name}['bboxes'] has {len(boxes)} "
                "boxes; give one confidence per predicted box."
            )
        _check_confidences(f"{name}['scores']", scores)
    return _ImageBoxes(boxes, ids, scores)


def _check_prediction(name: str, entry: Any) -> _ImageBoxes:
    """One image's predictions, as a dict with scores or as K per-class (q_k, 5) arrays."""
    if isinstance(entry, Mapping):
        return _check_image(name, entry, True)
    if isinstance(entry, (str, bytes)) or not hasattr(entry, "__len__"):
        raise TypeError(
            f"{name} must be a dict with keys 'bboxes', 'labels', 'scores' or a list of K arrays "
            f"of shape (boxes, 5), one per class; found {type(entry).__name__}."
        )
    per_class = []
    for k, block in enumerate(entry):
        rows = np.asarray(block, dtype=np.float64) if np.size(block) else np.empty((0, 5))
        if rows.ndim != 2 or rows.shape[1] != 5:
            raise ValueError(
                f"{name}[{k}] must have shape (boxes, 5) holding x1, y1, x2, y2, pred_prob of the "
                f"boxes predicted as class {k}; found shape {rows.shape}."
            )
        _check_corners(f"{name}[{k}][:, :4]", rows[:, :4])
        _check_confidences(f"{name}[{k}][:, 4]", rows[:, 4])
        per_class.append(rows)
    rows = np.vstack(per_class) if per_class else np.empty((0, 5))
    ids = np.repeat(np.arange(len(per_class), dtype=np.int64), [len(r) for r in per_class])
    return _ImageBoxes(rows[:, :4].copy(), ids, rows[:, 4].copy())


def _as_images(value: Any) -> Any:
    """A 1-D object array of per-image entries (as pickled detector output often is) as a list."""
    is_object_array = isinstance(value, np.ndarray) and value.dtype == object and value.ndim == 1
    return list(value) if is_object_array else value


def _check_inputs(labels: Any, predictions: Any) -> list[tuple[_ImageBoxes, _ImageBoxes]]:
    labels, predictions = _as_images(labels), _as_images(predictions)
    check_per_item("image", ("labels", labels), ("predictions", predictions))
    return [
        (_check_image(f"labels[{i}]", given, False), _check_prediction(f"predictions[{i}]", pred))
        for i, (given, pred) in enumerate(zip(labels, predictions))
    ]


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Intersection over union of every box in ``a`` (m, 4) with every box in ``b`` (q, 4).

    Boxes without area have IoU 0 with everything.

    >>> box_iou(np.array([[0, 0, 2, 2]]), np.array([[1, 1, 3, 3], [0, 0, 2, 2]])).round(3)
    array([[0.143, 1.   ]])
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    width = np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0])
    height = np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1])
    inter = np.clip(width, 0, None) * np.clip(height, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


@dataclass(frozen=True)
class _BoxScores:
    """Scores of the boxes of one image (see the module documentation)."""

    missing: np.ndarray  # (q,), one per predicted box
    swap: np.ndarray  # (m,), one per labelled box
    location: np.ndarray  # (m,), one per labelled box
    suggested: np.ndarray  # (m,), the class the predictions give each labelled box


def _score_boxes(
    given: _ImageBoxes, predicted: _ImageBoxes, iou_threshold: float, overlapping_label_check: bool
) -> _BoxScores:
    """Box scores of one image from its labelled and predicted boxes only."""
    iou = box_iou(given.bboxes, predicted.bboxes)  # (m, q)
    conf = predicted.scores
    close = iou >= iou_threshold
    missing = np.where(close.any(axis=0), 1.0, 1.0 - conf)
    same_class = given.labels[:, None] == predicted.labels[None, :]
    same = np.where(close & same_class, conf, 0.0).max(axis=1, initial=0.0)
    other_conf = np.where(close & ~same_class, conf, -1.0)
    other = other_conf.max(axis=1, initial=0.0)
    swap = 1.0 - np.clip(other - same, 0.0, None)
    suggested = given.labels.copy()
    if len(conf):
        beaten = other > same
        suggested[beaten] = predicted.labels[other_conf.argmax(axis=1)[beaten]]
    if overlapping_label_check and len(given.labels) > 1:
        other_label = given.labels[:, None] != given.labels[None, :]
        clash = np.where(other_label, box_iou(given.bboxes, given.bboxes), 0.0).max(axis=1)
        swap = np.where(clash >= LABEL_OVERLAP, np.minimum(swap, 1.0 - clash), swap)
    # the same-class prediction overlapping most: largest IoU, then score, then lowest index
    overlap = np.where(same_class, iou, 0.0)
    location = np.ones(len(given.labels))
    for b in np.flatnonzero(overlap.max(axis=1, initial=0.0) > 0):
        candidates = np.flatnonzero(overlap[b] == overlap[b].max())
        p = candidates[np.argmax(conf[candidates])]
        location[b] = 1.0 - conf[p] * (1.0 - iou[b, p])
    return _BoxScores(missing=missing, swap=swap, location=location, suggested=suggested)


def check_threshold(iou_threshold: Any) -> float:
    value = check_fraction("iou_threshold", iou_threshold)
    if value == 0:
        raise ValueError("iou_threshold=0 would match boxes that do not overlap; use e.g. 0.5.")
    return value


def _scored_images(
    labels: Any,
    predictions: Any,
    iou_threshold: Any,
    overlapping_label_check: Any = True,
    least_confidence: Any = None,
    confidence_name: str = "",
) -> list[tuple[_ImageBoxes, _ImageBoxes, _BoxScores]]:
    """Each image's boxes, with box scores from its predictions scoring ``least_confidence``."""
    threshold = check_threshold(iou_threshold)
    check = check_bool("overlapping_label_check", overlapping_label_check)
    least = 0.0 if least_confidence is None else check_fraction(confidence_name, least_confidence)
    return [
        (given, predicted, _score_boxes(given, predicted.confident(least), threshold, check))
        for given, predicted in _check_inputs(labels, predictions)
    ]


def compute_overlooked_box_scores(
    *,
    labels: Any,
    predictions: Any,
    high_probability_threshold: float | None = None,
    iou_threshold: float = 0.5,
) -> list[np.ndarray]:
    """Per image, the *missing* score of each predicted box: low when nobody labelled its object.

    ``1 - confidence`` for a predicted box that no labelled box covers with
    ``IoU >= iou_threshold``, else 1 (see the module documentation).

    Parameters
    ----------
    labels, predictions
        As in :func:`issue_scores` (either form of predictions).
    high_probability_threshold : float in [0, 1], optional
        Predicted boxes less confident than this score 1 (not evidence of a missed object);
        by default every predicted box is scored.
    iou_threshold : float, default 0.5

    Returns
    -------
    list of ndarray
        ``scores[i]`` has one score per predicted box of image ``i``, in input order.

    Examples
    --------
    >>> labels = [{"bboxes": np.array([[0, 0, 10, 10]]), "labels": np.array([0])}]
    >>> predictions = [[np.array([[0, 0, 10, 10, 0.9], [30, 30, 40, 40, 0.8]]),
    ...                 np.array([[50, 50, 60, 60, 0.3]])]]
    >>> [s.round(2) for s in compute_overlooked_box_scores(labels=labels, predictions=predictions)]
    [array([1. , 0.2, 0.7])]
    >>> compute_overlooked_box_scores(labels=labels, predictions=predictions,
    ...                               high_probability_threshold=0.5)[0].round(2)
    array([1. , 0.2, 1. ])
    """
    least = (
        0.0
        if high_probability_threshold is None
        else check_fraction("high_probability_threshold", high_probability_threshold)
    )
    return [
        np.where(predicted.scores >= least, boxes.missing, 1.0)
        for _, predicted, boxes in _scored_images(labels, predictions, iou_threshold)
    ]


def compute_badloc_box_scores(
    *,
    labels: Any,
    predictions: Any,
    low_probability_threshold: float | None = None,
    iou_threshold: float = 0.5,
) -> list[np.ndarray]:
    """Per image, the *location* score of each labelled box: low when it is drawn out of place.

    ``1 - confidence * (1 - IoU)`` with the prediction of the box's class overlapping it most
    (see the module documentation); 1 when none overlaps it.

    Parameters
    ----------
    labels, predictions, iou_threshold
        As in :func:`compute_overlooked_box_scores`.
    low_probability_threshold : float in [0, 1], optional
        Predicted boxes less confident than this are ignored; by default all are used.

    Returns
    -------
    list of ndarray
        ``scores[i]`` has one score per labelled box of image ``i``.

    Examples
    --------
    >>> labels = [{"bboxes": np.array([[0, 0, 10, 10]]), "labels": np.array([0])}]
    >>> predictions = [[np.array([[2, 0, 12, 10, 0.9]])]]
    >>> compute_badloc_box_scores(labels=labels, predictions=predictions)[0].round(3)
    array([0.7])
    >>> compute_badloc_box_scores(labels=labels, predictions=predictions,
    ...                           low_probability_threshold=0.95)[0]
    array([1.])
    """
    scored = _scored_images(
        labels, predictions, iou_threshold, True, low_probability_threshold,
        "low_probability_threshold",
    )
    return [boxes.location for _, _, boxes in scored]


def compute_swap_box_scores(
    *,
    labels: Any,
    predictions: Any,
    high_probability_threshold: float | None = None,
    overlapping_label_check: bool = True,
    iou_threshold: float = 0.5,
) -> list[np.ndarray]:
    """Per image, the *swap* score of each labelled box: low when it probably has the wrong class.

    ``1 - max(0, other - same)`` from the most confident overlapping predictions of another
    class and of the box's own class (see the module documentation).

    Parameters
    ----------
    labels, predictions, iou_threshold
        As in :func:`compute_overlooked_box_scores`.
    high_probability_threshold : float in [0, 1], optional
        Predicted boxes less confident than this are ignored; by default all are used.
    overlapping_label_check : bool, default True
        Also score low a labelled box that a labelled box of another class covers with
        ``IoU >= 0.95`` (at most ``1 - IoU``).

    Returns
    -------
    list of ndarray
        ``scores[i]`` has one score per labelled box of image ``i``.

    Examples
    --------
    >>> labels = [{"bboxes": np.array([[0, 0, 10, 10], [0, 0, 10, 10]]),
    ...            "labels": np.array([0, 1])}]
    >>> predictions = [[np.array([[0, 0, 10, 10, 0.2]]), np.array([[0, 0, 10, 10, 0.9]])]]
    >>> compute_swap_box_scores(labels=labels, predictions=predictions,
    ...                         overlapping_label_check=False)[0].round(2)
    array([0.3, 1. ])
    >>> compute_swap_box_scores(labels=labels, predictions=predictions)[0].round(2)
    array([0., 0.])
    """
    scored = _scored_images(
        labels, predictions, iou_threshold, overlapping_label_check, high_probability_threshold,
        "high_probability_threshold",
    )
    return [boxes.swap for _, _, boxes in scored]


def suggested_labels(
    labels: Any, predictions: Any, *, iou_threshold: float = 0.5
) -> list[np.ndarray]:
    """Per image, the class the predictions suggest for each labelled box.

    The class of the most confident prediction of another class covering the box
    (``IoU >= iou_threshold``) when it is more confident than every covering prediction of the
    box's own class, else the given class. A suggestion differs from the given class exactly
    when the box's swap score (without ``overlapping_label_check``) is below 1.

    Returns
    -------
    list of ndarray
        ``suggested[i]`` has one class id per labelled box of image ``i``.

    Examples
    --------
    >>> labels = [{"bboxes": np.array([[0, 0, 10, 10], [20, 20, 30, 30]]),
    ...            "labels": np.array([0, 0])}]
    >>> predictions = [{"bboxes": np.array([[0, 0, 10, 10], [20, 20, 30, 30], [20, 20, 30, 30]]),
    ...                 "labels": np.array([2, 1, 0]), "scores": np.array([0.9, 0.4, 0.6])}]
    >>> suggested_labels(labels, predictions)
    [array([2, 0])]
    """
    return [boxes.suggested for _, _, boxes in _scored_images(labels, predictions, iou_threshold)]


def pool_box_scores_per_image(
    box_scores: Sequence[Any], *, temperature: float | None = None
) -> np.ndarray:
    """One score per image from the per-box scores of each image.

    The lowest box score by default; with a ``temperature`` the soft minimum
    ``sum(s * w) / sum(w)``, ``w = exp(-s / temperature)``, which also lowers an image with many
    doubtful boxes. NaN entries (boxes the reference leaves unscored) are skipped; an image
    without scored boxes gets 1.

    Examples
    --------
    >>> pool_box_scores_per_image([np.array([0.2, 0.9]), np.array([]), np.array([np.nan, 0.5])])
    array([0.2, 1. , 0.5])
    >>> pool_box_scores_per_image([np.array([0.2, 0.9])], temperature=0.1).round(4)
    array([0.2006])
    """
    method = "min" if temperature is None else "softmin"
    temperature = 1.0 if temperature is None else check_pooling("method", method, temperature)
    if isinstance(box_scores, (str, bytes, Mapping)) or not isinstance(box_scores, Sequence):
        raise TypeError(
            "box_scores must be a list with one array of box scores per image; found "
            f"{type(box_scores).__name__}."
        )
    kept = []
    for i, scores in enumerate(box_scores):
        values = np.asarray(scores, dtype=np.float64).reshape(-1)
        values = values[~np.isnan(values)]
        if not ((values >= 0) & (values <= 1)).all():
            raise ValueError(
                f"box_scores[{i}] must hold scores in [0, 1] (NaN for unscored boxes); found "
                f"values from {values.min():g} to {values.max():g}."
            )
        kept.append(values)
    offsets = np.concatenate([[0], np.cumsum([len(v) for v in kept])])
    flat = np.concatenate(kept) if kept else np.empty(0)
    return pool_segments(flat, offsets, method, temperature)


def issues_from_scores(label_quality_scores: Any, *, threshold: float = 0.1) -> np.ndarray:
    """The images scoring at most ``threshold``, lowest score first (ties by index).

    Examples
    --------
    >>> issues_from_scores(np.array([0.1, 0.05, 0.5, 0.05]))
    array([1, 3, 0])
    """
    threshold = check_fraction("threshold", threshold)
    scores = np.asarray(label_quality_scores, dtype=np.float64)
    if scores.ndim != 1 or not (np.isfinite(scores) & (scores >= 0) & (scores <= 1)).all():
        raise ValueError(
            "label_quality_scores must be a 1-D array of scores in [0, 1], one per image (the "
            f"output of get_label_quality_scores); found shape {scores.shape}."
        )
    rows = np.flatnonzero(scores <= threshold)
    return rank_rows(rows, scores[rows])


def check_aggregation_weights(aggregation_weights: Any) -> np.ndarray:
    """The weights of the missing, swap and location scores, in that order (equal when None)."""
    if aggregation_weights is None:
        return np.ones(len(AGGREGATION_KEYS))
    keys = ", ".join(map(repr, AGGREGATION_KEYS))
    if not isinstance(aggregation_weights, Mapping):
        raise TypeError(
            f"aggregation_weights must be a dict with the keys {keys}; found "
            f"{type(aggregation_weights).__name__}."
        )
    if set(aggregation_weights) != set(AGGREGATION_KEYS):
        raise ValueError(
            f"aggregation_weights must have exactly the keys {keys}; found "
            f"{sorted(map(str, aggregation_weights))}."
        )
    try:
        weights = np.array([aggregation_weights[k] for k in AGGREGATION_KEYS], dtype=np.float64)
    except (TypeError, ValueError):
        weights = np.array([np.nan])
    if not (np.isfinite(weights).all() and (weights >= 0).all() and abs(weights.sum() - 1) < 1e-6):
        raise ValueError(
            "aggregation_weights must be non-negative numbers that sum to 1, e.g. "
            "{'overlooked': 0.2, 'swap': 0.5, 'badloc': 0.3}; found "
            f"{dict(aggregation_weights)!r}."
        )
    return weights


def issue_scores(
    labels: Any,
    predictions: Any,
    *,
    iou_threshold: float = 0.5,
    overlapping_label_check: bool = True,
    aggregation_weights: dict[str, float] | None = None,
) -> pd.DataFrame:
    """Per image, the lowest box score of each kind and the overall label quality score.

    Parameters
    ----------
    labels : list of dict
        One dict per image: ``"bboxes"`` (m, 4) as x1, y1, x2, y2 and ``"labels"`` (m,) class ids.
    predictions : list
        One entry per image: a dict like the labels with ``"scores"`` (q,), confidences in [0, 1],
        or K arrays of shape (q_k, 5) holding x1, y1, x2, y2, confidence of class ``k``'s boxes.
    iou_threshold : float, default 0.5
        Boxes with at least this IoU are taken to cover the same object.
    overlapping_label_check : bool, default True
        Score low the swap of labelled boxes that a labelled box of another class covers.
    aggregation_weights : dict, optional
        Weights of ``"overlooked"`` (missing), ``"swap"`` and ``"badloc"`` (location),
        non-negative and summing to 1. ``label_quality`` is ``1 - max(w * (1 - score)) / max(w)``
        over the three kinds: equal weights (the default) give the lowest of the three, a weight
        of 0 ignores a kind.

    Returns
    -------
    DataFrame
        One row per image with columns ``missing``, ``swap``, ``location`` and
        ``label_quality``; lower = more likely wrong.

    Examples
    --------
    >>> import numpy as np
    >>> labels = [{"bboxes": np.array([[0, 0, 10, 10]]), "labels": np.array([0])}]
    >>> predictions = [{"bboxes": np.array([[0, 0, 10, 10], [2, 0, 12, 10]]),
    ...                 "labels": np.array([1, 0]), "scores": np.array([0.9, 0.6])}]
    >>> issue_scores(labels, predictions).round(3)
       missing  swap  location  label_quality
    0      1.0   0.7       0.8            0.7
    >>> weights = {"overlooked": 0.25, "swap": 0.25, "badloc": 0.5}
    >>> issue_scores(labels, predictions, aggregation_weights=weights)["label_quality"].round(3)
    0    0.8
    Name: label_quality, dtype: float64
    """
    weights = check_aggregation_weights(aggregation_weights)
    scored = _scored_images(labels, predictions, iou_threshold, overlapping_label_check)
    kinds = np.array(
        [[getattr(boxes, kind).min(initial=1.0) for kind in ISSUE_KINDS] for _, _, boxes in scored]
    )
    quality = 1.0 - ((1.0 - kinds) * (weights / weights.max())).max(axis=1)
    return pd.DataFrame(np.column_stack([kinds, quality]), columns=[*ISSUE_KINDS, "label_quality"])


def get_label_quality_scores(
    labels: Any,
    predictions: Any,
    *,
    aggregation_weights: dict[str, float] | None = None,
    overlapping_label_check: bool = True,
    iou_threshold: float = 0.5,
) -> np.ndarray:
    """One label quality score per image in [0, 1] (lower = more likely mislabelled).

    The lowest of the image's missing, swap and location scores, each weighted by
    ``aggregation_weights`` (see :func:`issue_scores`, which takes the same arguments).

    Examples
    --------
    >>> import numpy as np
    >>> labels = [{"bboxes": np.array([[0, 0, 10, 10]]), "labels": np.array([0])}]
    >>> predictions = [{"bboxes": np.array([[0, 0, 10, 10]]), "labels": np.array([1]),
    ...                 "scores": np.array([0.9])}]
    >>> get_label_quality_scores(labels, predictions).round(3)
    array([0.1])
    """
    return issue_scores(
        labels,
        predictions,
        iou_threshold=iou_threshold,
        overlapping_label_check=overlapping_label_check,
        aggregation_weights=aggregation_weights,
    )["label_quality"].to_numpy()


def find_label_issues(
    labels: Any,
    predictions: Any,
    *,
    return_indices_ranked_by_score: bool = False,
    overlapping_label_check: bool = True,
    threshold: float = 0.5,
    iou_threshold: float = 0.5,
    return_indices_ranked_by: str | None = None,
    aggregation_weights: dict[str, float] | None = None,
) -> np.ndarray:
    """Flag the images with a box that is probably missing, swapped or badly located.

    An image is flagged when its label quality score (:func:`get_label_quality_scores`) is below
    ``threshold``, i.e. when the model's evidence that a box is wrong exceeds ``1 - threshold``.

    Parameters
    ----------
    labels, predictions, iou_threshold, overlapping_label_check, aggregation_weights
        As in :func:`issue_scores`.
    return_indices_ranked_by_score : bool, default False
        Return the flagged image indices, lowest label quality score first (the same as
        ``return_indices_ranked_by="label_quality"``).
    threshold : float in [0, 1], default 0.5
        Flag an image whose label quality score is below it.
    return_indices_ranked_by : {None, "label_quality", "missing", "swap", "location"}
        ``None`` returns a boolean mask; otherwise the flagged image indices, lowest score of
        that column of :func:`issue_scores` first (ties by index).

    Returns
    -------
    ndarray
        Boolean mask of shape (n,), or int64 image indices.

    Examples
    --------
    >>> import numpy as np
    >>> labels = [{"bboxes": np.array([[0, 0, 10, 10]]), "labels": np.array([0])}] * 2
    >>> predictions = [{"bboxes": np.array([[0, 0, 10, 10]]), "labels": np.array([0]),
    ...                 "scores": np.array([0.9])},
    ...                {"bboxes": np.array([[0, 0, 10, 10]]), "labels": np.array([1]),
    ...                 "scores": np.array([0.9])}]
    >>> find_label_issues(labels, predictions)
    array([False,  True])
    >>> find_label_issues(labels, predictions, return_indices_ranked_by_score=True)
    array([1])
    """
    threshold = check_fraction("threshold", threshold)
    if check_bool("return_indices_ranked_by_score", return_indices_ranked_by_score):
        if return_indices_ranked_by not in (None, "label_quality"):
            raise ValueError(
                "return_indices_ranked_by_score=True ranks by label_quality but "
                f"return_indices_ranked_by={return_indices_ranked_by!r}; pass only one of them."
            )
        return_indices_ranked_by = "label_quality"
    if return_indices_ranked_by is not None:
        check_choice("return_indices_ranked_by", return_indices_ranked_by, RANKINGS)
    scores = issue_scores(
        labels,
        predictions,
        iou_threshold=iou_threshold,
        overlapping_label_check=overlapping_label_check,
        aggregation_weights=aggregation_weights,
    )
    mask = scores["label_quality"].to_numpy() < threshold
    logger.debug("%d of %d images flagged", int(mask.sum()), len(mask))
    if return_indices_ranked_by is None:
        return mask
    rows = np.flatnonzero(mask)
    return rank_rows(rows, scores[return_indices_ranked_by].to_numpy()[rows])


def _num_classes(checked: Sequence[tuple[_ImageBoxes, _ImageBoxes]], class_names: Any) -> int:
    """How many classes: the names given in a sequence, else the largest class id + 1."""
    largest = max(
        (int(max(g.labels.max(initial=-1), p.labels.max(initial=-1))) for g, p in checked),
        default=-1,
    )
    if class_names is None or isinstance(class_names, Mapping):
        return largest + 1
    if isinstance(class_names, (str, bytes)) or not hasattr(class_names, "__len__"):
        raise TypeError(
            "class_names must be a list of names (one per class id) or a dict from class id to "
            f"name; found {type(class_names).__name__}."
        )
    if largest >= len(class_names):
        raise ValueError(
            f"class_names has {len(class_names)} names but the boxes use class id {largest}; "
            "name every class."
        )
    return len(class_names)


def _class_keys(class_names: Any, num_classes: int) -> dict[int, Any]:
    """Class id -> the key it is reported under.

    Without names the id itself; with a list the id's name; with a dict (the reference's
    ``{"0": "cat"}``, or ``{0: "cat"}``) the name of each id it holds, ids it lacks left out.
    """
    if class_names is None:
        return {k: k for k in range(num_classes)}
    if not isinstance(class_names, Mapping):
        return {k: class_name(class_names, k) for k in range(num_classes)}
    keys = {}
    for key, name in class_names.items():
        try:
            keys[int(key)] = name
        except (TypeError, ValueError):
            raise ValueError(
                f"class_names has the key {key!r}; a dict of class names maps class ids "
                "(0, 1, ... or '0', '1', ...) to names."
            ) from None
    return dict(sorted(keys.items()))


def class_summary(
    labels: Any,
    predictions: Any,
    *,
    threshold: float = 0.5,
    iou_threshold: float = 0.5,
    class_names: Sequence[Any] | None = None,
    overlapping_label_check: bool = True,
) -> pd.DataFrame:
    """Per class: labelled and predicted boxes, and how many are flagged of each kind.

    A box is flagged when its score is below ``threshold``: a predicted box of the class as
    missing, a labelled box of the class as swapped or badly located.

    Returns
    -------
    DataFrame
        One row per class (index ``class``), columns ``num_boxes`` (labelled),
        ``num_predicted``, ``num_missing``, ``num_swapped``, ``num_badly_located``.

    Examples
    --------
    >>> import numpy as np
    >>> labels = [{"bboxes": np.array([[0, 0, 10, 10]]), "labels": np.array([0])}]
    >>> predictions = [{"bboxes": np.array([[0, 0, 10, 10], [20, 20, 30, 30]]),
    ...                 "labels": np.array([1, 1]), "scores": np.array([0.9, 0.8])}]
    >>> class_summary(labels, predictions, class_names=["cat", "dog"]).reset_index()
      class  num_boxes  num_predicted  num_missing  num_swapped  num_badly_located
    0   cat          1              0            0            1                  0
    1   dog          0              2            1            0                  0
    """
    threshold = check_fraction("threshold", threshold)
    scored = _scored_images(labels, predictions, iou_threshold, overlapping_label_check)
    k = _num_classes([(g, p) for g, p, _ in scored], class_names)
    columns = ("num_boxes", "num_predicted", "num_missing", "num_swapped", "num_badly_located")
    table = np.zeros((k, len(columns)), dtype=np.int64)
    for given, predicted, boxes in scored:
        for column, ids in enumerate(
            (
                given.labels,
                predicted.labels,
                predicted.labels[boxes.missing < threshold],
                given.labels[boxes.swap < threshold],
                given.labels[boxes.location < threshold],
            )
        ):
            table[:, column] += np.bincount(ids, minlength=k)
    keys = _class_keys(class_names, k)
    index = pd.Index([keys.get(c, c) for c in range(k)], name="class")
    return pd.DataFrame(table, index=index, columns=list(columns))


def object_counts_per_image(labels: Any, predictions: Any) -> tuple[list[int], list[int]]:
    """The number of labelled and of predicted boxes in each image.

    Every predicted box counts, whatever its confidence.

    Examples
    --------
    >>> labels = [{"bboxes": [[0, 0, 1, 1], [2, 2, 3, 3]], "labels": [0, 1]},
    ...           {"bboxes": [], "labels": []}]
    >>> predictions = [[np.array([[0, 0, 1, 1, 0.9]]), np.zeros((0, 5))],
    ...                [np.array([[0, 0, 1, 1, 0.2]]), np.array([[5, 5, 6, 6, 0.7]])]]
    >>> object_counts_per_image(labels, predictions)
    ([2, 0], [1, 2])
    """
    checked = _check_inputs(labels, predictions)
    return [len(g.labels) for g, _ in checked], [len(p.labels) for _, p in checked]


def get_sorted_bbox_count_idxs(
    labels: Any, predictions: Any
) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """``(image, box count)`` pairs, most boxes first (ties by index): labelled, then predicted.

    Examples
    --------
    >>> labels = [{"bboxes": [[0, 0, 1, 1]], "labels": [0]},
    ...           {"bboxes": [[0, 0, 1, 1], [2, 2, 3, 3]], "labels": [0, 0]}]
    >>> predictions = [{"bboxes": [[0, 0, 1, 1]], "labels": [0], "scores": [0.5]},
    ...                {"bboxes": [[0, 0, 1, 1]], "labels": [0], "scores": [0.5]}]
    >>> get_sorted_bbox_count_idxs(labels, predictions)
    ([(1, 2), (0, 1)], [(0, 1), (1, 1)])
    """
    given, predicted = (
        sorted(enumerate(side), key=lambda pair: (-pair[1], pair[0]))
        for side in object_counts_per_image(labels, predictions)
    )
    return given, predicted


def _per_class(
    labels: Any, predictions: Any, class_names: Any, value: Any
) -> tuple[dict[Any, list[Any]], dict[Any, list[Any]]]:
    """Per class key (by class id), ``value(boxes)`` of each labelled and each predicted box.

    Every class has an entry on both sides, empty when it has no boxes there.
    """
    checked = _check_inputs(labels, predictions)
    keys = _class_keys(class_names, _num_classes(checked, class_names))
    given: dict[int, list[Any]] = {c: [] for c in keys}
    predicted: dict[int, list[Any]] = {c: [] for c in keys}
    for pair in checked:
        for boxes, found in zip(pair, (given, predicted)):
            for c, v in zip(boxes.labels.tolist(), value(boxes)):
                if c in found:
                    found[c].append(v)
    return {keys[c]: v for c, v in given.items()}, {keys[c]: v for c, v in predicted.items()}


def bounding_box_size_distribution(
    labels: Any, predictions: Any, *, class_names: Any = None, sort: bool = False
) -> tuple[dict[Any, list[float]], dict[Any, list[float]]]:
    """Per class, the areas of its labelled boxes and of its predicted boxes.

    Parameters
    ----------
    labels, predictions
        As in :func:`issue_scores`.
    class_names : list or dict, optional
        Names to report classes under; a dict (``{"0": "cat"}`` or ``{0: "cat"}``) also limits
        the classes to those it names.
    sort : bool, default False
        Order each dict by how many boxes the class has, most first (ties by class id); else by
        class id. Classes without boxes on a side are left out of that side's dict.

    Examples
    --------
    >>> labels = [{"bboxes": [[0, 0, 2, 2], [0, 0, 1, 3], [0, 0, 5, 5]], "labels": [1, 1, 0]}]
    >>> predictions = [{"bboxes": [[0, 0, 2, 3]], "labels": [1], "scores": [0.9]}]
    >>> bounding_box_size_distribution(labels, predictions, sort=True)
    ({1: [4.0, 3.0], 0: [25.0]}, {1: [6.0]})
    """
    check_bool("sort", sort)

    def areas(boxes: _ImageBoxes) -> list[float]:
        b = boxes.bboxes
        return ((b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])).tolist()

    given, predicted = (
        {key: v for key, v in side.items() if v}
        for side in _per_class(labels, predictions, class_names, areas)
    )
    if sort:  # a stable sort keeps class order among equal counts
        given, predicted = (
            dict(sorted(side.items(), key=lambda item: -len(item[1])))
            for side in (given, predicted)
        )
    return given, predicted


def class_label_distribution(
    labels: Any, predictions: Any, *, class_names: Any = None
) -> tuple[dict[Any, float], dict[Any, float]]:
    """The fraction of labelled and of predicted boxes in each class.

    Both dicts have the same keys (every class with a box on either side, by class id); a
    side without boxes has fractions 0.

    Examples
    --------
    >>> labels = [{"bboxes": [[0, 0, 1, 1]] * 4, "labels": [0, 0, 0, 1]}]
    >>> predictions = [{"bboxes": [[0, 0, 1, 1]] * 2, "labels": [0, 2], "scores": [0.9, 0.8]}]
    >>> class_label_distribution(labels, predictions, class_names={"0": "a", "1": "b", "2": "c"})
    ({'a': 0.75, 'b': 0.25, 'c': 0.0}, {'a': 0.5, 'b': 0.0, 'c': 0.5})
    """
    given, predicted = _per_class(labels, predictions, class_names, lambda b: b.labels.tolist())
    seen = [key for key in given if given[key] or predicted[key]]
    given_total = max(1, sum(map(len, given.values())))
    predicted_total = max(1, sum(map(len, predicted.values())))
    return (
        {key: len(given[key]) / given_total for key in seen},
        {key: len(predicted[key]) / predicted_total for key in seen},
    )


def _match_counts(given: _ImageBoxes, predicted: _ImageBoxes, k: int, iou: float) -> np.ndarray:
    """(k, 3) true positives, false positives and false negatives at one IoU threshold.

    Within each class, predictions in decreasing confidence (ties by index) each take the
    unmatched labelled box they overlap most with ``IoU >= iou`` (ties by index).
    """
    counts = np.zeros((k, 3))
    overlap = box_iou(predicted.bboxes, given.bboxes)
    for c in range(k):
        preds = np.flatnonzero(predicted.labels == c)
        boxes = np.flatnonzero(given.labels == c)
        free = np.ones(len(boxes), dtype=bool)
        for p in preds[np.argsort(-predicted.scores[preds], kind="stable")]:
            candidates = np.where(free, overlap[p, boxes], -1.0)
            if len(boxes) and candidates.max() >= iou:
                free[np.argmax(candidates)] = False
        matched = int((~free).sum())
        counts[c] = matched, len(preds) - matched, len(boxes) - matched
    return counts


def get_average_per_class_confusion_matrix(
    labels: Any, predictions: Any, *, class_names: Any = None
) -> dict[Any, dict[str, float]]:
    """Per class, the true positive, false positive and false negative box counts.

    Each count is the mean over the IoU thresholds 0.50, 0.55, ..., 0.95 of the counts of a
    greedy matching: within each image and class, predictions in decreasing confidence each
    take the unmatched labelled box they overlap most with IoU at least the threshold. Every
    prediction counts, whatever its confidence.

    Examples
    --------
    >>> labels = [{"bboxes": [[0, 0, 10, 10], [20, 20, 30, 30]], "labels": [0, 0]}]
    >>> predictions = [[np.array([[0, 0, 10, 10, 0.9], [22, 20, 32, 30, 0.8]])]]
    >>> get_average_per_class_confusion_matrix(labels, predictions)
    {0: {'TP': 1.4, 'FP': 0.6, 'FN': 0.6}}
    """
    checked = _check_inputs(labels, predictions)
    k = _num_classes(checked, class_names)
    totals = np.zeros((k, 3))
    for given, predicted in checked:
        for iou in IOU_THRESHOLDS:
            totals += _match_counts(given, predicted, k, float(iou))
    totals = np.round(totals / len(IOU_THRESHOLDS), 12)
    return {
        key: dict(zip(("TP", "FP", "FN"), map(float, totals[c])))
        for c, key in _class_keys(class_names, k).items()
        if c < k
    }


def calculate_per_class_metrics(
    labels: Any, predictions: Any, *, class_names: Any = None
) -> dict[Any, dict[str, float]]:
    """Per class, the detector's precision, recall and F1 over the IoU thresholds 0.50 to 0.95.

    From the mean counts of :func:`get_average_per_class_confusion_matrix`:
    ``TP / (TP + FP)``, ``TP / (TP + FN)`` and their harmonic mean; NaN where a ratio is 0 / 0
    (no predictions, no labelled boxes, or both 0).

    Examples
    --------
    >>> labels = [{"bboxes": [[0, 0, 10, 10], [20, 20, 30, 30]], "labels": [0, 0]}]
    >>> predictions = [[np.array([[0, 0, 10, 10, 0.9], [22, 20, 32, 30, 0.8]])]]
    >>> calculate_per_class_metrics(labels, predictions)
    {0: {'average precision': 0.7, 'average recall': 0.7, 'average f1': 0.7}}
    """
    metrics = {}
    for key, c in get_average_per_class_confusion_matrix(
        labels, predictions, class_names=class_names
    ).items():
        tp, fp, fn = c["TP"], c["FP"], c["FN"]
        with np.errstate(invalid="ignore", divide="ignore"):
            precision = np.float64(tp) / (tp + fp)
            recall = np.float64(tp) / (tp + fn)
            f1 = 2 * precision * recall / (precision + recall)
        metrics[key] = {
            "average precision": round(float(precision), 12),
            "average recall": round(float(recall), 12),
            "average f1": round(float(f1), 12),
        }
    return metrics


def plot_boxes(
    labels: Any,
    predictions: Any = None,
    *,
    image: Any = None,
    class_names: Sequence[Any] | None = None,
    min_score: float = 0.5,
    ax: Any = None,
) -> Any:
    """Draw the labelled (solid) and predicted (dashed) boxes of one image.

    The Axes of a :class:`labelaudit.report.DetectionBoxesDisplay` of these boxes. Requires
    matplotlib (``pip install 'labelaudit[plot]'``).

    Parameters
    ----------
    labels : dict
        The labelled boxes of the image (one entry of ``labels``).
    predictions : dict, optional
        Its predicted boxes (one entry of ``predictions``); only those scoring at least
        ``min_score`` are drawn.
    image : array-like of shape (H, W) or (H, W, 3 or 4), optional
        The picture under the boxes.
    class_names : sequence, optional
        Names shown next to the boxes instead of class ids.
    min_score : float, default 0.5
    ax : matplotlib Axes, optional
        Where to draw; new axes when omitted.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> boxes = {"bboxes": np.array([[0, 0, 10, 10]]), "labels": np.array([0])}
    >>> predicted = {"bboxes": np.array([[1, 0, 10, 12]]), "labels": np.array([0]),
    ...              "scores": np.array([0.9])}
    >>> [t.get_text() for t in plot_boxes(boxes, predicted, class_names=["cat"]).texts]
    ['cat', 'cat 0.90']
    """
    from labelaudit.report.plots import DetectionBoxesDisplay, require_matplotlib

    min_score = check_fraction("min_score", min_score)
    given = _check_image("labels", labels, False)
    predicted = None if predictions is None else _check_image("predictions", predictions, True)
    shown = {}
    if predicted is not None:
        keep = predicted.scores >= min_score
        shown = {
            "predicted_bboxes": predicted.bboxes[keep],
            "predicted_labels": predicted.labels[keep],
            "predicted_scores": predicted.scores[keep],
        }
    require_matplotlib("plot_boxes")
    display = DetectionBoxesDisplay(
        given.bboxes, given.labels, **shown, image=image, class_names=class_names
    )
    return display.plot(ax=ax).ax_


def visualize(
    image: Any,
    *,
    label: Any = None,
    prediction: Any = None,
    prediction_threshold: float | None = None,
    overlay: bool = True,
    class_names: Any = None,
    figsize: tuple[float, float] | None = None,
    save_path: Any = None,
) -> Any:
    """Draw an image with its labelled (solid) and predicted (dashed) boxes.

    Requires matplotlib (``pip install 'labelaudit[plot]'``).

    Parameters
    ----------
    image : array-like of shape (H, W) or (H, W, 3 or 4), PIL image, or path
        The picture; a path is read with ``matplotlib.pyplot.imread``.
    label : dict, optional
        The image's labelled boxes (one entry of ``labels``).
    prediction : dict or list of K (q_k, 5) arrays, optional
        Its predicted boxes (one entry of ``predictions``, either form).
    prediction_threshold : float in [0, 1], optional
        Predicted boxes less confident than this are not drawn.
    overlay : bool, default True
        Both kinds of box on one picture; ``False`` draws the predictions on the left and the
        labels on the right.
    class_names : list or dict, optional
        Names shown instead of class ids (a dict may map ``"0"`` or ``0`` to a name).
    figsize : (width, height), optional
    save_path : str or path, optional
        Also save the figure there; the suffix (png, pdf, ps, eps or svg) picks the format.

    Returns
    -------
    matplotlib Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> label = {"bboxes": [[1, 1, 6, 6]], "labels": [0]}
    >>> prediction = [np.array([[1, 1, 6, 7, 0.9]]), np.array([[2, 2, 4, 4, 0.1]])]
    >>> figure = visualize(np.zeros((8, 8)), label=label, prediction=prediction,
    ...                    prediction_threshold=0.5, class_names={"0": "cat", "1": "dog"})
    >>> [t.get_text() for t in figure.axes[0].texts]
    ['cat', 'cat 0.90']
    >>> [ax.get_title() for ax in visualize(np.zeros((8, 8)), label=label, overlay=False).axes]
    ['predicted boxes', 'labelled boxes']
    """
    from labelaudit.report.plots import DetectionBoxesDisplay, require_matplotlib

    least = (
        0.0
        if prediction_threshold is None
        else check_fraction("prediction_threshold", prediction_threshold)
    )
    check_bool("overlay", overlay)
    if save_path is not None and str(save_path).rsplit(".", 1)[-1].lower() not in SAVE_FORMATS:
        raise ValueError(
            f"save_path={str(save_path)!r} must end in one of "
            f"{', '.join('.' + f for f in SAVE_FORMATS)}, which picks the file format."
        )
    empty = _ImageBoxes(np.empty((0, 4)), np.empty(0, dtype=np.int64), np.empty(0))
    given = empty if label is None else _check_image("label", label, False)
    predicted = empty if prediction is None else _check_prediction("prediction", prediction)
    predicted = predicted.confident(least)
    k = _num_classes([(given, predicted)], class_names)
    keys = _class_keys(class_names, k)
    names = [keys.get(c, c) for c in range(k)]
    plt = require_matplotlib("visualize")
    is_path = isinstance(image, (str, bytes, os.PathLike))
    picture = plt.imread(image) if is_path else np.asarray(image)
    shown = {
        "predicted_bboxes": predicted.bboxes,
        "predicted_labels": predicted.labels,
        "predicted_scores": predicted.scores,
    }
    if overlay:
        figure, ax = plt.subplots(figsize=figsize)
        DetectionBoxesDisplay(
            given.bboxes, given.labels, **shown, image=picture, class_names=names
        ).plot(ax=ax)
    else:
        figure, (left, right) = plt.subplots(1, 2, figsize=figsize)
        DetectionBoxesDisplay(
            empty.bboxes, empty.labels, **shown, image=picture, class_names=names
        ).plot(ax=left)
        DetectionBoxesDisplay(given.bboxes, given.labels, image=picture, class_names=names).plot(
            ax=right
        )
        left.set_title("predicted boxes")
        right.set_title("labelled boxes")
    if save_path is not None:
        figure.savefig(save_path)
    return figure


def plot_class_distribution(
    labels: Any, predictions: Any, class_names: Any = None, *, ax: Any = None
) -> Any:
    """Bars of the fraction of labelled and of predicted boxes in each class.

    The numbers of :func:`class_label_distribution`. Requires matplotlib.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> labels = [{"bboxes": [[0, 0, 1, 1]] * 4, "labels": [0, 0, 0, 1]}]
    >>> predictions = [{"bboxes": [[0, 0, 1, 1]] * 2, "labels": [0, 1], "scores": [0.9, 0.8]}]
    >>> ax = plot_class_distribution(labels, predictions, ["cat", "dog"])
    >>> [round(float(bar.get_height()), 2) for bar in ax.patches]
    [0.75, 0.25, 0.5, 0.5]
    """
    from labelaudit.report.plots import require_matplotlib

    given, predicted = class_label_distribution(labels, predictions, class_names=class_names)
    plt = require_matplotlib("plot_class_distribution")
    if ax is None:
        ax = plt.subplots()[1]
    where = np.arange(len(given))
    ax.bar(where - 0.2, list(given.values()), width=0.4, label="labelled")
    ax.bar(where + 0.2, list(predicted.values()), width=0.4, label="predicted")
    ax.set_xticks(where, [str(key) for key in given])
    ax.set_ylabel("fraction of boxes")
    ax.set_title("boxes per class")
    ax.legend()
    return ax


def plot_class_size_distributions(
    labels: Any, predictions: Any, class_names: Any = None, class_to_show: int = 10
) -> Any:
    """Histograms of the areas of each class's labelled and predicted boxes, one panel per class.

    Only the ``class_to_show`` classes with the most labelled boxes get a panel (ties by class
    id). The numbers of :func:`bounding_box_size_distribution`. Requires matplotlib.

    Returns
    -------
    matplotlib Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> labels = [{"bboxes": [[0, 0, 2, 2], [0, 0, 1, 3], [0, 0, 5, 5]], "labels": [1, 1, 0]}]
    >>> predictions = [{"bboxes": [[0, 0, 2, 3]], "labels": [1], "scores": [0.9]}]
    >>> figure = plot_class_size_distributions(labels, predictions, class_to_show=1)
    >>> [ax.get_title() for ax in figure.axes]
    ['class 1']
    """
    from labelaudit.report.plots import require_matplotlib

    class_to_show = check_positive_int("class_to_show", class_to_show)
    given, predicted = bounding_box_size_distribution(
        labels, predictions, class_names=class_names, sort=True
    )
    shown = list(given)[:class_to_show]
    plt = require_matplotlib("plot_class_size_distributions")
    figure, axes = plt.subplots(1, len(shown), figsize=(4 * len(shown), 3), squeeze=False)
    for ax, key in zip(axes[0], shown):
        ax.hist([given[key], predicted.get(key, [])], label=["labelled", "predicted"])
        ax.set_title(f"class {key}")
        ax.set_xlabel("box area")
        ax.legend()
    return figure
