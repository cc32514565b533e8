"""Pieces shared by the structured-label modules (token, segmentation, detection).

* :class:`StackedRows`: many row sources (sentences, images) seen as one ``rows x K`` array
  that the core kernels read block by block, so nothing is concatenated as a whole;
* :func:`pool_scores`: one score from many (minimum or soft minimum);
* :func:`explained`: adds what a row number means to errors raised by the core;
* checks that the core has no need for (integer class ids, positive numbers).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from labelaudit._validate import check_choice

POOLING_METHODS = ("softmin", "min")


class StackedRows:
    """Row sources of ``lengths[p]`` rows each, seen as one array of ``sum(lengths)`` rows.

    Each row has shape ``row_shape``: ``(K,)`` for probabilities, ``()`` for labels. Only what
    the core kernels use is provided: ``shape``, ``dtype``, ``ndim``, ``len`` and slicing rows
    with step 1. A slice reads just the parts it overlaps through ``read(part, start, stop)``,
    which returns rows ``start:stop`` of that part.

    Examples
    --------
    >>> parts = [np.array([[.9, .1]]), np.array([[.2, .8], [.6, .4]])]
    >>> rows = StackedRows([1, 2], (2,), np.float64, lambda p, a, b: parts[p][a:b])
    >>> rows.shape
    (3, 2)
    >>> rows[0:2]
    array([[0.9, 0.1],
           [0.2, 0.8]])
    """

    def __init__(
        self,
        lengths: Sequence[int],
        row_shape: tuple[int, ...],
        dtype: Any,
        read: Callable[[int, int, int], np.ndarray],
    ) -> None:
        self.offsets = np.concatenate([[0], np.cumsum(lengths, dtype=np.int64)])
        self.shape = (int(self.offsets[-1]), *map(int, row_shape))
        self.ndim = len(self.shape)
        self.dtype = np.dtype(dtype)
        self._read = read

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, key: slice) -> np.ndarray:
        if not isinstance(key, slice) or key.step not in (None, 1):
            raise TypeError("StackedRows supports only row slices with step 1, e.g. rows[10:20].")
        start, stop, _ = key.indices(self.shape[0])
        part = int(np.searchsorted(self.offsets, start, side="right")) - 1
        pieces = []
        while start < stop:
            end = min(stop, int(self.offsets[part + 1]))
            if end > start:
                base = int(self.offsets[part])
                pieces.append(np.asarray(self._read(part, start - base, end - base), dtype=self.dtype))
            start, part = end, part + 1
        if not pieces:
            return np.empty((0, *self.shape[1:]), dtype=self.dtype)
        return pieces[0] if len(pieces) == 1 else np.concatenate(pieces)

    def locate(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(part, position within the part)`` of each row index.

        >>> StackedRows([2, 0, 3], (2,), float, None).locate(np.array([0, 2, 4]))
        (array([0, 2, 2]), array([0, 0, 2]))
        """
        rows = np.asarray(rows, dtype=np.int64)
        part = np.searchsorted(self.offsets, rows, side="right") - 1
        return part, rows - self.offsets[part]


def pool_segments(scores: np.ndarray, offsets: np.ndarray, method: str, temperature: float) -> np.ndarray:
    """One score per segment ``scores[offsets[i]:offsets[i + 1]]``: minimum or soft minimum.

    The soft minimum is ``sum(s * w) / sum(w)`` with ``w = exp(-s / temperature)``: a mean
    dominated by the lowest scores, approaching the minimum as ``temperature`` goes to 0. An
    empty segment pools to 1.0 (nothing can be wrong).

    Examples
    --------
    >>> pool_segments(np.array([0.2, 0.9, 0.9, 0.5]), np.array([0, 3, 3, 4]), "min", 0.1)
    array([0.2, 1. , 0.5])
    >>> pool_segments(np.array([0.2, 0.9, 0.9]), np.array([0, 3]), "softmin", 0.1).round(4)
    array([0.2013])
    """
    offsets = np.asarray(offsets, dtype=np.int64)
    lengths = np.diff(offsets)
    out = np.ones(len(lengths))
    filled = np.flatnonzero(lengths)
    if len(filled) == 0:
        return out
    s = np.asarray(scores, dtype=np.float64)
    starts = offsets[filled]  # consecutive non-empty segments: reduceat sums each exactly once
    low = np.minimum.reduceat(s, starts)
    if method == "min":
        out[filled] = low
        return out
    weights = np.exp((np.repeat(low, lengths[filled]) - s) / temperature)
    out[filled] = np.add.reduceat(s * weights, starts) / np.add.reduceat(weights, starts)
    return out


