"""Out-of-sample predicted probabilities by cross-validation, and the CleanLearning estimator.

Confident learning needs out-of-sample ``pred_probs``: every example scored by a model that
did not see it during training. :func:`estimate_pred_probs` produces them with stratified
K-fold cross-validation for any scikit-learn-compatible classifier, and :class:`CleanLearning`
wraps a classifier so that ``fit`` first finds the label issues and then trains on the rest.

Column order
------------
:func:`estimate_pred_probs` returns one column per class in the order
:func:`labelaudit.find_label_issues` assumes for the same ``labels`` without ``classes=``:
integer labels are column indices ``0..max(labels)``, each of which must have an example
(an index without one would be an empty column: pass ``classes=`` to keep it, or to number
the classes yourself); other labels (strings, any sortable hashable of one type) are the
sorted unique labels; with ``classes=`` the columns follow ``classes``. A class that a fold's
model never saw gets probability 0 in that fold.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import os
import random
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from joblib import Parallel, delayed
from scipy.special import softmax
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.utils import _safe_indexing, get_tags
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data
from threadpoolctl import threadpool_limits
from tqdm.auto import tqdm

from labelaudit._validate import (
    PREDICT_METHODS,
    EncodedLabels,
    as_pred_probs,
    check_bool,
    check_choice,
    check_columns_of,
    check_confident_joint,
    check_cv,
    check_lengths,
    check_model,
    check_n_jobs,
    check_two_classes,
    encode_classes,
    encode_labels,
)
from labelaudit.filter import find_label_issues
from labelaudit.noise import compute_confident_joint, estimate_latent, latent_from_joint
from labelaudit.rank import get_label_quality_scores

logger = logging.getLogger(__name__)

ISSUE_COLUMNS = ["is_label_issue", "label_quality", "given_label", "predicted_label"]


def encode_targets(y: Any) -> EncodedLabels:
    """Classification targets as scikit-learn checks them, encoded by :func:`encode_classes`
    (``targets=True``: the sorted unique values, scikit-learn's ``classes_``).

    Examples
    --------
    >>> encode_targets([3, 1, 3]).codes
    array([1, 0, 1])
    """
    y = column_or_1d(y, warn=True)
    check_classification_targets(y)
    return encode_classes(y, targets=True)


def _is_dataset(X: Any) -> bool:
    """A map-style dataset (a torch ``Dataset``): rows by ``X[i]``, no ``shape``, not an array."""
    return not hasattr(X, "shape") and not isinstance(X, (list, tuple)) and all(
        hasattr(X, a) for a in ("__getitem__", "__len__")
    ) and not hasattr(X, "__array__")


def _as_rows(X: Any) -> Any:
    """``X`` in a form whose rows can be selected with its type kept.

    Arrays, DataFrames, CSR/CSC matrices, lists and map-style datasets (a torch ``Dataset``)
    stay as they are; other sparse formats become CSR and anything else (e.g. an object with
    ``__array__``) a numpy array.
    """
    if sp.issparse(X):
        return X if X.format in ("csr", "csc") else X.tocsr()
    return X if hasattr(X, "shape") or isinstance(X, list) or _is_dataset(X) else np.asarray(X)


def _num_rows(X: Any) -> int:
    return int(X.shape[0]) if hasattr(X, "shape") else len(X)


class RowSubset:
    """Rows ``rows`` of a map-style dataset, itself one (``len`` and ``[i]``)."""

    def __init__(self, dataset: Any, rows: np.ndarray) -> None:
        self.dataset, self.rows = dataset, rows

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> Any:
        return self.dataset[int(self.rows[i])]


def select_rows(X: Any, rows: np.ndarray) -> Any:
    """Rows of ``X`` with its type kept; a torch ``Dataset`` gives a ``torch.utils.data.Subset``
    (what skorch expects), another map-style dataset a :class:`RowSubset`."""
    if not _is_dataset(X):
        return _safe_indexing(X, rows)
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(X, torch.utils.data.Dataset):
        return torch.utils.data.Subset(X, rows.tolist())
    return RowSubset(X, rows)


def aligned_probabilities(model: Any, X: Any, method: str, num_classes: int) -> np.ndarray:
    """Probabilities of a fitted ``model`` with one column per class ``0..num_classes-1``.

    The model was fitted on class indices; its ``classes_`` says which indices it saw.
    Classes it never saw get probability 0. ``method="decision_function"`` turns the scores
    into probabilities with a softmax (a sigmoid for one score per row).
    """
    if method == "predict_proba":
        probs = np.asarray(model.predict_proba(X), dtype=np.float64)
    else:
        scores = np.asarray(model.decision_function(X), dtype=np.float64)
        if scores.ndim == 1:
            scores = np.column_stack([np.zeros_like(scores), scores])
        probs = softmax(scores, axis=1)
    seen = np.asarray(getattr(model, "classes_", np.arange(probs.shape[1])), dtype=np.int64)
    if probs.ndim == 2 and probs.shape[1] == num_classes != len(seen):
        seen = np.arange(num_classes)  # a fixed-width output (a net): one column per class index
    if probs.ndim != 2 or probs.shape[1] != len(seen):
        raise ValueError(
            f"model.{method} returned shape {probs.shape} but the model has {len(seen)} classes_; "
            "it must return one column per class in classes_."
        )
    out = np.zeros((probs.shape[0], num_classes), dtype=np.float64)
    out[:, seen] = probs
    return out


@contextlib.contextmanager
def _seeded(seed: int) -> Iterator[None]:
    """Seed the global generators a model may draw from (Python's, numpy's and torch's when the
    model imported it) so a fold gives the same fit in any process, and give the caller's
    generators back their state afterwards."""
    torch = sys.modules.get("torch")
    saved = (random.getstate(), np.random.get_state(), torch.get_rng_state() if torch else None)
    random.seed(seed)
    np.random.seed(seed % (1 << 32))
    if torch is not None:
        torch.manual_seed(seed)
    try:
        yield
    finally:
        random.setstate(saved[0])
        np.random.set_state(saved[1])
        if torch is not None:
            torch.set_rng_state(saved[2])


def _fold(
    model: Any,
    X: Any,
    codes: np.ndarray,
    train: np.ndarray,
    test: np.ndarray,
    method: str,
    k: int,
    seed: int,
    threads: int,
    fit_kwargs: dict[str, Any],
    validation_func: Callable[[Any, np.ndarray], dict[str, Any]] | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Fit on ``train`` in a seeded random order (a net that does not shuffle its own batches
    still sees the classes mixed), with at most ``threads`` BLAS/OpenMP threads, and score ``test``.

    ``fit_kwargs`` go to every ``fit``; ``validation_func(X_test, y_test)`` gives more of them
    from the fold's held-out rows (e.g. for early stopping)."""
    train = np.random.default_rng(seed).permutation(train)
    if validation_func is not None:
        extra = validation_func(select_rows(X, test), codes[test])
        if not isinstance(extra, dict):
            raise TypeError(
                f"validation_func must return a dict of keyword arguments for model.fit; it "
                f"returned {type(extra).__name__}."
            )
        fit_kwargs = {**fit_kwargs, **extra}
    torch = sys.modules.get("torch")
    previous = torch.get_num_threads() if torch is not None else None
    try:
        if torch is not None:
            torch.set_num_threads(threads)
        with _seeded(seed), threadpool_limits(limits=threads):
            model.fit(select_rows(X, train), codes[train], **fit_kwargs)
            return test, aligned_probabilities(model, select_rows(X, test), method, k)
    finally:
        if previous is not None:
            torch.set_num_threads(previous)


def clone_model(model: Any) -> Any:
    """An unfitted copy of ``model``: scikit-learn's ``clone`` for anything with ``get_params``
    (a duck-typed wrapper need not derive from ``BaseEstimator``), a deep copy otherwise."""
    return clone(model, safe=False)


def _accepts(method: Any, name: str) -> bool:
    """Whether ``method`` names the parameter ``name`` (``**kwargs`` alone does not count)."""
    return name in inspect.signature(method).parameters


def check_fit_kwargs(name: str, value: Any) -> dict[str, Any]:
    """Keyword arguments for ``model.fit`` (a dict with string keys; None for none)."""
    kwargs = {} if value is None else value
    if not isinstance(kwargs, dict) or not all(isinstance(k, str) for k in kwargs):
        raise TypeError(f"{name} must be a dict of keyword arguments for model.fit; found {value!r}.")
    return dict(kwargs)


def check_validation_func(validation_func: Any) -> Callable[[Any, np.ndarray], dict[str, Any]] | None:
    if validation_func is not None and not callable(validation_func):
        raise TypeError(
            "validation_func must be a function (X_val, y_val) -> dict of keyword arguments for "
            f"model.fit; found {type(validation_func).__name__}."
        )
    return validation_func


def _fold_seeds(random_state: Any, cv: int) -> list[int]:
    """One seed per fold, from ``random_state`` (an int, a RandomState/Generator or None)."""
    if isinstance(random_state, (np.random.RandomState, np.random.Generator)):
        entropy = int(random_state.integers(0, 1 << 63) if isinstance(random_state, np.random.Generator)
                      else random_state.randint(0, 1 << 31))
    else:
        entropy = random_state
    sequence = np.random.SeedSequence(entropy)
    return [int(child.generate_state(1, dtype=np.uint64)[0] >> 1) for child in sequence.spawn(cv)]


def _threads_per_fold(n_jobs: int | None, cv: int) -> int:
    cores = os.cpu_count() or 1
    workers = 1 if n_jobs is None else min(cv, cores if n_jobs < 0 else n_jobs)
    return max(1, cores // max(workers, 1))


def estimate_pred_probs(
    model: Any,
    X: Any,
    labels: Any,
    *,
    cv: int = 5,
    n_jobs: int | None = None,
    random_state: Any = 0,
    method: str = "predict_proba",
    verbose: bool = True,
    classes: Any = None,
    clf_kwargs: dict[str, Any] | None = None,
    validation_func: Callable[[Any, np.ndarray], dict[str, Any]] | None = None,
) -> np.ndarray:
    """Out-of-sample predicted probabilities by stratified K-fold cross-validation.

    Each fold fits a clone of ``model`` on the other folds and predicts the held-out rows, so
    every row is scored by a model that never saw it.

    Parameters
    ----------
    model : scikit-learn-compatible classifier
        An instance with ``fit``, ``classes_`` and ``method`` (``predict_proba`` or
        ``decision_function``): estimators, pipelines, skorch or scikeras wrappers. It is
        cloned, never modified; one without ``method`` is refused before any fit.
    X : array-like, pandas DataFrame or scipy sparse matrix of shape (n, ...)
        Features; rows are selected with the type kept.
    labels : array-like of shape (n,)
        Given labels: integer class indices or class names (see the module documentation).
    cv : int, default 5
        Number of stratified folds. A class with fewer examples than folds triggers a
        ``UserWarning``: in some folds the model never sees it and gives it probability 0.
    n_jobs : int, optional
        Folds fitted in parallel with joblib (``-1``: one per core; ``None``: one at a time).
    random_state : int, RandomState or None, default 0
        Seed of the folds and of every fold's fit: each fold gets its own seed from it, puts
        its training rows in a random order with it and seeds Python's, numpy's and (when the
        model uses it) torch's generators with it, so the same seed gives the same
        probabilities with any ``n_jobs``.
    method : {"predict_proba", "decision_function"}
        How the model scores rows; decision scores go through a softmax.
    verbose : bool, default True
        Progress bar over folds (``tqdm.auto``: a widget in notebooks, text on standard error
        elsewhere).
    classes : array-like of shape (K,), optional
        The class of each output column; default as in the module documentation.
    clf_kwargs : dict, optional
        Keyword arguments for every fold's ``model.fit``.
    validation_func : callable, optional
        ``validation_func(X_val, y_val)`` returns more keyword arguments for a fold's
        ``model.fit`` from its held-out rows (``y_val`` as class indices), e.g. a validation
        set for early stopping.

    Returns
    -------
    ndarray of shape (n, K), float64
        Rows sum to 1.

    Notes
    -----
    The model is fitted on class indices as int64 (``0..K-1`` in the order of ``classes``),
    whatever the labels' dtype, which is what torch losses expect. Each fold runs with at most
    ``cores // parallel folds`` BLAS/OpenMP (and torch) threads. A model whose output has one
    column per class of the whole dataset (a net of fixed width) is read by column index, so a
    class missing from a fold's training rows still gets its column.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.dummy import DummyClassifier
    >>> from labelaudit import estimate_pred_probs
    >>> labels = np.array([0, 0, 0, 0, 1, 1])
    >>> estimate_pred_probs(DummyClassifier(strategy="prior"), np.zeros((6, 1)), labels,
    ...                     cv=2, verbose=False)[0]
    array([0.66666667, 0.33333333])
    >>> estimate_pred_probs(DummyClassifier(strategy="prior"), np.zeros((6, 1)),
    ...                     ["cat"] * 4 + ["dog"] * 2, cv=2, verbose=False).shape
    (6, 2)
    """
    check_choice("method", method, PREDICT_METHODS)
    check_model(model, method)
    n_jobs = check_n_jobs(n_jobs)
    verbose = check_bool("verbose", verbose)
    fit_kwargs = check_fit_kwargs("clf_kwargs", clf_kwargs)
    validation_func = check_validation_func(validation_func)
    enc = encode_classes(labels, classes=classes)
    n, k = len(enc.codes), enc.num_classes
    X = _as_rows(X)
    if _num_rows(X) != n:
        raise ValueError(
            f"X has {_num_rows(X)} rows but labels has {n} entries; they must describe the same "
            "examples in the same order."
        )
    counts = enc.counts()
    cv = check_cv(cv, counts, enc.classes)
    rare = np.flatnonzero(counts < cv)
    if rare.size:
        names = enc.classes.tolist()
        listed = ", ".join(f"{names[i]!r} ({counts[i]})" for i in rare[:10])
        warnings.warn(
            f"{rare.size} class(es) have fewer examples than cv={cv} folds: {listed}. Some fold "
            "models never see them and give them probability 0, so their out-of-sample "
            "probabilities (and label issues) are less reliable; collect more examples or "
            "lower cv.",
            UserWarning,
            stacklevel=2,
        )
    seeds = _fold_seeds(random_state, cv)
    splitter = StratifiedKFold(n_splits=cv, shuffle=True, random_state=random_state)
    codes = enc.codes.astype(np.int64, copy=False)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The least populated class", category=UserWarning)
        folds = list(splitter.split(np.zeros((n, 1)), codes))
    started = time.perf_counter()
    threads = _threads_per_fold(n_jobs, cv)
    jobs = (
        delayed(_fold)(clone_model(model), X, codes, tr, te, method, k, seed, threads, fit_kwargs,
                       validation_func)
        for (tr, te), seed in zip(folds, seeds)
    )
    results = Parallel(n_jobs=n_jobs, return_as="generator")(jobs)
    pred_probs = np.empty((n, k), dtype=np.float64)
    bar = tqdm(results, total=cv, desc="cross-validation", unit="fold", disable=not verbose)
    for test, probs in bar:
        pred_probs[test] = probs
    logger.info("cross-validated %d folds on %d examples in %.1f s", cv, n, time.perf_counter() - started)
    return pred_probs


def estimate_cv_predicted_probabilities(
    X: Any,
    labels: Any,
    clf: Any = None,
    *,
    cv_n_folds: int = 5,
    seed: Any = None,
    clf_kwargs: dict[str, Any] | None = None,
    validation_func: Callable[[Any, np.ndarray], dict[str, Any]] | None = None,
) -> np.ndarray:
    """Out-of-sample ``pred_probs`` under the reference's names: :func:`estimate_pred_probs`
    with ``model=clf`` (default ``LogisticRegression()``), ``cv=cv_n_folds``,
    ``random_state=seed`` and no progress bar.

    Examples
    --------
    >>> from sklearn.dummy import DummyClassifier
    >>> estimate_cv_predicted_probabilities(np.zeros((6, 1)), [0, 0, 0, 0, 1, 1],
    ...                                     DummyClassifier(), cv_n_folds=2, seed=0)[0]
    array([0.66666667, 0.33333333])
    """
    return estimate_pred_probs(
        LogisticRegression() if clf is None else clf, X, labels, cv=cv_n_folds, random_state=seed,
        verbose=False, clf_kwargs=clf_kwargs, validation_func=validation_func,
    )


def estimate_confident_joint_and_cv_pred_proba(
    X: Any,
    labels: Any,
    clf: Any = None,
    *,
    cv_n_folds: int = 5,
    seed: Any = None,
    calibrate: bool = True,
    clf_kwargs: dict[str, Any] | None = None,
    validation_func: Callable[[Any, np.ndarray], dict[str, Any]] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """``(confident_joint, pred_probs)``: cross-validated probabilities as
    :func:`estimate_cv_predicted_probabilities` and the confident joint of
    :func:`labelaudit.compute_confident_joint` computed from them (calibrated by default).

    Examples
    --------
    >>> from sklearn.dummy import DummyClassifier
    >>> cj, pred_probs = estimate_confident_joint_and_cv_pred_proba(
    ...     np.zeros((6, 1)), [0, 0, 0, 0, 1, 1], DummyClassifier(), cv_n_folds=2, seed=0)
    >>> cj, pred_probs.shape
    (array([[4, 0],
           [2, 0]]), (6, 2))
    """
    enc = encode_classes(labels)
    pred_probs = estimate_cv_predicted_probabilities(
        X, enc.codes, clf, cv_n_folds=cv_n_folds, seed=seed, clf_kwargs=clf_kwargs,
        validation_func=validation_func,
    )
    return compute_confident_joint(enc.codes, pred_probs, calibrate=calibrate), pred_probs


def pred_probs_from_logits(logits: Any, *, block_rows: int = 1 << 16) -> np.ndarray:
    """Probabilities from a model's raw scores (logits), by a softmax over each row.

    Computed stably (each row's maximum subtracted first) block by block, so a memory map is
    read once and no n x K temporary beyond a block is made; float64 stays float64, anything
    else becomes float32. Torch tensors of any float dtype (bfloat16 too) are accepted.

    Examples
    --------
    >>> pred_probs_from_logits(np.array([[1000.0, 1000.0], [0.0, np.log(3.0)]]))
    array([[0.5 , 0.5 ],
           [0.25, 0.75]])
    """
    from labelaudit._validate import from_framework

    logits = from_framework(logits)
    if not hasattr(logits, "shape"):
        logits = np.asarray(logits)
    if len(logits.shape) != 2 or logits.shape[1] < 2:
        raise ValueError(f"logits must be 2-D (n_examples, n_classes >= 2); found shape {tuple(logits.shape)}")
    dtype = np.float64 if np.dtype(logits.dtype) == np.float64 else np.float32
    out = np.empty(logits.shape, dtype=dtype)
    for start in range(0, logits.shape[0], block_rows):
        block = np.asarray(logits[start : start + block_rows], dtype=dtype)
        if not np.isfinite(block).all():
            row = start + int(np.flatnonzero(~np.isfinite(block).all(axis=1))[0])
            raise ValueError(f"logits hold NaN or inf (row {row}); logits must be finite real numbers")
        block = np.exp(block - block.max(axis=1, keepdims=True))
        out[start : start + block_rows] = block / block.sum(axis=1, keepdims=True)
    return out


@dataclass(frozen=True)
class ChanceCheck:
    """Out-of-sample accuracy against always predicting the most common class.

    ``at_chance`` when the accuracy is not above the majority rate by more than two binomial
    standard errors (``sqrt(p (1 - p) / n)``): the probabilities then carry no evidence about
    the labels, and label issues found from them cannot be trusted.
    """

    accuracy: float
    majority: float
    standard_error: float
    num_examples: int

    @property
    def at_chance(self) -> bool:
        return self.accuracy <= self.majority + 2 * self.standard_error

    def message(self) -> str:
        return (
            f"the model is at chance: its out-of-sample accuracy {self.accuracy:.3f} is not clearly "
            f"above always predicting the most common class ({self.majority:.3f}, within two standard "
            "errors), so these label issues cannot be trusted. Check that the model trains (a net may "
            "need more epochs or shuffled batches) and that the features describe the labels."
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "accuracy": self.accuracy,
            "majority_class_rate": self.majority,
            "standard_error": self.standard_error,
            "at_chance": self.at_chance,
        }


def check_against_chance(codes: Any, pred_probs: Any, *, block_rows: int = 1 << 16) -> ChanceCheck:
    """Compare the out-of-sample accuracy of ``pred_probs`` with the majority-class rate.

    Examples
    --------
    >>> import numpy as np
    >>> codes = np.array([0, 0, 0, 1, 1, 1])
    >>> check_against_chance(codes, np.eye(2)[codes]).at_chance
    False
    >>> check_against_chance(codes, np.full((6, 2), 0.5)).at_chance
    True
    """
    codes = np.asarray(codes)
    n = len(codes)
    correct = 0
    for start in range(0, n, block_rows):
        block = np.asarray(pred_probs[start : start + block_rows])
        correct += int((block.argmax(axis=1) == codes[start : start + block_rows]).sum())
    majority = float(np.bincount(codes).max() / n)
    return ChanceCheck(correct / n, majority, float(np.sqrt(majority * (1 - majority) / n)), n)


def _issue_frame(label_issues: Any, enc: EncodedLabels) -> pd.DataFrame:
    """``label_issues`` (a DataFrame with ``is_label_issue``, a boolean mask or the row indices
    of the issues) as a DataFrame in the layout of :meth:`CleanLearning.find_label_issues`."""
    n = len(enc.codes)
    given = enc.classes[enc.codes]
    if isinstance(label_issues, pd.DataFrame):
        if "is_label_issue" not in label_issues.columns:
            raise ValueError(
                "label_issues is a DataFrame without an 'is_label_issue' column; pass the result "
                "of CleanLearning.find_label_issues or a boolean mask."
            )
        frame = label_issues.reset_index(drop=True)
        _issue_mask(frame["is_label_issue"], n)
        if "given_label" in frame.columns and not np.array_equal(frame["given_label"].to_numpy(), given):
            raise ValueError(
                "label_issues['given_label'] differs from the labels passed to fit; find the "
                "issues on the same labels (or drop the given_label column)."
            )
        return frame
    return pd.DataFrame(
        {"is_label_issue": _issue_mask(label_issues, n), "label_quality": np.nan,
         "given_label": given, "predicted_label": None},
        columns=ISSUE_COLUMNS,
    )


def _issue_mask(label_issues: Any, n: int) -> np.ndarray:
    """A boolean mask of ``n`` rows, from a mask or from unique row indices."""
    mask = np.asarray(label_issues)
    if mask.ndim == 1 and mask.dtype.kind in "iu" and len(np.unique(mask)) == len(mask) and (
        mask.size == 0 or (mask.min() >= 0 and mask.max() < n)
    ):
        out = np.zeros(n, dtype=bool)
        out[mask] = True
        return out
    if mask.dtype != bool or mask.shape != (n,):
        raise ValueError(
            f"label_issues must be a boolean mask of shape ({n},), unique row indices in 0..{n - 1}, "
            f"or a DataFrame with an 'is_label_issue' column; found dtype {mask.dtype} and shape "
            f"{mask.shape}."
        )
    return mask


def _check_kwargs(name: str, value: Any, reserved: tuple[str, ...]) -> dict[str, Any]:
    kwargs = {} if value is None else value
    if not isinstance(kwargs, dict) or set(kwargs) & set(reserved):
        raise ValueError(
            f"{name} must be a dict of keyword arguments without {', '.join(reserved)} "
            f"(CleanLearning sets those); found {value!r}."
        )
    return dict(kwargs)


def _labels_argument(labels: Any, y: Any) -> Any:
    if labels is not None and y is not None:
        raise ValueError("pass labels or y, not both (y is scikit-learn's name for labels).")
    if labels is None and y is None:
        raise ValueError(
            "CleanLearning requires y to be passed, but the target y is None; pass labels (or y), "
            "one given class label per row of X."
        )
    return y if labels is None else labels


def _check_noise_matrix(name: str, matrix: Any, num_classes: int) -> np.ndarray | None:
    """A K x K matrix of conditional probabilities whose columns sum to 1 and whose trace
    exceeds 1 (less noise than signal), or None."""
    if matrix is None:
        return None
    matrix = check_confident_joint(matrix, num_classes, name=name).astype(np.float64)
    if (matrix > 1).any() or not np.allclose(matrix.sum(axis=0), 1.0):
        raise ValueError(f"{name} must hold probabilities whose columns each sum to 1.")
    if np.trace(matrix) <= 1:
        raise ValueError(
            f"{name} has trace {np.trace(matrix):.3g}; it must exceed 1 (labels more often right "
            "than wrong) for label issues to be found."
        )
    return matrix


def _latent_from_noise(
    ps: np.ndarray, noise_matrix: np.ndarray | None, inverse_noise_matrix: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(py, noise_matrix, inverse_noise_matrix)`` from one given matrix (or both) and the
    given-label prior ``ps``: the joint ``P(given, true)`` they imply gives the others."""
    if noise_matrix is not None:
        py = np.clip(np.linalg.lstsq(noise_matrix, ps, rcond=None)[0], 0.0, None)
        py = py / py.sum()
        joint = noise_matrix * py
    else:
        joint = (inverse_noise_matrix * ps).T
    py, noise, inverse = latent_from_joint(joint)
    return (
        py,
        noise if noise_matrix is None else noise_matrix,
        inverse if inverse_noise_matrix is None else inverse_noise_matrix,
    )


def _encode_y(y: Any, pred_probs: Any) -> EncodedLabels:
    """``y`` as class indices: the sorted unique labels (scikit-learn's ``classes_``), or, with
    ``pred_probs``, one class per column as the core reads them (integer labels are column
    indices, so a class with a column and no example keeps its column; names are sorted)."""
    if pred_probs is None:
        return encode_targets(y)
    arr = column_or_1d(y, warn=True)
    check_classification_targets(arr)
    if arr.dtype.kind in "iuf":
        k = pred_probs.shape[1]
        if arr.max() >= k:
            raise ValueError(
                f"y holds class {arr.max().item()!r} but pred_probs has {k} columns; with pred_probs, "
                f"integer labels are column indices 0..{k - 1} (as in labelaudit.find_label_issues)."
            )
        enc = encode_labels(arr, k)
    else:
        enc = encode_targets(arr)
        check_columns_of(pred_probs, enc, "y")
    check_lengths(enc, pred_probs)
    return enc


class CleanLearning(ClassifierMixin, BaseEstimator):
    """A classifier that finds label issues and trains on the examples without them.

    ``fit`` estimates out-of-sample probabilities by cross-validation (unless given),
    flags the label issues with :func:`labelaudit.find_label_issues`, scores every label with
    :func:`labelaudit.get_label_quality_scores`, and fits a copy of ``model`` on the rest,
    each kept example weighted by ``1 / noise_matrix_[k, k]`` of its class ``k`` when the model
    takes ``sample_weight`` (so every class counts as much as before its issues were dropped).

    Parameters
    ----------
    model : classifier, optional
        Default ``LogisticRegression()``. Anything with ``fit`` and ``predict_proba``: a
        scikit-learn estimator, a wrapper (skorch, scikeras) or a plain class; it is copied with
        ``get_params`` when it has that, else with ``copy.deepcopy``, never modified.
    cv : int, default 5
        Folds for the out-of-sample probabilities.
    find_label_issues_kwargs : dict, optional
        Passed to :func:`labelaudit.find_label_issues` (e.g. ``{"filter_by": "both"}``).
        Here ``filter_by`` defaults to ``"auto"``, labelaudit's own rule, which finds more real
        label errors than confident learning's ``"prune_by_noise_rate"`` (the README's
        benchmark), and ``min_examples_per_class`` to 10, so a small class is never emptied.
    label_quality_scores_kwargs : dict, optional
        Passed to :func:`labelaudit.get_label_quality_scores` (e.g. ``{"method":
        "normalized_margin"}``).
    n_jobs : int, optional
        Folds fitted in parallel.
    random_state : int, RandomState or None, default 0
        Seed of the fold shuffling.
    verbose : bool, default False
        Progress bar over folds.
    clf, seed, cv_n_folds : optional
        The reference's names of ``model``, ``random_state`` and ``cv``; pass one name of each.

    Attributes
    ----------
    model_ : classifier
        The copy of ``model`` fitted on the examples not flagged, with class indices as
        targets.
    classes_ : ndarray of shape (K,)
        The classes: the sorted unique labels given to ``fit``, or with ``pred_probs`` one per
        column (``0..K-1`` for integer labels).
    label_issues_ : pandas.DataFrame
        One row per training example: ``is_label_issue``, ``label_quality``, ``given_label``,
        ``predicted_label`` (the most probable class out of sample), and ``sample_weight``
        when the final fit was weighted. Also ``label_issues_df_`` and :meth:`get_label_issues`.
    label_issues_mask_ : ndarray of bool
        The ``is_label_issue`` column.
    confident_joint_, py_, ps_, noise_matrix_, inverse_noise_matrix_ : ndarray
        Confident joint (K x K), prior of true and of given labels, ``P(given | true)`` and
        ``P(true | given)``, estimated from the confident joint or from a given noise matrix.
    sample_weight_ : ndarray or None
        Automatic weights of the final fit (0 for dropped rows), None when not used.
    num_classes_ : int
    n_features_in_, feature_names_in_
        As in scikit-learn.

    Notes
    -----
    scikit-learn's estimator checks pass (``tests/test_models.py`` runs them) except two that
    cannot apply: ``check_sample_weight_equivalence_on_dense_data`` and
    ``check_sample_weight_equivalence_on_sparse_data``. They require a weight of 2 to act like
    a repeated row, but repeating a row changes the data the label issues are found in (the
    per-class thresholds count rows, and the check replaces ``cv`` with a list of splits);
    weights are used by the final fit only. ``predict`` and ``predict_proba`` leave input
    validation to ``model`` (so a pipeline may take raw DataFrames).

    Examples
    --------
    >>> import numpy as np
    >>> from labelaudit import CleanLearning
    >>> rng = np.random.default_rng(0)
    >>> X = np.r_[rng.normal(-2, 1, (40, 2)), rng.normal(2, 1, (40, 2))]
    >>> y = np.repeat(["a", "b"], 40)
    >>> y[[0, 1, 40]] = ["b", "b", "a"]            # three flipped labels
    >>> clf = CleanLearning(cv=4).fit(X, y)
    >>> np.flatnonzero(clf.label_issues_["is_label_issue"])
    array([ 0,  1, 40])
    >>> clf.predict([[-2.0, -2.0], [2.0, 2.0]])
    array(['a', 'b'], dtype='<U1')
    """

    def __init__(
        self,
        model: Any = None,
        *,
        cv: int = 5,
        find_label_issues_kwargs: dict[str, Any] | None = None,
        label_quality_scores_kwargs: dict[str, Any] | None = None,
        n_jobs: int | None = None,
        random_state: Any = 0,
        verbose: bool = False,
        clf: Any = None,
        seed: Any = None,
        cv_n_folds: int | None = None,
    ) -> None:
        self.model = model
        self.cv = cv
        self.find_label_issues_kwargs = find_label_issues_kwargs
        self.label_quality_scores_kwargs = label_quality_scores_kwargs
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose
        self.clf = clf
        self.seed = seed
        self.cv_n_folds = cv_n_folds

    def _setting(self, name: str, default: Any, alias: str) -> Any:
        value, other = getattr(self, name), getattr(self, alias)
        if other is None:
            return value
        if value is not default and not (np.isscalar(value) and value == default):
            raise ValueError(f"pass {name} or {alias}, not both ({alias} is the reference's name for {name}).")
        return other

    def _base_model(self) -> Any:
        model = self._setting("model", None, "clf")
        return LogisticRegression() if model is None else model

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        model = self._base_model()
        if hasattr(model, "__sklearn_tags__"):  # a duck-typed model keeps the default tags
            inner = get_tags(model)
            tags.input_tags.sparse = inner.input_tags.sparse
            tags.input_tags.allow_nan = inner.input_tags.allow_nan
            tags.input_tags.categorical = inner.input_tags.categorical
            tags.input_tags.string = inner.input_tags.string
        return tags

    @property
    def label_issues_df_(self) -> pd.DataFrame:
        """The reference's name of ``label_issues_``."""
        check_is_fitted(self, "label_issues_")
        return self.label_issues_

    @property
    def label_issues_mask_(self) -> np.ndarray:
        """The ``is_label_issue`` column of ``label_issues_`` as a boolean array."""
        return self.label_issues_df_["is_label_issue"].to_numpy(dtype=bool)

    def _search(
        self, X: Any, enc: EncodedLabels, pred_probs: Any, noise_matrix: Any,
        inverse_noise_matrix: Any, clf_kwargs: Any, validation_func: Any,
    ) -> tuple[pd.DataFrame, dict[str, Any]]:
        """The label issues and the latent estimates (attribute name -> value) of ``enc``."""
        issue_kwargs = {"filter_by": "auto", "min_examples_per_class": 10, **_check_kwargs(
            "find_label_issues_kwargs", self.find_label_issues_kwargs,
            ("labels", "pred_probs", "classes", "return_indices_ranked_by", "multi_label"),
        )}
        score_kwargs = _check_kwargs(
            "label_quality_scores_kwargs", self.label_quality_scores_kwargs,
            ("labels", "pred_probs", "classes"),
        )
        k = enc.num_classes
        noise_matrix = _check_noise_matrix("noise_matrix", noise_matrix, k)
        inverse_noise_matrix = _check_noise_matrix("inverse_noise_matrix", inverse_noise_matrix, k)
        counts = check_two_classes(enc.counts(), enc.classes, name="y")
        if pred_probs is None:
            model = self._base_model()
            check_model(model, "predict_proba", method_option=False)
            pred_probs = estimate_pred_probs(
                model, X, enc.codes, cv=self._setting("cv", 5, "cv_n_folds"), n_jobs=self.n_jobs,
                random_state=self._setting("random_state", 0, "seed"), verbose=self.verbose,
                classes=np.arange(k), clf_kwargs=clf_kwargs, validation_func=validation_func,
            )
        confident_joint = issue_kwargs.get("confident_joint")
        if confident_joint is None:
            confident_joint = compute_confident_joint(enc.codes, pred_probs)
        ps = counts / counts.sum()
        if noise_matrix is None and inverse_noise_matrix is None:
            py, noise_matrix, inverse_noise_matrix = estimate_latent(confident_joint, enc.codes)
        else:
            py, noise_matrix, inverse_noise_matrix = _latent_from_noise(ps, noise_matrix, inverse_noise_matrix)
        mask = find_label_issues(enc.codes, pred_probs, **issue_kwargs)
        scores = get_label_quality_scores(enc.codes, pred_probs, **score_kwargs)
        predicted = np.asarray(pred_probs).argmax(axis=1)
        logger.info("%d of %d examples flagged as label issues", int(mask.sum()), len(mask))
        issues = pd.DataFrame(
            {"is_label_issue": mask, "label_quality": scores, "given_label": enc.classes[enc.codes],
             "predicted_label": enc.classes[predicted]},
            columns=ISSUE_COLUMNS,
        )
        estimates = {
            "confident_joint_": np.asarray(confident_joint), "py_": py, "ps_": ps,
            "noise_matrix_": noise_matrix, "inverse_noise_matrix_": inverse_noise_matrix,
            "num_classes_": k,
        }
        return issues, estimates

    def find_label_issues(
        self,
        X: Any = None,
        labels: Any = None,
        *,
        pred_probs: Any = None,
        noise_matrix: Any = None,
        inverse_noise_matrix: Any = None,
        save_space: bool = False,
        clf_kwargs: dict[str, Any] | None = None,
        validation_func: Callable[[Any, np.ndarray], dict[str, Any]] | None = None,
        y: Any = None,
    ) -> pd.DataFrame:
        """Find the label issues in ``(X, labels)`` without fitting the final model.

        Parameters
        ----------
        X : array-like, DataFrame, sparse matrix or map-style dataset of shape (n, ...)
            Not needed with ``pred_probs``.
        labels : array-like of shape (n,)
            Given labels (``y`` is the same argument under scikit-learn's name).
        pred_probs : array-like of shape (n, K), optional
            Out-of-sample probabilities, one column per class: integer labels are column
            indices, names the sorted unique names; estimated by cross-validation when omitted.
        noise_matrix, inverse_noise_matrix : array-like of shape (K, K), optional
            Known ``P(given | true)`` or ``P(true | given)`` (columns sum to 1, trace above 1);
            they replace the estimates from the confident joint in ``py_``, ``noise_matrix_``
            and ``inverse_noise_matrix_`` and so the weights of the final fit.
        save_space : bool, default False
            Do not keep the result and the estimates as attributes.
        clf_kwargs : dict, optional
            Keyword arguments for ``model.fit`` in each fold.
        validation_func : callable, optional
            ``validation_func(X_val, y_val)`` gives more keyword arguments for a fold's fit
            from its held-out rows (see :func:`estimate_pred_probs`).

        Returns
        -------
        pandas.DataFrame
            Columns ``is_label_issue``, ``label_quality``, ``given_label``, ``predicted_label``.

        Examples
        --------
        >>> import numpy as np
        >>> from labelaudit import CleanLearning
        >>> pred_probs = np.array([[.9, .1], [.8, .2], [.1, .9], [.2, .8], [.3, .7], [.7, .3]])
        >>> clf = CleanLearning(find_label_issues_kwargs={"min_examples_per_class": 1})
        >>> clf.find_label_issues(labels=[0, 0, 0, 1, 1, 1], pred_probs=pred_probs)
           is_label_issue  label_quality  given_label  predicted_label
        0           False            0.9            0                0
        1           False            0.8            0                0
        2            True            0.1            0                1
        3           False            0.8            1                1
        4           False            0.7            1                1
        5            True            0.3            1                0
        """
        save_space = check_bool("save_space", save_space)
        clf_kwargs = check_fit_kwargs("clf_kwargs", clf_kwargs)
        validation_func = check_validation_func(validation_func)
        labels = _labels_argument(labels, y)
        if pred_probs is not None:
            pred_probs = as_pred_probs(pred_probs)
        elif X is None:
            raise ValueError("X is required to estimate pred_probs by cross-validation; pass X or pred_probs.")
        enc = _encode_y(labels, pred_probs)
        issues, estimates = self._search(
            X, enc, pred_probs, noise_matrix, inverse_noise_matrix, clf_kwargs, validation_func
        )
        if not save_space:
            for name, value in estimates.items():
                setattr(self, name, value)
            self.label_issues_ = issues
        return issues

    def fit(
        self,
        X: Any,
        y: Any = None,
        *,
        pred_probs: Any = None,
        noise_matrix: Any = None,
        inverse_noise_matrix: Any = None,
        label_issues: Any = None,
        sample_weight: Any = None,
        clf_kwargs: dict[str, Any] | None = None,
        clf_final_kwargs: dict[str, Any] | None = None,
        validation_func: Callable[[Any, np.ndarray], dict[str, Any]] | None = None,
        labels: Any = None,
    ) -> CleanLearning:
        """Find the label issues (or take them) and fit ``model`` on the other examples.

        Parameters
        ----------
        X : array-like, DataFrame, sparse matrix or map-style dataset of shape (n, ...)
        y : array-like of shape (n,)
            Given labels (``labels=`` is the same argument under the reference's name).
        pred_probs : array-like of shape (n, K), optional
            Out-of-sample probabilities (see :meth:`find_label_issues`); with ``label_issues``
            they give the ``label_quality`` column when it is missing.
        noise_matrix, inverse_noise_matrix : array-like of shape (K, K), optional
            Known noise (see :meth:`find_label_issues`).
        label_issues : DataFrame, boolean mask or row indices, optional
            Issues already found (e.g. by :meth:`find_label_issues`); skips the search.
        sample_weight : array-like of shape (n,), optional
            Weights for the final fit (the cross-validation does not use them); without them
            the final fit is weighted by class as described in the class documentation.
        clf_kwargs : dict, optional
            Keyword arguments for every ``model.fit`` (folds and final fit).
        clf_final_kwargs : dict, optional
            Keyword arguments for the final fit only (they win over ``clf_kwargs``).
        validation_func : callable, optional
            See :meth:`find_label_issues`; not used by the final fit.

        Returns
        -------
        self
        """
        labels = _labels_argument(labels, y)
        clf_kwargs = check_fit_kwargs("clf_kwargs", clf_kwargs)
        final_kwargs = {**clf_kwargs, **check_fit_kwargs("clf_final_kwargs", clf_final_kwargs)}
        validation_func = check_validation_func(validation_func)
        if "sample_weight" in clf_kwargs:
            raise ValueError(
                "sample_weight in clf_kwargs would weight the folds too; pass it as sample_weight= "
                "(or in clf_final_kwargs) for the final fit."
            )
        model = self._base_model()
        check_model(model, "predict_proba", method_option=False)
        if sample_weight is not None and not _accepts(model.fit, "sample_weight"):
            raise ValueError(
                f"sample_weight was given but {type(model).__name__}.fit takes no sample_weight; "
                "drop it or use a model whose fit accepts it."
            )
        X = _as_rows(X)
        validate_data(self, X, reset=True, skip_check_array=True)
        if pred_probs is not None:
            pred_probs = as_pred_probs(pred_probs)
        enc = _encode_y(labels, pred_probs)
        n = len(enc.codes)
        if _num_rows(X) != n:
            raise ValueError(f"X has {_num_rows(X)} rows but y has {n} entries; they must match.")
        weights = None
        if sample_weight is not None:
            weights = np.asarray(sample_weight, dtype=np.float64)
            if weights.shape != (n,):
                raise ValueError(
                    f"sample_weight must have shape ({n},), one weight per example; found {weights.shape}."
                )
        if label_issues is None:
            issues, estimates = self._search(
                X, enc, pred_probs, noise_matrix, inverse_noise_matrix, clf_kwargs, validation_func
            )
        else:
            issues = _issue_frame(label_issues, enc)
            if pred_probs is not None and issues["label_quality"].isna().all():
                score_kwargs = _check_kwargs(
                    "label_quality_scores_kwargs", self.label_quality_scores_kwargs,
                    ("labels", "pred_probs", "classes"),
                )
                issues["label_quality"] = get_label_quality_scores(enc.codes, pred_probs, **score_kwargs)
            estimates = {"num_classes_": enc.num_classes}
            given = (_check_noise_matrix("noise_matrix", noise_matrix, enc.num_classes),
                     _check_noise_matrix("inverse_noise_matrix", inverse_noise_matrix, enc.num_classes))
            if given != (None, None):
                counts = enc.counts()
                py, nm, inverse = _latent_from_noise(counts / n, *given)
                estimates.update(py_=py, ps_=counts / n, noise_matrix_=nm, inverse_noise_matrix_=inverse)
        keep = ~issues["is_label_issue"].to_numpy(dtype=bool)
        self.sample_weight_ = None
        if weights is not None:
            final_kwargs.setdefault("sample_weight", weights[keep])
        elif ("sample_weight" not in final_kwargs and "noise_matrix_" in estimates
              and _accepts(model.fit, "sample_weight")):
            per_class = 1.0 / np.maximum(np.diagonal(estimates["noise_matrix_"]), 1e-3)
            self.sample_weight_ = np.where(keep, per_class[enc.codes], 0.0)
            issues["sample_weight"] = self.sample_weight_
            final_kwargs["sample_weight"] = self.sample_weight_[keep]
        rows = np.flatnonzero(keep)
        fitted = clone_model(model)
        fitted.fit(select_rows(X, rows), enc.codes[rows].astype(np.int64), **final_kwargs)
        for name, value in estimates.items():
            setattr(self, name, value)
        self.model_ = fitted  # the model object, whatever its fit returned
        self.classes_ = enc.classes
        self.label_issues_ = issues
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Probabilities of the fitted model, one column per class in ``classes_``."""
        check_is_fitted(self, "model_")
        check_model(self.model_, "predict_proba", method_option=False)
        return aligned_probabilities(self.model_, X, "predict_proba", len(self.classes_))

    def predict(self, X: Any) -> np.ndarray:
        """Predicted class of each row (values from ``classes_``)."""
        check_is_fitted(self, "model_")
        return self.classes_[np.asarray(self.model_.predict(X), dtype=np.int64)]

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """The fitted model's own ``score`` on ``(X, y)`` (``y`` in the classes of ``fit``), or
        the accuracy when the model has no ``score``."""
        check_is_fitted(self, "model_")
        if not hasattr(self.model_, "score"):
            return super().score(X, y, sample_weight=sample_weight)
        codes = encode_classes(column_or_1d(y), classes=self.classes_).codes
        if sample_weight is not None and _accepts(self.model_.score, "sample_weight"):
            return float(self.model_.score(X, codes, sample_weight=sample_weight))
        return float(self.model_.score(X, codes))

    def get_label_issues(self) -> pd.DataFrame | None:
        """``label_issues_``, or None (with a warning) before :meth:`fit` or
        :meth:`find_label_issues`."""
        if not hasattr(self, "label_issues_"):
            warnings.warn(
                "no label issues yet: call fit or find_label_issues first.", UserWarning, stacklevel=2
            )
            return None
        return self.label_issues_

    def save_space(self) -> CleanLearning:
        """Drop the per-example results and the estimates (``label_issues_``,
        ``sample_weight_``, ``confident_joint_``...), keeping what ``predict`` needs."""
        for name in ("label_issues_", "sample_weight_", "confident_joint_", "py_", "ps_",
                     "noise_matrix_", "inverse_noise_matrix_"):
            self.__dict__.pop(name, None)
        return self
