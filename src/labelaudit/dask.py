"""The core functions over dask arrays, on the current dask scheduler or a ``distributed.Client``.

``labels`` (shape ``(n,)``) and ``pred_probs`` (shape ``(n, K)``) may be dask arrays chunked
along rows (columns are joined into one chunk if they are not); either may also be a numpy
array, which is chunked like the other. The answers are exactly those of the in-memory
functions, for every ``filter_by`` and ranking method and whatever the chunking, because the
work is the core's own passes (:mod:`labelaudit._kernels`) run as dask tasks:

* every chunk runs :func:`labelaudit._kernels.run_pass` with the pass's ``block`` on a worker,
  with the chunk's global row offset, and returns the parts (K-vectors, K x K counts, the
  rows counted off the diagonal, a bounded row sample, the candidates of pass 3);
* the client feeds the parts to the pass's ``add`` in chunk order, then reads its result,
  exactly as :func:`labelaudit._kernels.run_pass` does for one array;
* selections of the ``m`` lowest scores per class (pruning by class, the ``low_*`` rules)
  keep each chunk's own lowest ``m`` and merge them in a tree of tasks with
  :func:`labelaudit._kernels.smallest_per_group`, ties by global row index;
* per-row outputs (masks, scores) stay on the cluster as lazy dask arrays with the chunks of
  ``pred_probs``; ``compute=True`` returns numpy instead. Ranked indices are numpy.

Only small objects reach the client: parts of size ``O(K^2)`` per core block plus candidate
lists bounded by the number of rows flagged. Pass 3 of pruning by noise rate (see
:class:`labelaudit._kernels.MarginPass`) builds its mask on the client, one byte per row.

The top-level functions (:func:`labelaudit.find_label_issues` and the others) call these when
``labels`` or ``pred_probs`` is a dask array, so the same code runs in memory and on a
cluster. Calling them here directly adds ``client=`` and ``compute=``.

Reading from shared storage, a zarr array of probabilities and one of labels:

.. code-block:: python

    import dask.array as da
    from labelaudit.dask import find_label_issues

    pred_probs = da.from_zarr("s3://bucket/run.zarr", component="pred_probs")  # (n, K)
    labels = da.from_zarr("s3://bucket/run.zarr", component="labels")  # (n,)
    ranked = find_label_issues(labels, pred_probs, return_indices_ranked_by="self_confidence")

or parquet with a ``label`` column and ``K`` probability columns ``p0 .. p{K-1}``:

.. code-block:: python

    import dask.dataframe as dd

    frame = dd.read_parquet("s3://bucket/run/*.parquet")
    # one conversion, so both arrays get the same partitions; the casts are exact
    table = frame[["label", *(f"p{j}" for j in range(K))]].to_dask_array(lengths=True)
    labels = table[:, 0].astype("int64")
    pred_probs = table[:, 1:].astype("float32")
    mask = find_label_issues(labels, pred_probs)  # lazy, chunked like the parquet files

Examples
--------
>>> import dask.array as da
>>> import numpy as np
>>> import labelaudit
>>> rng = np.random.default_rng(0)
>>> labels = rng.integers(0, 3, 10_000)
>>> pred_probs = rng.dirichlet([1, 1, 1], 10_000).astype(np.float32)
>>> chunked = da.from_array(pred_probs, chunks=(3_000, 3))
>>> ranked = find_label_issues(labels, chunked, return_indices_ranked_by="normalized_margin")
>>> np.array_equal(ranked, labelaudit.find_label_issues(
...     labels, pred_probs, return_indices_ranked_by="normalized_margin"))
True
>>> find_label_issues(labels, chunked)  # a lazy mask
dask.array<concatenate, shape=(10000,), dtype=bool, chunksize=(3000,), chunktype=numpy.ndarray>
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Sequence
from functools import cached_property
from typing import Any

import numpy as np

try:
    import dask
    import dask.array as da
except ImportError as err:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "labelaudit.dask requires dask: pip install 'labelaudit[dask]'"
    ) from err

from labelaudit import health, noise, rank
from labelaudit._kernels import (
    ClassStatistics,
    ConfidentCounts,
    CountsPass,
    MarginPass,
    StatisticsPass,
    label_scores,
    run_pass,
    sample_stride,
    self_confidence_dtype,
    smallest_per_group,
)
from labelaudit._validate import (
    EncodedLabels,
    as_pred_probs,
    check_classes,
    check_labels_in_parts,
    check_lengths,
    encode_labels,
)
from labelaudit.filter import PrunePlan, check_count_options, check_filter_options
from labelaudit.health import HealthSummary
from labelaudit.noise import Passes, _scaled_off_diagonal
from labelaudit.rank import adjustment_thresholds, rank_rows

__all__ = [
    "DaskPasses",
    "compute_confident_joint",
    "find_label_issues",
    "get_label_quality_scores",
    "health_summary",
    "num_label_issues",
]

logger = logging.getLogger(__name__)

MERGE_FAN_IN = 8  # candidate lists merged per task of the selection tree

Candidates = tuple[np.ndarray, ...]  # (group, key, row[, agrees]) of equal length, in row order


class _Collect:
    """Stands in for a pass inside :func:`run_pass` on a worker: keeps the parts, in order."""

    def __init__(self, task: Any) -> None:
        self.task = task
        self.parts: list[Any] = []

    def block(self, start: int, labels: np.ndarray, values: np.ndarray) -> Any:
        return self.task.block(start, labels, values)

    def add(self, part: Any) -> None:
        self.parts.append(part)


def _chunk_parts(start: int, codes: np.ndarray, values: np.ndarray, task: Any) -> list[Any]:
    """The parts of one chunk, block by block (core block sizes keep the sums exact)."""
    collect = _Collect(task)
    run_pass(collect, codes, np.asarray(values), n_jobs=1, offset=start)
    return collect.parts


def _encode_chunk(labels: np.ndarray, num_classes: int, classes: Any) -> np.ndarray:
    if labels.size == 0:
        return np.empty(0, dtype=_codes_dtype(labels.dtype, num_classes, classes))
    return encode_labels(labels, num_classes, classes=classes).codes


def _codes_dtype(dtype: np.dtype, num_classes: int, classes: Any) -> np.dtype:
    """The dtype :func:`encode_labels` gives labels of ``dtype`` (integer labels keep a narrow
    type, so chunks of codes that move between workers stay small)."""
    if classes is not None:
        return np.dtype(np.int64)
    return encode_labels(np.zeros(1, dtype=dtype), num_classes).codes.dtype


def _scores_chunk(
    start: int, codes: np.ndarray, values: np.ndarray, method: str, adjust: np.ndarray | None,
    validate: bool,
) -> np.ndarray:
    return label_scores(codes, values, method, adjust=adjust, n_jobs=1, validate=validate)


def _scores_at(
    start: int, codes: np.ndarray, values: np.ndarray, method: str, adjust: np.ndarray | None,
    validate: bool, rows: np.ndarray,
) -> np.ndarray:
    """Scores of the chunk's ``rows`` (chunk positions) only."""
    return _scores_chunk(start, codes, values, method, adjust, validate)[rows]


