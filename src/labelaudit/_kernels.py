"""The hot path: passes over row blocks of ``pred_probs``.

Every computation in the core is a few passes over blocks of rows, so ``pred_probs`` is never
copied as a whole and no temporary is larger than one block:

* pass 1, :class:`StatisticsPass`: checks every value; examples per class and the per-class
  thresholds (mean self-confidence), summed exactly so the thresholds do not depend on block size
  or row order; the smallest value, which bounds what passes 2 and 3 must look at;
* pass 2, :class:`CountsPass`: thresholded argmax, the K x K confident joint (as non-zero
  :class:`labelaudit._cells.Cells`), the rows off its
  diagonal, (when asked) whether each row's given label is among the model's top predictions,
  and a small fixed sample of rows that pass 3 uses to skip rows quickly;
* :func:`label_scores`: one quality score per row;
* pass 3, :class:`MarginPass`: for each (given, true) cell, the rows with the largest margin.

A pass is an object with ``block(start, labels, values) -> part`` (pure, safe to run in threads)
and ``add(part)`` (called in block order). :func:`run_pass` drives one over an array; the
incremental :class:`labelaudit.LabelIssueFinder` drives the same objects over batches, so both
give the same answer.

Speed comes from doing per block only what the exact rule needs: rows whose self-confidence
already decides the answer (a row above its own threshold whose other classes cannot reach any
threshold, since a row sums to 1) skip the ``K``-wide work; with few classes pass 2 works
column by column on a transposed block; pass 3 looks only at pairs whose margin can reach a
per-cell lower bound estimated from the sample, keeps just the row of a pair above an upper
bound, and verifies both bounds afterwards (reading again what a wrong bound could have
changed). Automatic blocks are whole stored chunks of a chunked array. Selections break ties by
(key, row index) through :func:`smallest_per_group`, so results are identical for any block
size, code path and number of threads.
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import numpy as np

from labelaudit._cells import Cells, run_starts
from labelaudit._config import get_config
from labelaudit._threads import thread_map
from labelaudit._validate import ROW_SUM_TOLERANCE, VALUE_TOLERANCE, check_probability_block

T = TypeVar("T")

VALUES_PER_BLOCK = 1 << 20  # about 1M values (4-8 MB) per block by default
MAX_BLOCK_ROWS = 1 << 20  # keeps the exact fixed-point sums of pass 1 below 2**53 per block
PARALLEL_MIN_VALUES = 1 << 21  # smaller inputs run in one thread
SAMPLE_VALUES = 1 << 22  # values of pred_probs that pass 2 keeps as a sample for pass 3
DENSE_CELLS = 1 << 16  # fewer K x K cells: count and look them up in dense tables
NARROW_CLASSES = 16  # this many classes or fewer: pass 2 tests column by column on a transposed block
MIN_SAMPLE_PER_CLASS = 64  # fewer sampled rows of a class: its cells are not bounded
BOUND_SIGMAS = 4.0  # a bound sits this many binomial standard deviations (+ 4 rows) below
BOUND_ROWS = 4.0
COMPACT_MIN_PAIRS = 1 << 16  # pass 3 compacts its pairs beyond twice the selection plus this
_FIXED_POINT_DIGIT = 2.0**31  # self-confidences are summed as two 31-bit integer digits
_SUM_BOUND = 1.0 + ROW_SUM_TOLERANCE + 1e-9  # no row sums to more (checked in pass 1)
_MARGIN_SLACK = 1e-6  # more than the rounding of a margin in float32
TOLERANCE = 1e-6
"""How close below a threshold (or the row's maximum) a probability may be and still reach it.

Thresholds are means, summed exactly, but the user's decimals seldom are: ``mean(.4, .2)`` is
``0.30000000000000004``, which a probability of ``0.3`` misses by rounding alone. So a value
counts as confident for class ``j`` when ``p[j] >= t_j - TOLERANCE`` (the paper's released code
does the same), and a given label is a top prediction when ``p[y] >= max(p) - TOLERANCE``. Both
comparisons are made on exact float64 values, so they do not depend on block or row order.
"""


def confident_cuts(thresholds: np.ndarray) -> np.ndarray:
    """What ``p[j]`` must reach to count as confidently class ``j``: ``t_j - TOLERANCE``, and
    never less than ``TOLERANCE``, so a probability of 0 is never confident (a class whose
    examples all get 0 has threshold 0); ``inf`` (a class with no examples) stays ``inf``.

    >>> confident_cuts(np.array([0.3, 0.0, np.inf])).tolist()
    [0.299999, 1e-06, inf]
    """
    return np.maximum(np.asarray(thresholds, dtype=np.float64) - TOLERANCE, TOLERANCE)


def label_on_top(self_confidence: np.ndarray, row_max: np.ndarray) -> np.ndarray:
    """Whether each row's given label is a top prediction: within ``TOLERANCE`` of the maximum.

    >>> label_on_top(np.array([.4999996, .2, .5]), np.array([.5000004, .8, .5]))
    array([ True, False,  True])
    """
    return np.asarray(self_confidence, dtype=np.float64) >= np.asarray(row_max, dtype=np.float64) - TOLERANCE


def block_bounds(num_rows: int, num_classes: int, chunk_rows: int | None = None) -> list[tuple[int, int]]:
    """Row ranges ``[start, stop)`` of the blocks (size from the config or automatic).

    An automatic size is a whole number of ``chunk_rows`` (the row chunks of a zarr or HDF5
    array) so each stored chunk is read and decompressed once: several chunks per block, or
    one chunk per block when a chunk alone is larger.

    >>> block_bounds(10, 1 << 19, chunk_rows=3)
    [(0, 3), (3, 6), (6, 9), (9, 10)]
    """
    rows = get_config()["block_rows"]
    if not rows:
        rows = max(1, VALUES_PER_BLOCK // num_classes)
        if chunk_rows:
            rows = max(rows - rows % chunk_rows, chunk_rows)
    rows = min(rows, MAX_BLOCK_ROWS)
    return [(s, min(s + rows, num_rows)) for s in range(0, num_rows, rows)]


def storage_chunk_rows(array: Any) -> int | None:
    """Rows per stored chunk of a chunked array (zarr, h5py), or None (in memory, memory map)."""
    chunks = getattr(array, "chunks", None)
    if isinstance(chunks, tuple) and chunks and isinstance(chunks[0], (int, np.integer)):
        return int(chunks[0])
    return None


def resolve_n_jobs(n_jobs: int | None) -> int:
    n_jobs = n_jobs if n_jobs is not None else get_config()["n_jobs"]
    if n_jobs is None:
        return 1
    return os.cpu_count() or 1 if n_jobs == -1 else n_jobs


def map_blocks(
    func: Callable[[int, int], T],
    shape: tuple[int, int],
    n_jobs: int | None,
    *,
    chunk_rows: int | None = None,
) -> Iterator[T]:
    """Apply ``func(start, stop)`` to every block, yielding results in block order.

    Threads are used when ``n_jobs > 1`` and the input is large enough; numpy releases the GIL
    inside the per-block work, and results are consumed in block order either way.
    """
    bounds = block_bounds(*shape, chunk_rows=chunk_rows)
    workers = resolve_n_jobs(n_jobs) if shape[0] * shape[1] >= PARALLEL_MIN_VALUES else 1
    yield from thread_map(lambda b: func(*b), bounds, workers)


def read_block(pred_probs: Any, start: int, stop: int) -> np.ndarray:
    """Rows ``start:stop`` as an ndarray (a view for in-memory arrays, a read for others)."""
    return np.asarray(pred_probs[start:stop])


class BlockPass(Protocol):
    """One pass over the rows: ``block`` computes a part per block, ``add`` merges them in order."""

    def block(self, start: int, labels: np.ndarray, values: np.ndarray) -> Any: ...

    def add(self, part: Any) -> None: ...


def run_pass(
    task: BlockPass, codes: np.ndarray, pred_probs: Any, *, n_jobs: int | None, offset: int = 0
) -> None:
    """Feed every block of ``pred_probs`` (rows ``offset + i``) to ``task``, in row order."""

    def work(start: int, stop: int) -> Any:
        values = read_block(pred_probs, start, stop)
        return task.block(offset + start, codes[start:stop], values)

    for part in map_blocks(
        work, tuple(pred_probs.shape), n_jobs, chunk_rows=storage_chunk_rows(pred_probs)
    ):
        task.add(part)


def self_confidence_dtype(dtype: np.dtype) -> np.dtype:
    """Scores keep float32 for float32/float16 input and use float64 otherwise.

    It is also the dtype the passes compute in: float16 and integer blocks are converted (exactly)
    block by block, float32 stays float32.
    """
    dtype = np.dtype(dtype)
    return np.dtype(np.float32) if dtype in (np.float16, np.float32) else np.dtype(np.float64)


def as_work(values: np.ndarray) -> np.ndarray:
    """A block in the dtype the passes compute in, C-contiguous (no copy when it already is)."""
    return np.ascontiguousarray(values, dtype=self_confidence_dtype(values.dtype))


@functools.lru_cache(maxsize=8)
def _row_offsets(num_rows: int, num_classes: int) -> np.ndarray:
    """``[0, K, 2K, ...]``: where each row of a C-contiguous block starts (shared, read-only)."""
    offsets = np.arange(num_rows, dtype=np.int64) * num_classes
    offsets.flags.writeable = False
    return offsets


def take_labelled(block: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """``block[i, labels[i]]`` for every row of a C-contiguous block."""
    return np.take(block.reshape(-1), _row_offsets(*block.shape) + labels)


def sorted_unique(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct ``values`` and how often each occurs (a sort: faster than hashing here)."""
    ordered = np.sort(values)
    first = run_starts(ordered)
    return ordered[first], np.diff(np.r_[first, len(ordered)])


def _round_to(dtype: np.dtype, values: Any, up: bool) -> np.ndarray:
    """``values`` (float64) in ``dtype``, rounded up (or down) where ``dtype`` cannot hold them.

    For ``p`` of that dtype, ``p >= values`` is the same as ``p >= rounded up`` and
    ``p <= values`` the same as ``p <= rounded down``.
    """
    values = np.asarray(values, dtype=np.float64)
    out = values.astype(dtype)
    moved = out < values if up else out > values
    out[moved] = np.nextafter(out[moved], np.array(np.inf if up else -np.inf, dtype=dtype))
    return out


def _pair_sum_bound(block: np.ndarray, lowest_value: float | None) -> float:
    """A bound on ``p[j] + p[i]`` for any two classes of any row of a checked block.

    A row sums to at most ``_SUM_BOUND``, so ``p[j] <= _SUM_BOUND - p[i] - (the other values)``,
    and the other values are at least ``lowest_value`` (the smallest value of ``pred_probs``,
    found by pass 1; the block's own minimum when None), which may be slightly negative.
    """
    low = float(block.min()) if lowest_value is None else lowest_value
    return _SUM_BOUND + (block.shape[1] - 2) * max(0.0, -low)


def _row_sums(block: np.ndarray, low: float) -> tuple[np.ndarray, float]:
    """Row sums of a block whose smallest value is ``low``, and a bound on their rounding for
    rows that sum to about 1.

    ``einsum`` in the compute dtype (several times faster than float64 sums or ``sum(axis=1)``;
    no BLAS threads, so ``n_jobs`` alone sets the parallelism). Any order of K additions errs by
    at most ``(K - 1) u / (1 - (K - 1) u)`` times the sum of the absolute values (``u`` the unit
    roundoff), which is at most ``_SUM_BOUND`` plus twice the negative part. Where that bound is
    not small against the tolerance, the sums are taken in float64.
    """
    k = block.shape[1]
    absolute_sum = _SUM_BOUND + 2 * k * max(0.0, -low)

    def rounding(dtype: np.dtype) -> float:
        spread = (k - 1) * float(np.finfo(dtype).eps) / 2
        return spread / (1 - spread) * absolute_sum

    work = as_work(block)
    dtype = work.dtype if rounding(work.dtype) < ROW_SUM_TOLERANCE / 2 else np.dtype(np.float64)
    return np.einsum("ij->i", work, dtype=dtype), rounding(dtype)


def check_block_values(block: np.ndarray, start: int) -> float:
    """The value checks of :func:`labelaudit._validate.check_probability_block`, faster.

    Minimum and maximum (NaN propagates into both) and row sums (:func:`_row_sums`) come first.
    Rows must be within the tolerance by more than the rounding of their sums; only a block
    where some row is not runs the full check, which raises with the usual message (or accepts
    the block). Returns the block's smallest value.
    """
    low, high = block.min(), block.max()
    if not (low >= -VALUE_TOLERANCE and high <= 1 + VALUE_TOLERANCE):
        check_probability_block(block, start)
        return float(low)
    sums, rounding = _row_sums(block, float(low))
    if (np.abs(sums - 1.0) > ROW_SUM_TOLERANCE - rounding).any():
        check_probability_block(block, start)
    return float(low)


def _fixed_point_digits(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Split float64 ``values`` into two integer digits: ``v ~ (hi * 2**31 + lo) / 2**62``.

    Both steps are exact in float64 (scaling by powers of two, floor of a float); what is cut off
    is below 2**-62, far under the resolution of a float64 mean. Integer sums of the digits are
    exact, hence independent of summation order.
    """
    scaled = values * _FIXED_POINT_DIGIT
    hi = np.floor(scaled)
    lo = np.floor((scaled - hi) * _FIXED_POINT_DIGIT)
    return hi, lo


# ------------------------------------------------------------------------------------- pass 1
@dataclass(frozen=True)
class ClassStatistics:
    """Result of pass 1."""

    counts: np.ndarray  # examples per given class, int64 (K,)
    thresholds: np.ndarray  # mean self-confidence per class, float64 (K,); inf where count is 0
    lowest_value: float  # the smallest value of pred_probs (inf when there are no rows)
    self_confidence: np.ndarray | None  # p[i, labels[i]] per row, when asked for


class StatisticsPass:
    """Pass 1: check every block; count examples and sum self-confidence per given class.

    The threshold of class ``j`` is the mean of ``pred_probs[i, j]`` over rows labelled ``j``
    (the confident learning paper's ``t_j``), correctly rounded from an exact sum. A class with no
    examples has no threshold (``inf``): no row can be counted as confidently belonging to it.
    """

    def __init__(self, num_classes: int, *, keep_self_confidence: bool = False) -> None:
        self.num_classes = num_classes
        self.keep_self_confidence = keep_self_confidence
        self._sums = np.zeros((3, num_classes), dtype=np.int64)  # counts, high and low digits
        self._self_confidence: list[np.ndarray] = []
        self._lowest_value = math.inf

    def block(self, start: int, labels: np.ndarray, values: np.ndarray) -> tuple[Any, ...]:
        low = check_block_values(values, start)
        k = self.num_classes
        sc = take_labelled(as_work(values), labels)
        hi, lo = _fixed_point_digits(sc.astype(np.float64))
        sums = np.stack(
            [
                np.bincount(labels, minlength=k),
                np.bincount(labels, weights=hi, minlength=k).astype(np.int64),
                np.bincount(labels, weights=lo, minlength=k).astype(np.int64),
            ]
        )
        return sums, sc if self.keep_self_confidence else None, low

    def add(self, part: tuple[Any, ...]) -> None:
        self._sums += part[0]
        if part[1] is not None:
            self._self_confidence.append(part[1])
        self._lowest_value = min(self._lowest_value, part[2])

    def result(self) -> ClassStatistics:
        counts, hi_sum, lo_sum = self._sums
        thresholds = np.full(self.num_classes, np.inf)
        scale = 1 << 62
        for j in np.flatnonzero(counts):
            # int / int is correctly rounded in Python
            thresholds[j] = (int(hi_sum[j]) * (1 << 31) + int(lo_sum[j])) / (scale * int(counts[j]))
        kept = np.concatenate(self._self_confidence) if self.keep_self_confidence else None
        return ClassStatistics(
            counts=counts.copy(), thresholds=thresholds, lowest_value=self._lowest_value,
            self_confidence=kept,
        )


def class_statistics(
    codes: np.ndarray, pred_probs: Any, *, n_jobs: int | None, keep_self_confidence: bool = False
) -> ClassStatistics:
    """Run :class:`StatisticsPass` over an array."""
    task = StatisticsPass(pred_probs.shape[1], keep_self_confidence=keep_self_confidence)
    run_pass(task, codes, pred_probs, n_jobs=n_jobs)
    return task.result()


# ------------------------------------------------------------------------------------- pass 2
@dataclass(frozen=True)
class RowSample:
    """Every ``stride``-th row of ``pred_probs`` (in the compute dtype) with its given label."""

    rows: np.ndarray
    labels: np.ndarray
    values: np.ndarray


@dataclass(frozen=True)
class ConfidentCounts:
    """Result of pass 2."""

    joint: Cells  # int64 counts: rows given label, columns suggested true label
    off_diagonal_rows: np.ndarray  # sorted row indices counted off the diagonal
    off_diagonal_agrees: np.ndarray  # bool, for each of them: its given label is a top prediction
    agrees: np.ndarray | None  # bool (n,): given label is a top prediction (see label_on_top)
    sample: RowSample | None  # rows for pass 3, when asked for

    @property
    def confident_joint(self) -> np.ndarray:
        """The joint as a dense K x K int64 matrix."""
        return self.joint.dense()


class CountsPass:
    """Pass 2: the confident joint (uncalibrated).

    A row with given label ``i`` is counted when at least one class reaches its threshold
    (``p[j] >= t_j``, up to :data:`TOLERANCE`; see :func:`confident_cuts`): in cell ``(i, j)`` for that class when it is the only one, and for the
    most probable class of the row when several are (the rule of the paper's released code,
    which reproduces its published results; the lowest index wins an exact tie). Rows above no
    threshold are not counted.

    A row at or above its own threshold whose other probabilities are too small to reach the
    lowest threshold (they add up to at most ``1 - p[i]`` plus the rounding tolerance) is
    counted on the diagonal without looking at its other classes; so is the test of
    ``agrees`` for rows with ``p[i]`` above one half.
    """

    def __init__(
        self,
        thresholds: np.ndarray,
        *,
        with_agrees: bool = True,
        sample_stride: int = 0,
        lowest_value: float | None = None,
    ) -> None:
        self.cuts = confident_cuts(thresholds)
        self.lowest_value = lowest_value  # of pred_probs, from pass 1 (see _pair_sum_bound)
        self.num_classes = len(self.cuts)
        finite = self.cuts[np.isfinite(self.cuts)]
        self.lowest_threshold = float(finite.min()) if finite.size else math.inf
        self.with_agrees = with_agrees
        self.sample_stride = sample_stride
        self.dense = self.num_classes**2 <= DENSE_CELLS
        self._joint = np.zeros(self.num_classes**2 if self.dense else 0, dtype=np.int64)
        self._cells = Cells(self.num_classes, np.empty(0, np.int64), np.empty(0, np.int64))
        self._pending: list[tuple[np.ndarray, np.ndarray]] = []  # cells not merged yet
        self._pending_size = 0
        self._parts: list[tuple[Any, ...]] = []

    def block(self, start: int, labels: np.ndarray, values: np.ndarray) -> tuple[Any, ...]:
        block = as_work(values)
        m, k = block.shape
        sc = take_labelled(block, labels)
        thresholds = _round_to(block.dtype, self.cuts, up=True)
        if k <= NARROW_CLASSES:
            rows, suggested, agrees = self._classify_narrow(block, sc, thresholds)
        else:
            rows, suggested, agrees = self._classify_wide(block, labels, sc, thresholds)
        given = labels[rows].astype(np.int64)
        cells = given * k + suggested
        cells = np.bincount(cells, minlength=k * k) if self.dense else sorted_unique(cells)
        off = rows[suggested != given]
        if agrees is None:
            off_agrees = label_on_top(sc[off], block.take(off, axis=0).max(axis=1))
        else:
            off_agrees = agrees[off]
        sample = None
        if self.sample_stride:
            picked = np.arange((-start) % self.sample_stride, m, self.sample_stride)
            sample = (picked + start, labels[picked], block.take(picked, axis=0))
        return cells, (off + start, agrees, sample, off_agrees)

    def _classify_narrow(
        self, block: np.ndarray, sc: np.ndarray, thresholds: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Counted rows and their suggested class, class by class on the transposed block.

        With few classes, a pass over each column of a transposed copy is several times faster
        than the same tests along the rows.
        """
        columns = np.ascontiguousarray(block.T)
        num_above = np.zeros(len(sc), dtype=np.int8)
        index_sum = np.zeros(len(sc), dtype=np.int8)  # the class above, where only one is
        for j, column in enumerate(columns):
            above = np.greater_equal(column, thresholds[j]).view(np.int8)
            num_above += above
            index_sum += np.multiply(above, np.int8(j), out=above)
        rows = np.flatnonzero(num_above)
        suggested = index_sum.take(rows).astype(np.int64)
        several = np.flatnonzero(num_above.take(rows) > 1)
        suggested[several] = block.take(rows[several], axis=0).argmax(axis=1)
        agrees = label_on_top(sc, columns.max(axis=0)) if self.with_agrees else None
        return rows, suggested, agrees

    def _classify_wide(
        self, block: np.ndarray, labels: np.ndarray, sc: np.ndarray, thresholds: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Counted rows and their suggested class; rows that are surely on the diagonal (see
        the class docstring) skip the K-wide tests."""
        k = block.shape[1]
        upper = _pair_sum_bound(block, self.lowest_value)
        sure = (sc >= thresholds[labels]) & (
            sc > _round_to(block.dtype, upper - self.lowest_threshold, up=True)
        )
        unsure = np.flatnonzero(~sure)
        sub = block.take(unsure, axis=0)
        hits = np.flatnonzero(sub >= thresholds)
        hit_rows = hits // k
        num_above = np.bincount(hit_rows, minlength=len(unsure))
        guess = np.zeros(len(unsure), dtype=np.int64)
        guess[hit_rows] = hits - hit_rows * k
        several = np.flatnonzero(num_above > 1)
        guess[several] = sub.take(several, axis=0).argmax(axis=1)
        counted = np.flatnonzero(num_above)
        on_diagonal = np.flatnonzero(sure)
        rows = np.concatenate([on_diagonal, unsure[counted]])
        suggested = np.concatenate([labels[on_diagonal].astype(np.int64), guess[counted]])
        agrees = None
        if self.with_agrees:
            agrees = sc >= _round_to(block.dtype, upper / 2, up=True)
            check = np.flatnonzero(~agrees)
            checked = block.take(check, axis=0)
            agrees[check] = label_on_top(take_labelled(checked, labels[check]), checked.max(axis=1))
        return rows, suggested, agrees

    def add(self, part: tuple[Any, ...]) -> None:
        cells, rest = part
        if self.dense:
            self._joint += cells
        else:
            self._pending.append(cells)
            self._pending_size += len(cells[0])
            if self._pending_size > max(COMPACT_MIN_PAIRS, len(self._cells.index)):
                self._merge_cells()
        self._parts.append(rest)

    def _merge_cells(self) -> None:
        pieces = [(self._cells.index, self._cells.value), *self._pending]
        self._pending, self._pending_size = [], 0
        self._cells = Cells.from_counts(
            self.num_classes, *(np.concatenate([p[f] for p in pieces]) for f in range(2))
        )

    def result(self) -> ConfidentCounts:
        off = [p[0] for p in self._parts]
        sample = None
        if self.sample_stride:
            pieces = [p[2] for p in self._parts]
            sample = RowSample(*(np.concatenate([s[i] for s in pieces]) for i in range(3)))
        k = self.num_classes
        self._merge_cells()
        joint = Cells.from_dense(self._joint.reshape(k, k)) if self.dense else self._cells
        return ConfidentCounts(
            joint=joint,
            off_diagonal_rows=np.concatenate(off).astype(np.int64) if off else np.empty(0, np.int64),
            off_diagonal_agrees=(
                np.concatenate([p[3] for p in self._parts]) if off else np.empty(0, dtype=bool)
            ),
            agrees=np.concatenate([p[1] for p in self._parts]) if self.with_agrees else None,
            sample=sample,
        )


def sample_stride(num_rows: int, num_classes: int) -> int:
    """Rows between two sampled rows: the sample holds about ``SAMPLE_VALUES`` values."""
    return max(1, -(-num_rows * num_classes // SAMPLE_VALUES))


def counts_pass(
    thresholds: np.ndarray,
    num_rows: int,
    *,
    with_agrees: bool = True,
    with_sample: bool = False,
    lowest_value: float | None = None,
) -> CountsPass:
    """Pass 2 over ``num_rows`` rows; ``with_sample``: with the row sample of pass 3."""
    stride = sample_stride(num_rows, len(thresholds)) if with_sample else 0
    return CountsPass(thresholds, with_agrees=with_agrees, sample_stride=stride, lowest_value=lowest_value)


def confident_counts(
    codes: np.ndarray,
    pred_probs: Any,
    thresholds: np.ndarray,
    *,
    n_jobs: int | None,
    with_agrees: bool = True,
    with_sample: bool = False,
    lowest_value: float | None = None,
) -> ConfidentCounts:
    """Run :class:`CountsPass` (made by :func:`counts_pass`) over an array."""
    task = counts_pass(
        thresholds, pred_probs.shape[0], with_agrees=with_agrees, with_sample=with_sample,
        lowest_value=lowest_value,
    )
    run_pass(task, codes, pred_probs, n_jobs=n_jobs)
    return task.result()


# ------------------------------------------------------------------------------------- scores
SCORE_METHODS = ("self_confidence", "normalized_margin", "confidence_weighted_entropy")


def score_block(block: np.ndarray, y: np.ndarray, method: str, adjust: np.ndarray | None) -> np.ndarray:
    """Label quality scores of one block, in float64 (lower = more likely mislabelled).

    ``adjust`` holds per-class thresholds to subtract before renormalising (see
    :func:`labelaudit.get_label_quality_scores`), or ``None``.
    """
    rows = np.arange(len(y))
    if adjust is None and method == "self_confidence":
        return take_labelled(as_work(block), y).astype(np.float64)
    p = block.astype(np.float64)
    if adjust is not None:
        p -= adjust
        p += adjust.max()
        np.maximum(p, 0.0, out=p)
        p /= p.sum(axis=1, keepdims=True)
    self_conf = p[rows, y].copy()
    if method == "self_confidence":
        return self_conf
    if method == "normalized_margin":
        p[rows, y] = -np.inf
        return (self_conf - p.max(axis=1) + 1.0) / 2.0
    np.clip(p, 0.0, None, out=p)
    logs = np.log(p, out=np.zeros_like(p), where=p > 0)
    entropy = -(p * logs).sum(axis=1) / np.log(p.shape[1])
    np.clip(self_conf, 0.0, None, out=self_conf)
    # log(1 + r) / r of r = entropy / p[y]: 1 in the limit r = 0, 0 when p[y] = 0 (r infinite)
    ratio = np.divide(entropy, self_conf, out=np.full_like(self_conf, np.inf), where=self_conf > 0)
    scores = np.ones_like(ratio)
    finite = np.isfinite(ratio)
    some = finite & (ratio > 0)
    scores[some] = np.log1p(ratio[some]) / ratio[some]
    scores[~finite] = 0.0
    return scores


def label_scores(
    codes: np.ndarray,
    pred_probs: Any,
    method: str,
    *,
    adjust: np.ndarray | None,
    n_jobs: int | None,
    validate: bool,
) -> np.ndarray:
    """One score per row (see :func:`score_block`); validates blocks when ``validate``."""
    n, k = pred_probs.shape
    out = np.empty(n, dtype=self_confidence_dtype(pred_probs.dtype))

    def work(start: int, stop: int) -> None:
        block = read_block(pred_probs, start, stop)
        if validate:
            check_block_values(block, start)
        out[start:stop] = score_block(block, codes[start:stop], method, adjust)

    for _ in map_blocks(work, (n, k), n_jobs, chunk_rows=storage_chunk_rows(pred_probs)):
        pass
    return out


def map_rows(
    func: Callable[[np.ndarray, np.ndarray], np.ndarray],
    codes: np.ndarray,
    pred_probs: Any,
    dtype: Any,
    *,
    n_jobs: int | None,
) -> np.ndarray:
    """``func(labels, values)`` of every block of rows, as one array of ``dtype`` over the rows.

    >>> map_rows(lambda y, v: v[:, 0] > .5, np.array([0, 1]), np.array([[.9, .1], [.2, .8]]),
    ...          bool, n_jobs=1)
    array([ True, False])
    """
    n, k = pred_probs.shape
    out = np.empty(n, dtype=dtype)

    def work(start: int, stop: int) -> None:
        out[start:stop] = func(codes[start:stop], read_block(pred_probs, start, stop))

    for _ in map_blocks(work, (n, k), n_jobs, chunk_rows=storage_chunk_rows(pred_probs)):
        pass
    return out


# ---------------------------------------------------------------------------------- selection
def _ordered_bits(key: np.ndarray) -> np.ndarray:
    """``key`` rounded to float32 as integers in ``[0, 2**32)`` with the same order.

    Rounding is monotone, so ``bits(a) < bits(b)`` implies ``a < b``; equal bits need the exact
    keys to decide.
    """
    rounded = key.astype(np.float32)
    rounded += np.float32(0.0)  # -0.0 becomes +0.0: equal keys get equal bits
    bits = rounded.view(np.int32).astype(np.int64)
    return np.where(bits < 0, -(bits & 0x7FFFFFFF) - 1, bits) + (1 << 31)


def smallest_per_group(group: np.ndarray, key: np.ndarray, limit: np.ndarray) -> np.ndarray:
    """Positions of the ``limit[g]`` smallest ``(key, position)`` pairs within each group ``g``.

    Exact ties in ``key`` go to the lower position, so with candidates listed in row order the
    choice is by (key, row index). One sort of 64-bit integers (group, key rounded to float32)
    finds each group's cut-off; only candidates whose rounded key equals it are compared
    exactly.

    >>> smallest_per_group(np.array([0, 0, 0, 1]), np.array([.5, .2, .5, .1]), np.array([2, 0]))
    array([0, 1])
    """
    group = np.asarray(group, dtype=np.int64)
    key = np.asarray(key)
    limit = np.asarray(limit, dtype=np.int64)
    bits = _ordered_bits(key)
    packed = np.sort((group << 32) | bits)
    size = np.bincount(group, minlength=len(limit))
    start = np.cumsum(size) - size
    keep = np.minimum(limit, size)
    cut = np.where(keep == size, 1 << 32, -1)  # everything, or nothing when keep is 0
    partial = np.flatnonzero((keep > 0) & (keep < size))
    cut[partial] = packed[start[partial] + keep[partial] - 1] & 0xFFFFFFFF
    group_cut = cut[group]
    chosen = bits < group_cut
    tied = np.flatnonzero(bits == group_cut)
    need = keep - np.bincount(group, weights=chosen, minlength=len(limit)).astype(np.int64)
    order = tied[np.lexsort((tied, key[tied], group[tied]))]
    tied_group = group[order]
    rank = np.arange(len(order)) - np.searchsorted(tied_group, tied_group, side="left")
    chosen[order[rank < need[tied_group]]] = True
    return np.flatnonzero(chosen)


Candidates = tuple[np.ndarray, ...]  # (group, key, row[, agrees]) of equal length, in row order


def smallest_candidates(
    codes: np.ndarray, key: np.ndarray, limit: np.ndarray, *, by_class: bool, start: int = 0
) -> Candidates:
    """``(group, key, row)`` of the ``limit[g]`` lowest ``key`` per group, ties by row.

    The group is the class with ``by_class``, else one group for all; rows count from ``start``.

    >>> smallest_candidates(np.array([0, 1, 0]), np.array([.5, .2, .1]), np.array([1, 1]), by_class=True)
    (array([1, 0]), array([0.2, 0.1]), array([1, 2]))
    """
    group = codes if by_class else np.zeros(len(key), dtype=np.int64)
    chosen = smallest_per_group(group, key, limit)
    return group[chosen], key[chosen], chosen + start


class MarginPass:
    """Pass 3 (prune by noise rate): rows flagged by the largest margins.

    For each off-diagonal cell ``(i, j)`` of ``num_per_cell`` (value ``m > 0``), the ``m`` rows
    labelled ``i`` with the largest margin ``p[j] - p[i]`` (ties: lower row index) are selected;
    :meth:`flagged` marks those whose given label is not among the row's most probable classes.

    With a :class:`RowSample`, each cell gets two bounds from the margins the sample predicts
    for the ``m``-th row: ``tau`` a little below it and ``tau_high`` a little above. Blocks skip
    rows whose self-confidence is too high for any margin to reach ``tau``; a pair above
    ``tau_high`` is *sure* (it is selected whenever at most ``m`` pairs of its cell are), so only
    its row is kept, when flagged; pairs between the bounds are kept with their margin. After the
    pass, :meth:`finish` checks every cell: fewer than ``m`` margins at or above ``tau`` (the
    cell is read again without bounds) or more than ``m`` sure pairs (everything is read again,
    that cell without bounds) return False; otherwise the exact selection is the sure pairs plus
    the best of the kept pairs, which :func:`smallest_per_group` chooses.
    """

    def __init__(
        self,
        num_per_cell: Cells,
        class_counts: np.ndarray,
        sample: RowSample | None = None,
        lowest_value: float | None = None,
    ) -> None:
        k = len(class_counts)
        self.num_classes = k
        self.lowest_value = lowest_value  # of pred_probs, from pass 1 (see _pair_sum_bound)
        self.cells = num_per_cell.index  # active cells in row-major order
        self.limit = num_per_cell.value.astype(np.int64)
        self.cell_class = self.cells // k
        self.cell_column = self.cells - self.cell_class * k
        self.indptr = np.searchsorted(self.cell_class, np.arange(k + 1))
        self.num_columns = np.diff(self.indptr)
        self.dense = k * k <= DENSE_CELLS
        if self.dense:
            self.cell_of = np.zeros(k * k, dtype=np.int64)
            self.cell_of[self.cells] = np.arange(len(self.cells))
        self._restart(*self._estimate_bounds(sample, class_counts))

    def _restart(self, tau: np.ndarray, tau_high: np.ndarray) -> None:
        """Forget every row seen; read them all again with these bounds."""
        self._kept: list[tuple[np.ndarray, ...]] = []
        self._parts: list[tuple[np.ndarray, ...]] = []
        self._sure_rows: list[np.ndarray] = []  # flagged rows of sure pairs
        self._sure = np.zeros(len(self.cells), dtype=np.int64)  # sure pairs per cell
        self._reached = np.zeros(len(self.cells), dtype=np.int64)  # margins at or above tau
        self._pending = 0  # pairs kept since the last compaction
        self._set_bounds(tau, tau_high)

    def _estimate_bounds(
        self, sample: RowSample | None, class_counts: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """``tau`` and ``tau_high`` per cell from the sample (no bounds without one)."""
        tau = np.full(len(self.cells), -np.inf)
        tau_high = np.full(len(self.cells), np.inf)
        if sample is None:
            return tau, tau_high
        per_class = np.bincount(sample.labels, minlength=self.num_classes)
        order = np.argsort(sample.labels, kind="stable")
        bounds = np.searchsorted(sample.labels[order], np.arange(self.num_classes + 1))
        sc = take_labelled(sample.values, sample.labels)
        for i in np.flatnonzero((per_class >= MIN_SAMPLE_PER_CLASS) & (self.num_columns > 0)):
            members = order[bounds[i] : bounds[i + 1]]
            a, b = self.indptr[i], self.indptr[i + 1]
            # one row per cell (contiguous, so each sorts fast), ascending
            margins = sample.values.take(members, axis=0)[:, self.cell_column[a:b]].T - sc[members]
            expected = self.limit[a:b] * (len(members) / class_counts[i])
            spread = BOUND_SIGMAS * np.sqrt(expected) + BOUND_ROWS
            rank = np.maximum(np.ceil(expected + spread), 1).astype(np.int64)
            rank_high = np.floor(expected - spread).astype(np.int64)
            fits = np.flatnonzero(rank <= len(members))
            surely = np.flatnonzero(rank_high >= 1)
            ranked = np.sort(margins, axis=1)
            tau[a + fits] = ranked[fits, len(members) - rank[fits]]
            tau_high[a + surely] = ranked[surely, len(members) - rank_high[surely]]
        return tau, tau_high

    def _set_bounds(self, tau: np.ndarray, tau_high: np.ndarray) -> None:
        """Use these bounds per cell from now on.

        ``tau = +inf``: the cell is not read, ``-inf``: no lower bound; ``tau_high = +inf``: no
        pair is sure.
        """
        self._tau = tau
        self._tau_high = tau_high
        lowest = np.full(self.num_classes, np.inf)
        filled = np.flatnonzero(self.num_columns)
        if filled.size:
            lowest[filled] = np.minimum.reduceat(tau, self.indptr[filled])
        self._lowest = lowest  # +inf: a class with no cell to fill
        self._bounds: dict[np.dtype, np.ndarray] = {}

    def _bounds_in(self, dtype: np.dtype) -> np.ndarray:
        """Per-cell bounds in ``dtype`` (a K x K table when dense), rounded down one step more.

        Margins in float32 are rounded, so a bound a little lower keeps every margin that
        reaches ``tau`` exactly.
        """
        if dtype not in self._bounds:
            low = _round_to(dtype, self._tau, up=False)
            finite = np.isfinite(low)
            low[finite] = np.nextafter(low[finite], np.array(-np.inf, dtype=dtype))
            if self.dense:
                table = np.full(self.num_classes**2, np.inf, dtype=dtype)
                table[self.cells] = low
                low = table.reshape(self.num_classes, self.num_classes)
            self._bounds[dtype] = low
        return self._bounds[dtype]

    def block(self, start: int, labels: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, ...]:
        block = as_work(values)
        sc = take_labelled(block, labels)
        cut = (_pair_sum_bound(block, self.lowest_value) - self._lowest + _MARGIN_SLACK) / 2
        rows = np.flatnonzero(sc <= _round_to(block.dtype, cut, up=True)[labels])
        if self.dense:
            cell, row, value = self._pairs_dense(block, labels, sc, rows)
        else:
            cell, row, value = self._pairs_sparse(block, labels, sc, rows)
        margin64 = value.astype(np.float64)
        margin64 -= sc[row]  # exact: both are float32 or float64 values
        reached = np.bincount(cell[margin64 >= self._tau[cell]], minlength=len(self.cells))
        agrees = np.zeros(len(row), dtype=bool)
        # a margin above the tolerance: the row's label is not on top
        unsure = np.flatnonzero(margin64 <= TOLERANCE + _MARGIN_SLACK)
        if unsure.size:
            look = sorted_unique(row[unsure])[0]
            top = label_on_top(sc[look], block.take(look, axis=0).max(axis=1))
            agrees[unsure] = top[np.searchsorted(look, row[unsure])]
        sure = margin64 > self._tau_high[cell]
        sure_counts = np.bincount(cell[sure], minlength=len(self.cells))
        sure_rows = row[sure & ~agrees] + start
        kept = np.flatnonzero(~sure)
        key = 0.0 - margin64[kept]  # 0.0 - : a margin of 0 gets the key +0.0
        pair = (cell[kept], key, row[kept] + start, agrees[kept])
        return reached, sure_counts, sure_rows, pair

    def _pairs_dense(
        self, block: np.ndarray, labels: np.ndarray, sc: np.ndarray, rows: np.ndarray
    ) -> tuple[np.ndarray, ...]:
        """The same pairs, tested along the rows against a K x K table of bounds."""
        k = block.shape[1]
        row_labels = labels[rows]
        sub = block.take(rows, axis=0)
        hits = np.flatnonzero(sub - sc[rows, None] >= self._bounds_in(block.dtype).take(row_labels, axis=0))
        local = hits // k
        cell = self.cell_of[row_labels[local].astype(np.int64) * k + (hits - local * k)]
        return cell, rows[local], sub.reshape(-1)[hits]

    def _pairs_sparse(
        self, block: np.ndarray, labels: np.ndarray, sc: np.ndarray, rows: np.ndarray
    ) -> tuple[np.ndarray, ...]:
        """The same pairs, visiting only the active cells of each row's class (many classes)."""
        k = block.shape[1]
        row_labels = labels[rows]
        lengths = self.num_columns[row_labels]
        pairs = int(lengths.sum())
        firsts = np.repeat(self.indptr[row_labels] - (np.cumsum(lengths) - lengths), lengths)
        cell = firsts + np.arange(pairs)
        row = np.repeat(rows, lengths)
        value = np.take(block.reshape(-1), row * k + self.cell_column[cell])
        keep = np.flatnonzero(value - sc[row] >= self._bounds_in(block.dtype)[cell])
        return cell[keep], row[keep], value[keep]

    def add(self, part: tuple[Any, ...]) -> None:
        reached, sure_counts, sure_rows, pair = part
        self._reached += reached
        self._sure += sure_counts
        self._sure_rows.append(sure_rows)
        self._parts.append(pair)
        self._pending += len(pair[0])
        if self._pending > 2 * int(self.limit.sum()) + COMPACT_MIN_PAIRS:
            self._compact()

    def _compact(self) -> None:
        """Keep each cell's best ``m`` pairs so far; a full cell's worst one raises its bound.

        A later row can only enter a full cell with a larger margin (a tie loses on row index),
        so the bound stays a valid lower bound and keeps memory to about twice the selection.
        """
        cell, key, row, agrees = (np.concatenate([p[f] for p in self._parts]) for f in range(4))
        chosen = smallest_per_group(cell, key, self.limit)
        cell, key = cell[chosen], key[chosen]
        self._parts = [(cell, key, row[chosen], agrees[chosen])]
        self._pending = len(cell)
        worst = np.full(len(self.cells), -np.inf)
        np.maximum.at(worst, cell, key)
        full = (np.bincount(cell, minlength=len(self.cells)) == self.limit) & (-worst > self._tau)
        if full.any():
            self._set_bounds(np.where(full, -worst, self._tau), self._tau_high)

    def finish(self) -> bool:
        """End a pass; whether every cell's selection is now known (else: feed the rows again)."""
        over = self._sure > self.limit
        short = np.isfinite(self._tau) & (self._reached < self.limit)
        if over.any():  # some sure pairs were not: start again, those cells without bounds
            unbounded = over | short
            self._restart(
                np.where(unbounded, -np.inf, self._tau), np.where(unbounded, np.inf, self._tau_high)
            )
            return False
        self._reached[:] = 0
        parts = self._kept + self._parts
        self._parts = []
        self._pending = 0
        if not short.any():
            self._kept = parts
            return True
        # Every pair at or above tau (sure pairs too) of a short cell is selected; read the cell
        # again without bounds, keeping every pair (its sure rows are flagged again: harmless).
        self._kept = [tuple(x[~short[p[0]]] for x in p) for p in parts]
        self._sure[short] = 0
        self._set_bounds(np.where(short, -np.inf, np.inf), np.full(len(self.cells), np.inf))
        return False

    def flagged(self, num_rows: int) -> np.ndarray:
        """Mask of the rows selected in some cell whose given label is not a top prediction."""
        cell, key, row, agrees = (np.concatenate([p[f] for p in self._kept]) for f in range(4))
        self._kept = []
        chosen = smallest_per_group(cell, key, self.limit - self._sure)
        mask = rows_mask(num_rows, row[chosen][~agrees[chosen]])
        for rows in self._sure_rows:
            mask[rows] = True
        self._sure_rows = []
        return mask


def run_until_finished(task: MarginPass, codes: np.ndarray, pred_probs: Any, *, n_jobs: int | None) -> None:
    """Run ``task`` over an array, again while a bound was too tight (see :meth:`MarginPass.finish`)."""
    run_pass(task, codes, pred_probs, n_jobs=n_jobs)
    while not task.finish():
        run_pass(task, codes, pred_probs, n_jobs=n_jobs)


def largest_margin_rows(
    codes: np.ndarray,
    pred_probs: Any,
    num_per_cell: Cells,
    class_counts: np.ndarray,
    sample: RowSample | None,
    *,
    n_jobs: int | None,
    lowest_value: float | None = None,
) -> np.ndarray:
    """Run :class:`MarginPass` over an array; the flagged mask."""
    task = MarginPass(num_per_cell, class_counts, sample, lowest_value)
    run_until_finished(task, codes, pred_probs, n_jobs=n_jobs)
    return task.flagged(len(codes))


def rows_mask(num_rows: int, rows: np.ndarray) -> np.ndarray:
    """A mask of ``num_rows`` rows, True at ``rows``.

    >>> rows_mask(4, np.array([1, 3]))
    array([False,  True, False,  True])
    """
    mask = np.zeros(num_rows, dtype=bool)
    mask[rows] = True
    return mask
