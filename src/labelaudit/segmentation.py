"""Label issues in semantic segmentation masks.

``labels`` holds one class id per pixel, shape ``(n, H, W)``; ``pred_probs`` the out-of-sample
predicted probabilities, shape ``(n, K, H, W)``. Every pixel is an example for the core. Both
may be memory maps (``np.memmap``, zarr, h5py): they are read one image at a time, so memory
stays bounded by a few images whatever ``n`` is.

:func:`find_label_issues` first passes over the images to compute the per-class thresholds of
confident learning (the mean self-confidence of each class over *all* pixels, summed exactly),
then flags pixels image by image (one more pass, two for the default rule).
:func:`get_label_quality_scores` makes one pass.

Examples
--------
>>> import numpy as np
>>> from labelaudit import segmentation
>>> labels = np.zeros((2, 2, 2), dtype=int)
>>> labels[:, 0, :] = 1                     # top row class 1, bottom row class 0
>>> pred_probs = np.stack([1 - labels, labels], axis=1) * 0.8 + 0.1
>>> labels[1, 1, 1] = 1                     # paint one pixel over
>>> segmentation.find_label_issues(labels, pred_probs)[1]
array([[False, False],
       [False,  True]])
>>> image_scores, pixel_scores = segmentation.get_label_quality_scores(labels, pred_probs)
>>> image_scores.round(3)
array([0.9  , 0.101])
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from tqdm import tqdm

from labelaudit._config import config_context, get_config
from labelaudit._kernels import (
    SCORE_METHODS,
    TOLERANCE,
    class_statistics,
    confident_counts,
    label_scores,
    resolve_n_jobs,
    self_confidence_dtype,
)
from labelaudit._optional import import_optional
from labelaudit._passes import FedRows, Passes
from labelaudit._structured import (
    StackedRows,
    check_class_ids,
    check_pooling,
    class_name,
    explained,
    pool_scores,
)
from labelaudit._threads import thread_map
from labelaudit._validate import (
    EncodedLabels,
    check_bool,
    check_choice,
    check_class_names,
    check_fraction,
    check_n_jobs,
    check_nonnegative_int,
    check_two_classes,
)
from labelaudit.filter import RULES, FlagPlan
from labelaudit.noise import num_issues_off_diagonal

__all__ = [
    "class_summary",
    "common_label_issues",
    "display_issues",
    "filter_by_class",
    "find_label_issues",
    "get_label_quality_scores",
    "issues_from_scores",
    "plot_issues",
]

logger = logging.getLogger(__name__)

FILTER_METHODS = ("low_self_confidence", "confident_learning", "predicted_neq_given")
_BINS = 1 << 16  # histogram bins over [0, 1] for selecting the lowest scores


def _as_array(name: str, value: Any) -> Any:
    if all(hasattr(value, a) for a in ("shape", "dtype", "ndim", "__getitem__")):
        return value
    try:
        return np.asarray(value)
    except ValueError:
        raise TypeError(
            f"{name} must be a numeric array; it could not be read as one (ragged?)."
        ) from None


class _Images:
    """Checked ``labels`` and ``pred_probs``, read one (optionally downsampled) image at a time."""

    def __init__(
        self, labels: Any, pred_probs: Any, downsample: int = 1, renormalize: bool = False
    ) -> None:
        labels, pred_probs = _as_array("labels", labels), _as_array("pred_probs", pred_probs)
        if pred_probs.ndim != 4:
            raise ValueError(
                f"pred_probs must be 4-D (images, classes, height, width); found shape "
                f"{tuple(pred_probs.shape)}. Move the class axis second, e.g. "
                "np.moveaxis(pred_probs, -1, 1) for (images, height, width, classes)."
            )
        n, k, height, width = pred_probs.shape
        if labels.ndim != 3 or tuple(labels.shape) != (n, height, width):
            raise ValueError(
                f"labels must have shape (images, height, width) = {(n, height, width)} to match "
                f"pred_probs {tuple(pred_probs.shape)}; found {tuple(labels.shape)}."
            )
        if n == 0 or height == 0 or width == 0:
            raise ValueError(
                f"pred_probs has shape {tuple(pred_probs.shape)}; pass at least one pixel."
            )
        if not np.issubdtype(labels.dtype, np.integer):
            raise TypeError(
                f"labels must hold integer class ids; found dtype {labels.dtype}. "
                "Convert with labels.astype(np.int64)."
            )
        if (
            isinstance(downsample, bool)
            or not isinstance(downsample, (int, np.integer))
            or (downsample < 1 or height % downsample or width % downsample)
        ):
            raise ValueError(
                f"downsample={downsample!r} is not valid; use a positive integer that divides the "
                f"image height {height} and width {width} (1 keeps every pixel)."
            )
        self.labels, self.pred_probs = labels, pred_probs
        self.renormalize = check_bool("renormalize", renormalize)
        self.num_images, self.num_classes = n, k
        self.factor = int(downsample)
        self.shape = (height // self.factor, width // self.factor)
        self.pixels = self.shape[0] * self.shape[1]
        self.rows = StackedRows([self.pixels] * n, (k,), pred_probs.dtype, self.probs)
        self.label_rows = StackedRows(
            [self.pixels] * n, (), labels.dtype, lambda i, a, b: self.codes(i)[a:b]
        )

    def pixel_note(self, image: int | None = None) -> str:
        width = self.shape[1]
        where = " (in downsampled coordinates)" if self.factor > 1 else ""
        scores = (
            ""
            if self.renormalize
            else "; renormalize=True accepts per-pixel scores that do not sum to 1"
        )
        if image is None:
            return (
                f"rows are pixels of all images in order: row r is image r // {self.pixels}, "
                f"pixel (y, x) = ((r % {self.pixels}) // {width}, r % {width}){where}{scores}"
            )
        pixel = f"(y, x) = (r // {width}, r % {width})"
        return f"in image {image}, where row r is pixel {pixel}{where}{scores}"

    def probs(self, image: int, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Pixel rows ``start:stop`` of one image, shape (pixels, K): a transposed view, no copy.

        The kernels read the view as it is; for one image that is about twice as fast as making
        the rows contiguous first.
        """
        img = np.asarray(self.pred_probs[image]).reshape(self.num_classes, -1)
        if self.renormalize:
            img = _renormalized(img, image)
        if self.factor > 1:
            h, w, d = *self.shape, self.factor
            img = img.reshape(self.num_classes, h, d, w, d).mean(axis=(2, 4), dtype=img.dtype)
            img = img.reshape(self.num_classes, -1)
        return img[:, start:stop].T

    def codes(self, image: int) -> np.ndarray:
        """Class ids of one image's pixels, flattened; the most frequent id of each block."""
        lab = np.asarray(self.labels[image])
        if self.factor == 1:
            return lab.reshape(-1)
        h, w, d = *self.shape, self.factor
        blocks = lab.reshape(h, d, w, d).transpose(0, 2, 1, 3).reshape(h * w, d * d)
        k = self.num_classes  # labels are checked before they are read here
        cells = np.arange(h * w)[:, None] * k + blocks
        counts = np.bincount(cells.ravel(), minlength=h * w * k).reshape(h * w, k)
        return counts.argmax(axis=1).astype(lab.dtype)

    def check_labels(self) -> None:
        """Check that every pixel's class id has a column in ``pred_probs`` (reads only labels)."""
        for i in range(self.num_images):
            check_class_ids(
                f"labels[{i}]", np.asarray(self.labels[i]).reshape(-1), self.num_classes
            )


