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
import numbers
import warnings
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

VALUE_TOLERANCE = 1e-4
ROW_SUM_TOLERANCE = 1e-3

PREDICT_METHODS = ("predict_proba", "decision_function")
NORMALIZE_HINT = "normalize each row, e.g. pred_probs / pred_probs.sum(axis=1, keepdims=True)"


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def shorten(values: Sequence[Any], limit: int = 5) -> str:
    shown = ", ".join(repr(_plain(v)) for v in values[:limit])
    return f"[{shown}{', ...' if len(values) > limit else ''}]"


def check_choice(name: str, value: Any, valid: Sequence[str]) -> str:
    """Return ``value`` if it is one of ``valid``, else raise a ValueError listing them."""
    if not isinstance(value, str) or value not in valid:
        raise ValueError(
            f"{name}={value!r} is not recognised; use one of: {', '.join(map(repr, valid))}."
        )
    return value


def check_bool(name: str, value: Any) -> bool:
    """``value`` as a bool; only ``True`` and ``False`` (Python or numpy) are accepted."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(
            f"{name} must be True or False; found {value!r} ({type(value).__name__}). "
            f"Pass {name}=True or {name}=False."
        )
    return bool(value)


def check_rank_kwargs(rank_by_kwargs: Any) -> bool:
    """``rank_by_kwargs`` checked: the ``adjust_pred_probs`` it holds (False when absent)."""
    if rank_by_kwargs is None:
        return False
    if not isinstance(rank_by_kwargs, dict) or set(rank_by_kwargs) - {"adjust_pred_probs"}:
        raise ValueError(
            f"rank_by_kwargs={rank_by_kwargs!r} is not valid; the only key it accepts is "
            "'adjust_pred_probs' (a bool), e.g. rank_by_kwargs={'adjust_pred_probs': True}."
        )
    return check_bool("adjust_pred_probs", rank_by_kwargs.get("adjust_pred_probs", False))


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


def check_positive_int(name: str, value: Any) -> int:
    if check_nonnegative_int(name, value) == 0:
        raise ValueError(f"{name}=0 is not valid; use a positive integer.")
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


def from_framework(array: Any) -> Any:
    """A torch tensor (or a jax/tensorflow array) as numpy, without importing the framework:
    detached from the autograd graph, on the CPU, bfloat16 as float32 (numpy has no bfloat16);
    anything else as it is.

    Examples
    --------
    >>> from_framework([0.5, 0.5])
    [0.5, 0.5]
    """
    framework = type(array).__module__.split(".")[0]
    if framework == "torch":
        tensor = array.detach().cpu()
        if str(tensor.dtype) == "torch.bfloat16":
            tensor = tensor.float()
        return tensor.numpy()
    if framework in ("jax", "jaxlib", "tensorflow"):
        values = np.asarray(array)
        return values.astype(np.float32) if values.dtype.name == "bfloat16" else values
    return array


def as_pred_probs(pred_probs: Any) -> Any:
    """Check the structure of ``pred_probs`` without reading its values.

    Anything with ``shape``, ``dtype``, ``ndim`` and row slicing (``np.memmap``, zarr, h5py) is
    kept as it is, so it can be read block by block; framework tensors become numpy (see
    :func:`from_framework`) and other inputs go through ``np.asarray``.
    """
    pred_probs = from_framework(pred_probs)
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


def _family(kind: type) -> str:
    """Type family of a class: numbers (numpy or Python, int or float), bools, str, ..."""
    if issubclass(kind, (bool, np.bool_)):
        return "bool"
    if issubclass(kind, numbers.Number):
        return "number"
    return "str" if issubclass(kind, str) else kind.__name__


def _check_one_type(name: str, given: Any, arr: np.ndarray) -> None:
    """Refuse classes of several type families (``0`` and ``'b'``; ``True`` and ``1``).

    numpy stores them alike (``0`` as ``'0'``), so which class a value means would depend on how
    it was passed; ``arr`` is ``given`` through numpy, which keeps one type unless it is an
    object array. ``None`` is a missing value, checked elsewhere.
    """
    if arr.dtype != object and hasattr(given, "dtype"):
        return
    values = arr if arr.dtype == object else given
    kinds = set(map(type, values)) - {type(None)}
    if len({_family(k) for k in kinds}) < 2:
        return
    examples: dict[str, Any] = {}
    for v in values:
        if v is not None:
            examples.setdefault(_family(type(v)), v)
    shown = ", ".join(f"{_plain(v)!r} ({type(v).__name__})" for v in examples.values())
    raise TypeError(
        f"{name} mixes types: {shown}. Mixed classes are ambiguous (numpy stores 0 and '0' "
        "alike); give every class the same type, e.g. all str or all int."
    )


def check_distinct(name: str, values: Sequence[Any]) -> None:
    seen: set[Hashable] = set()
    for v in values:
        if v in seen:
            raise ValueError(f"{name} lists {_plain(v)!r} twice; each class must appear once.")
        seen.add(v)


def _described(source: str, num_classes: int) -> tuple[str, str]:
    """How ``source`` (``"pred_probs"`` or a K x K matrix) gives the classes: its shape, its unit."""
    if source == "pred_probs":
        return f"pred_probs has {num_classes} columns", "pred_probs column"
    return f"{source} is {num_classes} x {num_classes}", f"{source} row"


def check_classes(classes: Any, num_classes: int | None, *, source: str = "pred_probs") -> np.ndarray:
    """``classes`` as an array: the class of each column (or row) of ``source``, in order.

    One entry per class (``num_classes``, or any number when None), all distinct and of one
    type family (numbers, str, bools, ...; numpy and Python numbers are one family).
    """
    unit = "class" if num_classes is None else _described(source, num_classes)[1]
    if isinstance(classes, (str, bytes, set, frozenset, dict)) or not hasattr(classes, "__len__"):
        raise TypeError(
            f"classes must be a list or array with the class of each {unit}, in order; found "
            f"{type(classes).__name__}."
        )
    arr = np.asarray(classes)
    if arr.ndim != 1 or (num_classes is not None and len(arr) != num_classes):
        expected = "" if num_classes is None else f" ({num_classes})"
        raise ValueError(
            f"classes must list one class per {unit}{expected}; found {arr.size} entries"
            f"{'' if arr.ndim == 1 else f' in shape {arr.shape}'}."
        )
    _check_one_type("classes", classes, arr)
    check_distinct("classes", arr.tolist())
    return arr


def check_columns_of(pred_probs: Any, labels: EncodedLabels, name: str) -> Any:
    """``pred_probs`` (structure checked) with one column per sorted unique value of ``name``."""
    pred_probs = as_pred_probs(pred_probs)
    if pred_probs.shape[1] != labels.num_classes:
        raise ValueError(
            f"pred_probs has {pred_probs.shape[1]} columns but {name} has {labels.num_classes} "
            f"classes; pass one column per class, in the order of np.unique({name})."
        )
    return pred_probs


def check_model(model: Any, method: str, *, method_option: bool = True) -> None:
    """``model`` is an estimator instance that can ``fit`` and score rows with ``method``.

    ``method_option``: the caller takes ``method=``, so the message may suggest the other one.
    """
    if isinstance(model, type):
        raise TypeError(
            f"model is the class {model.__name__}; pass an instance, e.g. {model.__name__}()."
        )
    name = type(model).__name__
    if not hasattr(model, "fit"):
        raise TypeError(f"model ({name}) has no fit method; pass a scikit-learn-compatible classifier.")
    if hasattr(model, method):
        return
    other = "decision_function" if method == "predict_proba" else "predict_proba"
    if not hasattr(model, other):
        raise TypeError(
            f"model ({name}) has neither predict_proba nor decision_function, so it cannot score "
            "rows; use a classifier that has predict_proba."
        )
    if method == "decision_function":
        raise TypeError(f"model ({name}) has no decision_function; use method='predict_proba'.")
    hint = (
        ", or pass method='decision_function' to turn its scores into probabilities (softmax)"
        if method_option
        else ""
    )
    raise TypeError(
        f"model ({name}) has no predict_proba; wrap it for probabilities, e.g. "
        f"sklearn.calibration.CalibratedClassifierCV({name}()){hint}."
    )


def check_cv(cv: Any, counts: np.ndarray, classes: Any = None) -> int:
    """The number of folds: at least 2 and at most the examples of the largest class.

    ``counts`` are the examples per class (of ``classes``; by default their indices), of which
    at least two need some.
    """
    if isinstance(cv, bool) or not isinstance(cv, (int, np.integer)) or cv < 2:
        raise ValueError(f"cv={cv!r} is not valid; use the number of folds, an integer >= 2.")
    check_two_classes(counts, np.arange(len(counts)) if classes is None else classes)
    if cv > counts.max():
        raise ValueError(
            f"cv={cv} folds but the largest class has only {counts.max()} examples; "
            f"use cv <= {counts.max()}."
        )
    return int(cv)


def check_class_names(class_names: Any, num_classes: int) -> list[Any]:
    """Display names: ``num_classes`` distinct names, in column order."""
    if isinstance(class_names, (str, bytes, set, frozenset, dict)) or not hasattr(class_names, "__len__"):
        raise TypeError(
            f"class_names must be a list or array of {num_classes} names, one per class in "
            f"column order; found {type(class_names).__name__}."
        )
    names = [_plain(c) for c in class_names]
    if len(names) != num_classes:
        raise ValueError(
            f"class_names has {len(names)} entries but there are {num_classes} classes; "
            "give one name per pred_probs column."
        )
    check_distinct("class_names", names)
    return names


def as_label_array(labels: Any) -> np.ndarray:
    labels = from_framework(labels)
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
    _check_one_type("labels", labels, arr)
    return arr


def _has_missing(arr: np.ndarray) -> bool:
    if np.issubdtype(arr.dtype, np.floating):
        return bool(np.isnan(arr).any())
    if arr.dtype == object:
        return any(v is None or (isinstance(v, float) and math.isnan(v)) for v in arr)
    return False


def encode_labels(
    labels: Any, num_classes: int, *, classes: Any = None, source: str = "pred_probs"
) -> EncodedLabels:
    """Check ``labels`` and map them to class indices ``0..num_classes-1``.

    ``source`` names what gives the classes: the columns of ``pred_probs`` or the rows of a
    K x K matrix (``"confident_joint"``), for the messages. Integer labels are class indices
    unless ``classes`` is given. Other labels (strings or any hashable) need ``classes`` to say
    which index is which class; without it the sorted unique labels are used when their number
    equals ``num_classes``, with a warning that says so.
    """
    arr = as_label_array(labels)
    if _has_missing(arr):
        raise ValueError("labels contain missing values (NaN or None); give every example a label.")
    if classes is not None:
        return _encode_with_classes(arr, check_classes(classes, num_classes, source=source))
    shape, unit = _described(source, num_classes)
    if np.issubdtype(arr.dtype, np.floating):
        if not np.all(arr == np.round(arr)):
            raise ValueError(
                "labels are non-integer floats; pass integer class indices 0..K-1 or class names "
                "with classes=."
            )
        arr = arr.astype(np.int64)
    if np.issubdtype(arr.dtype, np.integer):
        low, high = int(arr.min()), int(arr.max())
        if low < 0:
            raise ValueError(
                f"labels contain {low}; class indices start at 0. If labels are class values "
                f"rather than indices, pass classes= in {unit} order."
            )
        if high >= num_classes:
            raise ValueError(
                f"labels contain {high}, but {shape} (classes 0..{num_classes - 1}). Every label "
                f"must have a {unit}; if labels are class values rather than indices, pass "
                f"classes= in {unit} order."
            )
        if arr.dtype.kind == "u":  # signed, and no wider than needed (uint8 pixel masks: int16)
            arr = arr.astype(np.int64 if arr.itemsize == 8 else np.promote_types(arr.dtype, np.int8))
        return EncodedLabels(codes=arr, classes=np.arange(num_classes), names_given=False)
    unique = np.unique(arr.astype(str) if arr.dtype.kind in "US" else sortable(arr))
    if len(unique) != num_classes:
        raise ValueError(
            f"labels hold {len(unique)} distinct class names but {shape}, so which {unit} is "
            f"which class cannot be inferred; pass classes= (the class of each {unit}, in order)."
        )
    warnings.warn(
        f"classes= not given: the {unit}s are taken to be the sorted unique labels "
        f"{shorten(list(unique))}. Pass classes= to state their order and silence this.",
        UserWarning,
        stacklevel=3,
    )
    return _encode_with_classes(arr, unique)


def check_labels_in_parts(dtype: Any, classes: Any, parts: str) -> None:
    """Labels encoded part by part (``parts``: dask chunks, batches) need ``classes`` unless they
    are indices: each part alone could take a different order of class names."""
    if classes is None and np.dtype(dtype).kind not in "iuf":
        raise ValueError(
            f"labels of dtype {np.dtype(dtype)} are class names; pass classes= (the class of each "
            f"pred_probs column, in order): {parts} are encoded one by one."
        )


def sortable(arr: np.ndarray) -> np.ndarray:
    try:
        return np.array(sorted(set(arr.tolist())), dtype=object)
    except TypeError:
        raise TypeError(
            "labels mix types that cannot be ordered; pass classes= with the class of each "
            "pred_probs column."
        ) from None


def _encode_with_classes(arr: np.ndarray, classes: np.ndarray) -> EncodedLabels:
    """Map ``arr`` to positions in the checked ``classes``."""
    position = {c: i for i, c in enumerate(classes.tolist())}
    values = arr.tolist()
    try:
        codes = np.fromiter((position[v] for v in values), dtype=np.int64, count=len(values))
    except KeyError:
        unknown = sorted({v for v in values if v not in position}, key=repr)
        families = {_family(type(c)) for c in position}
        hint = (
            " or fix those labels"
            if families & {_family(type(v)) for v in unknown}
            else "; classes= maps label values to columns, so labels that are already column "
            "indices need no classes="
        )
        raise ValueError(
            f"labels contain {shorten(unknown)}, which are not in classes {shorten(classes.tolist())}; "
            f"add them to classes (with a pred_probs column each){hint}."
        ) from None
    return EncodedLabels(codes=codes, classes=classes, names_given=True)


def check_two_classes(
    counts: np.ndarray,
    classes: Any,
    *,
    name: str = "labels",
    fix: str = "pass the labels of the whole dataset, not the rows of one class",
) -> np.ndarray:
    """``counts`` (examples per class) when at least two classes have examples.

    A class with no example is valid data (a ``pred_probs`` column nobody is labelled with);
    with one class alone there is nothing to tell it from, and every estimate would be empty.
    """
    present = np.flatnonzero(counts)
    if len(present) < 2:
        raise ValueError(
            f"{name} hold a single class ({_plain(classes[present[0]])!r}); label issues need "
            f"at least two classes with examples: {fix}."
        )
    return counts


def check_no_gaps(name: str, counts: np.ndarray, fix: str) -> None:
    """Integer labels that alone give the number of classes (``max + 1``) use every index.

    An index without examples would become a class (an empty column) nobody asked for.
    """
    empty = np.flatnonzero(counts == 0)
    if empty.size:
        listed = ", ".join(map(str, empty[:10])) + (", ..." if empty.size > 10 else "")
        raise ValueError(
            f"{name} are class indices 0..{len(counts) - 1} but {listed} "
            f"{'has' if empty.size == 1 else 'have'} no example, so the number of classes is "
            f"ambiguous; {fix}."
        )


def check_column_names(columns: Any, labels: EncodedLabels) -> None:
    """Column names of a ``pred_probs`` DataFrame that name the classes in another order than the
    sorted labels that were assumed (``classes=`` not given) are refused."""
    if columns is None or not labels.names_given:
        return
    names, assumed = [str(c) for c in columns], [str(c) for c in labels.classes]
    if names != assumed and sorted(names) == sorted(assumed):
        raise ValueError(
            f"pred_probs has columns {shorten(list(columns))}, but without classes= its columns "
            f"are taken to be the sorted labels {shorten(assumed)}; pass "
            "classes=list(pred_probs.columns)."
        )


def check_lengths(labels: EncodedLabels, pred_probs: Any) -> None:
    if len(labels.codes) != pred_probs.shape[0]:
        raise ValueError(
            f"labels has {len(labels.codes)} entries but pred_probs has {pred_probs.shape[0]} rows; "
            "they must describe the same examples in the same order."
        )


def check_confident_joint(
    confident_joint: Any, num_classes: int | None = None, *, name: str = "confident_joint"
) -> np.ndarray:
    """A square, finite, non-negative real matrix (given label in rows, true label in columns)."""
    cj = np.asarray(confident_joint)
    if not (np.issubdtype(cj.dtype, np.integer) or np.issubdtype(cj.dtype, np.floating)):
        raise TypeError(f"{name} must be a real-valued K x K matrix; found dtype {cj.dtype}.")
    if cj.ndim != 2 or cj.shape[0] != cj.shape[1]:
        raise ValueError(f"{name} must be a square K x K matrix; found shape {cj.shape}.")
    if num_classes is not None and cj.shape[0] != num_classes:
        raise ValueError(
            f"{name} is {cj.shape[0]} x {cj.shape[0]} but pred_probs has {num_classes} "
            "columns; compute it from the same data."
        )
    if cj.shape[0] < 2:
        raise ValueError(f"{name} must be at least 2 x 2 (two classes).")
    if not np.isfinite(cj).all() or (cj < 0).any():
        raise ValueError(f"{name} must hold finite, non-negative counts.")
    return cj


def check_joint_fits_labels(confident_joint: np.ndarray, counts: np.ndarray, classes: Any) -> None:
    """Every row of ``confident_joint`` that counts examples is a class with ``counts``.

    Row ``i`` counts examples given class ``i``: counts in a row whose class the labels never
    hold come from other labels, and calibrating to these would silently drop them.
    """
    rows = confident_joint.sum(axis=1)
    orphan = np.flatnonzero((rows > 0) & (counts == 0))
    if orphan.size:
        i = int(orphan[0])
        c = _plain(classes[i])
        raise ValueError(
            f"confident_joint row {i} (given class {c!r}) counts {rows[i]:g} examples, but labels "
            f"have none of class {c!r}; compute confident_joint from these labels (rows are "
            "given labels, columns true labels)."
        )


def check_class_count_vector(name: str, value: Any, num_classes: int) -> np.ndarray:
    arr = np.asarray(value)
    if arr.shape != (num_classes,) or not np.issubdtype(arr.dtype, np.integer) or (arr < 0).any():
        raise ValueError(
            f"{name} must be {num_classes} non-negative integers (one per class); found {arr.tolist()!r}."
        )
    return arr.astype(np.int64)


def check_class_thresholds(thresholds: Any, num_classes: int) -> np.ndarray:
    """Per-class confidence thresholds: ``num_classes`` real numbers, none NaN or negative
    (``inf``: no row can be confident in that class)."""
    arr = np.asarray(thresholds)
    if arr.shape != (num_classes,) or arr.dtype.kind not in "iuf" or np.isnan(arr).any() or (arr < 0).any():
        raise ValueError(
            f"thresholds must be {num_classes} non-negative numbers (one per column of pred_probs, "
            f"e.g. from get_confident_thresholds); found {shorten(np.ravel(arr).tolist())}."
        )
    return arr.astype(np.float64)


def check_threshold(threshold: Any) -> float:
    """A positive number of robust standard deviations (the audit checks' ``threshold``)."""
    if (
        isinstance(threshold, bool)
        or not isinstance(threshold, (int, float, np.number))
        or not threshold > 0
    ):
        raise ValueError(
            f"threshold={threshold!r} is not valid; use a positive number of robust standard deviations."
        )
    return float(threshold)


def check_k(k: Any) -> int:
    """A positive number of neighbours."""
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k={k!r} is not valid; use a positive number of neighbours such as 10.")
    return int(k)


def encode_classes(
    labels: Any, *, classes: Any = None, num_classes: int | None = None, targets: bool = False
) -> EncodedLabels:
    """Labels as class indices, by the one class-order rule of labelaudit.

    * ``classes`` given: the class of each index, in that order.
    * ``num_classes`` given (the columns of ``pred_probs`` or the rows of a K x K matrix):
      integer labels are column indices, names need ``classes`` (see :func:`encode_labels`).
    * Neither, ``targets=False`` (probabilities are made for these labels, so that later calls
      read them by index): integer labels are the indices ``0..max`` and every index needs an
      example (a gap is refused); names are taken in sorted order.
    * Neither, ``targets=True`` (labels a scikit-learn estimator learns, which keeps its own
      ``classes_``): the sorted unique values, whatever their type.

    Examples
    --------
    >>> encode_classes(["b", "a", "b"]).codes
    array([1, 0, 1])
    >>> encode_classes([3, 1, 3], targets=True).classes
    array([1, 3])
    >>> encode_classes([0, 2, 2], classes=range(3)).classes
    array([0, 1, 2])
    """
    if classes is not None:
        known = check_classes(classes, num_classes)
        return encode_labels(labels, len(known), classes=known)
    if num_classes is not None:
        return encode_labels(labels, num_classes)
    arr = as_label_array(labels)
    if targets:
        if arr.dtype.kind in "fO" and pd.isna(arr).any():
            raise ValueError("labels contain missing values (NaN or None); give every example a label.")
        unique = sortable(arr) if arr.dtype == object else np.unique(arr)
        return encode_labels(arr, len(unique), classes=unique)
    if arr.dtype.kind in "iuf":
        finite = arr[np.isfinite(arr)] if arr.dtype.kind == "f" else arr
        enc = encode_labels(arr, int(finite.max()) + 1 if finite.size else 1)
        check_no_gaps(
            "labels", enc.counts(),
            f"pass classes= in column order: classes=np.unique(labels) for one column per class "
            f"given, or classes=range({enc.num_classes}) to keep the empty columns",
        )
        return enc
    unique = np.unique(arr) if arr.dtype.kind in "US" else sortable(arr)
    return encode_labels(arr, len(unique), classes=unique)
