"""Validated audit inputs, with the shared neighbour graph built at most once.

Every check receives the same :class:`AuditInputs`; nothing in it is copied per check, and
``pred_probs`` is read by the shared core passes and one pass of per-row values
(:mod:`labelaudit.audit._rows`) for all checks together.
"""

from __future__ import annotations

import logging
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from labelaudit._passes import Passes
from labelaudit._validate import EncodedLabels, as_pred_probs, encode_classes
from labelaudit.audit._knn import KnnGraph, build_knn_graph, graph_from_csr
from labelaudit.audit._rows import RowFunction, row_pass

logger = logging.getLogger(__name__)


def as_frame(data: Any) -> pd.DataFrame | None:
    """``data`` as a DataFrame: a DataFrame, a dict of equal-length columns or a 2-D array."""
    if data is None or isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, dict):
        lengths = {name: len(np.asarray(col).reshape(-1)) for name, col in data.items()}
        if len(set(lengths.values())) > 1:
            raise ValueError(
                f"data is a dict whose columns have different lengths {lengths}; every column "
                "needs one value per example."
            )
        return pd.DataFrame(data)
    arr = np.asarray(data)
    if arr.ndim != 2:
        raise TypeError(
            f"data must be a pandas DataFrame, a dict of columns or a 2-D array; found "
            f"{type(data).__name__} with {arr.ndim} dimension(s)."
        )
    return pd.DataFrame(arr, columns=[str(i) for i in range(arr.shape[1])])


def as_features(
    features: Any, num_examples: int, data: pd.DataFrame | None
) -> tuple[np.ndarray, list[str]]:
    """A float (n, d) array (float32 kept; NaN = missing) and its column names.

    ``features`` is an array, a DataFrame, or a list of column names of ``data``.
    """
    if (
        isinstance(features, (list, tuple))
        and features
        and all(isinstance(f, str) for f in features)
    ):
        if data is None:
            raise ValueError(
                "features names columns, but the Audit has no data; pass an array instead."
            )
        unknown = [f for f in features if f not in data.columns]
        if unknown:
            raise ValueError(f"features names columns {unknown} that data does not have.")
        features = data[list(features)]
    names = [str(c) for c in features.columns] if isinstance(features, pd.DataFrame) else None
    try:
        arr = np.asarray(features)
    except ValueError as err:
        raise TypeError(
            f"features must be a 2-D numeric array; it could not be read as one ({err})."
        ) from None
    if arr.dtype == object or arr.dtype == bool or not np.issubdtype(arr.dtype, np.number):
        raise TypeError(
            f"features must hold numbers (NaN marks a missing value); found dtype {arr.dtype}. "
            "Encode categorical columns as numbers or embeddings first."
        )
    if arr.ndim != 2:
        raise ValueError(f"features must be 2-D (n_examples, n_features); found shape {arr.shape}.")
    if arr.shape[0] != num_examples:
        raise ValueError(
            f"features has {arr.shape[0]} rows but the audit has {num_examples} examples; they must "
            "describe the same examples in the same order."
        )
    if arr.shape[1] == 0:
        raise ValueError("features has no columns; pass at least one feature per example.")
    arr = arr if arr.dtype in (np.float32, np.float64) else arr.astype(np.float64)
    if np.isinf(arr).any():
        row = int(np.flatnonzero(np.isinf(arr).any(axis=1))[0])
        raise ValueError(
            f"features contains inf (first in row {row}); NaN marks a missing value and is "
            "allowed, inf is not. Replace it with NaN or a finite value."
        )
    return arr, names or [str(i) for i in range(arr.shape[1])]


