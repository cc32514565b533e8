"""Label issues in object detection: missing, swapped and badly located boxes.

``labels`` has one dict per image, ``{"bboxes": (m, 4) array of x1, y1, x2, y2, "labels": (m,)
class ids}``; ``predictions`` the same with ``"scores": (q,)`` confidences in [0, 1] (an
out-of-sample detector's output, before or after non-maximum suppression).

Every image is scored from its own boxes only, so a score never depends on which other images
are in the same call. With ``IoU`` the intersection over union of two boxes and ``t`` the
``iou_threshold``, the three box scores (in [0, 1], lower = more likely wrong) are:

* **missing**, for each predicted box ``p``: ``1 - score(p)`` when no labelled box of any class
  overlaps it with ``IoU >= t`` (the model sees an object nobody labelled), else 1;
* **swap**, for each labelled box ``b`` of class ``c``: ``1 - max(0, other - same)``, where
  ``other`` is the highest score of the predictions of another class with ``IoU(b, p) >= t`` and
  ``same`` that of the predictions of class ``c`` (0 when there are none);
* **location**, for each labelled box ``b`` of class ``c``: ``1 - score(p) * (1 - IoU(b, p))``
  for the prediction ``p`` of class ``c`` that overlaps ``b`` most (ties: higher score, then lower
  index); 1 when no prediction of class ``c`` overlaps ``b`` (nothing to say where it should be).

An image's score for each kind is the lowest of its boxes' (1 without boxes), and its label
quality score the lowest of the three. A labelled box the model does not detect at all is not
scored as an issue: the model gives no evidence against it.

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
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from labelaudit._structured import check_class_ids, check_per_item, class_name
from labelaudit._validate import check_choice, check_fraction
from labelaudit.rank import rank_rows

logger = logging.getLogger(__name__)

__all__ = [
    "box_iou",
    "class_summary",
    "find_label_issues",
    "get_label_quality_scores",
    "issue_scores",
    "plot_boxes",
]

ISSUE_KINDS = ("missing", "swap", "location")
RANKINGS = ("label_quality", *ISSUE_KINDS)


@dataclass(frozen=True)
class _ImageBoxes:
    """Checked boxes of one image: corners (m, 4) float64, class ids (m,), scores (m,) or None."""

    bboxes: np.ndarray
    labels: np.ndarray
    scores: np.ndarray | None


def _check_image(name: str, entry: Any, with_scores: bool) -> _ImageBoxes:
    keys = ("bboxes", "labels", "scores") if with_scores else ("bboxes", "labels")
    if not isinstance(entry, dict) or any(k not in entry for k in keys):
        raise ValueError(
            f"{name} must be a dict with keys {', '.join(map(repr, keys))}; found "
            f"{type(entry).__name__}{' with keys ' + repr(sorted(entry)) if isinstance(entry, dict) else ''}."
        )
    boxes = np.asarray(entry["bboxes"], dtype=np.float64) if np.size(entry["bboxes"]) else np.empty((0, 4))
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise ValueError(
            f"{name}['bboxes'] must have shape (boxes, 4) holding x1, y1, x2, y2; found shape "
            f"{boxes.shape}."
        )
    if not np.isfinite(boxes).all() or (boxes[:, 2] < boxes[:, 0]).any() or (boxes[:, 3] < boxes[:, 1]).any():
        raise ValueError(
            f"{name}['bboxes'] must hold finite corners with x2 >= x1 and y2 >= y1; convert "
            "(x, y, width, height) boxes with x2 = x + width, y2 = y + height."
        )
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
        if not (np.isfinite(scores).all() and (scores >= 0).all() and (scores <= 1).all()):
            raise ValueError(
                f"{name}['scores'] must be confidences in [0, 1]; found values from "
                f"{scores.min():g} to {scores.max():g}. Pass probabilities, not logits."
            )
    return _ImageBoxes(boxes, ids, scores)


def _check_inputs(labels: Any, predictions: Any) -> list[tuple[_ImageBoxes, _ImageBoxes]]:
    check_per_item("image", ("labels", labels), ("predictions", predictions))
    return [
        (_check_image(f"labels[{i}]", given, False), _check_image(f"predictions[{i}]", pred, True))
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


def _score_boxes(given: _ImageBoxes, predicted: _ImageBoxes, iou_threshold: float) -> _BoxScores:
    """Box scores of one image from its labelled and predicted boxes only."""
    iou = box_iou(given.bboxes, predicted.bboxes)  # (m, q)
    conf = predicted.scores
    close = iou >= iou_threshold
    missing = np.where(close.any(axis=0), 1.0, 1.0 - conf)
    same_class = given.labels[:, None] == predicted.labels[None, :]
    same = np.where(close & same_class, conf, 0.0).max(axis=1, initial=0.0)
    other = np.where(close & ~same_class, conf, 0.0).max(axis=1, initial=0.0)
    swap = 1.0 - np.clip(other - same, 0.0, None)
    # the same-class prediction overlapping most: largest IoU, then score, then lowest index
    overlap = np.where(same_class, iou, 0.0)
    location = np.ones(len(given.labels))
    for b in np.flatnonzero(overlap.max(axis=1, initial=0.0) > 0):
        candidates = np.flatnonzero(overlap[b] == overlap[b].max())
        p = candidates[np.argmax(conf[candidates])]
        location[b] = 1.0 - conf[p] * (1.0 - iou[b, p])
    return _BoxScores(missing=missing, swap=swap, location=location)


def check_threshold(iou_threshold: Any) -> float:
    value = check_fraction("iou_threshold", iou_threshold)
    if value == 0:
        raise ValueError("iou_threshold=0 would match boxes that do not overlap; use e.g. 0.5.")
    return value


def issue_scores(labels: Any, predictions: Any, *, iou_threshold: float = 0.5) -> pd.DataFrame:
    """Per image, the lowest box score of each kind and the overall label quality score.

    Parameters
    ----------
    labels : list of dict
        One dict per image: ``"bboxes"`` (m, 4) as x1, y1, x2, y2 and ``"labels"`` (m,) class ids.
    predictions : list of dict
        The same with ``"scores"`` (q,), confidences in [0, 1].
    iou_threshold : float, default 0.5
        Boxes with at least this IoU are taken to cover the same object.

    Returns
    -------
    DataFrame
        One row per image with columns ``missing``, ``swap``, ``location`` and
        ``label_quality`` (the lowest of the three); lower = more likely wrong.

    Examples
    --------
    >>> import numpy as np
    >>> labels = [{"bboxes": np.array([[0, 0, 10, 10]]), "labels": np.array([0])}]
    >>> predictions = [{"bboxes": np.array([[0, 0, 10, 10], [2, 0, 12, 10]]),
    ...                 "labels": np.array([1, 0]), "scores": np.array([0.9, 0.6])}]
    >>> issue_scores(labels, predictions).round(3)
       missing  swap  location  label_quality
    0      1.0   0.7       0.8            0.7
    """
    threshold = check_threshold(iou_threshold)
    rows = []
    for given, predicted in _check_inputs(labels, predictions):
        boxes = _score_boxes(given, predicted, threshold)
        kinds = [float(getattr(boxes, kind).min(initial=1.0)) for kind in ISSUE_KINDS]
        rows.append([*kinds, min(kinds)])
    return pd.DataFrame(rows, columns=[*ISSUE_KINDS, "label_quality"])


def get_label_quality_scores(labels: Any, predictions: Any, *, iou_threshold: float = 0.5) -> np.ndarray:
    """One label quality score per image in [0, 1] (lower = more likely mislabelled).

    The lowest of the image's missing, swap and location scores (see the module
    documentation and :func:`issue_scores`).

    Examples
    --------
    >>> import numpy as np
    >>> labels = [{"bboxes": np.array([[0, 0, 10, 10]]), "labels": np.array([0])}]
    >>> predictions = [{"bboxes": np.array([[0, 0, 10, 10]]), "labels": np.array([1]),
    ...                 "scores": np.array([0.9])}]
    >>> get_label_quality_scores(labels, predictions).round(3)
    array([0.1])
    """
    return issue_scores(labels, predictions, iou_threshold=iou_threshold)["label_quality"].to_numpy()


def find_label_issues(
    labels: Any,
    predictions: Any,
    *,
    threshold: float = 0.5,
    iou_threshold: float = 0.5,
    return_indices_ranked_by: str | None = None,
) -> np.ndarray:
    """Flag the images with a box that is probably missing, swapped or badly located.

    An image is flagged when any of its box scores is below ``threshold``, i.e. when the model's
    evidence that a box is wrong exceeds ``1 - threshold``.

    Parameters
    ----------
    labels, predictions, iou_threshold
        As in :func:`issue_scores`.
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
    """
    threshold = check_fraction("threshold", threshold)
    if return_indices_ranked_by is not None:
        check_choice("return_indices_ranked_by", return_indices_ranked_by, RANKINGS)
    scores = issue_scores(labels, predictions, iou_threshold=iou_threshold)
    mask = scores["label_quality"].to_numpy() < threshold
    logger.debug("%d of %d images flagged", int(mask.sum()), len(mask))
    if return_indices_ranked_by is None:
        return mask
    rows = np.flatnonzero(mask)
    return rank_rows(rows, scores[return_indices_ranked_by].to_numpy()[rows])


def class_summary(
    labels: Any,
    predictions: Any,
    *,
    threshold: float = 0.5,
    iou_threshold: float = 0.5,
    class_names: Sequence[Any] | None = None,
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
    iou = check_threshold(iou_threshold)
    checked = _check_inputs(labels, predictions)
    largest = max(max(g.labels.max(initial=-1), p.labels.max(initial=-1)) for g, p in checked)
    k = len(class_names) if class_names is not None else int(largest) + 1
    if largest >= k:
        raise ValueError(
            f"class_names has {k} names but the boxes use class id {largest}; name every class."
        )
    columns = ("num_boxes", "num_predicted", "num_missing", "num_swapped", "num_badly_located")
    table = np.zeros((k, len(columns)), dtype=np.int64)
    for given, predicted in checked:
        boxes = _score_boxes(given, predicted, iou)
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
    index = pd.Index([class_name(class_names, c) for c in range(k)], name="class")
    return pd.DataFrame(table, index=index, columns=list(columns))


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
