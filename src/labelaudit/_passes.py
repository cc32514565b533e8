"""The passes over ``labels`` and ``pred_probs``, and the engine that runs them.

Every estimate of the core is made of a few passes over the rows (:mod:`labelaudit._kernels`):
pass 1 (per-class statistics), pass 2 (the confident joint), pass 3 (the largest margins per
cell), and selections and scores of rows. :class:`Passes` holds the validated inputs and
computes each pass at most once; the work on rows is its engine's, picked by
:func:`open_passes`:

* :class:`ArrayRows`: any array with ``shape``, ``dtype`` and row slicing (numpy,
  ``np.memmap``, zarr, h5py), read block by block on ``n_jobs`` threads;
* ``labelaudit._dask_passes.DaskRows``: dask arrays, the same passes run as dask tasks (that
  module, and dask, are imported only when an input is a dask array);
* :class:`FedRows`: rows a caller fed batch by batch and ran the passes over itself
  (:class:`labelaudit.LabelIssueFinder`); it holds what the passes found and reads nothing.

An engine has ``labels`` and ``pred_probs`` and does: ``statistics(keep_self_confidence)``
(pass 1), ``confident_counts(stats, with_agrees=, with_sample=)`` (pass 2), ``complete(task)``
(run a :class:`labelaudit._kernels.MarginPass` until it is finished), ``scores(method, adjust,
validate)`` and ``scores_at(rows, ...)``, ``smallest(passes, method, limit, by_class=,
with_agrees=)`` and ``disagrees(passes)``, ``mask_of(rows)`` and ``rows_of(mask)``, and two
passes for rules built on these: ``run(task)`` (any reduction over the blocks) and
``per_row(func, dtype)`` (one value per row from each block, lazy over dask).

The options of :class:`Passes` say what will be asked for after pass 2, so that an engine
holding its rows here keeps it on the way rather than reading ``pred_probs`` again: every row's
self-confidence (pruning by class selects on it), whether every row's label is a top prediction
(``disagrees``, pruning by class), the row sample that bounds pass 3. The dask engine keeps no
per-row data on the client: it computes what is asked for on the workers.

Examples
--------
>>> import numpy as np
>>> passes = open_passes([0, 0, 1, 1], np.array([[.9, .1], [.2, .8], [.3, .7], [.1, .9]]))
>>> passes.stats.thresholds
array([0.55, 0.8 ])
>>> passes.counts.confident_joint
array([[1, 1],
       [0, 1]])
>>> passes.mask_of(passes.counts.off_diagonal_rows)
array([False,  True, False, False])
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import replace
from functools import cached_property
from typing import Any

import numpy as np

from labelaudit._cells import calibrate
from labelaudit._kernels import (
    Candidates,
    ClassStatistics,
    ConfidentCounts,
    MarginPass,
    class_statistics,
    confident_counts,
    label_scores,
    map_rows,
    rows_mask,
    run_pass,
    run_until_finished,
    smallest_candidates,
)
from labelaudit._validate import (
    EncodedLabels,
    as_pred_probs,
    check_class_thresholds,
    check_column_names,
    check_lengths,
    check_n_jobs,
    check_two_classes,
    encode_labels,
)


def is_dask_array(*arrays: Any) -> bool:
    """Whether any of ``arrays`` is a dask array (without importing dask)."""
    module = sys.modules.get("dask.array")
    return module is not None and any(isinstance(a, module.Array) for a in arrays)


def open_passes(
    labels: Any, pred_probs: Any, *, classes: Any = None, n_jobs: int | None = None, **options: Any
) -> Passes:
    """Check ``labels`` and ``pred_probs`` and open the passes over them on the engine that suits.

    Dask arrays (either input) run on the dask engine, anything else is read block by block on
    ``n_jobs`` threads. Creating the passes checks the structure of the inputs; pass 1 (which
    checks every value) runs when :attr:`Passes.stats` is first read. ``options`` are those of
    :class:`Passes`.

    Examples
    --------
    >>> import numpy as np
    >>> open_passes(["b", "a"], np.array([[.4, .6], [.7, .3]]), classes=["a", "b"]).labels.codes
    array([1, 0])
    """
    if is_dask_array(labels, pred_probs):
        from labelaudit._dask_passes import DaskRows

        return Passes(DaskRows(labels, pred_probs, classes=classes), **options)
    probs = as_pred_probs(pred_probs)
    encoded = encode_labels(labels, probs.shape[1], classes=classes)
    if classes is None:
        check_column_names(getattr(pred_probs, "columns", None), encoded)
    check_lengths(encoded, probs)
    return Passes(ArrayRows(encoded, probs, check_n_jobs(n_jobs)), **options)


class Passes:
    """Validated ``labels`` and ``pred_probs`` with the passes over them computed at most once.

    Made by :func:`open_passes`. :attr:`class_counts` (read before pass 2) refuses labels with
    fewer than two classes.

    Parameters
    ----------
    rows : ArrayRows, FedRows or labelaudit._dask_passes.DaskRows
        The engine (see the module documentation).
    keep_self_confidence, with_agrees, with_sample : bool
        What will be asked for after pass 2 (see the module documentation).
    thresholds : ndarray of shape (K,), optional
        Per-class thresholds for pass 2 instead of those of pass 1.
    """

    def __init__(
        self,
        rows: Any,
        *,
        keep_self_confidence: bool = False,
        with_agrees: bool = True,
        with_sample: bool = False,
        thresholds: np.ndarray | None = None,
    ) -> None:
        self.rows = rows
        self.labels: EncodedLabels = rows.labels
        self.num_examples = int(self.labels.codes.shape[0])
        self.num_classes = self.labels.num_classes
        self._keep_self_confidence = keep_self_confidence
        self._with_agrees = with_agrees
        self._with_sample = with_sample
        self._thresholds = None if thresholds is None else check_class_thresholds(thresholds, self.num_classes)
        self.derived: dict[str, Any] = {}  # estimates of later passes that several callers share

    @property
    def values_checked(self) -> bool:
        """Whether pass 1 (which checks every value of ``pred_probs``) has run."""
        return "stats" in self.__dict__

    @cached_property
    def stats(self) -> ClassStatistics:
        return self.rows.statistics(keep_self_confidence=self._keep_self_confidence)

    @cached_property
    def class_counts(self) -> np.ndarray:
        """Examples per given class, from pass 1; at least two classes must have some."""
        return check_two_classes(self.stats.counts, self.labels.classes)

    @cached_property
    def counts(self) -> ConfidentCounts:
        self.class_counts  # noqa: B018 - no confident joint of a single class
        stats = self.stats
        if self._thresholds is not None:
            stats = replace(stats, thresholds=self._thresholds)
        return self.rows.confident_counts(
            stats, with_agrees=self._with_agrees, with_sample=self._with_sample
        )

    def calibrated_joint(self) -> np.ndarray:
        return calibrate(self.counts.joint, self.class_counts).dense()

    def margin_pass(self, num_per_cell: Any) -> MarginPass:
        """Pass 3 for ``num_per_cell`` (:class:`labelaudit._cells.Cells`), bounded by pass 2's sample."""
        return MarginPass(num_per_cell, self.class_counts, self.counts.sample, self.stats.lowest_value)

    def margin_rows(self, task: MarginPass) -> np.ndarray:
        """The sorted rows that pass 3 flags, ``task`` run over every row until it is finished."""
        self.rows.complete(task)
        return np.flatnonzero(task.flagged(self.num_examples))

    def smallest(
        self, method: str, limit: np.ndarray, *, by_class: bool, with_agrees: bool,
        skip_agreeing: bool = False,
    ) -> Candidates:
        """The ``limit`` lowest ``method`` scores (per class with ``by_class``), ties by row.

        ``(group, key, row)``, with ``with_agrees`` also whether each row's label is a top
        prediction; in row order. ``skip_agreeing`` (with ``with_agrees``) ranks the rows whose
        label is a top prediction after all others (key ``inf``), so that leaving them out
        afterwards keeps a number of rows that does not depend on row order.
        """
        return self.rows.smallest(
            self, method, limit, by_class=by_class, with_agrees=with_agrees, skip_agreeing=skip_agreeing
        )

    def disagrees(self) -> Any:
        """Mask: the given label is not among the row's most probable classes (lazy over dask)."""
        return self.rows.disagrees(self)

    def mask_of(self, rows: np.ndarray) -> Any:
        """Mask of the sorted ``rows`` (lazy over dask)."""
        return self.rows.mask_of(rows)

    def rows_of(self, mask: Any) -> np.ndarray:
        """The sorted rows of a mask that :meth:`disagrees` or :meth:`mask_of` made."""
        return self.rows.rows_of(mask)

    def run(self, task: Any) -> None:
        """One more pass over every row, fed to ``task`` (``block(start, labels, values)`` on
        each block, ``add(part)`` in row order)."""
        self.rows.run(task)

    def per_row(self, func: Callable[[np.ndarray, np.ndarray], np.ndarray], dtype: Any) -> Any:
        """``func(labels, values)`` of every block, one value per row (lazy over dask)."""
        return self.rows.per_row(func, dtype)

    def scores(self, method: str, adjust: np.ndarray | None) -> Any:
        """Label quality scores of every row (values checked here unless pass 1 has run)."""
        return self.rows.scores(method, adjust, validate=not self.values_checked)

    def scores_at(self, rows: np.ndarray, method: str, adjust: np.ndarray | None) -> np.ndarray:
        """Scores of the sorted ``rows`` only (over dask, only those reach the client)."""
        return self.rows.scores_at(rows, method, adjust, validate=not self.values_checked)


