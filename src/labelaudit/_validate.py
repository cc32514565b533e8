"""Every input check, in one place, with one error style.

Messages name the argument, say what was expected and what was found, and how to fix it.
Structural checks (shapes, dtypes, label values) run before any pass over ``pred_probs``;
value checks on ``pred_probs`` (finite, within [0, 1], rows summing to 1) run block by block in
the first pass, before any result exists.

Rounding tolerance: values down to ``-VALUE_TOLERANCE`` and up to ``1 + VALUE_TOLERANCE`` are
accepted as they are (for example 1.00001 from a float32 softmax), and so are rows whose sum is
within ``ROW_SUM_TOLERANCE`` of 1 (float16 probabilities rarely sum to exactly 1).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

VALUE_TOLERANCE = 1e-4
ROW_SUM_TOLERANCE = 1e-3

NORMALIZE_HINT = "normalize each row, e.g. pred_probs / pred_probs.sum(axis=1, keepdims=True)"


def _shorten(values: Sequence[Any], limit: int = 5) -> str:
    shown = ", ".join(repr(v.item() if isinstance(v, np.generic) else v) for v in values[:limit])
    return f"[{shown}{', ...' if len(values) > limit else ''}]"


def check_choice(name: str, value: Any, valid: Sequence[str]) -> str:
    """Return ``value`` if it is one of ``valid``, else raise a ValueError listing them."""
    if not isinstance(value, str) or value not in valid:
        raise ValueError(
            f"{name}={value!r} is not recognised; use one of: {', '.join(map(repr, valid))}."
        )
    return value


def check_n_jobs(n_jobs: Any) -> int | None:
    """``None``, ``-1`` (all cores) or a positive number of threads."""
    if n_jobs is None:
        return None
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, (int, np.integer)) or n_jobs == 0 or n_jobs < -1:
        raise ValueError(
            f"n_jobs={n_jobs!r} is not valid; use None (the configured default), -1 (one thread "
            "per core) or a positive number of threads."
        )
    return int(n_jobs)


def check_block_rows(block_rows: Any) -> int | None:
    """``None`` (automatic) or a positive number of rows."""
    if block_rows is None:
        return None
    if isinstance(block_rows, bool) or not isinstance(block_rows, (int, np.integer)) or block_rows < 1:
        raise ValueError(f"block_rows={block_rows!r} is not valid; use None or a positive integer.")
    return int(block_rows)


def check_fraction(name: str, value: Any) -> float:
    """A number in [0, 1]."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number in [0, 1]; found {type(value).__name__}.")
    if not 0.0 <= float(value) <= 1.0:
        raise ValueError(f"{name}={value!r} is outside [0, 1]; use a fraction such as 1.0 (all) or 0.5.")
    return float(value)


def check_nonnegative_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{name}={value!r} is not valid; use a non-negative integer.")
    return int(value)


def _is_numpy_like(array: Any) -> bool:
    """Has ``shape``, ``ndim``, row slicing and a dtype numpy understands (memmap, zarr, h5py)."""
    if not all(hasattr(array, a) for a in ("shape", "dtype", "ndim", "__getitem__")):
        return False
    try:
        np.dtype(array.dtype)
    except TypeError:  # e.g. a torch tensor: read it through np.asarray
        return False
    return True


def as_pred_probs(pred_probs: Any) -> Any:
    """Check the structure of ``pred_probs`` without reading its values.

    Anything with ``shape``, ``dtype``, ``ndim`` and row slicing (``np.memmap``, zarr, h5py) is
    kept as it is, so it can be read block by block; other inputs go through ``np.asarray``.
    """
    if not _is_numpy_like(pred_probs):
        try:
            pred_probs = np.asarray(pred_probs)
        except ValueError as err:  # ragged nested lists
            raise TypeError(
                "pred_probs must be a 2-D numeric array (rows = examples, columns = classes); "
                f"it could not be read as one ({err}). Check that every row has one value per class."
            ) from None
    dtype = np.dtype(pred_probs.dtype)
    if dtype == object:
        raise TypeError(
            "pred_probs must be a 2-D numeric array; found dtype object (ragged rows or mixed "
            "types). Pass a float array with one column per class."
        )
    if dtype == bool or not (np.issubdtype(dtype, np.floating) or np.issubdtype(dtype, np.integer)):
        raise TypeError(
            f"pred_probs must hold real numbers (float16/32/64); found dtype {dtype}. "
            "Convert with np.asarray(pred_probs, dtype=np.float32)."
        )
    if pred_probs.ndim != 2:
        raise ValueError(
            f"pred_probs must be 2-D (n_examples, n_classes); found {pred_probs.ndim}-D with shape "
            f"{tuple(pred_probs.shape)}. For one example per row reshape it; multi-label or token "
            "probabilities belong to their own modules."
        )
    n, k = pred_probs.shape
    if n == 0:
        raise ValueError("pred_probs is empty (0 rows); pass at least one example.")
    if k < 2:
        raise ValueError(
            f"pred_probs has {k} column; label issues need at least 2 classes (one column per class)."
        )
    return pred_probs


