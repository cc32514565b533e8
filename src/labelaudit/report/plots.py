"""Matplotlib plots for notebooks; each draws on ``ax`` (a new figure when omitted) and returns it.

matplotlib is an optional dependency (``pip install 'labelaudit[plot]'``), imported on first use.
A ``summary`` is a :class:`~labelaudit.HealthSummary` or its ``to_dict()`` (as in ``health.json``).

The class charts here and in the HTML report draw at most :data:`MAX_CLASSES` classes (see
:func:`busiest_classes`) and cut names to :data:`MAX_NAME_CHARS` characters (:func:`short_name`),
so they stay readable at any number of classes; every figure stays in the summary.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

MAX_CLASSES = 50
MAX_NAME_CHARS = 40


def short_name(name: Any, limit: int = MAX_NAME_CHARS) -> str:
    """``str(name)``, cut to ``limit`` characters with an ellipsis when longer.

    Examples
    --------
    >>> short_name("a" * 50, 8), short_name(3)
    ('aaaaaaa…', '3')
    """
    text = str(name)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def busiest_classes(summary: Any, limit: int = MAX_CLASSES) -> list[int]:
    """The ``limit`` classes with the most estimated label issues, in class order.

    A class counts ``label_issues + inverse_label_issues``: the examples given it, or truly of
    it, whose label is estimated wrong (its off-diagonal row and column of the joint, times
    ``n``). These classes hold the most noise; ranking by rate would favour tiny classes.
    Ties go to the lower class index.

    Examples
    --------
    >>> busiest_classes({"classes": [
    ...     {"class": 0, "label_issues": 1, "inverse_label_issues": 0},
    ...     {"class": 1, "label_issues": 5, "inverse_label_issues": 2},
    ...     {"class": 2, "label_issues": 0, "inverse_label_issues": 1}]}, limit=2)
    [0, 1]
    """
    records = _as_dict(summary)["classes"]
    index = np.array([r["class"] for r in records], dtype=np.int64)
    issues = np.array([r["label_issues"] + r["inverse_label_issues"] for r in records])
    return sorted(index[np.lexsort((index, -issues))[:limit]].tolist())


def _pyplot() -> Any:
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("plotting requires matplotlib: pip install 'labelaudit[plot]'") from None
    return plt


def _axes(ax: Any) -> Any:
    return _pyplot().subplots()[1] if ax is None else ax


def _as_dict(summary: Any) -> dict[str, Any]:
    return summary if isinstance(summary, dict) else summary.to_dict()


def plot_label_quality(summary: Any, ax: Any = None, *, max_classes: int = MAX_CLASSES) -> Any:
    """Horizontal bars of each class's label quality score, worst at the top.

    Only the ``max_classes`` worst classes are drawn (the title says how many of all).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from labelaudit import health_summary
    >>> pred_probs = np.array([[.9, .1], [.8, .2], [.1, .9], [.2, .8], [.3, .7], [.7, .3]])
    >>> summary = health_summary([0, 0, 0, 1, 1, 1], pred_probs, verbose=False)
    >>> plot_label_quality(summary).get_xlabel()
    'label quality score (1 - estimated fraction of wrong labels)'
    """
    ax = _axes(ax)
    every = _as_dict(summary)["classes"]
    classes = every[:max_classes]
    names = [short_name(c["class_name"]) for c in classes]
    scores = [
        np.nan if c["label_quality_score"] is None else c["label_quality_score"] for c in classes
    ]
    positions = np.arange(len(classes))
    colours = _pyplot().get_cmap("RdYlGn")(np.clip((np.nan_to_num(scores) - 0.5) / 0.5, 0, 1))
    ax.barh(positions, np.nan_to_num(scores), color=colours)
    ax.set_yticks(positions, labels=names)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("label quality score (1 - estimated fraction of wrong labels)")
    ax.set_title(
        "Label quality per class"
        + (f" (worst {len(classes)} of {len(every):,})" if len(classes) < len(every) else "")
    )
    return ax


def plot_noise_matrix(summary: Any, ax: Any = None, *, max_classes: int = MAX_CLASSES) -> Any:
    """Heat map of the estimated noise matrix ``P(given label | true label)`` with class names.

    With more than ``max_classes`` classes, only the rows and columns of
    :func:`busiest_classes` are drawn (the title says how many of all).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from labelaudit import health_summary
    >>> pred_probs = np.array([[.9, .1], [.8, .2], [.1, .9], [.2, .8], [.3, .7], [.7, .3]])
    >>> summary = health_summary([0, 0, 0, 1, 1, 1], pred_probs, verbose=False)
    >>> plot_noise_matrix(summary).get_ylabel()
    'given label'
    """
    ax = _axes(ax)
    data = _as_dict(summary)
    shown = busiest_classes(data, max_classes)
    matrix = np.asarray(data["noise_matrix"], dtype=np.float64)[np.ix_(shown, shown)]
    names = [short_name(data["class_names"][i]) for i in shown]
    image = ax.imshow(matrix, cmap="Blues", vmin=0, vmax=1)
    ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    ticks = np.arange(len(names))
    ax.set_xticks(ticks, labels=names, rotation=45, ha="right")
    ax.set_yticks(ticks, labels=names)
    if len(names) <= 15:
        for i, j in np.ndindex(matrix.shape):
            if matrix[i, j] >= 0.005:
                ax.text(
                    j,
                    i,
                    f"{matrix[i, j]:.2f}",
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="white" if matrix[i, j] > 0.5 else "black",
                )
    ax.set_xlabel("true label")
    ax.set_ylabel("given label")
    total = len(data["class_names"])
    ax.set_title(
        "Noise matrix P(given | true)"
        + (f" ({len(shown)} of {total:,} classes)" if len(shown) < total else "")
    )
    return ax


def plot_issue_examples(
    images: Any,
    given_labels: Any,
    predicted_labels: Any,
    *,
    scores: Any = None,
    ncols: int = 8,
    max_examples: int = 32,
    ax: Any = None,
) -> Any:
    """A grid of flagged image examples captioned ``given → predicted`` (and score), in one Axes.

    Parameters
    ----------
    images : array-like of shape (m, h, w) or (m, h * w) for square images
        The flagged examples, worst first (as grey levels; higher is darker).
    given_labels, predicted_labels : array-like of shape (m,)
        Labels to caption each image with.
    scores : array-like of shape (m,), optional
        Label quality scores, added to the captions.
    ncols : int, default 8
        Images per row.
    max_examples : int, default 32
        Show at most this many (the first ones).
    ax : matplotlib Axes, optional

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from labelaudit.datasets import load_noisy_digits
    >>> data = load_noisy_digits()
    >>> rows = np.flatnonzero(data.is_flipped)[:4]
    >>> ax = plot_issue_examples(data.X_train[rows], data.labels[rows], data.true_labels[rows])
    >>> len(ax.texts)
    4
    """
    ax = _axes(ax)
    pictures = np.asarray(images, dtype=np.float64)[:max_examples]
    if pictures.ndim == 2:
        side = math.isqrt(pictures.shape[1])
        if side * side != pictures.shape[1]:
            raise ValueError(
                f"images has rows of {pictures.shape[1]} values, not a square image; pass an array "
                "of shape (m, height, width)."
            )
        pictures = pictures.reshape(len(pictures), side, side)
    if pictures.ndim != 3 or not len(pictures):
        raise ValueError(
            f"images must have shape (m, height, width) with m >= 1; found {np.shape(images)}."
        )
    m, h, w = pictures.shape
    cols = min(ncols, m)
    rows = -(-m // cols)
    gap = max(1, h // 4)
    caption = max(3, h // 2)
    canvas = np.full((rows * (h + gap + caption), cols * (w + gap)), np.nan)
    for index, picture in enumerate(pictures):
        r, c = divmod(index, cols)
        top, left = r * (h + gap + caption), c * (w + gap)
        canvas[top : top + h, left : left + w] = picture
        text = f"{given_labels[index]} → {predicted_labels[index]}"
        if scores is not None:
            text += f"\n{float(scores[index]):.3f}"
        ax.text(left + w / 2, top + h + caption / 2, text, ha="center", va="center", fontsize=8)
    ax.imshow(np.ma.masked_invalid(canvas), cmap="gray_r", interpolation="nearest")
    ax.set_axis_off()
    ax.set_title("Flagged examples: given → predicted label")
    return ax