class ArrayRows:
    """The engine of arrays with row slicing: blocks of rows read on ``n_jobs`` threads.

    Passes 1 and 2 keep per-row data when asked (see the module documentation).
    """

    def __init__(self, labels: EncodedLabels, pred_probs: Any, n_jobs: int | None) -> None:
        self.labels = labels
        self.pred_probs = pred_probs
        self.n_jobs = n_jobs

    def statistics(self, keep_self_confidence: bool) -> ClassStatistics:
        return class_statistics(
            self.labels.codes, self.pred_probs, n_jobs=self.n_jobs,
            keep_self_confidence=keep_self_confidence,
        )

    def confident_counts(self, stats: ClassStatistics, *, with_agrees: bool, with_sample: bool) -> ConfidentCounts:
        return confident_counts(
            self.labels.codes, self.pred_probs, stats.thresholds, n_jobs=self.n_jobs,
            with_agrees=with_agrees, with_sample=with_sample, lowest_value=stats.lowest_value,
        )

    def complete(self, task: MarginPass) -> None:
        run_until_finished(task, self.labels.codes, self.pred_probs, n_jobs=self.n_jobs)

    def run(self, task: Any) -> None:
        run_pass(task, self.labels.codes, self.pred_probs, n_jobs=self.n_jobs)

    def per_row(self, func: Callable[[np.ndarray, np.ndarray], np.ndarray], dtype: Any) -> np.ndarray:
        return map_rows(func, self.labels.codes, self.pred_probs, dtype, n_jobs=self.n_jobs)

    def scores(self, method: str, adjust: np.ndarray | None, *, validate: bool) -> np.ndarray:
        return label_scores(
            self.labels.codes, self.pred_probs, method, adjust=adjust, n_jobs=self.n_jobs,
            validate=validate,
        )

    def scores_at(
        self, rows: np.ndarray, method: str, adjust: np.ndarray | None, *, validate: bool
    ) -> np.ndarray:
        return self.scores(method, adjust, validate=validate)[rows]

    def smallest(
        self, passes: Passes, method: str, limit: np.ndarray, *, by_class: bool, with_agrees: bool,
        skip_agreeing: bool = False,
    ) -> Candidates:
        """From the self-confidence that pass 1 kept, or the scores; agreement kept by pass 2."""
        key = passes.stats.self_confidence if method == "self_confidence" else None
        if key is None:
            key = passes.scores(method, None)
        if skip_agreeing:
            key = np.where(passes.counts.agrees, np.inf, key)
        found = smallest_candidates(self.labels.codes, key, limit, by_class=by_class)
        return (*found, passes.counts.agrees[found[2]]) if with_agrees else found

    def disagrees(self, passes: Passes) -> np.ndarray:
        return ~passes.counts.agrees

    def mask_of(self, rows: np.ndarray) -> np.ndarray:
        return rows_mask(len(self.labels.codes), rows)

    def rows_of(self, mask: np.ndarray) -> np.ndarray:
        return np.flatnonzero(mask)


