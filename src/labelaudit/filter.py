"""Find label issues: which examples are probably mislabelled.

``filter_by`` chooses the rule (Northcutt, Jiang, Chuang, JAIR 2021, section 3.2):

* ``"prune_by_noise_rate"`` (default): for every off-diagonal cell ``(i, j)`` of the calibrated
  confident joint, the examples labelled ``i`` with the largest margin ``p[j] - p[i]``, as many
  as the cell counts;
* ``"prune_by_class"``: for every given class ``i``, the examples labelled ``i`` with the lowest
  ``p[i]``, as many as row ``i`` counts off the diagonal (with a ``confident_joint`` whose rows
  are not calibrated: as many as the diagonal does not vouch for, ``n_i - C[i][i]``);
* ``"both"``: flagged by both of the above;
* ``"confident_learning"``: the examples counted off the diagonal of the confident joint;
* ``"predicted_neq_given"``: the given label is not among the most probable classes;
* ``"low_normalized_margin"`` / ``"low_self_confidence"``: the ``num_label_issues``
  (``"off_diagonal"``) examples with the lowest score among those whose label is not a top
  prediction;
* ``"auto"``: labelaudit's own rule, the model's belief corrected by the estimated noise as far
  as the data show the model did not learn it (:mod:`labelaudit.auto`).

No rule flags an example whose given label is a top prediction, up to
:data:`labelaudit._kernels.TOLERANCE` (``p[y] >= max(p) - 1e-6``): each selects its rows as
described and leaves those out. Every selection breaks exact ties by row index (lower first), so results do not depend
on block size or ``n_jobs``.

Each rule is one entry of :data:`RULES`: what the passes keep for it and how it selects rows
through the interface of :class:`labelaudit._passes.Passes`, after :class:`FlagPlan` has counted
how many to flag. The same table serves arrays, memory maps, dask arrays and the batches of
:class:`labelaudit.LabelIssueFinder`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from labelaudit._cells import Cells, apportion_groups, calibrate
from labelaudit._ensemble import combine_pred_probs
from labelaudit._passes import Passes, open_passes
from labelaudit._validate import (
    as_pred_probs,
    check_choice,
    check_class_count_vector,
    check_confident_joint,
    check_fraction,
    check_nonnegative_int,
    check_rank_kwargs,
)
from labelaudit.auto import auto_flags, auto_scores
from labelaudit.noise import compute_confident_joint, num_issues_off_diagonal
from labelaudit.rank import RANK_METHODS, check_adjustable, rank_rows, scores_for


def _flag_totals(
    wanted: np.ndarray, frac_noise: float, available: np.ndarray, min_examples_per_class: int
) -> np.ndarray:
    """``round(frac_noise * wanted)``, keeping at least ``min_examples_per_class`` of ``available``."""
    rounded = np.floor(frac_noise * np.asarray(wanted, dtype=np.float64) + 0.5).astype(np.int64)
    return np.minimum(rounded, np.maximum(np.asarray(available) - min_examples_per_class, 0))


def noise_rate_counts(
    confident_joint: Cells, label_counts: np.ndarray, frac_noise: float, min_examples_per_class: int
) -> Cells:
    """Prune by noise rate: how many to flag in each off-diagonal cell (rows given, columns true).

    Row ``i`` flags ``round(frac_noise * its off-diagonal total)``, keeping at least
    ``min_examples_per_class`` of the ``label_counts[i]`` examples, shared among its cells in
    proportion to their counts (largest remainder).

    >>> cells = noise_rate_counts(Cells.from_dense(np.array([[5, 3], [1, 2]])), np.array([8, 3]), 0.5, 1)
    >>> cells.dense().tolist()
    [[0, 2], [1, 0]]
    """
    off = confident_joint.select(confident_joint.rows != confident_joint.columns)
    totals = _flag_totals(off.row_sums(), frac_noise, label_counts, min_examples_per_class)
    shares = apportion_groups(off.rows, off.value, totals)
    return Cells(off.num_classes, off.index, shares).select(shares > 0)


def class_counts(
    confident_joint: Cells, label_counts: np.ndarray, frac_noise: float, min_examples_per_class: int
) -> np.ndarray:
    """Prune by class: how many examples of each given class to flag.

    Class ``i`` flags the examples its diagonal does not vouch for, ``label_counts[i] -
    confident_joint[i][i]`` (the off-diagonal total when the joint is calibrated), times
    ``frac_noise``, keeping at least ``min_examples_per_class``.

    >>> class_counts(Cells.from_dense(np.array([[5, 3], [1, 2]])), np.array([8, 4]), 1.0, 1)
    array([3, 2])
    """
    unconfirmed = np.maximum(label_counts - confident_joint.diagonal(), 0)
    return _flag_totals(unconfirmed, frac_noise, label_counts, min_examples_per_class)


class FlagPlan:
    """How many examples a rule flags, counted from passes 1 and 2 (before any row is selected).

    Attributes
    ----------
    per_class : ndarray of shape (K,) or None
        Prune by class: how many of each given class, lowest self-confidence first.
    per_cell : Cells or None
        Prune by noise rate: how many of each off-diagonal cell, largest margin first.
    margin_pass : MarginPass or None
        Pass 3, which selects ``per_cell``; whoever holds the rows runs it
        (:meth:`labelaudit._passes.Passes.margin_rows`, or the batches' caller).
    lowest, num_lowest : str and int, or None
        The ``low_*`` rules: their score, and how many of its lowest values they flag.
    min_examples_per_class : int
        Pruning rules and ``"auto"`` leave at least this many examples of each given class.

    Examples
    --------
    >>> from labelaudit._passes import open_passes
    >>> passes = open_passes([0, 0, 0, 1, 1, 1], np.array([[.9, .1], [.8, .2], [.1, .9],
    ...                                                   [.2, .8], [.3, .7], [.7, .3]]))
    >>> FlagPlan(passes, "prune_by_class").per_class
    array([1, 1])
    >>> FlagPlan(passes, "low_self_confidence").num_lowest
    2
    """

    def __init__(
        self,
        passes: Passes,
        filter_by: str,
        *,
        confident_joint: np.ndarray | None = None,
        frac_noise: float = 1.0,
        min_examples_per_class: int = 1,
        num_to_remove_per_class: np.ndarray | None = None,
    ) -> None:
        rule = RULES[filter_by]
        self.per_class: np.ndarray | None = None
        self.per_cell: Cells | None = None
        self.margin_pass: Any = None
        self.lowest = rule.lowest
        self.num_lowest: int | None = None
        self.min_examples_per_class = min_examples_per_class
        if rule.lowest is not None:
            joint = confident_joint if confident_joint is not None else passes.counts.confident_joint
            self.num_lowest = num_issues_off_diagonal(joint, passes.num_examples)
        if not (rule.by_class or rule.by_cell):
            return
        label_counts = passes.class_counts
        remove = num_to_remove_per_class
        if remove is not None and (remove > label_counts).any():
            i = int(np.flatnonzero(remove > label_counts)[0])
            raise ValueError(
                f"num_to_remove_per_class[{i}] = {remove[i]} but class {i} has only "
                f"{label_counts[i]} examples; ask for at most that many."
            )
        joint = (
            calibrate(passes.counts.joint, label_counts)
            if confident_joint is None
            else Cells.from_dense(confident_joint)
        )
        if rule.by_class:
            self.per_class = (
                class_counts(joint, label_counts, frac_noise, min_examples_per_class)
                if remove is None
                else remove
            )
        if rule.by_cell:
            self.per_cell = noise_rate_counts(joint, label_counts, frac_noise, min_examples_per_class)
            self.margin_pass = passes.margin_pass(self.per_cell)


@dataclass(frozen=True)
class Flagged:
    """What a rule flags: sorted rows, or a mask for a rule judged row by row (lazy over dask).

    ``scores`` are the rule's own scores of ``rows`` when it selected by a score.
    """

    rows: np.ndarray | None = None
    mask: Any = None
    scores: np.ndarray | None = None

    def mask_in(self, passes: Passes) -> Any:
        return passes.mask_of(self.rows) if self.mask is None else self.mask

    def rows_in(self, passes: Passes) -> np.ndarray:
        return passes.rows_of(self.mask) if self.rows is None else self.rows


def _pruned(passes: Passes, plan: FlagPlan) -> Flagged:
    """The lowest self-confidences of each class and (or) the largest margins of each cell,
    leaving out rows whose label is a top prediction."""
    rows = None
    if plan.per_class is not None:
        *_, found, agrees = passes.smallest(
            "self_confidence", plan.per_class, by_class=True, with_agrees=True
        )
        rows = found[~agrees]
    if plan.margin_pass is not None:
        margin = passes.margin_rows(plan.margin_pass)
        rows = margin if rows is None else np.intersect1d(rows, margin, assume_unique=True)
    return Flagged(rows=rows)


def _off_diagonal(passes: Passes, plan: FlagPlan) -> Flagged:
    counts = passes.counts
    return Flagged(rows=counts.off_diagonal_rows[~counts.off_diagonal_agrees])


def _disagreeing(passes: Passes, plan: FlagPlan) -> Flagged:
    return Flagged(mask=passes.disagrees())


def _lowest(passes: Passes, plan: FlagPlan) -> Flagged:
    limit = np.array([plan.num_lowest])
    _, scores, rows, agrees = passes.smallest(
        plan.lowest, limit, by_class=False, with_agrees=True, skip_agreeing=True
    )
    return Flagged(rows=rows[~agrees], scores=scores[~agrees])


def _auto(passes: Passes, plan: FlagPlan) -> Flagged:
    """The auto rule's rows; a class that would keep fewer than ``min_examples_per_class``
    examples keeps its flagged rows of highest score (ties: the later row) instead."""
    rows = passes.rows_of(auto_flags(passes))
    given = np.asarray(passes.labels.codes[rows])
    keep = np.minimum(plan.min_examples_per_class, passes.class_counts)
    excess = np.bincount(given, minlength=passes.num_classes) - (passes.class_counts - keep)
    if (excess <= 0).all():
        return Flagged(rows=rows)
    scores = np.asarray(auto_scores(passes)[rows])
    dropped = []
    for label in np.flatnonzero(excess > 0):
        members = np.flatnonzero(given == label)
        order = np.lexsort((-rows[members], -scores[members]))
        dropped.append(members[order[: excess[label]]])
    return Flagged(rows=np.delete(rows, np.concatenate(dropped)))


@dataclass(frozen=True)
class Rule:
    """One ``filter_by`` rule: how it selects rows, and what the passes keep for it."""

    select: Callable[[Passes, FlagPlan], Flagged]
    by_class: bool = False  # prune by class (pass 1 keeps every row's self-confidence)
    by_cell: bool = False  # prune by noise rate (pass 2 keeps the row sample of pass 3)
    lowest: str | None = None  # the score whose lowest values it flags
    with_agrees: bool = False  # pass 2 notes whether each row's label is a top prediction

    @property
    def pass_options(self) -> dict[str, bool]:
        """The options of :class:`labelaudit._passes.Passes` for this rule."""
        return {
            "keep_self_confidence": self.by_class,
            "with_agrees": self.with_agrees,
            "with_sample": self.by_cell,
        }


RULES = {
    "prune_by_noise_rate": Rule(_pruned, by_cell=True),
    "prune_by_class": Rule(_pruned, by_class=True, with_agrees=True),
    "both": Rule(_pruned, by_class=True, by_cell=True, with_agrees=True),
    "confident_learning": Rule(_off_diagonal),
    "predicted_neq_given": Rule(_disagreeing, with_agrees=True),
    "low_normalized_margin": Rule(_lowest, lowest="normalized_margin", with_agrees=True),
    "low_self_confidence": Rule(_lowest, lowest="self_confidence", with_agrees=True),
    "auto": Rule(_auto),
}
FILTER_METHODS = tuple(RULES)


def check_filter_options(
    filter_by: str,
    frac_noise: Any,
    min_examples_per_class: Any,
    num_to_remove_per_class: Any,
    confident_joint: Any,
    return_indices_ranked_by: str | None,
    rank_by_kwargs: Any,
) -> tuple[float, int, bool]:
    """Check the options of :func:`find_label_issues` (before any data is read).

    Returns ``frac_noise``, ``min_examples_per_class`` and ``adjust_pred_probs`` of the ranking
    keywords, checked.
    """
    check_choice("filter_by", filter_by, FILTER_METHODS)
    frac_noise = check_fraction("frac_noise", frac_noise)
    min_examples_per_class = check_nonnegative_int("min_examples_per_class", min_examples_per_class)
    if return_indices_ranked_by is not None:
        check_choice("return_indices_ranked_by", return_indices_ranked_by, RANK_METHODS)
    adjust = check_rank_kwargs(rank_by_kwargs)
    check_adjustable("return_indices_ranked_by", return_indices_ranked_by, adjust)
    if num_to_remove_per_class is not None and filter_by not in ("prune_by_class", "both"):
        raise ValueError(
            f"num_to_remove_per_class is used only with filter_by='prune_by_class' or 'both'; "
            f"got filter_by={filter_by!r}. Drop it or change filter_by."
        )
    if confident_joint is not None and filter_by in ("confident_learning", "predicted_neq_given", "auto"):
        raise ValueError(
            f"filter_by={filter_by!r} works from pred_probs row by row and does not use "
            "confident_joint; drop confident_joint or pick a pruning or low_* rule."
        )
    return frac_noise, min_examples_per_class, adjust


def check_count_options(
    num_classes: int, confident_joint: Any, num_to_remove_per_class: Any
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """``confident_joint`` and ``num_to_remove_per_class`` checked against ``num_classes``."""
    cj = None if confident_joint is None else check_confident_joint(confident_joint, num_classes)
    remove = (
        None
        if num_to_remove_per_class is None
        else check_class_count_vector("num_to_remove_per_class", num_to_remove_per_class, num_classes)
    )
    return cj, remove


def find_label_issues(
    labels: Any,
    pred_probs: Any,
    *,
    filter_by: str = "prune_by_noise_rate",
    frac_noise: float = 1.0,
    num_to_remove_per_class: Any = None,
    min_examples_per_class: int = 1,
    confident_joint: Any = None,
    return_indices_ranked_by: str | None = None,
    rank_by_kwargs: dict[str, Any] | None = None,
    classes: Any = None,
    n_jobs: int | None = None,
) -> np.ndarray:
    """Flag the examples whose given label is probably wrong.

    Parameters
    ----------
    labels : array-like of shape (n,)
        Given labels: indices ``0..K-1`` or class names (see ``classes``). At least two
        classes need examples; a class with a column but no example is fine.
    pred_probs : array-like of shape (n, K), or a list or tuple of them
        Out-of-sample predicted probabilities (e.g. from cross-validation); several models' as
        a list or tuple are combined with weights learned from the labels
        (:mod:`labelaudit.ensemble`). Any array with
        ``shape``, ``dtype`` and row slicing (``np.memmap``, zarr, h5py) is read block by block.
        With a dask array (``labels`` or ``pred_probs``) the passes run as dask tasks and the
        mask comes back as a lazy dask array (see :mod:`labelaudit.dask`).
    filter_by : str, default "prune_by_noise_rate"
        The rule; see the module documentation.
    frac_noise : float in [0, 1], default 1.0
        Flag this fraction of the estimated number of issues (pruning rules only).
    num_to_remove_per_class : array-like of shape (K,), optional
        For ``"prune_by_class"`` and the class half of ``"both"``: how many to flag per class.
    min_examples_per_class : int, default 1
        Pruning rules and ``"auto"`` keep at least this many examples of every given class.
    confident_joint : array-like of shape (K, K), optional
        Counts to use instead of the calibrated confident joint (pruning rules) or to estimate
        the number of issues (``low_*`` rules). Used as given.
    return_indices_ranked_by : {None, "self_confidence", "normalized_margin",
        "confidence_weighted_entropy", "auto"}
        ``None`` returns a boolean mask; otherwise the flagged row indices, most likely
        mislabelled first (by that score, ties by row index).
    rank_by_kwargs : dict, optional
        ``{"adjust_pred_probs": bool}`` for the ranking score.
    classes : array-like of shape (K,), optional
        The class of each ``pred_probs`` column, when ``labels`` are class names.
    n_jobs : int, optional
        Threads over row blocks (``-1``: one per core); the result does not depend on it.

    Returns
    -------
    ndarray
        Boolean mask of shape (n,), or int64 row indices when ``return_indices_ranked_by``.

    Examples
    --------
    >>> import numpy as np
    >>> from labelaudit import find_label_issues
    >>> labels = [0, 0, 0, 1, 1, 1]
    >>> pred_probs = np.array([[.9, .1], [.8, .2], [.1, .9], [.2, .8], [.3, .7], [.7, .3]])
    >>> find_label_issues(labels, pred_probs)
    array([False, False,  True, False, False,  True])
    >>> find_label_issues(labels, pred_probs, return_indices_ranked_by="self_confidence")
    array([2, 5])
    """
    frac_noise, min_examples_per_class, adjust = check_filter_options(
        filter_by, frac_noise, min_examples_per_class, num_to_remove_per_class, confident_joint,
        return_indices_ranked_by, rank_by_kwargs,
    )
    rule = RULES[filter_by]
    pred_probs = combine_pred_probs(labels, pred_probs, classes=classes)
    passes = open_passes(labels, pred_probs, classes=classes, n_jobs=n_jobs, **rule.pass_options)
    cj, remove = check_count_options(passes.num_classes, confident_joint, num_to_remove_per_class)
    passes.class_counts  # noqa: B018 - pass 1 checks every value and the classes before any result
    plan = FlagPlan(
        passes, filter_by, confident_joint=cj, frac_noise=frac_noise,
        min_examples_per_class=min_examples_per_class, num_to_remove_per_class=remove,
    )
    flagged = rule.select(passes, plan)
    if return_indices_ranked_by is None:
        return flagged.mask_in(passes)
    rows = flagged.rows_in(passes)
    if flagged.scores is not None and return_indices_ranked_by == rule.lowest and not adjust:
        return rank_rows(rows, flagged.scores)
    return rank_rows(rows, scores_for(passes, return_indices_ranked_by, adjust, rows))


def find_predicted_neq_given(
    labels: Any, pred_probs: Any, *, classes: Any = None, n_jobs: int | None = None
) -> np.ndarray:
    """Mask of the examples whose given label is not a top prediction (the argmax baseline).

    ``filter_by="predicted_neq_given"``: a label within 1e-6 of the row's maximum counts as a
    top prediction, so a tie is never flagged.

    Examples
    --------
    >>> import numpy as np
    >>> from labelaudit import find_predicted_neq_given
    >>> find_predicted_neq_given([0, 1, 1], np.array([[.4999996, .5000004], [.6, .4], [.5, .5]]))
    array([False,  True, False])
    """
    return find_label_issues(
        labels, pred_probs, filter_by="predicted_neq_given", classes=classes, n_jobs=n_jobs
    )


def find_label_issues_using_argmax_confusion_matrix(
    labels: Any,
    pred_probs: Any,
    *,
    calibrate: bool = True,
    filter_by: str = "prune_by_noise_rate",
    classes: Any = None,
    n_jobs: int | None = None,
) -> np.ndarray:
    """:func:`find_label_issues` with the confusion matrix of argmax predictions as its joint.

    Cell ``(i, j)`` counts the examples labelled ``i`` whose most probable class is ``j`` (the
    lowest index on an exact tie): the confident joint with every threshold 0. With
    ``calibrate`` its rows are scaled to the label counts first.

    Examples
    --------
    >>> import numpy as np
    >>> from labelaudit import find_label_issues_using_argmax_confusion_matrix
    >>> labels = [0, 0, 0, 1, 1, 1]
    >>> pred_probs = np.array([[.9, .1], [.8, .2], [.1, .9], [.2, .8], [.3, .7], [.7, .3]])
    >>> find_label_issues_using_argmax_confusion_matrix(labels, pred_probs)
    array([False, False,  True, False, False,  True])
    """
    confusion = compute_confident_joint(
        labels, pred_probs, thresholds=np.zeros(as_pred_probs(pred_probs).shape[1]),
        calibrate=calibrate, classes=classes, n_jobs=n_jobs,
    )
    return find_label_issues(
        labels, pred_probs, filter_by=filter_by, confident_joint=confusion, classes=classes,
        n_jobs=n_jobs,
    )