def pool_scores(scores: np.ndarray, method: str, temperature: float) -> float:
    """:func:`pool_segments` of one segment holding all ``scores``."""
    return float(pool_segments(scores, np.array([0, len(scores)]), method, temperature)[0])


def check_pooling(name: str, method: Any, temperature: Any) -> float:
    """Check a pooling method and its temperature (a positive number); return the temperature."""
    check_choice(name, method, POOLING_METHODS)
    if (
        isinstance(temperature, bool)
        or not isinstance(temperature, (int, float, np.integer, np.floating))
        or not np.isfinite(temperature)
        or temperature <= 0
    ):
        raise ValueError(
            f"temperature={temperature!r} is not valid; use a positive number such as 0.1 "
            "(smaller is closer to the minimum)."
        )
    return float(temperature)


def check_class_ids(name: str, values: Any, num_classes: int | None = None) -> np.ndarray:
    """``values`` as a 1-D array of integer class ids in ``0..num_classes-1`` (any size)."""
    arr = np.asarray(values)
    if arr.size == 0:
        return arr.astype(np.int64).reshape(0)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D (one class id each); found shape {arr.shape}.")
    if not np.issubdtype(arr.dtype, np.integer):
        if not (np.issubdtype(arr.dtype, np.floating) and np.isfinite(arr).all() and (arr == np.round(arr)).all()):
            raise TypeError(
                f"{name} must hold integer class ids; found dtype {arr.dtype} "
                f"(first values {arr[:3].tolist()!r}). Map class names to ids 0..K-1 first."
            )
        arr = arr.astype(np.int64)
    low, high = int(arr.min()), int(arr.max())
    if low < 0 or (num_classes is not None and high >= num_classes):
        limit = "0..K-1" if num_classes is None else f"0..{num_classes - 1}, one per pred_probs column"
        raise ValueError(f"{name} holds {low if low < 0 else high}; class ids must be in {limit}.")
    return arr


def check_per_item(item: str, first: tuple[str, Any], second: tuple[str, Any]) -> None:
    """Check two lists with one entry per ``item`` (sentence, image): list-like, same length, not empty."""
    for name, value in (first, second):
        if isinstance(value, (str, bytes, dict, np.ndarray)) or not isinstance(value, Sequence):
            raise TypeError(
                f"{name} must be a list with one entry per {item}; found {type(value).__name__}. "
                f"Split it into per-{item} pieces."
            )
    (first_name, first_value), (second_name, second_value) = first, second
    if len(first_value) != len(second_value):
        raise ValueError(
            f"{first_name} has {len(first_value)} {item}s but {second_name} has "
            f"{len(second_value)}; give one entry per {item} in both, in the same order."
        )
    if len(first_value) == 0:
        raise ValueError(f"{first_name} is empty; pass at least one {item}.")


@contextlib.contextmanager
def explained(note: str) -> Iterator[None]:
    """Re-raise a ValueError or TypeError from the core with ``note`` (what a row is) appended."""
    try:
        yield
    except (ValueError, TypeError) as err:
        raise type(err)(f"{err} ({note})") from None


def class_name(class_names: Sequence[Any] | None, k: int) -> Any:
    """The name of class ``k`` (``k`` itself without names)."""
    return int(k) if class_names is None else class_names[int(k)]

