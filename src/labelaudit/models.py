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
import logging
import os
import random
import sys
import time
import warnings
from collections.abc import Iterator
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
    check_bool,
    check_choice,
    check_columns_of,
    check_cv,
    check_model,
    check_n_jobs,
    check_two_classes,
    encode_classes,
)
from labelaudit.filter import find_label_issues
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
) -> tuple[np.ndarray, np.ndarray]:
    """Fit on ``train`` in a seeded random order (a net that does not shuffle its own batches
    still sees the classes mixed), with at most ``threads`` BLAS/OpenMP threads, and score ``test``."""
    train = np.random.default_rng(seed).permutation(train)
    torch = sys.modules.get("torch")
    previous = torch.get_num_threads() if torch is not None else None
    try:
        if torch is not None:
            torch.set_num_threads(threads)
        with _seeded(seed), threadpool_limits(limits=threads):
            model.fit(select_rows(X, train), codes[train])
            return test, aligned_probabilities(model, select_rows(X, test), method, k)
    finally:
        if previous is not None:
            torch.set_num_threads(previous)


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
        delayed(_fold)(clone(model), X, codes, tr, te, method, k, seed, threads)
        for (tr, te), seed in zip(folds, seeds)
    )
    results = Parallel(n_jobs=n_jobs, return_as="generator")(jobs)
    pred_probs = np.empty((n, k), dtype=np.float64)
    bar = tqdm(results, total=cv, desc="cross-validation", unit="fold", disable=not verbose)
    for test, probs in bar:
        pred_probs[test] = probs
    logger.info("cross-validated %d folds on %d examples in %.1f s", cv, n, time.perf_counter() - started)
    return pred_probs


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