def _agrees(thresholds: np.ndarray, codes: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Whether each row's given label is among its most probable classes (pass 2's rule)."""
    task = CountsPass(thresholds, with_agrees=True)
    run_pass(task, codes, values, n_jobs=1)
    return np.asarray(task.result().agrees)


def _disagrees_chunk(start: int, codes: np.ndarray, values: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    return ~_agrees(thresholds, codes, values)


def _mask_chunk(size: int, rows: np.ndarray) -> np.ndarray:
    mask = np.zeros(size, dtype=bool)
    mask[rows] = True
    return mask


def _smallest_in_chunk(
    start: int, codes: np.ndarray, values: np.ndarray, method: str, limit: np.ndarray,
    by_class: bool, thresholds: np.ndarray | None,
) -> Candidates:
    """The chunk's ``limit[g]`` lowest scores per group (the class, or one group for all)."""
    key = label_scores(codes, values, method, adjust=None, n_jobs=1, validate=False)
    group = codes if by_class else np.zeros(len(codes), dtype=np.int64)
    chosen = smallest_per_group(group, key, limit)
    found = (group[chosen], key[chosen], chosen + start)
    if thresholds is None:
        return found
    return (*found, _agrees(thresholds, codes[chosen], np.asarray(values)[chosen]))


def _merge(limit: np.ndarray, *lists: Candidates) -> Candidates:
    """The ``limit[g]`` lowest ``(key, row)`` per group of candidate lists given in row order."""
    joined = tuple(np.concatenate(field) for field in zip(*lists))
    chosen = smallest_per_group(joined[0], joined[1], limit)
    return tuple(field[chosen] for field in joined)


