"""Matplotlib plots for notebooks, as Display objects in the manner of scikit-learn.

A Display holds the data of one plot (its constructor takes plain arrays and values);
``display.plot(ax=None)`` draws it on ``ax`` (a new figure when omitted), keeps the Axes as
``ax_``, its figure as ``figure_`` and the artists it drew, and returns the display. Its ``from_*``
class methods compute that data from a result and draw it:

* :class:`LabelQualityDisplay` and :class:`NoiseMatrixDisplay` ``.from_health(summary)``;
* :class:`IssueExamplesDisplay` ``.from_findings(findings, images)``;
* :class:`SegmentationIssuesDisplay` ``.from_issues(issues, index)``;
* :class:`DetectionBoxesDisplay`, built from the boxes of one image.

The ``plot_*`` functions (here, :func:`labelaudit.segmentation.plot_issues` and
:func:`labelaudit.detection.plot_boxes`) build a display, draw it and return its Axes.

matplotlib is an optional dependency (``pip install 'labelaudit[plot]'``), imported on first use
(:func:`require_matplotlib`). A ``summary`` is a :class:`~labelaudit.HealthSummary` or its
``to_dict()`` (as in ``health.json``).

The class charts here and in the HTML report draw at most :data:`MAX_CLASSES` classes (see
:func:`busiest_classes`) and cut names to :data:`MAX_NAME_CHARS` characters (:func:`short_name`),
so they stay readable at any number of classes; every figure stays in the summary.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from labelaudit._optional import import_optional
from labelaudit._structured import class_name
from labelaudit._validate import check_choice, check_positive_int

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


def require_matplotlib(caller: str) -> Any:
    """``matplotlib.pyplot``, imported on first use; without it, an ImportError naming ``caller``.

    Examples
    --------
    >>> require_matplotlib("plot_noise_matrix").__name__
    'matplotlib.pyplot'
    """
    return import_optional("matplotlib.pyplot", caller)


def _start(display: Any, ax: Any) -> tuple[Any, Any]:
    """``(pyplot, ax)`` for ``display.plot``: ``ax``, or the Axes of a new figure when ``None``."""
    plt = require_matplotlib(f"{type(display).__name__}.plot")
    return plt, plt.subplots()[1] if ax is None else ax


def _as_dict(summary: Any) -> dict[str, Any]:
    return summary if isinstance(summary, dict) else summary.to_dict()


def _of_all(shown: int, total: int | None, template: str) -> str:
    """`` (worst 3 of 1,000)`` when only ``shown`` of ``total`` classes are drawn, else ``""``."""
    return "" if total is None or shown >= total else " (" + template.format(shown, total) + ")"


class LabelQualityDisplay:
    """Horizontal bars of each class's label quality score, the first class at the top.

    Parameters
    ----------
    class_names : sequence of shape (k,)
        The classes drawn, top first (names longer than :data:`MAX_NAME_CHARS` are cut).
    scores : array-like of shape (k,)
        Their label quality scores in [0, 1]; NaN (or None) draws no bar.
    num_classes : int, optional
        How many classes the dataset has, when only the worst ``k`` are drawn (the title says so).

    Attributes
    ----------
    bars_ : matplotlib BarContainer
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> display = LabelQualityDisplay(["cat", "dog", "bird"], [0.6, 0.9, None], num_classes=10)
    >>> display.plot().ax_.get_title()
    'Label quality per class (worst 3 of 10)'
    >>> len(display.bars_)
    3
    """

    def __init__(self, class_names: Any, scores: Any, *, num_classes: int | None = None) -> None:
        self.class_names = list(class_names)
        self.scores = np.asarray(scores, dtype=np.float64)
        self.num_classes = num_classes
        if self.scores.shape != (len(self.class_names),):
            raise ValueError(
                f"scores must have one value per class name ({len(self.class_names)}); found shape "
                f"{self.scores.shape}."
            )

    @classmethod
    def from_health(
        cls, summary: Any, *, max_classes: int = MAX_CLASSES, ax: Any = None
    ) -> LabelQualityDisplay:
        """Draw the ``max_classes`` worst classes of a health summary.

        Parameters
        ----------
        summary : HealthSummary or dict
            A :class:`~labelaudit.HealthSummary` or its ``to_dict()``; its classes come worst first.
        max_classes : int, default :data:`MAX_CLASSES`
        ax : matplotlib Axes, optional
            Where to draw; new axes when omitted.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> from labelaudit import health_summary
        >>> pred_probs = np.array([[.9, .1], [.8, .2], [.1, .9], [.2, .8], [.3, .7], [.7, .3]])
        >>> summary = health_summary([0, 0, 0, 1, 1, 1], pred_probs, verbose=False)
        >>> LabelQualityDisplay.from_health(summary).ax_.get_xlabel()
        'label quality score (1 - estimated fraction of wrong labels)'
        """
        every = _as_dict(summary)["classes"]
        shown = every[:max_classes]
        return cls(
            [c["class_name"] for c in shown],
            [c["label_quality_score"] for c in shown],
            num_classes=len(every),
        ).plot(ax=ax)

    def plot(self, ax: Any = None) -> LabelQualityDisplay:
        """Draw the bars on ``ax`` (new axes when omitted); returns the display."""
        plt, ax = _start(self, ax)
        positions = np.arange(len(self.scores))
        lengths = np.nan_to_num(self.scores)
        colours = plt.get_cmap("RdYlGn")(np.clip((lengths - 0.5) / 0.5, 0, 1))
        self.bars_ = ax.barh(positions, lengths, color=colours)
        ax.set_yticks(positions, labels=[short_name(n) for n in self.class_names])
        ax.invert_yaxis()
        ax.set_xlim(0, 1)
        ax.set_xlabel("label quality score (1 - estimated fraction of wrong labels)")
        ax.set_title(
            "Label quality per class"
            + _of_all(len(positions), self.num_classes, "worst {} of {:,}")
        )
        self.ax_, self.figure_ = ax, ax.figure
        return self


class NoiseMatrixDisplay:
    """Heat map of the estimated noise matrix ``P(given label | true label)`` with class names.

    With at most 15 classes, each cell of at least 0.005 shows its value.

    Parameters
    ----------
    noise_matrix : array-like of shape (k, k)
        ``noise_matrix[i, j]`` is the estimated probability that an example of true class ``j``
        is labelled ``i``.
    class_names : sequence of shape (k,)
        The classes of its rows and columns.
    num_classes : int, optional
        How many classes the dataset has, when only ``k`` of them are drawn (the title says so).

    Attributes
    ----------
    im_ : matplotlib AxesImage
    texts_ : list of matplotlib Text
        The values written in the cells.
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> display = NoiseMatrixDisplay([[0.9, 0.3], [0.1, 0.7]], ["cat", "dog"]).plot()
    >>> [t.get_text() for t in display.texts_]
    ['0.90', '0.30', '0.10', '0.70']
    """

    def __init__(
        self, noise_matrix: Any, class_names: Any, *, num_classes: int | None = None
    ) -> None:
        self.noise_matrix = np.asarray(noise_matrix, dtype=np.float64)
        self.class_names = list(class_names)
        self.num_classes = num_classes
        k = len(self.class_names)
        if self.noise_matrix.shape != (k, k):
            raise ValueError(
                f"noise_matrix must have shape ({k}, {k}), a row and a column per class name; found "
                f"shape {self.noise_matrix.shape}."
            )

    @classmethod
    def from_health(
        cls, summary: Any, *, max_classes: int = MAX_CLASSES, ax: Any = None
    ) -> NoiseMatrixDisplay:
        """Draw the noise matrix of a health summary.

        With more than ``max_classes`` classes, only the rows and columns of
        :func:`busiest_classes` are drawn.

        Parameters
        ----------
        summary : HealthSummary or dict
            A :class:`~labelaudit.HealthSummary` or its ``to_dict()``.
        max_classes : int, default :data:`MAX_CLASSES`
        ax : matplotlib Axes, optional
            Where to draw; new axes when omitted.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> from labelaudit import health_summary
        >>> pred_probs = np.array([[.9, .1], [.8, .2], [.1, .9], [.2, .8], [.3, .7], [.7, .3]])
        >>> summary = health_summary([0, 0, 0, 1, 1, 1], pred_probs, verbose=False)
        >>> NoiseMatrixDisplay.from_health(summary).ax_.get_ylabel()
        'given label'
        """
        data = _as_dict(summary)
        shown = busiest_classes(data, max_classes)
        return cls(
            np.asarray(data["noise_matrix"], dtype=np.float64)[np.ix_(shown, shown)],
            [data["class_names"][i] for i in shown],
            num_classes=len(data["class_names"]),
        ).plot(ax=ax)

    def plot(self, ax: Any = None) -> NoiseMatrixDisplay:
        """Draw the heat map and its colour bar on ``ax`` (new axes when omitted); returns the display."""
        _, ax = _start(self, ax)
        matrix = self.noise_matrix
        names = [short_name(n) for n in self.class_names]
        self.im_ = ax.imshow(matrix, cmap="Blues", vmin=0, vmax=1)
        ax.figure.colorbar(self.im_, ax=ax, fraction=0.046, pad=0.04)
        ticks = np.arange(len(names))
        ax.set_xticks(ticks, labels=names, rotation=45, ha="right")
        ax.set_yticks(ticks, labels=names)
        cells = np.ndindex(matrix.shape) if len(names) <= 15 else ()
        self.texts_ = [
            ax.text(
                j,
                i,
                f"{matrix[i, j]:.2f}",
                ha="center",
                va="center",
                fontsize=8,
                color="white" if matrix[i, j] > 0.5 else "black",
            )
            for i, j in cells
            if matrix[i, j] >= 0.005
        ]
        ax.set_xlabel("true label")
        ax.set_ylabel("given label")
        ax.set_title(
            "Noise matrix P(given | true)"
            + _of_all(len(names), self.num_classes, "{} of {:,} classes")
        )
        self.ax_, self.figure_ = ax, ax.figure
        return self


class IssueExamplesDisplay:
    """A grid of flagged image examples captioned ``given → predicted`` (and score), in one Axes.

    Parameters
    ----------
    images : array-like of shape (m, h, w) or (m, h * w) for square images
        The flagged examples, worst first (as grey levels; higher is darker).
    given_labels, predicted_labels : array-like of shape (m,)
        Labels to caption each image with.
    scores : array-like of shape (m,), optional
        Label quality scores, added to the captions.

    Attributes
    ----------
    im_ : matplotlib AxesImage
        The grid, drawn as one image.
    texts_ : list of matplotlib Text
        The captions.
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from labelaudit.datasets import load_noisy_digits
    >>> data = load_noisy_digits()
    >>> rows = np.flatnonzero(data.is_flipped)[:4]
    >>> display = IssueExamplesDisplay(data.X_train[rows], data.labels[rows], data.true_labels[rows])
    >>> len(display.plot(ncols=2).texts_), display.images.shape
    (4, (4, 8, 8))
    """

    def __init__(
        self, images: Any, given_labels: Any, predicted_labels: Any, *, scores: Any = None
    ) -> None:
        pictures = np.asarray(images, dtype=np.float64)
        if pictures.ndim == 2:
            side = math.isqrt(pictures.shape[1])
            if side * side != pictures.shape[1]:
                raise ValueError(
                    f"images has rows of {pictures.shape[1]} values, not a square image; pass an "
                    "array of shape (m, height, width)."
                )
            pictures = pictures.reshape(len(pictures), side, side)
        if pictures.ndim != 3 or not len(pictures):
            raise ValueError(
                f"images must have shape (m, height, width) with m >= 1; found {np.shape(images)}."
            )
        self.images = pictures
        self.given_labels = np.asarray(given_labels)
        self.predicted_labels = np.asarray(predicted_labels)
        self.scores = None if scores is None else np.asarray(scores, dtype=np.float64)
        for name, values in [
            ("given_labels", self.given_labels),
            ("predicted_labels", self.predicted_labels),
            ("scores", self.scores),
        ]:
            if values is not None and values.shape != (len(pictures),):
                raise ValueError(
                    f"{name} must have one value per image ({len(pictures)}); found shape "
                    f"{values.shape}."
                )

    @classmethod
    def from_findings(
        cls,
        findings: Any,
        images: Any,
        *,
        issue_type: str = "label",
        max_examples: int = 32,
        ncols: int = 8,
        ax: Any = None,
    ) -> IssueExamplesDisplay:
        """Draw the worst flagged rows of one issue type of a :class:`~labelaudit.report.Findings`.

        Parameters
        ----------
        findings : Findings
            From :func:`~labelaudit.report.load_findings`; its table of ``issue_type`` has the
            columns ``row, given_label, predicted_label, score``, worst first.
        images : array-like of shape (n, h, w) or (n, h * w) for square images
            The images of every row of the dataset audited (a DataFrame of pixel columns too);
            only the rows shown are read.
        issue_type : str, default "label"
        max_examples : int, default 32
            Show at most this many (the worst ones).
        ncols : int, default 8
            Images per row.
        ax : matplotlib Axes, optional
            Where to draw; new axes when omitted.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> import pandas as pd
        >>> from labelaudit.datasets import load_noisy_digits
        >>> from labelaudit.report import Findings
        >>> data = load_noisy_digits()
        >>> rows = np.flatnonzero(data.is_flipped)[:3]
        >>> flagged = pd.DataFrame({"row": rows, "given_label": data.labels[rows],
        ...                         "predicted_label": data.true_labels[rows], "score": [.01, .02, .05]})
        >>> findings = Findings("digits", len(data.labels), list(range(10)), {"label": flagged})
        >>> display = IssueExamplesDisplay.from_findings(findings, data.X_train)
        >>> display.texts_[0].get_text() == f"{data.labels[rows[0]]} → {data.true_labels[rows[0]]}\\n0.010"
        True
        """
        check_choice("issue_type", issue_type, list(findings.tables))
        flagged = findings.tables[issue_type].head(check_positive_int("max_examples", max_examples))
        if flagged.empty:
            raise ValueError(f"findings has no flagged rows of issue_type={issue_type!r} to draw.")
        return cls(
            np.asarray(images)[flagged["row"].to_numpy()],
            flagged["given_label"],
            flagged["predicted_label"],
            scores=flagged["score"],
        ).plot(ax=ax, ncols=ncols, max_examples=max_examples)

    def plot(
        self, ax: Any = None, *, ncols: int = 8, max_examples: int = 32
    ) -> IssueExamplesDisplay:
        """Draw the first ``max_examples`` images, ``ncols`` a row, on ``ax``; returns the display."""
        pictures = self.images[: check_positive_int("max_examples", max_examples)]
        ncols = check_positive_int("ncols", ncols)
        _, ax = _start(self, ax)
        m, h, w = pictures.shape
        cols = min(ncols, m)
        rows = -(-m // cols)
        gap = max(1, h // 4)
        caption = max(3, h // 2)
        canvas = np.full((rows * (h + gap + caption), cols * (w + gap)), np.nan)
        self.texts_ = []
        for index, picture in enumerate(pictures):
            r, c = divmod(index, cols)
            top, left = r * (h + gap + caption), c * (w + gap)
            canvas[top : top + h, left : left + w] = picture
            text = f"{self.given_labels[index]} → {self.predicted_labels[index]}"
            if self.scores is not None:
                text += f"\n{self.scores[index]:.3f}"
            self.texts_.append(
                ax.text(
                    left + w / 2, top + h + caption / 2, text, ha="center", va="center", fontsize=8
                )
            )
        self.im_ = ax.imshow(np.ma.masked_invalid(canvas), cmap="gray_r", interpolation="nearest")
        ax.set_axis_off()
        ax.set_title("Flagged examples: given → predicted label")
        self.ax_, self.figure_ = ax, ax.figure
        return self


class SegmentationIssuesDisplay:
    """One image (or its label map) with its flagged pixels in red.

    Parameters
    ----------
    flags : array-like of bool, shape (H, W)
        The flagged pixels of the image.
    image : array-like of shape (H, W) or (H, W, 3 or 4), optional
        The picture to draw under the flags.
    label_map : array-like of shape (H, W), optional
        Without ``image``, the class ids of its pixels are drawn instead.
    index : int, optional
        Which image it is, for the title.

    Attributes
    ----------
    im_ : matplotlib AxesImage
        The red overlay of the flags.
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> flags = np.zeros((4, 4), dtype=bool)
    >>> flags[1, 2] = True
    >>> SegmentationIssuesDisplay(flags, label_map=np.eye(4, dtype=int)).plot().ax_.get_title()
    '1 flagged pixels'
    """

    def __init__(
        self, flags: Any, *, image: Any = None, label_map: Any = None, index: int | None = None
    ) -> None:
        self.flags = np.asarray(flags, dtype=bool)
        self.image = None if image is None else np.asarray(image)
        self.label_map = None if label_map is None else np.asarray(label_map)
        self.index = index
        if self.flags.ndim != 2:
            raise ValueError(f"flags must have shape (H, W); found shape {self.flags.shape}.")
        for name, values in [("image", self.image), ("label_map", self.label_map)]:
            if values is not None and values.shape[:2] != self.flags.shape:
                raise ValueError(
                    f"{name} must have height and width {self.flags.shape} like the mask; found "
                    f"shape {values.shape}."
                )

    @classmethod
    def from_issues(
        cls, issues: Any, index: int, *, image: Any = None, labels: Any = None, ax: Any = None
    ) -> SegmentationIssuesDisplay:
        """Draw image ``index`` of the mask from :func:`labelaudit.segmentation.find_label_issues`.

        Parameters
        ----------
        issues : ndarray of bool, shape (n, H, W)
            From :func:`labelaudit.segmentation.find_label_issues`.
        index : int
            Which image.
        image : array-like of shape (H, W) or (H, W, 3 or 4), optional
            The picture to draw under the flags.
        labels : array-like of shape (n, H, W), optional
            Without ``image``, the label map of image ``index`` is drawn instead.
        ax : matplotlib Axes, optional
            Where to draw; new axes when omitted.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> issues = np.zeros((2, 4, 4), dtype=bool)
        >>> issues[1, 1, 2] = True
        >>> display = SegmentationIssuesDisplay.from_issues(issues, 1, labels=np.zeros((2, 4, 4), int))
        >>> display.ax_.get_title()
        'image 1: 1 flagged pixels'
        """
        mask = np.asarray(issues)
        if mask.dtype != bool or mask.ndim != 3:
            raise ValueError(
                f"issues must be the boolean (n, H, W) mask from find_label_issues; found dtype "
                f"{mask.dtype} and shape {mask.shape}."
            )
        if (
            isinstance(index, bool)
            or not isinstance(index, (int, np.integer))
            or not 0 <= index < len(mask)
        ):
            raise ValueError(f"index={index!r} is not an image of issues; use 0..{len(mask) - 1}.")
        label_map = None if image is not None or labels is None else labels[index]
        return cls(mask[index], image=image, label_map=label_map, index=int(index)).plot(ax=ax)

    def plot(self, ax: Any = None) -> SegmentationIssuesDisplay:
        """Draw the picture (or label map) and the flags on ``ax``; returns the display."""
        _, ax = _start(self, ax)
        if self.image is not None:
            ax.imshow(self.image)
        elif self.label_map is not None:
            ax.imshow(self.label_map, cmap="tab20", interpolation="nearest")
        overlay = np.zeros((*self.flags.shape, 4))
        overlay[self.flags] = (1.0, 0.0, 0.0, 0.6)
        self.im_ = ax.imshow(overlay, interpolation="nearest")
        flagged = f"{int(self.flags.sum())} flagged pixels"
        ax.set_title(flagged if self.index is None else f"image {self.index}: {flagged}")
        ax.set_axis_off()
        self.ax_, self.figure_ = ax, ax.figure
        return self


class DetectionBoxesDisplay:
    """The labelled (solid) and predicted (dashed) boxes of one image, with their classes.

    :func:`labelaudit.detection.plot_boxes` builds one from the dicts of an image's boxes.

    Parameters
    ----------
    bboxes : array-like of shape (m, 4)
        The labelled boxes, as ``x1, y1, x2, y2``.
    labels : array-like of shape (m,)
        Their class ids.
    predicted_bboxes : array-like of shape (q, 4), optional
        The predicted boxes to draw.
    predicted_labels : array-like of shape (q,), optional
        Their class ids (needed with ``predicted_bboxes``).
    predicted_scores : array-like of shape (q,), optional
        Their confidences, shown after the class.
    image : array-like of shape (H, W) or (H, W, 3 or 4), optional
        The picture under the boxes; without it, the y axis points down as in an image.
    class_names : sequence, optional
        Names shown next to the boxes instead of class ids.

    Attributes
    ----------
    patches_ : list of matplotlib Rectangle
        The labelled boxes, then the predicted ones.
    texts_ : list of matplotlib Text
        Their captions, in the same order.
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> display = DetectionBoxesDisplay([[0, 0, 10, 10]], [0], predicted_bboxes=[[1, 1, 9, 12]],
    ...                                 predicted_labels=[1], predicted_scores=[0.8],
    ...                                 class_names=["cat", "dog"]).plot()
    >>> [t.get_text() for t in display.texts_]
    ['cat', 'dog 0.80']
    """

    def __init__(
        self,
        bboxes: Any,
        labels: Any,
        *,
        predicted_bboxes: Any = None,
        predicted_labels: Any = None,
        predicted_scores: Any = None,
        image: Any = None,
        class_names: Sequence[Any] | None = None,
    ) -> None:
        self.bboxes = np.asarray(bboxes, dtype=np.float64).reshape(-1, 4)
        self.labels = np.asarray(labels).reshape(-1)
        self.predicted_bboxes = np.asarray(
            [] if predicted_bboxes is None else predicted_bboxes, dtype=np.float64
        ).reshape(-1, 4)
        self.predicted_labels = np.asarray([] if predicted_labels is None else predicted_labels)
        self.predicted_scores = (
            None if predicted_scores is None else np.asarray(predicted_scores, dtype=np.float64)
        )
        self.image = None if image is None else np.asarray(image)
        self.class_names = class_names
        for name, values, boxes, of in [
            ("labels", self.labels, "bboxes", self.bboxes),
            ("predicted_labels", self.predicted_labels, "predicted_bboxes", self.predicted_bboxes),
            ("predicted_scores", self.predicted_scores, "predicted_bboxes", self.predicted_bboxes),
        ]:
            if values is not None and values.shape != (len(of),):
                raise ValueError(
                    f"{name} must have one entry per box of {boxes} ({len(of)}); found shape "
                    f"{values.shape}."
                )

    def plot(self, ax: Any = None) -> DetectionBoxesDisplay:
        """Draw the picture and the boxes on ``ax`` (new axes when omitted); returns the display."""
        plt, ax = _start(self, ax)
        if self.image is not None:
            ax.imshow(self.image)
        self.patches_, self.texts_ = [], []
        drawn = [
            (self.bboxes, self.labels, None, "tab:green", "-"),
            (self.predicted_bboxes, self.predicted_labels, self.predicted_scores, "tab:red", "--"),
        ]
        for boxes, labels, scores, color, style in drawn:
            for j, (x1, y1, x2, y2) in enumerate(boxes):
                box = plt.Rectangle(
                    (x1, y1),
                    x2 - x1,
                    y2 - y1,
                    fill=False,
                    edgecolor=color,
                    linestyle=style,
                    linewidth=1.5,
                )
                self.patches_.append(ax.add_patch(box))
                text = str(class_name(self.class_names, labels[j]))
                if scores is not None:
                    text += f" {scores[j]:.2f}"
                self.texts_.append(ax.text(x1, y1, text, color=color, fontsize=8, va="bottom"))
        if self.image is None:
            ax.autoscale_view()
            if not ax.yaxis_inverted():
                ax.invert_yaxis()
        ax.set_title("labelled (solid) and predicted (dashed) boxes")
        self.ax_, self.figure_ = ax, ax.figure
        return self


def plot_label_quality(summary: Any, ax: Any = None, *, max_classes: int = MAX_CLASSES) -> Any:
    """Horizontal bars of each class's label quality score, worst at the top.

    Only the ``max_classes`` worst classes are drawn (the title says how many of all). The
    Axes of :meth:`LabelQualityDisplay.from_health`.

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
    require_matplotlib("plot_label_quality")
    return LabelQualityDisplay.from_health(summary, max_classes=max_classes, ax=ax).ax_


def plot_noise_matrix(summary: Any, ax: Any = None, *, max_classes: int = MAX_CLASSES) -> Any:
    """Heat map of the estimated noise matrix ``P(given label | true label)`` with class names.

    With more than ``max_classes`` classes, only the rows and columns of
    :func:`busiest_classes` are drawn (the title says how many of all). The Axes of
    :meth:`NoiseMatrixDisplay.from_health`.

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
    require_matplotlib("plot_noise_matrix")
    return NoiseMatrixDisplay.from_health(summary, max_classes=max_classes, ax=ax).ax_


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

    The Axes of :class:`IssueExamplesDisplay` drawn with ``ncols`` and ``max_examples``.

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
    require_matplotlib("plot_issue_examples")
    display = IssueExamplesDisplay(images, given_labels, predicted_labels, scores=scores)
    return display.plot(ax=ax, ncols=ncols, max_examples=max_examples).ax_