def _renormalized(img: np.ndarray, image: int) -> np.ndarray:
    """Each pixel's scores (a column of ``img``, shape (K, pixels)) divided by their sum."""
    work = img if np.issubdtype(img.dtype, np.floating) else img.astype(np.float64)
    sums = work.sum(axis=0, dtype=np.float64)
    bad = ~np.isfinite(sums) | (sums <= 0) | (work < 0).any(axis=0)
    if bad.any():
        pixel = int(np.flatnonzero(bad)[0])
        raise ValueError(
            "renormalize=True needs finite, non-negative scores with a positive sum at every "
            "pixel; "
            f"image {image}, pixel {pixel} (row-major) has {work[:, pixel].tolist()!r}. Pass "
            "probabilities or non-negative scores (e.g. sigmoid outputs)."
        )
    return (work / sums).astype(work.dtype, copy=False)


def _each_image(
    work: Callable[[int], None], num_images: int, n_jobs: int | None, verbose: bool, desc: str
) -> None:
    """Run ``work(i)`` for every image, on threads when ``n_jobs > 1`` (order-independent)."""
    workers = min(resolve_n_jobs(check_n_jobs(n_jobs)), num_images)
    with tqdm(total=num_images, desc=desc, unit="image", disable=None if verbose else True) as bar:
        if workers <= 1:
            for i in range(num_images):
                work(i)
                bar.update()
            return
        for _ in thread_map(work, range(num_images), workers):
            bar.update()


