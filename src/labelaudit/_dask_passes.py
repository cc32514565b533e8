"""The dask engine of :class:`labelaudit._passes.Passes`: the core's passes run as dask tasks.

Imported by :func:`labelaudit._passes.open_passes` only, when ``labels`` or ``pred_probs`` is a
dask array. The answers are exactly those in memory, whatever the chunking, because the work is
the core's own passes (:mod:`labelaudit._kernels`):

* every chunk runs :func:`labelaudit._kernels.run_pass` with the pass's ``block`` on a worker,
  with the chunk's global row offset, and returns the parts (K-vectors, K x K counts, the
  rows counted off the diagonal, a bounded row sample, the candidates of pass 3);
* the client feeds the parts to the pass's ``add`` in chunk order, then reads its result,
  exactly as :func:`labelaudit._kernels.run_pass` does for one array;
* selections of the ``m`` lowest scores per class (pruning by class, the ``low_*`` rules)
  keep each chunk's own lowest ``m`` and merge them in a tree of tasks with
  :func:`labelaudit._kernels.smallest_per_group`, ties by global row index;
* per-row outputs (masks, scores) stay on the cluster as lazy dask arrays with the chunks of
  ``pred_probs``.

Only small objects reach the client: parts of size ``O(K^2)`` per core block plus candidate
lists bounded by the number of rows flagged. Pass 3 of pruning by noise rate (see
:class:`labelaudit._kernels.MarginPass`) builds its mask on the client, one byte per row.
Tasks run on the current dask scheduler (``dask.config.set(scheduler=client)`` chooses a
``distributed.Client``).

Examples
--------
>>> import dask.array as da
>>> from labelaudit._passes import open_passes
>>> probs = da.from_array([[.9, .1], [.2, .8], [.3, .7], [.1, .9]], chunks=(3, 2))
>>> passes = open_passes([0, 0, 1, 1], probs)
>>> type(passes.rows).__name__, passes.counts.confident_joint.tolist()
('DaskRows', [[1, 1], [0, 1]])
>>> passes.disagrees()
dask.array<concatenate, shape=(4,), dtype=bool, chunksize=(3,), chunktype=numpy.ndarray>
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import dask
import dask.array as da
import numpy as np

from labelaudit._kernels import (
    Candidates,
    ClassStatistics,
    ConfidentCounts,
    CountsPass,
    MarginPass,
    StatisticsPass,
    counts_pass,
    label_scores,
    map_rows,
    rows_mask,
    run_pass,
    self_confidence_dtype,
    smallest_candidates,
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

if TYPE_CHECKING:
    from labelaudit._passes import Passes

logger = logging.getLogger(__name__)

MERGE_FAN_IN = 8  # candidate lists merged per task of the selection tree


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


def _per_row_chunk(start: int, codes: np.ndarray, values: np.ndarray, func: Any, dtype: Any) -> np.ndarray:
    return map_rows(func, codes, np.asarray(values), dtype, n_jobs=1)


def _agrees(thresholds: np.ndarray, codes: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Whether each row's given label is among its most probable classes (pass 2's rule)."""
    task = CountsPass(thresholds, with_agrees=True)
    run_pass(task, codes, values, n_jobs=1)
    return np.asarray(task.result().agrees)