def _as_dask(array: Any, name: str, row_chunks: tuple[int, ...]) -> Any:
    """``array`` as a dask array, chunked along rows like the other input when it is not one."""
    if isinstance(array, da.Array):
        return array
    array = np.asarray(array)
    if array.ndim == 0 or array.shape[0] != sum(row_chunks):
        raise ValueError(
            f"{name} has shape {array.shape} but the other input has {sum(row_chunks)} rows; "
            "labels and pred_probs must describe the same examples in the same order."
        )
    return da.from_array(array, chunks=(row_chunks, *array.shape[1:]))


class DaskPasses(Passes):
    """:class:`labelaudit.noise.Passes` over dask arrays: the same passes, run as dask tasks.

    ``Passes(labels, pred_probs)`` makes one when either input is a dask array. Both are
    aligned to the row chunks of the dask one (of ``pred_probs`` when both are); labels are
    encoded chunk by chunk, so class names need ``classes=``. Per-row data (self-confidence,
    whether a label is a top prediction) is never collected: ``keep_self_confidence``,
    ``with_agrees`` and ``n_jobs`` are accepted and ignored. Tasks run on the current dask
    scheduler (``dask.config.set(scheduler=client)`` chooses a ``distributed.Client``).
    """

    def __init__(
        self,
        labels: Any,
        pred_probs: Any,
        *,
        classes: Any = None,
        n_jobs: int | None = None,
        keep_self_confidence: bool = False,
        with_agrees: bool = True,
        with_sample: bool = False,
    ) -> None:
        if not isinstance(pred_probs, da.Array):
            pred_probs = _as_dask(pred_probs, "pred_probs", labels.chunks[0])
        as_pred_probs(pred_probs)
        if any(np.isnan(size) for size in pred_probs.shape + pred_probs.chunks[0]):
            raise ValueError(
                "pred_probs has unknown chunk sizes; call pred_probs.compute_chunk_sizes() "
                "(or to_dask_array(lengths=True)) first."
            )
        if pred_probs.numblocks[1] != 1:
            pred_probs = pred_probs.rechunk({1: -1})
        row_chunks = pred_probs.chunks[0]
        labels = _as_dask(labels, "labels", row_chunks)
        if labels.ndim != 1:
            raise ValueError(f"labels must be 1-D (one class per example); found shape {labels.shape}.")
        num_classes = pred_probs.shape[1]
        check_labels_in_parts(labels.dtype, classes, "over dask, chunks of labels")
        known = check_classes(classes, num_classes) if classes is not None else np.arange(num_classes)
        codes = labels.map_blocks(
            _encode_chunk, num_classes, classes, dtype=_codes_dtype(labels.dtype, num_classes, classes)
        )
        self.labels = EncodedLabels(codes=codes, classes=known, names_given=classes is not None)
        check_lengths(self.labels, pred_probs)
        if codes.chunks[0] != row_chunks:
            self.labels = EncodedLabels(codes.rechunk((row_chunks,)), known, classes is not None)
        self.pred_probs = pred_probs
        self.n_jobs = None
        self._keep_self_confidence = False
        self._with_agrees = False
        self._with_sample = with_sample
        self.starts = np.cumsum((0, *row_chunks[:-1])).astype(np.int64)
        self.sizes = np.asarray(row_chunks, dtype=np.int64)

    # -- running tasks -------------------------------------------------------------------------
    @staticmethod
    def _compute(objects: Sequence[Any]) -> list[Any]:
        return list(dask.compute(*objects))

    def _per_chunk(self, func: Callable[..., Any], *args: Any, each: list[Any] | None = None) -> list[Any]:
        """``func(start, codes, values, *args[, each[i]])`` for every chunk ``i``, delayed.

        With ``each``, chunks whose entry is empty are left out (None in their place).
        """
        codes = self.labels.codes.to_delayed()
        values = self.pred_probs.to_delayed()[:, 0]
        call = dask.delayed(func, pure=True)
        if each is None:
            return [call(int(s), c, v, *args) for s, c, v in zip(self.starts, codes, values)]
        return [
            call(int(s), c, v, *args, e) if len(e) else None
            for s, c, v, e in zip(self.starts, codes, values, each)
        ]

    def _lazy(self, chunks: list[Any], dtype: Any) -> Any:
        """One dask array (rows chunked like ``pred_probs``) from per-chunk delayed arrays."""
        return da.concatenate(
            [da.from_delayed(c, shape=(int(size),), dtype=dtype) for c, size in zip(chunks, self.sizes)]
        )

    def run(self, task: Any) -> None:
        """Feed every chunk's parts to ``task.add`` in row order (the core's :func:`run_pass`)."""
        shared = dask.delayed(task, pure=False)
        for parts in self._compute(self._per_chunk(_chunk_parts, shared)):
            for part in parts:
                task.add(part)
        logger.debug("%s over %d chunks", type(task).__name__, len(self.sizes))

    # -- the passes ------------------------------------------------------------------------------
    @cached_property
    def stats(self) -> ClassStatistics:
        task = StatisticsPass(self.num_classes)
        self.run(task)
        return task.result()

    @cached_property
    def counts(self) -> ConfidentCounts:
        self.class_counts  # noqa: B018 - no confident joint of a single class
        stride = sample_stride(self.num_examples, self.num_classes) if self._with_sample else 0
        task = CountsPass(
            self.stats.thresholds, with_agrees=False, sample_stride=stride,
            lowest_value=self.stats.lowest_value,
        )
        self.run(task)
        return task.result()

    def margin_rows(self, plan: PrunePlan) -> np.ndarray:
        """Rows that pass 3 (largest margins per cell) flags, sorted."""
        task = MarginPass(plan.per_cell, plan.label_counts, self.counts.sample, self.stats.lowest_value)
        self.run(task)
        while not task.finish():
            self.run(task)
        return np.flatnonzero(task.flagged(self.num_examples))

    def smallest(
        self, method: str, limit: np.ndarray, *, by_class: bool, with_agrees: bool
    ) -> Candidates:
        """The ``limit`` lowest ``method`` scores (per class with ``by_class``), ties by row."""
        thresholds = self.stats.thresholds if with_agrees else None
        nodes = self._per_chunk(_smallest_in_chunk, method, limit, by_class, thresholds)
        merge = dask.delayed(_merge, pure=True)
        while len(nodes) > 1:
            nodes = [merge(limit, *nodes[i : i + MERGE_FAN_IN]) for i in range(0, len(nodes), MERGE_FAN_IN)]
        return self._compute(nodes)[0]

    # -- per-row outputs -------------------------------------------------------------------------
    def scores(self, method: str, adjust: np.ndarray | None) -> Any:
        dtype = self_confidence_dtype(self.pred_probs.dtype)
        chunks = self._per_chunk(_scores_chunk, method, adjust, not self.values_checked)
        return self._lazy(chunks, dtype)

    def scores_at(self, rows: np.ndarray, method: str, adjust: np.ndarray | None) -> np.ndarray:
        """Scores of the sorted ``rows`` only (only those travel to the client)."""
        validate = not self.values_checked
        parts = self._per_chunk(_scores_at, method, adjust, validate, each=self._split(rows))
        wanted = [p for p in parts if p is not None]
        dtype = self_confidence_dtype(self.pred_probs.dtype)
        return np.concatenate(self._compute(wanted)) if wanted else np.empty(0, dtype)

    def disagrees(self) -> Any:
        """Lazy mask: the given label is not among the row's most probable classes."""
        return self._lazy(self._per_chunk(_disagrees_chunk, self.stats.thresholds), bool)

    def mask_of(self, rows: np.ndarray, compute: bool) -> Any:
        if compute:
            return _mask_chunk(self.num_examples, rows)
        make = dask.delayed(_mask_chunk, pure=True)
        return self._lazy([make(int(n), r) for n, r in zip(self.sizes, self._split(rows))], bool)

    def _split(self, rows: np.ndarray) -> list[np.ndarray]:
        """Sorted global ``rows`` as positions within each chunk."""
        cuts = np.searchsorted(rows, np.r_[self.starts, self.num_examples])
        return [rows[a:b] - s for a, b, s in zip(cuts[:-1], cuts[1:], self.starts)]



