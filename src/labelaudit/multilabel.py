"""Label issues when every example may carry several classes at once (multi-label).

Inputs
------
``labels`` is either a list of lists (the classes of each example; ``[]`` for none) or a 2-D
numpy array / DataFrame of shape ``(n, K)`` holding a binary indicator matrix. A Python list of
lists is always read as lists of classes, a 2-D array always as an indicator matrix.
``pred_probs`` has shape ``(n, K)`` and holds *independent* per-class probabilities
``P(class k applies)``; its rows need not sum to 1.

Method
------
Every class is a one-vs-rest binary problem: class ``k`` is given when ``labels`` contain it,
and its two-column probabilities are ``[1 - p_k, p_k]``. These ``n x 2`` views are built block
by block (nothing of size ``n x K`` is copied) and handed to the single-label core, so each
class gets exactly the confident learning of :func:`labelaudit.find_label_issues` and
:func:`labelaudit.compute_confident_joint`. An example is a label issue when any of its classes
is. A class that every example has (or none has) has one side only, which confident learning
cannot judge (the core refuses a single class): it flags nothing, and its confident joint holds
its yes/no counts on the diagonal, calibrated or not.

Per-example scores pool the ``K`` per-class scores. ``"exponential_moving_average"`` sorts
them in ascending order ``s_1 <= ... <= s_K`` and returns
``alpha * s_1 + alpha (1 - alpha) s_2 + ... + (1 - alpha)^(K-1) s_K`` (weights sum to 1), so the
worst class counts most; ``"mean"`` and ``"min"`` do what they say.

Ties are broken as in the core: by (score, row index), and within a class by the core's rules.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from labelaudit._config import config_context, get_config
from labelaudit._kernels import (
    SCORE_METHODS,
    map_blocks,
    read_block,
    resolve_n_jobs,
    score_block,
    self_confidence_dtype,
)
from labelaudit._structured import check_pooling, pool_segments
from labelaudit._threads import thread_map
from labelaudit._validate import (
    VALUE_TOLERANCE,
    as_pred_probs,
    check_bool,
    check_choice,
    check_class_names,
    check_classes,
    check_confident_joint,
    check_fraction,
    check_n_jobs,
    shorten,
)
from labelaudit.filter import FILTER_METHODS, check_filter_options
from labelaudit.filter import find_label_issues as _find_binary_issues
from labelaudit.noise import compute_confident_joint as _binary_confident_joint
from labelaudit.rank import get_label_quality_scores as _binary_scores
from labelaudit.rank import rank_rows

T = TypeVar("T")
logger = logging.getLogger(__name__)

AGGREGATORS = ("exponential_moving_average", "softmin", "mean", "min")
DEFAULT_POOLING = ("exponential_moving_average", 0.8)  # (aggregator, alpha)
CLASS_COLUMNS = [
    "class",
    "class_name",
    "num_examples",
    "label_issues",
    "missing_labels",
    "extra_labels",
    "label_noise",
    "label_quality_score",
]
COMMON_ISSUE_COLUMNS = ["class", "class_name", "issue", "num_examples", "issue_probability"]


class _OneVsRest:
    """Class ``k`` as a two-column problem: rows of ``[1 - p_k, p_k]``, made on demand.

    Column ``k`` is read once (``n`` values); row slices return a fresh ``(rows, 2)`` block, so
    the core reads it block by block like a memory map. float32 input stays float32.
    """

    ndim = 2

    def __init__(self, pred_probs: Any, k: int) -> None:
        self.dtype = _float_dtype(pred_probs.dtype)
        self._column = np.ascontiguousarray(pred_probs[:, k], dtype=self.dtype)
        self.shape = (len(self._column), 2)

    def __getitem__(self, rows: slice) -> np.ndarray:
        return _against_rest(self._column[rows], self.dtype)


def _float_dtype(dtype: Any) -> np.dtype:
    """Floating input keeps its dtype; integer input (0/1 probabilities) becomes float64."""
    kind = np.dtype(dtype)
    return kind if kind in (np.float16, np.float32, np.float64) else np.dtype(np.float64)


def _against_rest(column: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """``[1 - p, p]`` as a ``(len(column), 2)`` array of ``dtype``."""
    out = np.empty((len(column), 2), dtype=dtype)
    out[:, 1] = column
    np.subtract(1, out[:, 1], out=out[:, 0])
    return out


class _MultiLabelData:
    """Validated multi-label inputs: a boolean indicator matrix and per-class probabilities."""

    def __init__(self, labels: Any, pred_probs: Any, classes: Any, n_jobs: Any) -> None:
        self.pred_probs = as_pred_probs(pred_probs)
        n, k = self.pred_probs.shape
        self.class_names = _class_names(classes, k)
        self.indicator = _indicator(labels, n, self.class_names)
        self.given = self.indicator.sum(axis=0)  # examples given each class
        self.n_jobs = check_n_jobs(n_jobs)
        _check_values(self.pred_probs, self.n_jobs)

    @property
    def num_examples(self) -> int:
        return self.pred_probs.shape[0]

    @property
    def num_classes(self) -> int:
        return self.pred_probs.shape[1]

    def one_sided(self, k: int) -> bool:
        """Whether every example, or none, is given class ``k`` (see the module documentation)."""
        return self.given[k] in (0, self.num_examples)

    def binary(self, k: int) -> tuple[np.ndarray, _OneVsRest]:
        """Labels ``0/1`` and the ``n x 2`` probabilities of class ``k`` against the rest."""
        return self.indicator[:, k].astype(np.int8), _OneVsRest(self.pred_probs, k)

    def per_class(self, func: Callable[[int, int | None], T]) -> list[T]:
        """``[func(k, n_jobs) for each class k]``, on ``n_jobs`` threads over classes when > 1.

        ``func`` gets the ``n_jobs`` to pass to the core: 1 inside a thread, else the caller's.
        Threads see the caller's settings (``block_rows``); results are in class order.
        """
        workers = min(resolve_n_jobs(self.n_jobs), self.num_classes)
        if workers <= 1:
            return [func(k, self.n_jobs) for k in range(self.num_classes)]
        settings = {**get_config(), "n_jobs": 1}

        def run(k: int) -> T:
            with config_context(**settings):
                return func(k, 1)

        return list(thread_map(run, range(self.num_classes), workers))

    def issues_per_class(
        self,
        *,
        confident_joint: np.ndarray | None = None,
        num_to_remove: np.ndarray | None = None,
        return_indices_ranked_by: str | None = None,
        **kwargs: Any,
    ) -> list[np.ndarray]:
        """For each class, the rows the core flags in its one-vs-rest problem.

        Sorted rows, or ranked by ``return_indices_ranked_by`` (the core's order). Class ``k``
        gets ``confident_joint[k]`` and ``num_to_remove[k]`` (absent, present) when given.
        """

        def flagged(k: int, n_jobs: int | None) -> np.ndarray:
            if self.one_sided(k):
                return np.empty(0, dtype=np.int64)
            found = _find_binary_issues(
                *self.binary(k),
                confident_joint=None if confident_joint is None else confident_joint[k],
                num_to_remove_per_class=None if num_to_remove is None else num_to_remove[k],
                return_indices_ranked_by=return_indices_ranked_by,
                n_jobs=n_jobs,
                **kwargs,
            )
            return found if return_indices_ranked_by is not None else np.flatnonzero(found)

        return self.per_class(flagged)

    def display_names(self, class_names: Any) -> list[Any]:
        """``class_names`` checked (one per column), or the classes of the columns."""
        return (
            self.class_names
            if class_names is None
            else check_class_names(class_names, self.num_classes)
        )


def _class_names(classes: Any, num_classes: int) -> list[Any]:
    return (
        list(range(num_classes))
        if classes is None
        else check_classes(classes, num_classes).tolist()
    )


def _indicator(labels: Any, num_examples: int, class_names: list[Any]) -> np.ndarray:
    """``labels`` (lists of classes or an indicator matrix) as an ``(n, K)`` boolean matrix."""
    k = len(class_names)
    if isinstance(labels, pd.DataFrame):
        labels = labels.to_numpy()
    if isinstance(labels, np.ndarray) and labels.ndim == 2:
        return _from_indicator(labels, num_examples, k)
    if isinstance(labels, (str, bytes)) or not isinstance(
        labels, (Sequence, np.ndarray, pd.Series)
    ):
        raise TypeError(
            "labels must be a list of lists of classes (one list per example) or an n x K binary "
            f"indicator array; found {type(labels).__name__}."
        )
    rows = list(labels)
    if len(rows) != num_examples:
        raise ValueError(
            f"labels has {len(rows)} entries but pred_probs has {num_examples} rows; they must "
            "describe the same examples in the same order."
        )
    position = {name: j for j, name in enumerate(class_names)}
    out = np.zeros((num_examples, k), dtype=bool)
    for i, row in enumerate(rows):
        if isinstance(row, (str, bytes)) or not isinstance(
            row, (Sequence, np.ndarray, set, frozenset)
        ):
            raise TypeError(
                f"labels[{i}] is {row!r}; each example needs a list of its classes (e.g. [0, 2], "
                "or "
                "[] for none). For one class per example use labelaudit.find_label_issues."
            )
        for c in row:
            c = c.item() if isinstance(c, np.generic) else c
            if c not in position or isinstance(c, bool):
                raise ValueError(
                    f"labels[{i}] contains {c!r}, which is not a class of pred_probs (classes "
                    f"{shorten(class_names)}); use column indices 0..{k - 1} or pass classes= "
                    "with the class of each pred_probs column."
                )
            out[i, position[c]] = True
    return out


def _from_indicator(labels: np.ndarray, num_examples: int, num_classes: int) -> np.ndarray:
    if labels.shape != (num_examples, num_classes):
        raise ValueError(
            f"labels is an indicator matrix of shape {labels.shape}, but pred_probs has shape "
            f"({num_examples}, {num_classes}); they must have the same shape (rows = examples, "
            "columns = classes)."
        )
    if labels.dtype == bool:
        return labels
    if labels.dtype == object or not np.issubdtype(labels.dtype, np.number):
        raise TypeError(
            f"an indicator matrix of labels must hold 0 and 1; found dtype {labels.dtype}. "
            "Pass a list of lists for classes given by name."
        )
    binary = (labels == 0) | (labels == 1)
    if not binary.all():
        bad = labels[~binary]
        raise ValueError(
            f"an indicator matrix of labels must hold only 0 and 1; found {shorten(list(bad))}. "
            "Binarise it (e.g. labels > 0.5) or pass a list of lists of classes."
        )
    return labels.astype(bool)


def _check_values(pred_probs: Any, n_jobs: int | None) -> None:
    """Every value finite and in [0, 1] (rounding tolerance as in the core); any row sums."""

    def work(start: int, stop: int) -> None:
        block = read_block(pred_probs, start, stop)
        bad = ~np.isfinite(block) | (block < -VALUE_TOLERANCE) | (block > 1 + VALUE_TOLERANCE)
        if bad.any():
            row, col = np.argwhere(bad)[0]
            raise ValueError(
                f"pred_probs must hold per-class probabilities in [0, 1] (rounding up to "
                f"{VALUE_TOLERANCE:g} accepted); found {block[row, col]!r} in row {start + row}, "
                f"column {col}. Pass sigmoid outputs, one independent probability per class."
            )

    for _ in map_blocks(work, pred_probs.shape, n_jobs):
        pass


def _check_aggregator(aggregator_kwargs: Any) -> tuple[Any, float]:
    """``aggregator_kwargs`` checked: ``(method, parameter)`` (alpha, temperature or unused)."""
    if aggregator_kwargs is None:
        return DEFAULT_POOLING
    if not isinstance(aggregator_kwargs, dict) or "method" not in aggregator_kwargs:
        raise ValueError(
            f"aggregator_kwargs={aggregator_kwargs!r} is not valid; pass a dict with a 'method' "
            "key, e.g. {'method': 'exponential_moving_average', 'alpha': 0.8}."
        )
    method = aggregator_kwargs["method"]
    if not callable(method):
        check_choice("aggregator_kwargs['method']", method, AGGREGATORS)
    allowed = {"exponential_moving_average": {"alpha"}, "softmin": {"temperature"}}.get(
        method, set()
    )
    extra = set(aggregator_kwargs) - {"method"} - allowed
    if extra:
        raise ValueError(
            f"aggregator_kwargs has {sorted(extra)} but method={method!r} takes "
            f"{sorted(allowed) or 'no other key'}; drop them."
        )
    if method == "exponential_moving_average":
        alpha = check_fraction("aggregator_kwargs['alpha']", aggregator_kwargs.get("alpha", 0.8))
        if alpha == 0.0:
            raise ValueError("alpha=0 gives the best class all the weight; use alpha in (0, 1].")
        return method, alpha
    if method == "softmin":
        return method, check_pooling("method", "softmin", aggregator_kwargs.get("temperature", 0.1))
    return method, 0.0


def _aggregate(scores: np.ndarray, aggregator: Any, parameter: float) -> np.ndarray:
    """Pool per-class scores (rows = examples) into one score per example."""
    n, k = scores.shape
    if callable(aggregator):
        pooled = np.asarray(aggregator(scores), dtype=np.float64)
        if pooled.shape != (n,):
            raise ValueError(
                f"aggregator_kwargs['method'] returned shape {pooled.shape} for scores of shape "
                f"{scores.shape}; it must return one score per row, shape ({n},)."
            )
        return pooled
    if aggregator == "mean":
        return scores.mean(axis=1)
    if aggregator == "min":
        return scores.min(axis=1)
    if aggregator == "softmin":
        return pool_segments(scores.reshape(-1), np.arange(0, n * k + 1, k), "softmin", parameter)
    weights = parameter * (1.0 - parameter) ** np.arange(k)
    weights[-1] = (1.0 - parameter) ** (k - 1)
    return np.sort(scores, axis=1) @ weights


def _self_confidence(probs: np.ndarray, given: np.ndarray) -> np.ndarray:
    """The core's ``"self_confidence"`` of every ``[1 - p_k, p_k]`` of a block, all classes at once.

    ``p`` where the class is given, else ``1 - p``, with ``1 - p`` rounded in the same dtypes
    as :func:`_against_rest` and the core (so the values are identical), in float64.
    """
    p = probs.astype(_float_dtype(probs.dtype), copy=False)
    work = self_confidence_dtype(p.dtype)
    return np.where(given, p.astype(work), np.subtract(1, p).astype(work)).astype(np.float64)


def _scores(
    data: _MultiLabelData, method: str, pool: tuple[Any, float] | None, adjust: bool = False
) -> np.ndarray:
    """Per-class scores ``(n, K)``, or pooled ``(n,)`` with ``pool=(aggregator, parameter)``.

    ``adjust`` scores each class with the core's ``adjust_pred_probs`` (its thresholds come
    from a pass over that class), one class at a time.
    """
    n, k = data.pred_probs.shape
    if adjust:
        columns = data.per_class(
            lambda j, n_jobs: _binary_scores(
                *data.binary(j), method=method, adjust_pred_probs=True, n_jobs=n_jobs
            )
        )
        per_class = np.column_stack(columns).astype(np.float64)
        return per_class if pool is None else _aggregate(per_class, *pool)
    out = np.empty((n, k) if pool is None else n)

    def work(start: int, stop: int) -> None:
        y = data.indicator[start:stop]
        probs = read_block(data.pred_probs, start, stop)
        if method == "self_confidence":
            block = _self_confidence(probs, y)
        else:
            block = np.empty((stop - start, k))
            for j in range(k):
                two = _against_rest(probs[:, j], _float_dtype(probs.dtype))
                block[:, j] = score_block(two, y[:, j].astype(np.int8), method, None)
        out[start:stop] = block if pool is None else _aggregate(block, *pool)

    for _ in map_blocks(work, (n, k), data.n_jobs):
        pass
    return out


def get_label_quality_scores_per_class(
    labels: Any,
    pred_probs: Any,
    *,
    method: str = "self_confidence",
    adjust_pred_probs: bool = False,
    classes: Any = None,
    n_jobs: int | None = None,
) -> np.ndarray:
    """Score, for every example and class, how likely the given yes/no for that class is right.

    Parameters
    ----------
    labels : list of lists, or array-like of shape (n, K) with 0/1
        Classes of each example (see the module documentation).
    pred_probs : array-like of shape (n, K)
        Independent per-class probabilities, out of sample.
    method : {"self_confidence", "normalized_margin", "confidence_weighted_entropy"}
        The core score applied to ``[1 - p_k, p_k]`` (for two columns ``"normalized_margin"``
        equals ``"self_confidence"``).
    adjust_pred_probs : bool, default False
        Score each class as :func:`labelaudit.get_label_quality_scores` does with
        ``adjust_pred_probs=True`` on its yes/no problem (its thresholds subtracted), which
        evens out classes that are rare or common.
    classes : array-like of shape (K,), optional
        The class of each ``pred_probs`` column, when ``labels`` name classes.
    n_jobs : int, optional
        Threads (``-1``: one per core), over classes when there are several; results do not
        depend on it.

    Returns
    -------
    ndarray of shape (n, K), float64
        Lower = more likely wrong.

    Examples
    --------
    >>> import numpy as np
    >>> from labelaudit.multilabel import get_label_quality_scores_per_class
    >>> get_label_quality_scores_per_class([[0], [0, 1]], np.array([[.9, .2], [.6, .3]]))
    array([[0.9, 0.8],
           [0.6, 0.3]])
    """
    check_choice("method", method, SCORE_METHODS)
    adjust = check_bool("adjust_pred_probs", adjust_pred_probs)
    return _scores(_MultiLabelData(labels, pred_probs, classes, n_jobs), method, None, adjust)


def get_label_quality_scores(
    labels: Any,
    pred_probs: Any,
    *,
    method: str = "self_confidence",
    adjust_pred_probs: bool = False,
    aggregator_kwargs: dict[str, Any] | None = None,
    classes: Any = None,
    n_jobs: int | None = None,
) -> np.ndarray:
    """One label quality score per example, pooled over its per-class scores.

    Parameters
    ----------
    labels, pred_probs, method, adjust_pred_probs, classes, n_jobs
        As in :func:`get_label_quality_scores_per_class`.
    aggregator_kwargs : dict, default {"method": "exponential_moving_average", "alpha": 0.8}
        How per-class scores are pooled (see the module documentation). ``"method"``: one of
        ``"exponential_moving_average"`` (with ``"alpha"`` in (0, 1], the weight of the lowest
        score; 1 is ``"min"``), ``"softmin"`` (with ``"temperature"``, default 0.1: the soft
        minimum of :mod:`labelaudit.token`), ``"mean"``, ``"min"``, or a function from an
        ``(rows, K)`` array of scores to one score per row.

    Returns
    -------
    ndarray of shape (n,), float64
        Lower = more likely that some class of the example is wrong.

    Examples
    --------
    >>> import numpy as np
    >>> from labelaudit.multilabel import get_label_quality_scores
    >>> labels = [[0], [0, 1]]
    >>> pred_probs = np.array([[.9, .2], [.6, .3]])
    >>> get_label_quality_scores(labels, pred_probs, aggregator_kwargs={"method": "min"})
    array([0.8, 0.3])
    >>> get_label_quality_scores(labels, pred_probs).round(3)  # .8 * .8 + .2 * .9
    array([0.82, 0.36])
    """
    check_choice("method", method, SCORE_METHODS)
    adjust = check_bool("adjust_pred_probs", adjust_pred_probs)
    pool = _check_aggregator(aggregator_kwargs)
    return _scores(_MultiLabelData(labels, pred_probs, classes, n_jobs), method, pool, adjust)


def _check_num_to_remove(value: Any, num_classes: int) -> np.ndarray | None:
    """``num_to_remove_per_class`` as ``(K, 2)`` counts: examples without / with each class."""
    if value is None:
        return None
    arr = np.asarray(value)
    if (
        arr.shape not in ((num_classes,), (num_classes, 2))
        or not np.issubdtype(arr.dtype, np.integer)
        or (arr < 0).any()
    ):
        raise ValueError(
            f"num_to_remove_per_class must be {num_classes} non-negative integers (how many "
            f"examples missing each class to flag) or a {num_classes} x 2 array (without, with "
            f"the class); found {arr.tolist()!r}."
        )
    arr = arr.astype(np.int64)
    return np.column_stack([arr, np.zeros_like(arr)]) if arr.ndim == 1 else arr


def _check_joints(confident_joint: Any, num_classes: int) -> np.ndarray | None:
    """A ``(K, 2, 2)`` confident joint (as from :func:`compute_confident_joint`), checked."""
    if confident_joint is None:
        return None
    cj = np.asarray(confident_joint)
    if cj.shape != (num_classes, 2, 2):
        raise ValueError(
            f"confident_joint must have shape ({num_classes}, 2, 2), one 2 x 2 joint per class as "
            f"from labelaudit.multilabel.compute_confident_joint; found shape {cj.shape}."
        )
    return np.stack(
        [check_confident_joint(cj[k], 2, name=f"confident_joint[{k}]") for k in range(num_classes)]
    )


class _IssueOptions:
    """The checked options shared by :func:`find_label_issues` and its per-class form."""

    def __init__(self, data: _MultiLabelData, options: dict[str, Any]) -> None:
        frac_noise, min_examples, adjust = check_filter_options(
            options["filter_by"],
            options["frac_noise"],
            options["min_examples_per_class"],
            options["num_to_remove_per_class"],
            options["confident_joint"],
            options["return_indices_ranked_by"],
            options["rank_by_kwargs"],
        )
        self.ranked_by = options["return_indices_ranked_by"]
        self.rank_by_kwargs = {"adjust_pred_probs": adjust}
        self.kwargs = {
            "filter_by": options["filter_by"],
            "frac_noise": frac_noise,
            "min_examples_per_class": min_examples,
            "confident_joint": _check_joints(options["confident_joint"], data.num_classes),
            "num_to_remove": _check_num_to_remove(
                options["num_to_remove_per_class"], data.num_classes
            ),
        }

    def per_class_mask(self, data: _MultiLabelData) -> np.ndarray:
        """``(n, K)``: whether the core flags class ``k`` of example ``i``."""
        mask = np.zeros((data.num_examples, data.num_classes), dtype=bool)
        for k, rows in enumerate(data.issues_per_class(**self.kwargs)):
            mask[rows, k] = True
        return mask


def find_label_issues(
    labels: Any,
    pred_probs: Any,
    *,
    return_indices_ranked_by: str | None = None,
    rank_by_kwargs: dict[str, Any] | None = None,
    filter_by: str = "prune_by_noise_rate",
    frac_noise: float = 1.0,
    num_to_remove_per_class: Any = None,
    min_examples_per_class: int = 1,
    confident_joint: Any = None,
    classes: Any = None,
    n_jobs: int | None = None,
) -> np.ndarray:
    """Flag the examples whose set of classes is probably wrong (a class missing or extra).

    Each class is checked one-vs-rest by :func:`labelaudit.find_label_issues` with the same
    options; an example is flagged when any of its classes is
    (:func:`find_multilabel_issues_per_class` gives the per-class flags).

    Parameters
    ----------
    labels : list of lists, or array-like of shape (n, K) with 0/1
        Classes of each example (see the module documentation).
    pred_probs : array-like of shape (n, K)
        Independent per-class probabilities, out of sample.
    return_indices_ranked_by : {None, "self_confidence", "normalized_margin",
        "confidence_weighted_entropy"}
        ``None`` returns a boolean mask; otherwise the flagged rows, lowest pooled score
        (:func:`get_label_quality_scores`, default aggregator) first, ties by row index.
    rank_by_kwargs : dict, optional
        ``{"adjust_pred_probs": bool}`` for the ranking score.
    filter_by : str, default "prune_by_noise_rate"
        Any rule of :func:`labelaudit.find_label_issues`.
    frac_noise : float in [0, 1], default 1.0
        Fraction of the estimated issues to flag (pruning rules only).
    num_to_remove_per_class : array-like of shape (K,) or (K, 2), optional
        With ``filter_by="prune_by_class"`` or ``"both"``: how many examples to flag per class.
        ``K`` counts are, as in the reference, examples *missing* each class; a ``K x 2``
        array gives (missing, extra) counts per class.
    min_examples_per_class : int, default 1
        In each class's yes/no problem, keep at least this many of each side.
    confident_joint : array-like of shape (K, 2, 2), optional
        Per-class confident joints (as from :func:`compute_confident_joint`) to use instead of
        computing them.
    classes : array-like of shape (K,), optional
        The class of each ``pred_probs`` column, when ``labels`` name classes.
    n_jobs : int, optional
        Threads (``-1``: one per core), over classes when there are several; results do not
        depend on it.

    Returns
    -------
    ndarray
        Boolean mask of shape (n,), or int64 row indices.

    Examples
    --------
    >>> import numpy as np
    >>> from labelaudit.multilabel import find_label_issues
    >>> labels = [[0], [0], [0, 1], [1], [1], [0, 1]]
    >>> pred_probs = np.array([[.9, .1], [.8, .2], [.9, .8], [.1, .9], [.2, .8], [.9, .1]])
    >>> find_label_issues(labels, pred_probs)
    array([False, False, False, False, False,  True])
    >>> find_label_issues(labels, pred_probs, filter_by="prune_by_class",
    ...                   num_to_remove_per_class=[[0, 0], [0, 1]],
    ...                   return_indices_ranked_by="self_confidence")
    array([5])
    """
    data = _MultiLabelData(labels, pred_probs, classes, n_jobs)
    checked = _IssueOptions(data, dict(locals()))
    mask = checked.per_class_mask(data).any(axis=1)
    if return_indices_ranked_by is None:
        return mask
    scores = _scores(
        data, return_indices_ranked_by, DEFAULT_POOLING, checked.rank_by_kwargs["adjust_pred_probs"]
    )
    rows = np.flatnonzero(mask)
    return rank_rows(rows, scores[rows])


def find_multilabel_issues_per_class(
    labels: Any,
    pred_probs: Any,
    *,
    return_indices_ranked_by: str | None = None,
    rank_by_kwargs: dict[str, Any] | None = None,
    filter_by: str = "prune_by_noise_rate",
    frac_noise: float = 1.0,
    num_to_remove_per_class: Any = None,
    min_examples_per_class: int = 1,
    confident_joint: Any = None,
    classes: Any = None,
    n_jobs: int | None = None,
) -> np.ndarray | tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]]:
    """The label issues of each class separately: which examples miss it or have it wrongly.

    Parameters are those of :func:`find_label_issues`; each class's flags are exactly what
    :func:`labelaudit.find_label_issues` returns for its yes/no problem.

    Returns
    -------
    ndarray of bool, shape (n, K)
        Without ``return_indices_ranked_by``: entry ``[i, k]`` is True when class ``k`` of
        example ``i`` is probably wrong.
    (issues, labels, pred_probs) : three lists of K arrays
        With ``return_indices_ranked_by``: per class, the flagged rows ranked by that score
        of the yes/no problem (ties by row), its 0/1 labels, and its ``[1 - p_k, p_k]``
        probabilities.

    Examples
    --------
    >>> import numpy as np
    >>> from labelaudit.multilabel import find_multilabel_issues_per_class
    >>> labels = [[0], [0], [0, 1], [1], [1], [0, 1]]
    >>> pred_probs = np.array([[.9, .1], [.8, .2], [.9, .8], [.1, .9], [.2, .8], [.9, .1]])
    >>> find_multilabel_issues_per_class(labels, pred_probs)[:, 1].astype(int)
    array([0, 0, 0, 0, 0, 1])
    >>> issues, _, _ = find_multilabel_issues_per_class(
    ...     labels, pred_probs, return_indices_ranked_by="self_confidence")
    >>> [rows.tolist() for rows in issues]
    [[], [5]]
    """
    data = _MultiLabelData(labels, pred_probs, classes, n_jobs)
    checked = _IssueOptions(data, dict(locals()))
    if return_indices_ranked_by is None:
        return checked.per_class_mask(data)
    ranked = data.issues_per_class(
        return_indices_ranked_by=return_indices_ranked_by,
        rank_by_kwargs=checked.rank_by_kwargs,
        **checked.kwargs,
    )
    binary = [data.binary(k) for k in range(data.num_classes)]
    return ranked, [y.astype(np.int64) for y, _ in binary], [two[:] for _, two in binary]


def compute_confident_joint(
    labels: Any,
    pred_probs: Any,
    *,
    multi_label: bool = True,
    calibrate: bool = True,
    return_indices_of_off_diagonals: bool = False,
    classes: Any = None,
    n_jobs: int | None = None,
) -> np.ndarray | tuple[np.ndarray, list[np.ndarray]]:
    """One 2 x 2 confident joint per class: ``cj[k][given][true]`` with 0 = absent, 1 = present.

    ``cj[k][0][1]`` counts examples where class ``k`` is probably missing from the labels and
    ``cj[k][1][0]`` those where it is probably extra. Also reachable as
    ``labelaudit.compute_confident_joint(..., multi_label=True)``.

    Parameters
    ----------
    labels, pred_probs, classes, n_jobs
        As in :func:`find_label_issues`.
    multi_label : bool, default True
        Must be True here (single-label data goes to :func:`labelaudit.compute_confident_joint`).
    calibrate : bool, default True
        Scale each class's rows to its given yes/no counts.
    return_indices_of_off_diagonals : bool, default False
        Also return, per class, the sorted rows counted off the diagonal.

    Returns
    -------
    confident_joint : ndarray of shape (K, 2, 2), int64
    off_diagonal_indices : list of K ndarrays, only with ``return_indices_of_off_diagonals``

    Examples
    --------
    >>> import numpy as np
    >>> import labelaudit
    >>> labels = np.array([[1, 0], [1, 0], [1, 1], [0, 1]])
    >>> pred_probs = np.array([[.9, .1], [.8, .9], [.7, .8], [.2, .9]])
    >>> labelaudit.compute_confident_joint(labels, pred_probs, multi_label=True)[1]
    array([[1, 1],
           [0, 2]])
    """
    if multi_label is not True:
        raise ValueError(
            f"multi_label={multi_label!r}: labelaudit.multilabel.compute_confident_joint is for "
            "multi-label data; for one class per example use labelaudit.compute_confident_joint."
        )
    calibrate = check_bool("calibrate", calibrate)
    return_indices_of_off_diagonals = check_bool(
        "return_indices_of_off_diagonals", return_indices_of_off_diagonals
    )
    data = _MultiLabelData(labels, pred_probs, classes, n_jobs)

    def joint(k: int, n_jobs: int | None) -> tuple[np.ndarray, np.ndarray]:
        if data.one_sided(k):
            given = int(data.given[k])
            return np.diag([data.num_examples - given, given]).astype(np.int64), np.empty(
                0, np.int64
            )
        return _binary_confident_joint(
            *data.binary(k),
            calibrate=calibrate,
            return_indices_of_off_diagonals=True,
            n_jobs=n_jobs,
        )

    results = data.per_class(joint)
    joint = np.stack([cj for cj, _ in results])
    off = [rows for _, rows in results]
    return (joint, off) if return_indices_of_off_diagonals else joint


def rank_classes_by_multilabel_quality(
    labels: Any,
    pred_probs: Any,
    *,
    class_names: Any = None,
    joint: Any = None,
    confident_joint: Any = None,
    classes: Any = None,
    n_jobs: int | None = None,
) -> pd.DataFrame:
    """Per-class summary of label issues, from the calibrated per-class confident joints.

    Columns (one row per class, worst ``label_quality_score`` first, ties by class):
    ``class`` (column index), ``class_name``, ``num_examples`` (examples given the class),
    ``label_issues`` (``missing_labels + extra_labels``), ``missing_labels`` (estimated examples
    that should have the class but do not), ``extra_labels`` (have it but should not),
    ``label_noise`` (``label_issues / n``) and ``label_quality_score`` (``1 - label_noise``).

    Parameters
    ----------
    labels, pred_probs, classes, n_jobs
        As in :func:`find_label_issues`.
    class_names : sequence of K names, optional
        Shown in ``class_name`` (default: the classes of the columns).
    joint : array-like of shape (K, 2, 2), optional
        Estimated per-class joints (fractions of ``n``) to use instead of computing them.
    confident_joint : array-like of shape (K, 2, 2), optional
        Per-class confident joints (counts) to use instead of computing them; ``joint`` wins
        when both are given.

    Examples
    --------
    >>> import numpy as np
    >>> from labelaudit.multilabel import rank_classes_by_multilabel_quality
    >>> labels = np.array([[1, 0], [1, 0], [1, 1], [0, 1]])
    >>> pred_probs = np.array([[.9, .1], [.8, .9], [.7, .8], [.2, .9]])
    >>> rank_classes_by_multilabel_quality(labels, pred_probs, class_names=["a", "b"])[
    ...     ["class_name", "missing_labels", "label_noise"]]
      class_name  missing_labels  label_noise
    0          b             1.0         0.25
    1          a             0.0         0.00
    """
    data = _MultiLabelData(labels, pred_probs, classes, n_jobs)
    names = data.display_names(class_names)
    if joint is not None:
        cj = _check_joints(joint, data.num_classes) * data.num_examples
    elif confident_joint is not None:
        cj = _check_joints(confident_joint, data.num_classes)
    else:
        cj = compute_confident_joint(data.indicator, data.pred_probs, n_jobs=data.n_jobs)
    missing, extra = cj[:, 0, 1].astype(np.float64), cj[:, 1, 0].astype(np.float64)
    noise = (missing + extra) / data.num_examples
    table = pd.DataFrame(
        {
            "class": np.arange(data.num_classes),
            "class_name": names,
            "num_examples": data.given.astype(np.int64),
            "label_issues": missing + extra,
            "missing_labels": missing,
            "extra_labels": extra,
            "label_noise": noise,
            "label_quality_score": 1.0 - noise,
        },
        columns=CLASS_COLUMNS,
    )
    return table.sort_values(["label_quality_score", "class"], kind="stable").reset_index(drop=True)


def common_multilabel_issues(
    labels: Any,
    pred_probs: Any,
    *,
    class_names: Any = None,
    confident_joint: Any = None,
    filter_by: str = "prune_by_noise_rate",
    classes: Any = None,
    n_jobs: int | None = None,
) -> pd.DataFrame:
    """The most common kinds of issue: a class missing from, or extra in, flagged examples.

    Counts the rows :func:`find_label_issues` flags for each class and direction. Columns:
    ``class``, ``class_name``, ``issue`` (``"missing_label"``: the class is absent but probably
    applies; ``"extra_label"``: present but probably does not), ``num_examples`` and
    ``issue_probability`` (``num_examples / n``). Rows with no examples are left out; most
    common first, ties by class then issue.

    Parameters
    ----------
    labels, pred_probs, confident_joint, filter_by, classes, n_jobs
        As in :func:`find_label_issues`.
    class_names : sequence of K names, optional
        Shown in ``class_name`` (default: the classes of the columns).

    Examples
    --------
    >>> import numpy as np
    >>> from labelaudit.multilabel import common_multilabel_issues
    >>> labels = [[0], [0], [0, 1], [1], [1], [0, 1]]
    >>> pred_probs = np.array([[.9, .1], [.8, .2], [.9, .8], [.1, .9], [.2, .8], [.9, .1]])
    >>> common_multilabel_issues(labels, pred_probs, class_names=["cat", "dog"])
       class class_name        issue  num_examples  issue_probability
    0      1        dog  extra_label             1           0.166667
    """
    check_choice("filter_by", filter_by, FILTER_METHODS)
    data = _MultiLabelData(labels, pred_probs, classes, n_jobs)
    names = data.display_names(class_names)
    cj = _check_joints(confident_joint, data.num_classes)
    records = []
    for k, rows in enumerate(data.issues_per_class(filter_by=filter_by, confident_joint=cj)):
        present = int(data.indicator[rows, k].sum())
        for issue, count in (("extra_label", present), ("missing_label", len(rows) - present)):
            if count:
                records.append((k, names[k], issue, count, count / data.num_examples))
    table = pd.DataFrame.from_records(records, columns=COMMON_ISSUE_COLUMNS)
    table["num_examples"] = table["num_examples"].astype(np.int64)
    order = np.lexsort(
        (table["issue"].to_numpy(), table["class"].to_numpy(), -table["num_examples"].to_numpy())
    )
    return table.iloc[order].reset_index(drop=True)


def overall_multilabel_health_score(
    labels: Any,
    pred_probs: Any,
    *,
    confident_joint: Any = None,
    classes: Any = None,
    n_jobs: int | None = None,
) -> float:
    """The fraction of examples :func:`find_label_issues` does not flag (1 = no issue found).

    Examples
    --------
    >>> import numpy as np
    >>> from labelaudit.multilabel import overall_multilabel_health_score
    >>> labels = [[0], [0], [0, 1], [1], [1], [0, 1]]
    >>> pred_probs = np.array([[.9, .1], [.8, .2], [.9, .8], [.1, .9], [.2, .8], [.9, .1]])
    >>> round(overall_multilabel_health_score(labels, pred_probs), 4)  # 1 - 1/6
    0.8333
    """
    mask = find_label_issues(
        labels, pred_probs, confident_joint=confident_joint, classes=classes, n_jobs=n_jobs
    )
    return 1.0 - float(mask.mean())


def multilabel_health_summary(
    labels: Any,
    pred_probs: Any,
    *,
    class_names: Any = None,
    num_examples: int | None = None,
    confident_joint: Any = None,
    verbose: bool = True,
    classes: Any = None,
    n_jobs: int | None = None,
) -> dict[str, Any]:
    """The health of a multi-label dataset: per-class quality, common issues, an overall score.

    Parameters
    ----------
    labels, pred_probs, confident_joint, classes, n_jobs
        As in :func:`find_label_issues`.
    class_names : sequence of K names, optional
        Shown in the tables' ``class_name``.
    num_examples : int, optional
        The number of examples, checked against ``labels`` when given.
    verbose : bool, default True
        Log the tables (``logging``, level INFO, logger ``labelaudit.multilabel``).

    Returns
    -------
    dict
        ``"overall_multilabel_health_score"`` (:func:`overall_multilabel_health_score`),
        ``"classes_by_multilabel_quality"`` (:func:`rank_classes_by_multilabel_quality`) and
        ``"common_multilabel_issues"`` (:func:`common_multilabel_issues`).

    Examples
    --------
    >>> import numpy as np
    >>> from labelaudit.multilabel import multilabel_health_summary
    >>> labels = [[0], [0], [0, 1], [1], [1], [0, 1]]
    >>> pred_probs = np.array([[.9, .1], [.8, .2], [.9, .8], [.1, .9], [.2, .8], [.9, .1]])
    >>> summary = multilabel_health_summary(labels, pred_probs, verbose=False)
    >>> round(summary["overall_multilabel_health_score"], 4)
    0.8333
    >>> summary["classes_by_multilabel_quality"]["class"].tolist()
    [1, 0]
    """
    verbose = check_bool("verbose", verbose)
    data = _MultiLabelData(labels, pred_probs, classes, n_jobs)
    if num_examples is not None and num_examples != data.num_examples:
        raise ValueError(
            f"num_examples={num_examples!r} but labels and pred_probs have {data.num_examples} "
            "examples; drop num_examples or pass the matching data."
        )
    shared = {"confident_joint": confident_joint, "n_jobs": data.n_jobs}
    by_class = rank_classes_by_multilabel_quality(
        data.indicator, data.pred_probs, class_names=data.display_names(class_names), **shared
    )
    common = common_multilabel_issues(
        data.indicator, data.pred_probs, class_names=data.display_names(class_names), **shared
    )
    score = overall_multilabel_health_score(data.indicator, data.pred_probs, **shared)
    if verbose:
        logger.info(
            "Multi-label health of %d examples: score %.4f\nClasses by label quality:\n%s\n"
            "Common issues:\n%s",
            data.num_examples,
            score,
            by_class.to_string(index=False),
            common.to_string(index=False),
        )
    return {
        "overall_multilabel_health_score": score,
        "classes_by_multilabel_quality": by_class,
        "common_multilabel_issues": common,
    }