def _disagrees_chunk(start: int, codes: np.ndarray, values: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    return ~_agrees(thresholds, codes, values)


def _smallest_in_chunk(
    start: int, codes: np.ndarray, values: np.ndarray, method: str, limit: np.ndarray,
    by_class: bool, thresholds: np.ndarray | None, skip_agreeing: bool,
) -> Candidates:
    """The chunk's ``limit[g]`` lowest scores per group (the class, or one group for all);
    ``skip_agreeing``: rows whose label is a top prediction last (see ``Passes.smallest``)."""
    key = label_scores(codes, values, method, adjust=None, n_jobs=1, validate=False)
    if skip_agreeing and thresholds is not None:
        key = np.where(_agrees(thresholds, codes, values), np.inf, key)
    found = smallest_candidates(codes, key, limit, by_class=by_class, start=start)
    if thresholds is None:
        return found
    chosen = found[2] - start
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


class DaskRows:
    """The engine of dask arrays: the core's passes run as dask tasks, chunk by chunk.

    Both inputs are aligned to the row chunks of the dask one (of ``pred_probs`` when both
    are); labels are encoded chunk by chunk, so class names need ``classes=``. Per-row data
    never comes to the client: passes 1 and 2 keep none, and :meth:`smallest` and
    :meth:`disagrees` compute what they need on the workers. Parallelism is the scheduler's.
    """

    def __init__(self, labels: Any, pred_probs: Any, *, classes: Any = None) -> None:
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

    def _split(self, rows: np.ndarray) -> list[np.ndarray]:
        """Sorted global ``rows`` as positions within each chunk."""
        cuts = np.searchsorted(rows, np.r_[self.starts, len(self.labels.codes)])
        return [rows[a:b] - s for a, b, s in zip(cuts[:-1], cuts[1:], self.starts)]

    def run(self, task: Any) -> None:
        """Feed every chunk's parts to ``task.add`` in row order (the core's :func:`run_pass`)."""
        shared = dask.delayed(task, pure=False)
        for parts in self._compute(self._per_chunk(_chunk_parts, shared)):
            for part in parts:
                task.add(part)
        logger.debug("%s over %d chunks", type(task).__name__, len(self.sizes))

    # -- the passes ------------------------------------------------------------------------------
    def statistics(self, keep_self_confidence: bool) -> ClassStatistics:
        """Pass 1 (every row's self-confidence stays on the workers)."""
        task = StatisticsPass(self.labels.num_classes)
        self.run(task)
        return task.result()

    def confident_counts(self, stats: ClassStatistics, *, with_agrees: bool, with_sample: bool) -> ConfidentCounts:
        """Pass 2 (whether each row's label is a top prediction stays on the workers)."""
        task = counts_pass(
            stats.thresholds, len(self.labels.codes), with_agrees=False, with_sample=with_sample,
            lowest_value=stats.lowest_value,
        )
        self.run(task)
        return task.result()

    def complete(self, task: MarginPass) -> None:
        self.run(task)
        while not task.finish():
            self.run(task)

    def smallest(
        self, passes: Passes, method: str, limit: np.ndarray, *, by_class: bool, with_agrees: bool,
        skip_agreeing: bool = False,
    ) -> Candidates:
        """Each chunk's own lowest, merged in a tree of tasks."""
        thresholds = passes.stats.thresholds if with_agrees else None
        nodes = self._per_chunk(_smallest_in_chunk, method, limit, by_class, thresholds, skip_agreeing)
        merge = dask.delayed(_merge, pure=True)
        while len(nodes) > 1:
            nodes = [merge(limit, *nodes[i : i + MERGE_FAN_IN]) for i in range(0, len(nodes), MERGE_FAN_IN)]
        return self._compute(nodes)[0]

    # -- per-row outputs -------------------------------------------------------------------------
    def scores(self, method: str, adjust: np.ndarray | None, *, validate: bool) -> Any:
        chunks = self._per_chunk(_scores_chunk, method, adjust, validate)
        return self._lazy(chunks, self_confidence_dtype(self.pred_probs.dtype))

    def scores_at(
        self, rows: np.ndarray, method: str, adjust: np.ndarray | None, *, validate: bool
    ) -> np.ndarray:
        """Only the scores of ``rows`` travel to the client."""
        parts = self._per_chunk(_scores_at, method, adjust, validate, each=self._split(rows))
        wanted = [p for p in parts if p is not None]
        dtype = self_confidence_dtype(self.pred_probs.dtype)
        return np.concatenate(self._compute(wanted)) if wanted else np.empty(0, dtype)

    def per_row(self, func: Callable[[np.ndarray, np.ndarray], np.ndarray], dtype: Any) -> Any:
        return self._lazy(self._per_chunk(_per_row_chunk, func, np.dtype(dtype)), dtype)

    def disagrees(self, passes: Passes) -> Any:
        return self._lazy(self._per_chunk(_disagrees_chunk, passes.stats.thresholds), bool)

    def mask_of(self, rows: np.ndarray) -> Any:
        make = dask.delayed(rows_mask, pure=True)
        return self._lazy([make(int(n), r) for n, r in zip(self.sizes, self._split(rows))], bool)

    def rows_of(self, mask: Any) -> np.ndarray:
        return da.flatnonzero(mask).compute()