def _issue_mask(label_issues: Any, n: int) -> np.ndarray:
    if isinstance(label_issues, pd.DataFrame):
        if "is_label_issue" not in label_issues.columns:
            raise ValueError(
                "label_issues is a DataFrame without an 'is_label_issue' column; pass the result "
                "of CleanLearning.find_label_issues or a boolean mask."
            )
        label_issues = label_issues["is_label_issue"]
    mask = np.asarray(label_issues)
    if mask.dtype != bool or mask.shape != (n,):
        raise ValueError(
            f"label_issues must be a boolean mask of shape ({n},) or a DataFrame with an "
            f"'is_label_issue' column; found dtype {mask.dtype} and shape {mask.shape}."
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


class CleanLearning(ClassifierMixin, BaseEstimator):
    """A classifier that finds label issues and trains on the examples without them.

    ``fit`` estimates out-of-sample probabilities by cross-validation (unless given),
    flags the label issues with :func:`labelaudit.find_label_issues`, scores every label with
    :func:`labelaudit.get_label_quality_scores`, and fits a clone of ``model`` on the rest.

    Parameters
    ----------
    model : scikit-learn-compatible classifier, optional
        Default ``LogisticRegression()``.
    cv : int, default 5
        Folds for the out-of-sample probabilities.
    find_label_issues_kwargs : dict, optional
        Passed to :func:`labelaudit.find_label_issues` (e.g. ``{"filter_by": "both"}``).
    label_quality_scores_kwargs : dict, optional
        Passed to :func:`labelaudit.get_label_quality_scores` (e.g. ``{"method":
        "normalized_margin"}``).
    n_jobs : int, optional
        Folds fitted in parallel.
    random_state : int, RandomState or None, default 0
        Seed of the fold shuffling.
    verbose : bool, default False
        Progress bar over folds.

    Attributes
    ----------
    model_ : classifier
        The clone of ``model`` fitted on the examples not flagged, with class indices as
        targets.
    classes_ : ndarray of shape (K,)
        The sorted unique labels given to ``fit``.
    label_issues_ : pandas.DataFrame
        One row per training example: ``is_label_issue``, ``label_quality``, ``given_label``,
        ``predicted_label`` (the most probable class out of sample).
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
    ) -> None:
        self.model = model
        self.cv = cv
        self.find_label_issues_kwargs = find_label_issues_kwargs
        self.label_quality_scores_kwargs = label_quality_scores_kwargs
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose

    def _base_model(self) -> Any:
        return LogisticRegression() if self.model is None else self.model

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        inner = get_tags(self._base_model())
        tags.input_tags.sparse = inner.input_tags.sparse
        tags.input_tags.allow_nan = inner.input_tags.allow_nan
        tags.input_tags.categorical = inner.input_tags.categorical
        tags.input_tags.string = inner.input_tags.string
        return tags

    def find_label_issues(self, X: Any, y: Any, *, pred_probs: Any = None) -> pd.DataFrame:
        """Find the label issues in ``(X, y)`` without fitting the final model.

        Parameters
        ----------
        X : array-like, DataFrame or sparse matrix of shape (n, ...)
        y : array-like of shape (n,)
            Given labels.
        pred_probs : array-like of shape (n, K), optional
            Out-of-sample probabilities with columns in the order of ``np.unique(y)``; estimated
            by cross-validation when omitted.

        Returns
        -------
        pandas.DataFrame
            Columns ``is_label_issue``, ``label_quality``, ``given_label``, ``predicted_label``.

        Examples
        --------
        >>> import numpy as np
        >>> from labelaudit import CleanLearning
        >>> pred_probs = np.array([[.9, .1], [.8, .2], [.1, .9], [.2, .8], [.3, .7], [.7, .3]])
        >>> CleanLearning().find_label_issues(np.zeros((6, 1)), [0, 0, 0, 1, 1, 1],
        ...                                   pred_probs=pred_probs)
           is_label_issue  label_quality  given_label  predicted_label
        0           False            0.9            0                0
        1           False            0.8            0                0
        2            True            0.1            0                1
        3           False            0.8            1                1
        4           False            0.7            1                1
        5            True            0.3            1                0
        """
        issue_kwargs = _check_kwargs(
            "find_label_issues_kwargs", self.find_label_issues_kwargs,
            ("labels", "pred_probs", "classes", "return_indices_ranked_by"),
        )
        score_kwargs = _check_kwargs(
            "label_quality_scores_kwargs", self.label_quality_scores_kwargs,
            ("labels", "pred_probs", "classes"),
        )
        enc = encode_targets(y)
        check_two_classes(enc.counts(), enc.classes)
        if pred_probs is None:
            check_model(self._base_model(), "predict_proba", method_option=False)
            pred_probs = estimate_pred_probs(
                self._base_model(), X, enc.codes, cv=self.cv, n_jobs=self.n_jobs,
                random_state=self.random_state, verbose=self.verbose, classes=np.arange(enc.num_classes),
            )
        else:
            pred_probs = check_columns_of(pred_probs, enc, "y")
        mask = find_label_issues(enc.codes, pred_probs, **issue_kwargs)
        scores = get_label_quality_scores(enc.codes, pred_probs, **score_kwargs)
        predicted = np.asarray(pred_probs).argmax(axis=1)
        logger.info("%d of %d examples flagged as label issues", int(mask.sum()), len(mask))
        return pd.DataFrame(
            {
                "is_label_issue": mask,
                "label_quality": scores,
                "given_label": enc.classes[enc.codes],
                "predicted_label": enc.classes[predicted],
            },
            columns=ISSUE_COLUMNS,
        )

    def fit(
        self,
        X: Any,
        y: Any,
        *,
        sample_weight: Any = None,
        pred_probs: Any = None,
        label_issues: Any = None,
    ) -> CleanLearning:
        """Find the label issues (or take them) and fit ``model`` on the other examples.

        Parameters
        ----------
        X : array-like, DataFrame or sparse matrix of shape (n, ...)
        y : array-like of shape (n,)
            Given labels.
        sample_weight : array-like of shape (n,), optional
            Weights for the final fit (the cross-validation does not use them).
        pred_probs : array-like of shape (n, K), optional
            Out-of-sample probabilities, columns in the order of ``np.unique(y)``.
        label_issues : DataFrame or boolean mask of shape (n,), optional
            Issues already found (e.g. by :meth:`find_label_issues`); skips the search.

        Returns
        -------
        self
        """
        X = _as_rows(X)
        validate_data(self, X, reset=True, skip_check_array=True)
        enc = encode_targets(y)
        n = len(enc.codes)
        if _num_rows(X) != n:
            raise ValueError(f"X has {_num_rows(X)} rows but y has {n} entries; they must match.")
        if label_issues is None:
            issues = self.find_label_issues(X, y, pred_probs=pred_probs)
        elif pred_probs is not None:
            raise ValueError("pass pred_probs or label_issues, not both (label_issues skips the search).")
        elif isinstance(label_issues, pd.DataFrame):
            _issue_mask(label_issues, n)
            issues = label_issues.reset_index(drop=True)
        else:
            issues = pd.DataFrame(
                {"is_label_issue": _issue_mask(label_issues, n), "label_quality": np.nan,
                 "given_label": enc.classes[enc.codes], "predicted_label": None},
                columns=ISSUE_COLUMNS,
            )
        keep = np.flatnonzero(~issues["is_label_issue"].to_numpy(dtype=bool))
        fit_params = {}
        if sample_weight is not None:
            weights = np.asarray(sample_weight, dtype=np.float64)
            if weights.shape != (n,):
                raise ValueError(
                    f"sample_weight must have shape ({n},), one weight per example; found {weights.shape}."
                )
            fit_params["sample_weight"] = weights[keep]
        self.model_ = clone(self._base_model()).fit(
            _safe_indexing(X, keep), enc.codes[keep], **fit_params
        )
        self.classes_ = enc.classes
        self.label_issues_ = issues
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Probabilities of the fitted model, one column per class in ``classes_``."""
        check_is_fitted(self)
        check_model(self.model_, "predict_proba", method_option=False)
        return aligned_probabilities(self.model_, X, "predict_proba", len(self.classes_))

    def predict(self, X: Any) -> np.ndarray:
        """Predicted class of each row (values from ``classes_``)."""
        check_is_fitted(self)
        return self.classes_[np.asarray(self.model_.predict(X), dtype=np.int64)]