# ---------------------------------------------------------------------------- public functions
def _scheduler(client: Any) -> Any:
    """Run on ``client`` (a ``distributed.Client``), or on the current scheduler when None."""
    return dask.config.set(scheduler=client) if client is not None else contextlib.nullcontext()


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
    client: Any = None,
    compute: bool = False,
) -> Any:
    """:func:`labelaudit.find_label_issues` over dask arrays, with the same answer.

    Parameters
    ----------
    labels, pred_probs : dask arrays of shape (n,) and (n, K)
        Row-chunked; either may be numpy (chunked like the other).
    filter_by, frac_noise, num_to_remove_per_class, min_examples_per_class, confident_joint, \
return_indices_ranked_by, rank_by_kwargs, classes
        As in :func:`labelaudit.find_label_issues`.
    n_jobs : ignored
        Parallelism comes from the dask scheduler.
    client : distributed.Client, optional
        Compute there (default: the current dask scheduler).
    compute : bool, default False
        Return the mask as numpy rather than as a lazy dask array.

    Returns
    -------
    dask array or ndarray
        Boolean mask of shape (n,), chunked like ``pred_probs``; or the flagged row indices
        (numpy, int64), most likely mislabelled first, with ``return_indices_ranked_by``.

    Examples
    --------
    >>> import dask.array as da
    >>> labels = da.from_array([0, 0, 0, 1, 1, 1], chunks=4)
    >>> pred_probs = da.from_array([[.9, .1], [.8, .2], [.1, .9], [.2, .8], [.3, .7], [.7, .3]], chunks=(4, 2))
    >>> find_label_issues(labels, pred_probs, compute=True)
    array([False, False,  True, False, False,  True])
    >>> find_label_issues(labels, pred_probs, return_indices_ranked_by="self_confidence")
    array([2, 5])
    """
    frac_noise, min_examples_per_class, adjust_pred_probs = check_filter_options(
        filter_by, frac_noise, min_examples_per_class, num_to_remove_per_class, confident_joint,
        return_indices_ranked_by, rank_by_kwargs,
    )
    with _scheduler(client):
        passes = DaskPasses(
            labels, pred_probs, classes=classes, with_sample=filter_by in ("prune_by_noise_rate", "both")
        )
        cj, remove = check_count_options(passes.num_classes, confident_joint, num_to_remove_per_class)
        passes.class_counts  # noqa: B018 - pass 1 checks every value and the classes first
        rows, mask = _flagged(passes, filter_by, cj, frac_noise, min_examples_per_class, remove)
        if return_indices_ranked_by is None:
            if mask is None:
                return passes.mask_of(rows, compute)
            return mask.compute() if compute else mask
        if rows is None:
            rows = da.flatnonzero(mask).compute()
        adjust = adjustment_thresholds(passes) if adjust_pred_probs else None
        return rank_rows(rows, passes.scores_at(rows, return_indices_ranked_by, adjust))