_FED_ONCE = (
    "this rule or score reads pred_probs again after the confident joint, and batches fed to "
    "LabelIssueFinder are read only by the passes the caller runs; pick another rule or score "
    "(for example filter_by='prune_by_noise_rate'), or pass the whole array (np.memmap, zarr "
    "and h5py arrays are read block by block) to find_label_issues."
)


class FedRows(ArrayRows):
    """The engine of rows fed batch by batch by a caller that ran every pass over them itself.

    It holds what passes 1 and 2 found (with the per-row data that the selections use) and
    completes no pass: a :class:`labelaudit._kernels.MarginPass` given to :meth:`complete` has
    been fed until it finished. No row is read here.

    Examples
    --------
    >>> import numpy as np
    >>> from labelaudit._kernels import StatisticsPass, counts_pass, run_pass
    >>> labels = EncodedLabels(np.array([0, 0, 1, 1]), np.arange(2), names_given=False)
    >>> batch = np.array([[.9, .1], [.2, .8], [.3, .7], [.1, .9]])
    >>> first = StatisticsPass(2)
    >>> run_pass(first, labels.codes, batch, n_jobs=1)
    >>> stats = first.result()
    >>> second = counts_pass(stats.thresholds, 4, lowest_value=stats.lowest_value)
    >>> run_pass(second, labels.codes, batch, n_jobs=1)
    >>> Passes(FedRows(labels, stats, second.result())).disagrees()
    array([False,  True, False, False])
    """

    def __init__(self, labels: EncodedLabels, stats: ClassStatistics, counts: ConfidentCounts) -> None:
        super().__init__(labels, None, n_jobs=None)
        self._stats = stats
        self._counts = counts

    def statistics(self, keep_self_confidence: bool) -> ClassStatistics:
        return self._stats

    def confident_counts(self, stats: ClassStatistics, *, with_agrees: bool, with_sample: bool) -> ConfidentCounts:
        return self._counts

    def complete(self, task: MarginPass) -> None:
        """Nothing to do: the caller fed ``task`` every batch until it finished."""

    def run(self, task: Any) -> None:
        raise ValueError(_FED_ONCE)

    def per_row(self, func: Callable[[np.ndarray, np.ndarray], np.ndarray], dtype: Any) -> np.ndarray:
        raise ValueError(_FED_ONCE)
