"""The hot path: passes over row blocks of ``pred_probs``.

Every computation in the core is a few passes over blocks of rows, so ``pred_probs`` is never
copied as a whole and no temporary is larger than one block:

* pass 1, :func:`class_statistics`: examples per class and the per-class thresholds (mean
  self-confidence), summed exactly so the thresholds do not depend on block size or row order;
* pass 2, :func:`confident_counts`: thresholded argmax, the K x K confident joint, the rows off
  its diagonal and whether each row's given label is among the model's top predictions;
* :func:`label_scores`: one quality score per row;
* pass 3, :func:`largest_margin_rows`: for each (given, true) cell, the rows with the largest
  margin, merged block by block.

Selections break ties by (key, row index) through :func:`smallest_per_group`, so the result is
identical for any block size and any number of threads.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from labelaudit._config import get_config
from labelaudit._validate import check_probability_block

T = TypeVar("T")

VALUES_PER_BLOCK = 1 << 20  # about 1M values (4-8 MB) per block by default
MAX_BLOCK_ROWS = 1 << 20  # keeps the exact fixed-point sums of pass 1 below 2**53 per block
PARALLEL_MIN_VALUES = 1 << 21  # smaller inputs run in one thread
_FIXED_POINT_DIGIT = 2.0**31  # self-confidences are summed as two 31-bit integer digits


def block_bounds(num_rows: int, num_classes: int) -> list[tuple[int, int]]:
    """Row ranges ``[start, stop)`` of the blocks (size from the config or automatic)."""
    rows = get_config()["block_rows"] or max(1, VALUES_PER_BLOCK // num_classes)
    rows = min(rows, MAX_BLOCK_ROWS)
    return [(s, min(s + rows, num_rows)) for s in range(0, num_rows, rows)]


def resolve_n_jobs(n_jobs: int | None) -> int:
    n_jobs = n_jobs if n_jobs is not None else get_config()["n_jobs"]
    if n_jobs is None:
        return 1
    return os.cpu_count() or 1 if n_jobs == -1 else n_jobs


def map_blocks(
    func: Callable[[int, int], T], shape: tuple[int, int], n_jobs: int | None
) -> Iterator[T]:
    """Apply ``func(start, stop)`` to every block, yielding results in block order.

    Threads are used when ``n_jobs > 1`` and the input is large enough; numpy releases the GIL
    inside the per-block work, and results are consumed in block order either way.
    """
    bounds = block_bounds(*shape)
    workers = min(resolve_n_jobs(n_jobs), len(bounds))
    if workers <= 1 or shape[0] * shape[1] < PARALLEL_MIN_VALUES:
        for start, stop in bounds:
            yield func(start, stop)
        return
    with ThreadPoolExecutor(max_workers=workers) as pool:
        yield from pool.map(lambda b: func(*b), bounds)


def read_block(pred_probs: Any, start: int, stop: int) -> np.ndarray:
    """Rows ``start:stop`` as an ndarray (a view for in-memory arrays, a read for others)."""
    return np.asarray(pred_probs[start:stop])


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


@dataclass(frozen=True)
class ClassStatistics:
    """Result of pass 1."""

    counts: np.ndarray  # examples per given class, int64 (K,)
    thresholds: np.ndarray  # mean self-confidence per class, float64 (K,); inf where count is 0
    self_confidence: np.ndarray | None  # p[i, labels[i]] per row, when asked for


def class_statistics(
    codes: np.ndarray, pred_probs: Any, *, n_jobs: int | None, keep_self_confidence: bool = False
) -> ClassStatistics:
    """Pass 1: validate every block; count examples and sum self-confidence per given class.

    The threshold of class ``j`` is the mean of ``pred_probs[i, j]`` over rows labelled ``j``
    (the confident learning paper's ``t_j``), correctly rounded from an exact sum. A class with no
    examples has no threshold (``inf``): no row can be counted as confidently belonging to it.
    """
    n, k = pred_probs.shape
    sc_dtype = self_confidence_dtype(pred_probs.dtype)
    self_conf = np.empty(n, dtype=sc_dtype) if keep_self_confidence else None

    def work(start: int, stop: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        block = read_block(pred_probs, start, stop)
        check_probability_block(block, start)
        y = codes[start:stop]
        sc = block[np.arange(stop - start), y]
        if self_conf is not None:
            self_conf[start:stop] = sc
        hi, lo = _fixed_point_digits(sc.astype(np.float64))
        return (
            np.bincount(y, minlength=k),
            np.bincount(y, weights=hi, minlength=k).astype(np.int64),
            np.bincount(y, weights=lo, minlength=k).astype(np.int64),
        )

    counts = np.zeros(k, dtype=np.int64)
    hi_sum = np.zeros(k, dtype=np.int64)
    lo_sum = np.zeros(k, dtype=np.int64)
    for c, hi, lo in map_blocks(work, (n, k), n_jobs):
        counts += c
        hi_sum += hi
        lo_sum += lo
    thresholds = np.full(k, np.inf)
    scale = 1 << 62
    for j in np.flatnonzero(counts):
        # int / int is correctly rounded in Python
        thresholds[j] = (int(hi_sum[j]) * (1 << 31) + int(lo_sum[j])) / (scale * int(counts[j]))
    return ClassStatistics(counts=counts, thresholds=thresholds, self_confidence=self_conf)


def self_confidence_dtype(dtype: np.dtype) -> np.dtype:
    """Scores keep float32 for float32/float16 input and use float64 otherwise."""
    dtype = np.dtype(dtype)
    return np.dtype(np.float32) if dtype in (np.float16, np.float32) else np.dtype(np.float64)


@dataclass(frozen=True)
class ConfidentCounts:
    """Result of pass 2."""

    confident_joint: np.ndarray  # int64 (K, K): rows given label, columns suggested true label
    off_diagonal_rows: np.ndarray  # sorted row indices counted off the diagonal
    agrees: np.ndarray  # bool (n,): given label is among the argmax classes of the row


def confident_counts(
    codes: np.ndarray, pred_probs: Any, thresholds: np.ndarray, *, n_jobs: int | None
) -> ConfidentCounts:
    """Pass 2: the confident joint (uncalibrated).

    A row with given label ``i`` is counted when at least one class reaches its threshold
    (``p[j] >= t_j``): in cell ``(i, j)`` for that class when it is the only one, and for the
    most probable class of the row when several are (the rule of the paper's released code,
    which reproduces its published results; the lowest index wins an exact tie). Rows above no
    threshold are not counted.
    """
    n, k = pred_probs.shape

    def work(start: int, stop: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        block = read_block(pred_probs, start, stop)
        y = codes[start:stop]
        rows = np.arange(stop - start)
        above = block >= thresholds
        num_above = above.sum(axis=1)
        guess = np.where(num_above > 1, block.argmax(axis=1), above.argmax(axis=1))
        counted = num_above > 0
        cells = np.bincount(y[counted].astype(np.int64) * k + guess[counted], minlength=k * k)
        off = np.flatnonzero(counted & (guess != y)) + start
        agrees = block[rows, y] >= block.max(axis=1)
        return cells, off, agrees

    joint = np.zeros(k * k, dtype=np.int64)
    off_rows, agrees = [], np.empty(n, dtype=bool)
    for (start, stop), (cells, off, agr) in zip(block_bounds(n, k), map_blocks(work, (n, k), n_jobs)):
        joint += cells
        off_rows.append(off)
        agrees[start:stop] = agr
    return ConfidentCounts(
        confident_joint=joint.reshape(k, k),
        off_diagonal_rows=np.concatenate(off_rows).astype(np.int64),
        agrees=agrees,
    )


SCORE_METHODS = ("self_confidence", "normalized_margin", "confidence_weighted_entropy")


def score_block(block: np.ndarray, y: np.ndarray, method: str, adjust: np.ndarray | None) -> np.ndarray:
    """Label quality scores of one block, in float64 (lower = more likely mislabelled).

    ``adjust`` holds per-class thresholds to subtract before renormalising (see
    :func:`labelaudit.get_label_quality_scores`), or ``None``.
    """
    rows = np.arange(len(y))
    if adjust is None and method == "self_confidence":
        return block[rows, y].astype(np.float64)
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
    denom = self_conf + entropy
    return np.divide(self_conf, denom, out=np.zeros_like(self_conf), where=denom > 0)


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
            check_probability_block(block, start)
        out[start:stop] = score_block(block, codes[start:stop], method, adjust)

    for _ in map_blocks(work, (n, k), n_jobs):
        pass
    return out


def smallest_per_group(
    group: np.ndarray, key: np.ndarray, row: np.ndarray, limit: np.ndarray
) -> np.ndarray:
    """Positions of the ``limit[g]`` smallest ``(key, row)`` pairs within each group ``g``.

    Exact ties in ``key`` go to the lower row index, so the choice does not depend on the
    order in which candidates arrive.

    >>> smallest_per_group(np.array([0, 0, 0, 1]), np.array([.5, .2, .5, .1]),
    ...                    np.array([7, 8, 3, 9]), np.array([2, 0]))
    array([1, 2])
    """
    order = np.lexsort((row, key, group))
    sorted_group = group[order]
    first = np.searchsorted(sorted_group, sorted_group, side="left")
    rank = np.arange(len(order)) - first
    return np.sort(order[rank < limit[sorted_group]])


def largest_margin_rows(
    codes: np.ndarray, pred_probs: Any, num_per_cell: np.ndarray, *, n_jobs: int | None
) -> np.ndarray:
    """Pass 3 (prune by noise rate): rows to flag, sorted.

    For each off-diagonal cell ``(i, j)`` with ``m = num_per_cell[i, j] > 0``, the ``m`` rows
    labelled ``i`` with the largest margin ``p[j] - p[i]`` (ties: lower row index). Each block
    proposes its own best ``m`` per cell; merging them keeps the best ``m`` overall, which is
    exactly the selection over all rows at once.
    """
    n, k = pred_probs.shape
    limit = num_per_cell.ravel()
    active = np.flatnonzero(num_per_cell.sum(axis=1) > 0)
    if len(active) == 0:
        return np.empty(0, dtype=np.int64)
    columns = {i: np.flatnonzero(num_per_cell[i]) for i in active}

    def work(start: int, stop: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        block = read_block(pred_probs, start, stop)
        y = codes[start:stop]
        order = np.argsort(y, kind="stable")
        bounds = np.searchsorted(y[order], np.arange(k + 1))
        cells, keys, rows = [], [], []
        for i in active:
            members = order[bounds[i] : bounds[i + 1]]
            if len(members) == 0:
                continue
            sub = block[members]
            js = columns[i]
            margin = sub[:, js].astype(np.float64) - sub[:, i].astype(np.float64)[:, None]
            cells.append(np.broadcast_to(i * k + js, margin.shape).ravel())
            keys.append(-margin.ravel())
            rows.append(np.broadcast_to((members + start)[:, None], margin.shape).ravel())
        if not cells:
            empty = np.empty(0, dtype=np.int64)
            return empty, np.empty(0), empty
        cell, key, row = np.concatenate(cells), np.concatenate(keys), np.concatenate(rows)
        keep = smallest_per_group(cell, key, row, limit)
        return cell[keep], key[keep], row[keep]

    cell = np.empty(0, dtype=np.int64)
    key = np.empty(0)
    row = np.empty(0, dtype=np.int64)
    for c, kk, r in map_blocks(work, (n, k), n_jobs):
        cell, key, row = np.concatenate([cell, c]), np.concatenate([key, kk]), np.concatenate([row, r])
        keep = smallest_per_group(cell, key, row, limit)
        cell, key, row = cell[keep], key[keep], row[keep]
    return np.unique(row)