def check_probability_block(block: np.ndarray, start: int) -> None:
    """Value checks on rows ``start:start+len(block)`` of ``pred_probs`` (one block)."""
    if np.issubdtype(block.dtype, np.floating) and not np.isfinite(block).all():
        row = start + int(np.flatnonzero(~np.isfinite(block).all(axis=1))[0])
        raise ValueError(
            f"pred_probs contains NaN or inf (first in row {row}); every value must be a finite "
            "probability. Check the model output for that row."
        )
    low, high = block.min(), block.max()
    if low < -VALUE_TOLERANCE or high > 1 + VALUE_TOLERANCE:
        bad = (block < -VALUE_TOLERANCE) | (block > 1 + VALUE_TOLERANCE)
        row = start + int(np.flatnonzero(bad.any(axis=1))[0])
        raise ValueError(
            f"pred_probs must hold probabilities in [0, 1] (rounding up to {VALUE_TOLERANCE:g} "
            f"accepted); found values from {float(low):g} to {float(high):g} (first bad row {row}). "
            "Pass probabilities (e.g. softmax of logits), not scores or logits."
        )
    sums = block.sum(axis=1, dtype=np.float64)
    off = np.abs(sums - 1.0) > ROW_SUM_TOLERANCE
    if off.any():
        row = int(np.flatnonzero(off)[0])
        raise ValueError(
            f"rows of pred_probs must sum to 1 (within {ROW_SUM_TOLERANCE:g}); row {start + row} "
            f"sums to {sums[row]:.6g}. Fix: {NORMALIZE_HINT}."
        )


@dataclass(frozen=True)
class EncodedLabels:
    """Labels as class indices ``0..K-1`` plus the class of each index."""

    codes: np.ndarray
    classes: np.ndarray
    names_given: bool  # True when labels were class names rather than indices

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def counts(self) -> np.ndarray:
        return np.bincount(self.codes, minlength=self.num_classes).astype(np.int64)


def _as_label_array(labels: Any) -> np.ndarray:
    if isinstance(labels, (str, bytes)) or not hasattr(labels, "__len__"):
        raise TypeError(f"labels must be a 1-D array of class labels; found {type(labels).__name__}.")
    try:
        arr = np.asarray(labels)
    except ValueError:
        arr = np.asarray(list(labels), dtype=object)
    if arr.ndim != 1:
        raise ValueError(
            f"labels must be 1-D (one class per example); found shape {arr.shape}. "
            "For several labels per example use labelaudit.multilabel."
        )
    if arr.size == 0:
        raise ValueError("labels is empty; pass one class label per example.")
    if arr.dtype == object and any(isinstance(v, (list, tuple, set, np.ndarray)) for v in arr[:1000]):
        raise ValueError(
            "labels must hold one class per example; found lists. "
            "For several labels per example use labelaudit.multilabel."
        )
    return arr


def _has_missing(arr: np.ndarray) -> bool:
    if np.issubdtype(arr.dtype, np.floating):
        return bool(np.isnan(arr).any())
    if arr.dtype == object:
        return any(v is None or (isinstance(v, float) and math.isnan(v)) for v in arr)
    return False