def _flagged(
    passes: DaskPasses,
    filter_by: str,
    confident_joint: np.ndarray | None,
    frac_noise: float,
    min_examples_per_class: int,
    remove: np.ndarray | None,
) -> tuple[np.ndarray | None, Any]:
    """The flagged rows (sorted numpy), or a lazy mask for a row-by-row rule."""
    if filter_by == "predicted_neq_given":
        return None, passes.disagrees()
    if filter_by == "confident_learning":
        return passes.counts.off_diagonal_rows, None
    if filter_by in ("low_normalized_margin", "low_self_confidence"):
        joint = confident_joint if confident_joint is not None else passes.counts.confident_joint
        num = _scaled_off_diagonal(joint, passes.num_examples)
        method = filter_by.removeprefix("low_")
        return passes.smallest(method, np.array([num]), by_class=False, with_agrees=False)[2], None
    plan = PrunePlan(
        filter_by, passes.class_counts, passes.counts.joint,
        confident_joint=confident_joint, frac_noise=frac_noise,
        min_examples_per_class=min_examples_per_class, num_to_remove_per_class=remove,
    )
    rows = None
    if plan.per_class is not None:
        group, key, found, agrees = passes.smallest(
            "self_confidence", plan.per_class, by_class=True, with_agrees=True
        )
        rows = found[plan.class_mask(group, key, agrees)]
    if plan.per_cell is not None:
        margin = passes.margin_rows(plan)
        rows = margin if rows is None else np.intersect1d(rows, margin, assume_unique=True)
    return rows, None


