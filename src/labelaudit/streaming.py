"""Label issues for data that arrives in batches and cannot be held (or re-read) as one array.

Confident learning needs the per-class thresholds (a mean over *all* rows) before it can count
a single row, so the data has to be seen more than once: :class:`LabelIssueFinder` asks for the
same batches, in the same order, once per pass, until :attr:`LabelIssueFinder.done`. That is
two passes for ``"confident_learning"`` and ``"predicted_neq_given"`` and three for the pruning
rules (rarely four: see :class:`labelaudit._kernels.MarginPass`). Every pass reads each batch
block by block, so memory stays a few blocks plus a few bytes per row (labels and the result),
and the answer is exactly what :func:`labelaudit.find_label_issues` gives on the whole array.

If the batches can be produced again by a function (re-reading files, re-running a model),
:meth:`LabelIssueFinder.fit` does the loop.

Examples
--------
>>> import numpy as np
>>> from labelaudit import LabelIssueFinder, find_label_issues
>>> rng = np.random.default_rng(0)
>>> labels = rng.integers(0, 3, 1000)
>>> pred_probs = rng.dirichlet([1, 1, 1], 1000).astype(np.float32)
>>> def batches():  # e.g. one file or one model output per batch
...     for start in range(0, 1000, 300):
...         yield labels[start:start + 300], pred_probs[start:start + 300]
>>> finder = LabelIssueFinder()
>>> while not finder.done:
...     for batch_labels, batch_probs in batches():
...         finder.update(batch_labels, batch_probs)
...     finder.end_pass()
>>> bool((finder.label_issues_ == find_label_issues(labels, pred_probs)).all())
True
>>> finder.num_passes_
3
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from labelaudit._kernels import StatisticsPass, counts_pass, run_pass
from labelaudit._passes import FedRows, Passes
from labelaudit._validate import (
    EncodedLabels,
    as_pred_probs,
    check_choice,
    check_classes,
    check_fraction,
    check_labels_in_parts,
    check_n_jobs,
    check_nonnegative_int,
    check_two_classes,
    encode_labels,
)
from labelaudit.filter import RULES, FlagPlan

logger = logging.getLogger(__name__)

STREAMING_METHODS = (
    "prune_by_noise_rate",
    "prune_by_class",
    "both",
    "confident_learning",
    "predicted_neq_given",
)


class LabelIssueFinder:
    """Find label issues over batches fed once per pass (see the module documentation).

    Parameters
    ----------
    filter_by : str, default "prune_by_noise_rate"
        One of ``STREAMING_METHODS``; the rules of :func:`labelaudit.find_label_issues`.
    frac_noise, min_examples_per_class
        As in :func:`labelaudit.find_label_issues`.
    classes : array-like of shape (K,), optional
        The class of each ``pred_probs`` column; needed when labels are class names (each batch
        alone could give them a different order).
    n_jobs : int, optional
        Threads over the row blocks of each batch; the result does not depend on it.

    Attributes
    ----------
    done : bool
        Whether every pass has been fed; until then, feed all batches and call :meth:`end_pass`.
    label_issues_ : ndarray of bool, shape (n,)
        The result, once ``done``.
    thresholds_ : ndarray of shape (K,)
        Per-class thresholds, after the first pass.
    confident_joint_ : ndarray of shape (K, K)
        The confident joint (not calibrated), after the second pass.
    num_examples_ : int
        Rows seen in the first pass.
    labels_ : ndarray of shape (n,)
        The given labels as column indices, kept from the first pass to check the later ones.
    num_passes_ : int
        Passes completed.

    Examples
    --------
    >>> import numpy as np
    >>> from labelaudit import LabelIssueFinder
    >>> labels = np.array([0, 0, 0, 1, 1, 1])
    >>> pred_probs = np.array([[.9, .1], [.8, .2], [.1, .9], [.2, .8], [.3, .7], [.7, .3]])
    >>> finder = LabelIssueFinder().fit(lambda: [(labels[:4], pred_probs[:4]), (labels[4:], pred_probs[4:])])
    >>> finder.label_issues_
    array([False, False,  True, False, False,  True])
    >>> finder
    LabelIssueFinder(filter_by='prune_by_noise_rate', done after 3 passes over 6 rows)
    """

    def __init__(
        self,
        *,
        filter_by: str = "prune_by_noise_rate",
        frac_noise: float = 1.0,
        min_examples_per_class: int = 1,
        classes: Any = None,
        n_jobs: int | None = None,
    ) -> None:
        self.filter_by = check_choice("filter_by", filter_by, STREAMING_METHODS)
        self.frac_noise = check_fraction("frac_noise", frac_noise)
        self.min_examples_per_class = check_nonnegative_int("min_examples_per_class", min_examples_per_class)
        self.classes = classes
        self.n_jobs = check_n_jobs(n_jobs)
        self.done = False
        self.num_passes_ = 0
        self._num_classes: int | None = None
        self._codes: list[np.ndarray] = []  # labels of the first pass, then one array
        self._offset = 0
        self._task: Any = None  # the pass being fed; made when the first batch shows K
        self._passes: Passes | None = None  # what passes 1 and 2 found, once they have run
        self._plan: FlagPlan | None = None

    def __repr__(self) -> str:
        state = (
            f"done after {self.num_passes_} passes over {self.num_examples_} rows"
            if self.done
            else f"in pass {self.num_passes_ + 1}, {self._offset} rows fed"
        )
        return f"LabelIssueFinder(filter_by={self.filter_by!r}, {state})"

    def update(self, labels: Any, pred_probs: Any) -> None:
        """Feed one batch of the current pass (rows in the same order in every pass)."""
        if self.done:
            raise RuntimeError("LabelIssueFinder is done; read label_issues_ (or make a new finder).")
        probs = as_pred_probs(pred_probs)
        check_labels_in_parts(np.asarray(labels).dtype, self.classes, "batches")
        if self._num_classes is None:
            self._num_classes = probs.shape[1]
            if self.classes is not None:
                self.classes = check_classes(self.classes, self._num_classes)
            self._task = StatisticsPass(
                self._num_classes, keep_self_confidence=self._options["keep_self_confidence"]
            )
        if probs.shape[1] != self._num_classes:
            raise ValueError(
                f"this batch of pred_probs has {probs.shape[1]} columns but earlier ones had "
                f"{self._num_classes}; every batch needs one column per class."
            )
        codes = encode_labels(labels, self._num_classes, classes=self.classes).codes
        if len(codes) != probs.shape[0]:
            raise ValueError(
                f"this batch has {len(codes)} labels but {probs.shape[0]} rows of pred_probs; "
                "they must describe the same examples."
            )
        if self.num_passes_ == 0:
            self._codes.append(codes.astype(np.int32))
        else:
            expected = self.labels_[self._offset : self._offset + len(codes)]
            if len(expected) != len(codes) or not np.array_equal(expected, codes):
                raise ValueError(
                    f"pass {self.num_passes_ + 1} got different labels (or more rows) than pass 1 "
                    f"at rows {self._offset}..{self._offset + len(codes) - 1}; feed the same batches "
                    "in the same order in every pass."
                )
        run_pass(self._task, codes, probs, n_jobs=self.n_jobs, offset=self._offset)
        self._offset += len(codes)

    def end_pass(self) -> None:
        """Close the current pass; check :attr:`done` to know whether another one is needed."""
        if self.done:
            raise RuntimeError("LabelIssueFinder is done; read label_issues_.")
        if self._offset == 0:
            raise ValueError("no batch was fed in this pass; call update() with every batch first.")
        if self.num_passes_ > 0 and self._offset != self.num_examples_:
            raise ValueError(
                f"pass {self.num_passes_ + 1} got {self._offset} rows but pass 1 had "
                f"{self.num_examples_}; feed every batch in every pass."
            )
        self._offset = 0
        self.num_passes_ += 1
        if self.num_passes_ == 1:
            self._after_statistics()
        elif self.num_passes_ == 2:
            self._after_counts()
        elif self._task.finish():
            self._finish()
        logger.debug("%r", self)

    def fit(self, batches: Callable[[], Iterable[tuple[Any, Any]]]) -> LabelIssueFinder:
        """Run every pass; ``batches()`` must yield the same ``(labels, pred_probs)`` each call."""
        while not self.done:
            for labels, pred_probs in batches():
                self.update(labels, pred_probs)
            self.end_pass()
        return self

    @property
    def _options(self) -> dict[str, bool]:
        return RULES[self.filter_by].pass_options

    def _after_statistics(self) -> None:
        self.labels_ = np.concatenate(self._codes)
        self._codes = []
        self.num_examples_ = len(self.labels_)
        self._statistics = self._task.result()
        self._labels = EncodedLabels(
            self.labels_,
            self.classes if self.classes is not None else np.arange(self._num_classes),
            names_given=self.classes is not None,
        )
        check_two_classes(self._statistics.counts, self._labels.classes)
        self.thresholds_ = self._statistics.thresholds
        self._task = counts_pass(
            self.thresholds_, self.num_examples_, with_agrees=self._options["with_agrees"],
            with_sample=self._options["with_sample"], lowest_value=self._statistics.lowest_value,
        )

    def _after_counts(self) -> None:
        counts = self._task.result()
        self.confident_joint_ = counts.confident_joint
        self._passes = Passes(FedRows(self._labels, self._statistics, counts))
        self._plan = FlagPlan(
            self._passes, self.filter_by, frac_noise=self.frac_noise,
            min_examples_per_class=self.min_examples_per_class,
        )
        if self._plan.margin_pass is None:
            self._finish()
            return
        self._task = self._plan.margin_pass

    def _finish(self) -> None:
        """Select the rows by the rule of :func:`labelaudit.find_label_issues`."""
        flagged = RULES[self.filter_by].select(self._passes, self._plan)
        self.label_issues_ = flagged.mask_in(self._passes)
        self.done = True
        self._task = None
        self._passes = None
        self._plan = None
