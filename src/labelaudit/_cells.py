"""K x K count matrices stored by their non-zero cells, and the integer arithmetic on them.

With thousands of classes a dense K x K matrix of int64 is hundreds of megabytes, while the
confident joint has at most one non-zero cell per example; so the core keeps the joint, its
calibration and the per-cell pruning counts as :class:`Cells` and works on all rows at once
(no Python loop over classes). Dense matrices are made only where a user asks for one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def run_starts(ordered: np.ndarray) -> np.ndarray:
    """Positions where a run of equal values starts in a sorted array (none when it is empty).

    >>> run_starts(np.array([1, 1, 3, 5, 5]))
    array([0, 2, 3])
    """
    return np.flatnonzero(np.r_[len(ordered) > 0, ordered[1:] != ordered[:-1]])


@dataclass(frozen=True)
class Cells:
    """The non-zero cells of a K x K matrix, in row-major order.

    ``index`` holds ``row * K + column`` (ascending, distinct) and ``value`` the entries.

    >>> c = Cells.from_dense(np.array([[3, 0], [1, 2]]))
    >>> c.index, c.value
    (array([0, 2, 3]), array([3, 1, 2]))
    >>> c.dense().tolist()
    [[3, 0], [1, 2]]
    """

    num_classes: int
    index: np.ndarray
    value: np.ndarray

    @classmethod
    def from_dense(cls, matrix: np.ndarray) -> Cells:
        flat = np.asarray(matrix).ravel()
        index = np.flatnonzero(flat)
        return cls(int(np.asarray(matrix).shape[0]), index, flat[index])

    @classmethod
    def from_counts(cls, num_classes: int, index: np.ndarray, counts: np.ndarray) -> Cells:
        """Cells from (flat index, count) pairs in any order, adding counts of equal indices."""
        order = np.argsort(index, kind="stable")
        index, counts = np.asarray(index)[order], np.asarray(counts)[order]
        first = run_starts(index)
        sums = np.add.reduceat(counts, first)
        keep = sums != 0
        return cls(num_classes, index[first][keep].astype(np.int64), sums[keep])

    @property
    def rows(self) -> np.ndarray:
        return self.index // self.num_classes

    @property
    def columns(self) -> np.ndarray:
        return self.index % self.num_classes

    def dense(self) -> np.ndarray:
        k = self.num_classes
        out = np.zeros(k * k, dtype=self.value.dtype)
        out[self.index] = self.value
        return out.reshape(k, k)

    def diagonal(self) -> np.ndarray:
        out = np.zeros(self.num_classes, dtype=self.value.dtype)
        on = self.rows == self.columns
        out[self.rows[on]] = self.value[on]
        return out

    def row_sums(self) -> np.ndarray:
        """Entries per row added (exactly for integers)."""
        out = np.zeros(self.num_classes, dtype=self.value.dtype)
        np.add.at(out, self.rows, self.value)
        return out

    def select(self, keep: np.ndarray) -> Cells:
        return Cells(self.num_classes, self.index[keep], self.value[keep])


def apportion_groups(group: np.ndarray, weights: np.ndarray, totals: np.ndarray) -> np.ndarray:
    """Split ``totals[g]`` among the entries of each group ``g`` in proportion to ``weights``.

    Largest remainder: each entry gets the floor of its exact share and the units left go to
    the largest remainders, the lower position first on a tie. Integer weights are handled in
    exact integer arithmetic. A group whose weights add up to 0 gets nothing.

    >>> apportion_groups(np.array([0, 0, 0, 1, 1]), np.array([1, 1, 1, 0, 3]), np.array([4, 2]))
    array([2, 1, 1, 0, 2])
    """
    group = np.asarray(group, dtype=np.int64)
    weights = np.asarray(weights)
    totals = np.asarray(totals, dtype=np.int64)
    if len(weights) == 0:
        return np.zeros(0, dtype=np.int64)
    whole = np.zeros(len(totals), dtype=np.int64 if weights.dtype.kind in "iub" else np.float64)
    np.add.at(whole, group, weights)
    empty = whole == 0
    safe_whole = np.where(empty, 1, whole)[group]
    total = np.where(empty, 0, totals)[group]
    if weights.dtype.kind in "iub":
        numer = weights.astype(np.int64) * total
        share, remainder = numer // safe_whole, numer % safe_whole
    else:
        exact = weights.astype(np.float64) * (total / safe_whole)
        share = np.floor(exact)
        remainder = exact - share
    share = share.astype(np.int64)
    given = np.zeros(len(totals), dtype=np.int64)
    np.add.at(given, group, share)
    left = np.where(empty, 0, totals) - given
    order = np.lexsort((np.arange(len(weights)), -remainder, group))
    first = np.searchsorted(group[order], group[order], side="left")
    rank = np.arange(len(order)) - first
    share[order[rank < left[group[order]]]] += 1
    return share


def apportion(weights: np.ndarray, total: int) -> np.ndarray:
    """Integers proportional to ``weights`` that add up to ``total`` (largest remainder).

    Each entry gets the floor of its exact share; the units left go to the largest remainders,
    the lower index first on a tie. Integer weights are handled in exact integer arithmetic.

    >>> apportion(np.array([1, 1, 1]), 4)
    array([2, 1, 1])
    >>> apportion(np.array([0, 3, 1]), 2)
    array([0, 2, 0])
    """
    weights = np.asarray(weights)
    return apportion_groups(np.zeros(len(weights), dtype=np.int64), weights, np.array([total]))


def calibrate(joint: Cells, label_counts: np.ndarray) -> Cells:
    """Scale each row of the confident joint to the number of examples with that given label.

    A given class with examples but no confidently counted row keeps all of them on the
    diagonal (no evidence of noise); a class with no examples gets an empty row.
    """
    k = joint.num_classes
    label_counts = np.asarray(label_counts, dtype=np.int64)
    counted = joint.row_sums() > 0
    kept = joint.select(counted[joint.rows] & (label_counts[joint.rows] > 0))
    shares = apportion_groups(kept.rows, kept.value, label_counts)
    lonely = np.flatnonzero(~counted & (label_counts > 0))
    return Cells.from_counts(
        k,
        np.concatenate([kept.index, lonely * (k + 1)]),
        np.concatenate([shares, label_counts[lonely]]),
    )