def get_label_quality_scores(
    labels: Any,
    pred_probs: Any,
    *,
    method: str = "self_confidence",
    adjust_pred_probs: bool = False,
    classes: Any = None,
    n_jobs: int | None = None,
    client: Any = None,
    compute: bool = False,
) -> Any:
    """:func:`labelaudit.get_label_quality_scores` over dask arrays: lazy scores, same values.

    With ``adjust_pred_probs`` pass 1 (the thresholds) runs first; otherwise nothing runs
    until the result is computed. ``client`` and ``compute`` as in :func:`find_label_issues`.

    Examples
    --------
    >>> import dask.array as da
    >>> pred_probs = da.from_array([[.9, .1], [.2, .8], [.3, .7]], chunks=(2, 2))
    >>> get_label_quality_scores([0, 0, 1], pred_probs, compute=True)
    array([0.9, 0.2, 0.7])
    """
    with _scheduler(client):
        scores = rank.get_label_quality_scores(
            labels, _as_dask_pred_probs(pred_probs), method=method,
            adjust_pred_probs=adjust_pred_probs, classes=classes,
        )
        return scores.compute() if compute else scores


def compute_confident_joint(
    labels: Any,
    pred_probs: Any,
    *,
    calibrate: bool = True,
    return_indices_of_off_diagonals: bool = False,
    classes: Any = None,
    n_jobs: int | None = None,
    client: Any = None,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """:func:`labelaudit.compute_confident_joint` over dask arrays (numpy results).

    Examples
    --------
    >>> import dask.array as da
    >>> pred_probs = da.from_array([[.9, .1], [.2, .8], [.3, .7], [.1, .9]], chunks=(3, 2))
    >>> compute_confident_joint([0, 0, 1, 1], pred_probs, calibrate=False)
    array([[1, 1],
           [0, 1]])
    """
    with _scheduler(client):
        return noise.compute_confident_joint(
            labels, _as_dask_pred_probs(pred_probs), calibrate=calibrate,
            return_indices_of_off_diagonals=return_indices_of_off_diagonals, classes=classes,
        )


def num_label_issues(
    labels: Any,
    pred_probs: Any,
    *,
    estimation_method: str = "off_diagonal",
    confident_joint: Any = None,
    classes: Any = None,
    n_jobs: int | None = None,
    client: Any = None,
) -> int:
    """:func:`labelaudit.num_label_issues` over dask arrays.

    Examples
    --------
    >>> import dask.array as da
    >>> pred_probs = da.from_array([[.9, .1], [.2, .8], [.3, .7], [.1, .9]], chunks=(3, 2))
    >>> num_label_issues([0, 0, 1, 1], pred_probs)
    1
    """
    with _scheduler(client):
        return noise.num_label_issues(
            labels, _as_dask_pred_probs(pred_probs), estimation_method=estimation_method,
            confident_joint=confident_joint, classes=classes,
        )


def health_summary(
    labels: Any,
    pred_probs: Any = None,
    *,
    class_names: Any = None,
    confident_joint: Any = None,
    classes: Any = None,
    verbose: bool = True,
    n_jobs: int | None = None,
    client: Any = None,
) -> HealthSummary:
    """:func:`labelaudit.health_summary` over dask arrays.

    Examples
    --------
    >>> import dask.array as da
    >>> pred_probs = da.from_array([[.9, .1], [.8, .2], [.1, .9], [.2, .8], [.3, .7], [.7, .3]], chunks=(4, 2))
    >>> health_summary([0, 0, 0, 1, 1, 1], pred_probs, verbose=False).num_label_issues
    2
    """
    with _scheduler(client):
        return health.health_summary(
            labels, None if pred_probs is None else _as_dask_pred_probs(pred_probs),
            class_names=class_names, confident_joint=confident_joint, classes=classes,
            verbose=verbose,
        )


def _as_dask_pred_probs(pred_probs: Any) -> Any:
    """``pred_probs`` as a dask array (one chunk when given as numpy), so the passes run on dask."""
    return pred_probs if isinstance(pred_probs, da.Array) else da.from_array(np.asarray(pred_probs))