def find_label_issues(
    labels: Any,
    pred_probs: Any,
    *,
    filter_by: str = "low_self_confidence",
    downsample: int = 1,
    renormalize: bool = False,
    n_jobs: int | None = None,
    verbose: bool = True,
) -> np.ndarray:
    """Flag the pixels whose given class is probably wrong.

    Parameters
    ----------
    labels : array-like of shape (n, H, W)
        Given class id ``0..K-1`` of every pixel; at least two classes need pixels.
    pred_probs : array-like of shape (n, K, H, W)
        Out-of-sample predicted probabilities; a memory map is read one image at a time.
    filter_by : {"low_self_confidence", "confident_learning", "predicted_neq_given"}
        ``"low_self_confidence"`` (default) flags the ``m`` pixels with the lowest probability
        of their given class (ties: lower image, then pixel index), with ``m`` the number of
        issues confident learning estimates (as :func:`labelaudit.num_label_issues`,
        ``"off_diagonal"``); it makes three passes. ``"confident_learning"`` flags a pixel when
        it is confidently counted as another class: some class reaches its threshold (that
        class's mean self-confidence over all pixels) and the most probable such class is not
        the given one. ``"predicted_neq_given"`` flags the pixels whose given class is not
        among the most probable classes. Each gives what
        :func:`labelaudit.find_label_issues` gives with that ``filter_by`` on all pixels.
    downsample : int, default 1
        Work on blocks of ``downsample x downsample`` pixels (probabilities averaged, the most
        frequent class as label, the lowest id on a tie); a flagged block flags all its pixels.
        It must divide H and W. Faster and smoother, coarser.
    renormalize : bool, default False
        Divide each pixel's scores by their sum before anything else, so that scores which do
        not sum to 1 (independent sigmoids, unnormalised confidences; finite, non-negative, with
        a positive sum) are accepted. Without it such ``pred_probs`` are refused, as in the core.
    n_jobs : int, optional
        Threads over images (``-1``: one per core); the result does not depend on it.
    verbose : bool, default True
        Show progress bars (only on a terminal).

    Returns
    -------
    ndarray of bool, shape (n, H, W)

    Examples
    --------
    >>> import numpy as np
    >>> labels = np.array([[[0, 0, 0], [1, 1, 1]]])
    >>> pred_probs = np.array([[[[.9, .9, .9], [.1, .2, .9]], [[.1, .1, .1], [.9, .8, .1]]]])
    >>> find_label_issues(labels, pred_probs)
    array([[[False, False, False],
            [False, False,  True]]])
    """
    check_choice("filter_by", filter_by, FILTER_METHODS)
    images = _Images(labels, pred_probs, downsample, renormalize)
    n_jobs = check_n_jobs(n_jobs)
    images.check_labels()
    with (
        explained(images.pixel_note()),
        config_context(block_rows=images.pixels, n_jobs=get_config()["n_jobs"]),
    ):  # one block per image; labels too are read image by image, never all at once
        stats = class_statistics(images.label_rows, images.rows, n_jobs=n_jobs)
    check_two_classes(
        stats.counts, np.arange(images.num_classes)
    )  # as the core's find_label_issues
    thresholds = stats.thresholds
    logger.debug("per-class thresholds over %d pixels: %s", images.rows.shape[0], thresholds)
    if filter_by == "low_self_confidence":
        coarse = _lowest_self_confidence(images, thresholds, n_jobs, verbose)
    else:
        coarse = np.zeros((images.num_images, *images.shape), dtype=bool)
        classes = np.arange(images.num_classes)

        def flag(i: int) -> None:  # the rule of the core, on the image's pass 2
            codes = images.codes(i)
            counts = confident_counts(codes, images.probs(i), thresholds, n_jobs=1)
            passes = Passes(
                FedRows(EncodedLabels(codes, classes, names_given=False), stats, counts)
            )
            flagged = RULES[filter_by].select(passes, FlagPlan(passes, filter_by))
            coarse[i] = flagged.mask_in(passes).reshape(images.shape)

        _each_image(flag, images.num_images, n_jobs, verbose, "flagging pixels")
    logger.debug("%d pixels flagged", int(coarse.sum()))
    if images.factor == 1:
        return coarse
    return coarse.repeat(images.factor, axis=1).repeat(images.factor, axis=2)