def encode_labels(labels: Any, num_classes: int, *, classes: Any = None) -> EncodedLabels:
    """Check ``labels`` and map them to column indices ``0..num_classes-1``.

    Integer labels are column indices unless ``classes`` is given. Other labels (strings or any
    hashable) need ``classes`` to say which column is which; without it the sorted unique labels
    are used when their number equals ``num_classes``, with a warning that says so.
    """
    arr = _as_label_array(labels)
    if _has_missing(arr):
        raise ValueError("labels contain missing values (NaN or None); give every example a label.")
    if classes is not None:
        return _encode_with_classes(arr, num_classes, classes)
    if np.issubdtype(arr.dtype, np.floating):
        if not np.all(arr == np.round(arr)):
            raise ValueError(
                "labels are non-integer floats; pass integer class indices 0..K-1 or class names "
                "with classes=."
            )
        arr = arr.astype(np.int64)
    if np.issubdtype(arr.dtype, np.integer):
        low, high = int(arr.min()), int(arr.max())
        if low < 0 or high >= num_classes:
            bad = low if low < 0 else high
            raise ValueError(
                f"labels contain {bad}, but pred_probs has {num_classes} columns (classes 0.."
                f"{num_classes - 1}). Every label must have a column in pred_probs; if labels are "
                "class values rather than column indices, pass classes= in column order."
            )
        if arr.dtype.kind == "u":  # signed, and no wider than needed (uint8 pixel masks: int16)
            arr = arr.astype(np.int64 if arr.itemsize == 8 else np.promote_types(arr.dtype, np.int8))
        return EncodedLabels(codes=arr, classes=np.arange(num_classes), names_given=False)
    unique = np.unique(arr.astype(str) if arr.dtype.kind in "US" else _sortable(arr))
    if len(unique) != num_classes:
        raise ValueError(
            f"labels hold {len(unique)} distinct class names but pred_probs has {num_classes} "
            "columns, so which column is which class cannot be inferred; pass classes= (the class "
            "of each pred_probs column, in order)."
        )
    warnings.warn(
        f"classes= not given: the columns of pred_probs are taken to be the sorted unique labels "
        f"{_shorten(list(unique))}. Pass classes= to state the column order and silence this.",
        UserWarning,
        stacklevel=3,
    )
    return _encode_with_classes(arr, num_classes, unique)


def _sortable(arr: np.ndarray) -> np.ndarray:
    try:
        return np.array(sorted(set(arr.tolist())), dtype=object)
    except TypeError:
        raise TypeError(
            "labels mix types that cannot be ordered; pass classes= with the class of each "
            "pred_probs column."
        ) from None


def _encode_with_classes(arr: np.ndarray, num_classes: int, classes: Any) -> EncodedLabels:
    class_arr = np.asarray(classes)
    if class_arr.ndim != 1 or len(class_arr) != num_classes:
        raise ValueError(
            f"classes must list one class per pred_probs column ({num_classes}); found "
            f"{class_arr.size} entries."
        )
    position: dict[Hashable, int] = {}
    for i, c in enumerate(class_arr.tolist()):
        if c in position:
            raise ValueError(f"classes lists {c!r} twice; each class must appear once.")
        position[c] = i
    values = arr.tolist()
    try:
        codes = np.fromiter((position[v] for v in values), dtype=np.int64, count=len(values))
    except KeyError:
        unknown = sorted({v for v in values if v not in position}, key=repr)
        raise ValueError(
            f"labels contain {_shorten(unknown)}, which are not in classes {_shorten(class_arr.tolist())}; "
            "add them to classes (with a pred_probs column each) or fix those labels."
        ) from None
    return EncodedLabels(codes=codes, classes=class_arr, names_given=True)


def check_lengths(labels: EncodedLabels, pred_probs: Any) -> None:
    if len(labels.codes) != pred_probs.shape[0]:
        raise ValueError(
            f"labels has {len(labels.codes)} entries but pred_probs has {pred_probs.shape[0]} rows; "
            "they must describe the same examples in the same order."
        )


def check_confident_joint(confident_joint: Any, num_classes: int | None = None) -> np.ndarray:
    """A square, finite, non-negative count matrix (given label in rows, true label in columns)."""
    cj = np.asarray(confident_joint)
    if cj.dtype == object or not (np.issubdtype(cj.dtype, np.number)):
        raise TypeError(f"confident_joint must be a numeric K x K matrix; found dtype {cj.dtype}.")
    if cj.ndim != 2 or cj.shape[0] != cj.shape[1]:
        raise ValueError(f"confident_joint must be a square K x K matrix; found shape {cj.shape}.")
    if num_classes is not None and cj.shape[0] != num_classes:
        raise ValueError(
            f"confident_joint is {cj.shape[0]} x {cj.shape[0]} but pred_probs has {num_classes} "
            "columns; compute it from the same data."
        )
    if cj.shape[0] < 2:
        raise ValueError("confident_joint must be at least 2 x 2 (two classes).")
    if not np.isfinite(cj).all() or (cj < 0).any():
        raise ValueError("confident_joint must hold finite, non-negative counts.")
    return cj


def check_class_count_vector(name: str, value: Any, num_classes: int) -> np.ndarray:
    arr = np.asarray(value)
    if arr.shape != (num_classes,) or not np.issubdtype(arr.dtype, np.integer) or (arr < 0).any():
        raise ValueError(
            f"{name} must be {num_classes} non-negative integers (one per class); found {arr.tolist()!r}."
        )
    return arr.astype(np.int64)