def as_image_measurements(
    images: Any, num_examples: int, data: pd.DataFrame | None, n_jobs: int | None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The measurements of every image (:func:`labelaudit.io.images.measure_images`) and the
    files that could not be read. ``images``: an image folder, a sequence of file paths or PIL
    images, or the name of a column of ``data`` holding file paths."""
    from labelaudit.io.images import ImageFolder, measure_images

    if isinstance(images, str):
        if data is None or images not in data.columns:
            raise ValueError(
                f"images={images!r} names no column of data; pass the name of a column of file "
                "paths, a list of paths or PIL images, or labelaudit.load_image_folder(DIR)."
            )
        images = data[images].tolist()
    elif not isinstance(images, ImageFolder) and (
        isinstance(images, (np.ndarray, bytes)) or not hasattr(images, "__len__")
    ):
        raise TypeError(
            "images must be labelaudit.load_image_folder(DIR), a sequence of file paths or PIL "
            f"images, or a column name of data; found {type(images).__name__}."
        )
    if len(images) != num_examples:
        raise ValueError(
            f"images has {len(images)} items but the audit has {num_examples} examples; they must "
            "describe the same examples in the same order."
        )
    return measure_images(images, n_jobs=n_jobs)


class AuditInputs:
    """Everything a check may read, validated once.

    Attributes
    ----------
    num_examples : int
    labels : EncodedLabels or None
        Given labels as class indices, with the class of each index.
    pred_probs : array or None
        Predicted probabilities, their structure checked; every value is checked by the first
        pass over them (see :meth:`row_values`).
    features : ndarray or None
        Feature matrix; NaN marks missing values.
    columns : DataFrame or None
        What the ``null`` check inspects: ``features`` or the data's columns besides the label.
    passes : Passes or None
        Core passes over the labels and ``pred_probs`` (when both are given), shared by every
        check: each pass runs at most once for the whole audit.
    images : DataFrame or None
        The measurements of each image (:data:`labelaudit.io.images.MEASUREMENTS`; missing for
        a file that could not be read).
    """

    def __init__(
        self,
        *,
        num_examples: int,
        labels: EncodedLabels | None,
        pred_probs: Any,
        features: np.ndarray | None,
        columns: pd.DataFrame | None,
        knn_graph: Any,
        passes: Passes | None,
        k: int,
        metric: str,
        n_jobs: int | None,
        search: str = "auto",
        images: pd.DataFrame | None = None,
    ) -> None:
        self.num_examples = num_examples
        self.images = images
        self.labels = labels
        self.pred_probs = pred_probs
        self.features = features
        self.columns = columns
        self.k = k
        self.metric = metric
        self.search = search
        self.n_jobs = n_jobs
        self.passes = passes
        self._rows: dict[str, np.ndarray] = {}
        self._values_checked = False
        self._knn_graph = None if knn_graph is None else graph_from_csr(knn_graph, num_examples, k)
        if self._knn_graph is not None and self._knn_graph.k < k:
            logger.info(
                "knn_graph lists %d neighbours per row; using k=%d",
                self._knn_graph.k,
                self._knn_graph.k,
            )

    def available(self) -> set[str]:
        """Names of the inputs present (see :mod:`labelaudit.audit._base`)."""
        have = {
            "labels": self.labels is not None,
            "pred_probs": self.pred_probs is not None,
            "features": self.features is not None,
            "neighbors": self._knn_graph is not None or self._enough_complete_rows(),
            "columns": self.columns is not None,
            "images": self.images is not None,
        }
        return {name for name, present in have.items() if present}

    def row_values(self, functions: dict[str, RowFunction]) -> dict[str, np.ndarray]:
        """Per-row values of ``pred_probs``, ``{name: function}`` (see :mod:`labelaudit.audit._rows`).

        Those not computed yet are computed now, together in one pass that also checks every
        value of ``pred_probs`` unless a pass already has.
        """
        missing = {name: f for name, f in functions.items() if name not in self._rows}
        checked = self._values_checked or (self.passes is not None and self.passes.values_checked)
        if missing or not checked:
            self._rows.update(
                row_pass(self.pred_probs, missing, n_jobs=self.n_jobs, validate=not checked)
            )
            self._values_checked = True
        return {name: self._rows[name] for name in functions}

    def _enough_complete_rows(self) -> bool:
        return self.features is not None and int((~np.isnan(self.features).any(axis=1)).sum()) >= 2

    @cached_property
    def graph(self) -> KnnGraph:
        """The shared k-nearest-neighbour graph (built on first use, then reused)."""
        if self._knn_graph is not None:
            return self._knn_graph
        if self.features is None:
            raise ValueError("the k-nearest-neighbour graph needs features or knn_graph.")
        return build_knn_graph(
            self.features, self.k, metric=self.metric, n_jobs=self.n_jobs, search=self.search
        )


def encode_audit_labels(labels: Any, pred_probs: Any, classes: Any) -> EncodedLabels:
    """Labels as class indices (:func:`labelaudit._validate.encode_classes`): against the
    ``pred_probs`` columns when given, else as targets (their sorted unique values)."""
    num_classes = None if pred_probs is None else as_pred_probs(pred_probs).shape[1]
    return encode_classes(labels, classes=classes, num_classes=num_classes, targets=pred_probs is None)