def _score_bins(scores: np.ndarray) -> np.ndarray:
    """Histogram bin of each score: non-decreasing in the score, so bins order scores; a NaN
    score (a pixel whose label is a top prediction, never flagged) gets the bin past the last."""
    bins = np.clip((np.nan_to_num(scores.astype(np.float64)) * _BINS).astype(np.int64), 0, _BINS)
    return np.where(np.isnan(scores), _BINS + 1, bins)


def _lowest_self_confidence(
    images: _Images, thresholds: np.ndarray, n_jobs: int | None, verbose: bool
) -> np.ndarray:
    """Flag the ``m`` pixels with the lowest self-confidence, ``m`` estimated as in the core.

    ``m`` is the core's ``"off_diagonal"`` estimate (off-diagonal fraction of the confident
    joint over all pixels, times the number of pixels), chosen, as in the core, among the pixels
    whose label is not a top prediction (up to ``TOLERANCE``). Exact selection by (score, pixel index)
    without holding every score: pass 2 sums the confident joint and a histogram of the
    scores; pass 3 flags the pixels in the bins below the one where the count reaches ``m`` and
    keeps only the pixels of that bin as candidates for the remaining places.
    """
    k = images.num_classes
    joint = np.zeros((k, k), dtype=np.int64)
    histogram = np.zeros(_BINS + 2, dtype=np.int64)
    lock = threading.Lock()

    def self_confidence(codes: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Self-confidence, NaN where the label is a top prediction (never flagged)."""
        scores = label_scores(codes, rows, "self_confidence", adjust=None, n_jobs=1, validate=False)
        top = scores.astype(np.float64) >= rows.max(axis=1) - TOLERANCE
        return np.where(top, np.nan, scores)

    def count(i: int) -> None:
        codes, rows = images.codes(i), images.probs(i)
        cells = confident_counts(codes, rows, thresholds, n_jobs=1).confident_joint
        bins = np.bincount(_score_bins(self_confidence(codes, rows)), minlength=_BINS + 2)
        with lock:  # integer sums: the same in any order
            joint.__iadd__(cells)
            histogram.__iadd__(bins)

    _each_image(count, images.num_images, n_jobs, verbose, "counting pixels")
    wanted = min(
        num_issues_off_diagonal(joint, images.num_images * images.pixels), int(histogram[: _BINS + 1].sum())
    )
    coarse = np.zeros((images.num_images, *images.shape), dtype=bool)
    if wanted == 0:
        return coarse
    cumulative = np.cumsum(histogram)
    edge = int(np.searchsorted(cumulative, wanted))
    below = int(cumulative[edge - 1]) if edge else 0
    candidates: list[tuple[np.ndarray, np.ndarray]] = [None] * images.num_images  # type: ignore[list-item]

    def select(i: int) -> None:
        scores = self_confidence(images.codes(i), images.probs(i))
        bins = _score_bins(scores)
        coarse[i] = (bins < edge).reshape(images.shape)
        at_edge = np.flatnonzero(bins == edge)
        candidates[i] = (scores[at_edge], at_edge + i * images.pixels)

    _each_image(select, images.num_images, n_jobs, verbose, "flagging pixels")
    keys = np.concatenate([c[0] for c in candidates])
    rows = np.concatenate([c[1] for c in candidates])
    chosen = rows[np.lexsort((rows, keys))[: wanted - below]]
    coarse.reshape(-1)[chosen] = True
    return coarse


def get_label_quality_scores(
    labels: Any,
    pred_probs: Any,
    *,
    method: str = "softmin",
    temperature: float = 0.1,
    pixel_score_method: str = "self_confidence",
    downsample: int = 1,
    renormalize: bool = False,
    n_jobs: int | None = None,
    verbose: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Score every pixel and every image (lower = more likely mislabelled).

    Parameters
    ----------
    labels, pred_probs
        As in :func:`find_label_issues`.
    method : {"softmin", "min", "num_pixel_issues"}, default "softmin"
        How an image is scored: the soft minimum ``sum(s * w) / sum(w)`` with
        ``w = exp(-s / temperature)`` or the minimum of its pixel scores, or
        ``"num_pixel_issues"``: one minus the fraction of its pixels that
        :func:`find_label_issues` flags (with the same ``downsample``; two more passes).
    temperature : float, default 0.1
        Of the soft minimum.
    pixel_score_method : {"self_confidence", "normalized_margin", "confidence_weighted_entropy"}
        The score of each pixel (see :func:`labelaudit.get_label_quality_scores`).
    downsample : int, default 1
        Score blocks of ``downsample x downsample`` pixels as :func:`find_label_issues` does
        (probabilities averaged, the most frequent class as label); each pixel gets its
        block's score. It must divide H and W.
    renormalize, n_jobs, verbose
        As in :func:`find_label_issues`.

    Returns
    -------
    image_scores : ndarray of shape (n,)
    pixel_scores : ndarray of shape (n, H, W)
        float32 for float16/float32 ``pred_probs``, float64 otherwise.

    Examples
    --------
    >>> import numpy as np
    >>> labels = np.array([[[0, 0, 0], [1, 1, 1]]])
    >>> pred_probs = np.array([[[[.9, .9, .9], [.1, .2, .9]], [[.1, .1, .1], [.9, .8, .1]]]])
    >>> image_scores, pixel_scores = get_label_quality_scores(labels, pred_probs, method="min")
    >>> image_scores
    array([0.1])
    >>> pixel_scores[0]
    array([[0.9, 0.9, 0.9],
           [0.9, 0.8, 0.1]])
    >>> get_label_quality_scores(labels, pred_probs, method="num_pixel_issues")[0].round(4)
    array([0.8333])
    """
    pooling = "min" if method == "num_pixel_issues" else method
    temperature = check_pooling("method", pooling, temperature)
    check_choice("pixel_score_method", pixel_score_method, SCORE_METHODS)
    images = _Images(labels, pred_probs, downsample, renormalize)
    images.check_labels()
    d = images.factor
    image_scores = np.empty(images.num_images)
    pixel_scores = np.empty(
        (images.num_images, *(d * np.array(images.shape))),
        dtype=self_confidence_dtype(images.rows.dtype),
    )

    def score(i: int) -> None:
        with explained(images.pixel_note(i)):
            s = label_scores(
                images.codes(i),
                images.probs(i),
                pixel_score_method,
                adjust=None,
                n_jobs=1,
                validate=True,
            )
        pixel_scores[i] = s.reshape(images.shape).repeat(d, axis=0).repeat(d, axis=1)
        image_scores[i] = pool_scores(s, pooling, temperature)

    _each_image(score, images.num_images, n_jobs, verbose, "scoring images")
    if method == "num_pixel_issues":
        issues = find_label_issues(
            labels,
            pred_probs,
            downsample=d,
            renormalize=renormalize,
            n_jobs=n_jobs,
            verbose=verbose,
        )
        image_scores = 1.0 - issues.mean(axis=(1, 2))
    return image_scores, pixel_scores


def issues_from_scores(
    image_scores: Any, pixel_scores: Any = None, threshold: float = 0.1
) -> np.ndarray:
    """The images, or pixels, that score below ``threshold``.

    A quick way to look at the worst cases with the summaries; it estimates nothing (use
    :func:`find_label_issues` for the number of issues).

    Parameters
    ----------
    image_scores : array-like of shape (n,)
        From :func:`get_label_quality_scores`.
    pixel_scores : array-like of shape (n, H, W), optional
        Also from :func:`get_label_quality_scores`; with it the result is a pixel mask.
    threshold : float in [0, 1], default 0.1
        Scores strictly below it are issues.

    Returns
    -------
    ndarray
        With ``pixel_scores``: a boolean mask of shape (n, H, W). Otherwise the indices of the
        images below ``threshold``, lowest score first (ties: lower index).

    Examples
    --------
    >>> import numpy as np
    >>> issues_from_scores(np.array([0.3, 0.05, 0.01, 0.05]))
    array([2, 1, 3])
    >>> issues_from_scores(np.array([0.3]), np.array([[[0.9, 0.05]]])).tolist()
    [[[False, True]]]
    """
    threshold = check_fraction("threshold", threshold)
    scores = np.asarray(image_scores, dtype=np.float64)
    if scores.ndim != 1:
        raise ValueError(
            f"image_scores must be 1-D (one score per image); found shape {scores.shape}."
        )
    if pixel_scores is not None:
        pixels = np.asarray(pixel_scores)
        if pixels.ndim != 3 or len(pixels) != len(scores):
            raise ValueError(
                f"pixel_scores must have shape ({len(scores)}, H, W), one map per image of "
                f"image_scores; found shape {pixels.shape}."
            )
        return pixels < threshold
    below = np.flatnonzero(scores < threshold)
    return below[np.argsort(scores[below], kind="stable")]


def _check_issues(issues: Any, images: _Images) -> np.ndarray:
    mask = np.asarray(issues)
    expected = (images.num_images, *images.shape)
    if mask.dtype != bool or mask.shape != expected:
        raise ValueError(
            f"issues must be the boolean mask from find_label_issues, shape {expected}; found "
            f"dtype {mask.dtype} and shape {mask.shape}."
        )
    return mask


def _check_exclude(exclude: Any, num_classes: int) -> np.ndarray:
    """``exclude`` as class ids (``None``: none)."""
    if exclude is None:
        return np.empty(0, dtype=np.int64)
    return check_class_ids("exclude", list(exclude), num_classes)


def _suggested(images: _Images, i: int) -> np.ndarray:
    """The most probable class of every pixel of image ``i`` (the lowest id on a tie), flattened."""
    return np.asarray(images.pred_probs[i]).reshape(images.num_classes, -1).argmax(axis=0)


def common_label_issues(
    issues: Any,
    labels: Any,
    pred_probs: Any,
    *,
    class_names: Sequence[Any] | None = None,
    exclude: Sequence[int] | None = None,
    top: int | None = None,
    verbose: bool = True,
) -> pd.DataFrame:
    """Count which given → suggested class confusions recur among the flagged pixels.

    The suggested class of a pixel is its most probable class (the lowest id on a tie).

    Parameters
    ----------
    issues : ndarray of bool, shape (n, H, W)
        From :func:`find_label_issues` or :func:`issues_from_scores`.
    labels, pred_probs
        As in :func:`find_label_issues`.
    class_names : sequence, optional
        Names of the classes ``0..K-1`` to show instead of their ids.
    exclude : list of int, optional
        Classes to leave out: a flagged pixel whose given or suggested class is one of them
        is not counted.
    top : int, optional
        Keep the ``top`` most frequent confusions (default: all).
    verbose : bool, default True
        Log the table (``logging``, level INFO, logger ``labelaudit.segmentation``).

    Returns
    -------
    DataFrame
        Columns ``given_label``, ``predicted_label``, ``num_pixel_issues`` and
        ``fraction_of_issues`` (of the counted pixels); most frequent first, then by given and
        suggested class.

    Examples
    --------
    >>> import numpy as np
    >>> labels = np.array([[[0, 0, 0], [1, 1, 1]]])
    >>> pred_probs = np.array([[[[.9, .9, .9], [.1, .2, .9]], [[.1, .1, .1], [.9, .8, .1]]]])
    >>> issues = find_label_issues(labels, pred_probs)
    >>> common_label_issues(issues, labels, pred_probs, class_names=["road", "car"], verbose=False)
      given_label predicted_label  num_pixel_issues  fraction_of_issues
    0         car            road                 1                 1.0
    """
    images = _Images(labels, pred_probs)
    mask = _check_issues(issues, images)
    k = images.num_classes
    names = None if class_names is None else check_class_names(class_names, k)
    excluded = _check_exclude(exclude, k)
    top = None if top is None else check_nonnegative_int("top", top)
    verbose = check_bool("verbose", verbose)
    cells = np.zeros(k * k, dtype=np.int64)
    for i in np.flatnonzero(mask.reshape(len(mask), -1).any(axis=1)):
        where = np.flatnonzero(mask[i])
        given = images.codes(i)[where].astype(np.int64)
        suggested = _suggested(images, i)[where]
        cells += np.bincount(given * k + suggested, minlength=k * k)
    pairs = np.arange(k * k)
    cells[np.isin(pairs // k, excluded) | np.isin(pairs % k, excluded)] = 0
    found = np.flatnonzero(cells)
    order = found[np.lexsort((found, -cells[found]))][:top]
    total = max(int(cells.sum()), 1)
    table = pd.DataFrame(
        {
            "given_label": [class_name(names, c // k) for c in order],
            "predicted_label": [class_name(names, c % k) for c in order],
            "num_pixel_issues": cells[order],
            "fraction_of_issues": cells[order] / total,
        }
    )
    if verbose:
        logger.info("Most common pixel label issues:\n%s", table.to_string(index=False))
    return table


def filter_by_class(class_index: int, issues: Any, labels: Any, pred_probs: Any) -> np.ndarray:
    """The flagged pixels whose given or suggested class is ``class_index``.

    Examples
    --------
    >>> import numpy as np
    >>> labels = np.array([[[0, 1, 2]]])
    >>> pred_probs = np.array([[[[.9, .1, .1]], [[.05, .8, .1]], [[.05, .1, .8]]]])
    >>> filter_by_class(0, np.ones((1, 1, 3), dtype=bool), labels, pred_probs)
    array([[[ True, False, False]]])
    """
    images = _Images(labels, pred_probs)
    mask = _check_issues(issues, images)
    (c,) = check_class_ids("class_index", [class_index], images.num_classes)
    out = np.zeros(mask.shape, dtype=bool)
    for i in np.flatnonzero(mask.reshape(len(mask), -1).any(axis=1)):
        involved = (images.codes(i) == c) | (_suggested(images, i) == c)
        out[i] = mask[i] & involved.reshape(images.shape)
    return out


def display_issues(
    issues: Any,
    *,
    labels: Any = None,
    pred_probs: Any = None,
    class_names: Sequence[Any] | None = None,
    exclude: Sequence[int] | None = None,
    top: int | None = None,
) -> Any:
    """Draw the images with the most flagged pixels: given labels, predictions, flags in red.

    One row per image, most flagged pixels first (ties: lower index); its panels are the given
    label map (with ``labels``), the most probable class of each pixel (with ``pred_probs``)
    and the flagged pixels over the label map. Requires matplotlib
    (``pip install 'labelaudit[plot]'``).

    Parameters
    ----------
    issues : ndarray of bool, shape (n, H, W)
        From :func:`find_label_issues` or :func:`issues_from_scores`.
    labels, pred_probs : optional
        As in :func:`find_label_issues`.
    class_names : sequence, optional
        Names of the classes, shown in a legend.
    exclude : list of int, optional
        Do not show flags on pixels whose given (with ``labels``) or most probable (with
        ``pred_probs``) class is one of these.
    top : int, optional
        Draw at most this many images (default 20).

    Returns
    -------
    matplotlib Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> issues = np.zeros((2, 4, 4), dtype=bool)
    >>> issues[1, 1, 2] = True
    >>> figure = display_issues(issues, labels=np.zeros((2, 4, 4), dtype=int), top=1)
    >>> [ax.get_title() for ax in figure.axes]
    ['Given labels', 'image 1: 1 flagged pixels']
    """
    mask = np.asarray(issues)
    if mask.dtype != bool or mask.ndim != 3:
        raise ValueError(
            f"issues must be the boolean (n, H, W) mask from find_label_issues; found dtype "
            f"{mask.dtype} and shape {mask.shape}."
        )
    if labels is not None and pred_probs is not None:
        k = _Images(labels, pred_probs).num_classes
    elif pred_probs is not None:
        k = int(np.shape(pred_probs)[1])
    else:
        k = None if labels is None else int(np.max(labels)) + 1
    if exclude is not None and labels is None and pred_probs is None:
        raise ValueError("exclude names classes; pass labels or pred_probs with it.")
    excluded = _check_exclude(exclude, k)
    names = (
        None
        if class_names is None
        else check_class_names(class_names, len(class_names) if k is None else k)
    )
    top = 20 if top is None else check_nonnegative_int("top", top)
    plt = import_optional("matplotlib.pyplot", "display_issues")
    from labelaudit.report.plots import SegmentationIssuesDisplay

    counts = mask.reshape(len(mask), -1).sum(axis=1)
    shown = np.lexsort((np.arange(len(mask)), -counts))[: min(top, len(mask))]
    panels = 1 + (labels is not None) + (pred_probs is not None)
    figure, axes = plt.subplots(
        max(len(shown), 1), panels, figsize=(4 * panels, 4 * max(len(shown), 1)), squeeze=False
    )
    colours = {"cmap": "tab20", "vmin": 0, "vmax": max((k or 1) - 1, 1), "interpolation": "nearest"}
    for row, i in zip(axes, shown):
        label_map = None if labels is None else np.asarray(labels[i])
        predicted = None if pred_probs is None else np.asarray(pred_probs[i]).argmax(axis=0)
        if label_map is not None:
            row[0].imshow(label_map, **colours)
            row[0].set_title("Given labels")
        if pred_probs is not None:
            row[panels - 2].imshow(predicted, **colours)
            row[panels - 2].set_title("Predicted labels")
        flags = mask[i].copy()
        for classes in (label_map, predicted):
            if classes is not None:
                flags &= ~np.isin(classes, excluded)
        SegmentationIssuesDisplay(flags, label_map=label_map, index=int(i)).plot(ax=row[-1])
    for ax in axes.ravel()[len(shown) * panels :]:
        ax.set_axis_off()
    if names is not None:
        patches = import_optional("matplotlib.patches", "display_issues")
        cmap = plt.get_cmap("tab20")
        scale = max(len(names) - 1, 1)
        handles = [
            patches.Patch(color=cmap(j / scale), label=str(name)) for j, name in enumerate(names)
        ]
        figure.legend(handles=handles, loc="lower center", ncol=min(len(names), 6))
    return figure


def class_summary(
    issues: Any, labels: Any, *, class_names: Sequence[Any] | None = None
) -> pd.DataFrame:
    """Per class: how many pixels and images carry it, and how many of them are flagged.

    Parameters
    ----------
    issues : ndarray of bool, shape (n, H, W)
        From :func:`find_label_issues`.
    labels : array-like of shape (n, H, W)
        The given class ids.
    class_names : sequence, optional
        Names of the classes; their number sets how many classes are listed (otherwise the
        largest id in ``labels`` plus one).

    Returns
    -------
    DataFrame
        One row per class (index ``class``), columns ``num_pixels``, ``num_label_issues``,
        ``issue_rate`` (NaN for a class with no pixels), ``num_images`` and
        ``num_images_with_issues``.

    Examples
    --------
    >>> import numpy as np
    >>> labels = np.array([[[0, 0], [1, 1]], [[0, 0], [0, 0]]])
    >>> issues = np.zeros((2, 2, 2), dtype=bool)
    >>> issues[0, 1, 1] = True
    >>> summary = class_summary(issues, labels, class_names=["road", "car"])
    >>> summary.reset_index()[["class", "num_pixels", "num_label_issues", "issue_rate"]]
      class  num_pixels  num_label_issues  issue_rate
    0  road           6                 0         0.0
    1   car           2                 1         0.5
    """
    labels = _as_array("labels", labels)
    if labels.ndim != 3 or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(
            f"labels must be integer class ids of shape (n, H, W); found dtype {labels.dtype} and "
            f"shape {tuple(labels.shape)}."
        )
    mask = np.asarray(issues)
    if mask.dtype != bool or mask.shape != tuple(labels.shape):
        raise ValueError(
            f"issues must be the boolean mask from find_label_issues, shape {tuple(labels.shape)}; "
            f"found dtype {mask.dtype} and shape {mask.shape}."
        )
    if class_names is not None:
        k = len(class_names)
    else:
        k = 1 + max(
            int(check_class_ids(f"labels[{i}]", np.asarray(lab).reshape(-1)).max())
            for i, lab in enumerate(labels)
        )
    pixels, flagged, images, flagged_images = (np.zeros(k, dtype=np.int64) for _ in range(4))
    for i in range(len(labels)):
        lab = check_class_ids(f"labels[{i}]", np.asarray(labels[i]).reshape(-1), k)
        counts = np.bincount(lab, minlength=k)
        bad = np.bincount(lab[mask[i].reshape(-1)], minlength=k)
        pixels += counts
        flagged += bad
        images += counts > 0
        flagged_images += bad > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = flagged / pixels
    index = pd.Index([class_name(class_names, c) for c in range(k)], name="class")
    return pd.DataFrame(
        {
            "num_pixels": pixels,
            "num_label_issues": flagged,
            "issue_rate": rate,
            "num_images": images,
            "num_images_with_issues": flagged_images,
        },
        index=index,
    )


def plot_issues(
    issues: Any,
    index: int,
    *,
    image: Any = None,
    labels: Any = None,
    ax: Any = None,
) -> Any:
    """Draw one image (or its label map) with its flagged pixels in red.

    The Axes of :meth:`labelaudit.report.SegmentationIssuesDisplay.from_issues`. Requires
    matplotlib (``pip install 'labelaudit[plot]'``).

    Parameters
    ----------
    issues : ndarray of bool, shape (n, H, W)
        From :func:`find_label_issues`.
    index : int
        Which image.
    image : array-like of shape (H, W) or (H, W, 3 or 4), optional
        The picture to draw under the flags.
    labels : array-like of shape (n, H, W), optional
        Without ``image``, the label map of image ``index`` is drawn instead.
    ax : matplotlib Axes, optional
        Where to draw; new axes when omitted.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> issues = np.zeros((1, 4, 4), dtype=bool)
    >>> issues[0, 1, 2] = True
    >>> plot_issues(issues, 0, labels=np.zeros((1, 4, 4), dtype=int)).get_title()
    'image 0: 1 flagged pixels'
    """
    from labelaudit.report.plots import SegmentationIssuesDisplay, require_matplotlib

    require_matplotlib("plot_issues")
    return SegmentationIssuesDisplay.from_issues(
        issues, index, image=image, labels=labels, ax=ax
    ).ax_
