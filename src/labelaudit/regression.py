"""Label quality for numeric targets, and a regressor that trains without its worst targets.

Scores (lower = target more likely wrong), from ``r = labels - predictions``:

* ``"residual"``: ``exp(-|r| / s_r)`` with ``s_r`` the median ``|r|`` (scale free).
* ``"outre"``: also asks how unusual the pair (target, residual) is among its neighbours.
  Targets and residuals are each divided by a robust scale (``1.4826 * MAD``; the standard
  deviation, then 1, when that is 0); ``d_i`` is the mean Euclidean distance of pair ``i`` to
  its ``k`` nearest other pairs, and its local outlier ratio ``l_i = d_i / mean(d_j over those
  neighbours j)`` is about 1 inside the bulk and large for a pair isolated from pairs like it
  (the denominator is floored at ``0.001`` times the median ``d``). Unlike ``d`` itself, the
  ratio does not single out targets in the sparse tails of the distribution. The score is
  ``exp(-(4 |r| / s_r + l) / 5)``: the ratio is a secondary term. Where corrupted targets form
  a sparse cloud of their own, it holds no information (about 1 inside that cloud, a little
  more at the edge of the clean bulk) and at equal weight its noise cost 0.0002 AUPRC against
  the reference's OUTRE (whose ``k`` is a fraction of ``n``) in ``benchmarks/bench_labels.py``;
  weighted one fifth it ties with the reference there and still adds a little where the noise
  grows with the target (equal weight added more there; ``notes/issue8-bench.md``).
  ``k`` is a fixed number (default 30, at most 1000), never a fraction of ``n``: a k-d tree
  query in two dimensions costs ``O(n k log n)``, about 10 seconds per million rows on two
  busy cores.

With ``uncertainty`` (a per-example scale of the noise, e.g. larger where targets are
noisier), each residual is first divided by it, so a residual counts as large relative to the
noise expected at that example rather than to the noise overall. The scale is floored at 1% of
its median (so a near-zero estimate cannot blow a residual up).

Scores are deterministic (the same input gives the same scores for any ``n_jobs``), and
``"residual"`` does not depend on row order. ``"outre"`` depends on row order only where
neighbour distances tie exactly at the ``k``-th neighbour (then which of the tied pairs enters
the ratio's denominator follows the row order). Rankings break ties by row index.
"""

from __future__ import annotations

import logging
import warnings
from typing import Any

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from scipy.spatial import cKDTree
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import KFold, cross_val_predict
from sklearn.utils import _safe_indexing
from sklearn.utils.validation import check_is_fitted

from labelaudit._validate import check_bool, check_choice, check_n_jobs
from labelaudit.rank import rank_rows

logger = logging.getLogger(__name__)

REGRESSION_METHODS = ("outre", "residual")
MAX_NEIGHBOURS = 1000
ISSUE_COLUMNS = ["is_label_issue", "label_quality", "given_label", "predicted_label"]
DEFAULT_DROP_FRACTIONS = (0.0, 0.01, 0.02, 0.05, 0.1, 0.15, 0.2)


def _as_targets(name: str, values: Any) -> np.ndarray:
    if isinstance(values, (str, bytes)) or not hasattr(values, "__len__"):
        raise TypeError(f"{name} must be a 1-D array of numbers; found {type(values).__name__}.")
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must hold numbers (one per example); found non-numeric values.") from None
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValueError(
            f"{name} must be 1-D (one number per example); found shape {arr.shape}. "
            "Score one target at a time."
        )
    if arr.size == 0:
        raise ValueError(f"{name} is empty; pass one number per example.")
    if not np.isfinite(arr).all():
        row = int(np.flatnonzero(~np.isfinite(arr))[0])
        raise ValueError(f"{name} contains NaN or inf (first in row {row}); drop or fill those rows.")
    return arr


def check_k(k: Any) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= MAX_NEIGHBOURS:
        raise ValueError(
            f"k={k!r} is not valid; use a number of neighbours from 1 to {MAX_NEIGHBOURS} "
            "(e.g. 30)."
        )
    return int(k)


def _robust_scale(values: np.ndarray) -> float:
    """``1.4826 * MAD``, else the standard deviation, else 1."""
    mad = 1.4826 * float(np.median(np.abs(values - np.median(values))))
    if mad > 0:
        return mad
    std = float(values.std())
    return std if std > 0 else 1.0


def _positive_median(values: np.ndarray) -> float:
    """Median of non-negative ``values``, else their mean, else 1 (never 0)."""
    for stat in (np.median, np.mean):
        s = float(stat(values))
        if s > 0:
            return s
    return 1.0


def _local_outlier_ratio(points: np.ndarray, k: int, n_jobs: int | None) -> np.ndarray:
    """Each point's mean distance to its ``k`` nearest others over the same for those others."""
    k = min(k, len(points) - 1)
    if k < 1:
        return np.zeros(len(points))
    tree = cKDTree(points, balanced_tree=False, compact_nodes=False)
    order = tree.indices  # querying in the tree's own order keeps memory access local
    distances, neighbours = tree.query(points[order], k=k + 1, workers=n_jobs or 1)
    mean_distance = np.empty(len(points))
    mean_distance[order] = distances[:, 1:].mean(axis=1)  # column 0: the point itself (or a twin)
    around = np.empty(len(points))
    around[order] = mean_distance[neighbours[:, 1:]].mean(axis=1)
    return mean_distance / np.maximum(around, 1e-3 * _positive_median(mean_distance))


def _as_uncertainty(values: Any, n: int) -> np.ndarray:
    """Validated per-example noise scales, floored at 1% of their median."""
    arr = _as_targets("uncertainty", values)
    if len(arr) != n:
        raise ValueError(
            f"uncertainty has {len(arr)} entries but labels has {n}; give one noise scale per example."
        )
    if (arr < 0).any():
        row = int(np.flatnonzero(arr < 0)[0])
        raise ValueError(f"uncertainty must be >= 0 (a scale of the noise); found {arr[row]!r} in row {row}.")
    return np.maximum(arr, 0.01 * _positive_median(arr))


def get_label_quality_scores(
    labels: Any,
    predictions: Any,
    *,
    method: str = "outre",
    k: int = 30,
    uncertainty: Any = None,
    n_jobs: int | None = None,
) -> np.ndarray:
    """Score how plausible each numeric target is, in (0, 1] (lower = more likely wrong).

    Parameters
    ----------
    labels : array-like of shape (n,)
        Given targets.
    predictions : array-like of shape (n,)
        Out-of-sample predictions of the targets (e.g. from cross-validation).
    method : {"outre", "residual"}
        See the module documentation.
    k : int, default 30
        Neighbours for ``"outre"`` (1 to 1000).
    uncertainty : array-like of shape (n,), optional
        Non-negative scale of the noise expected at each example (e.g. an out-of-sample
        prediction of ``|labels - predictions|``); residuals are divided by it before scoring.
        Only its relative size matters.
    n_jobs : int, optional
        Threads for the neighbour search (``-1``: one per core); scores do not depend on it.

    Returns
    -------
    ndarray of shape (n,), float64

    Examples
    --------
    >>> from labelaudit.regression import get_label_quality_scores
    >>> labels = [1.0, 2.0, 3.0, 10.0]
    >>> predictions = [1.5, 2.0, 2.5, 4.0]
    >>> get_label_quality_scores(labels, predictions, method="residual").round(3)  # median |r| .5
    array([0.368, 1.   , 0.368, 0.   ])
    >>> int(get_label_quality_scores(labels, predictions, k=2).argmin())
    3
    >>> # a target known to be noisy (scale 20) is no longer the least plausible
    >>> get_label_quality_scores(labels, predictions, method="residual", uncertainty=[1, 1, 1, 20]).round(3)
    array([0.287, 1.   , 0.287, 0.472])
    """
    check_choice("method", method, REGRESSION_METHODS)
    k = check_k(k)
    n_jobs = check_n_jobs(n_jobs)
    y = _as_targets("labels", labels)
    pred = _as_targets("predictions", predictions)
    if len(y) != len(pred):
        raise ValueError(
            f"labels has {len(y)} entries but predictions has {len(pred)}; they must describe "
            "the same examples in the same order."
        )
    residual = y - pred
    if uncertainty is not None:
        residual = residual / _as_uncertainty(uncertainty, len(y))
    size = np.abs(residual) / _positive_median(np.abs(residual))
    if method == "residual":
        return np.exp(-size)
    points = np.column_stack([y / _robust_scale(y), residual / _robust_scale(residual)])
    return np.exp(-(4.0 * size + _local_outlier_ratio(points, k, n_jobs)) / 5.0)


def _check_drop_fractions(drop_fractions: Any) -> np.ndarray:
    arr = np.unique(np.asarray(drop_fractions, dtype=np.float64).ravel())
    if arr.size == 0 or (arr < 0).any() or (arr >= 1).any():
        raise ValueError(
            f"drop_fractions={drop_fractions!r} is not valid; give fractions in [0, 1) of the "
            "examples that may be dropped, e.g. (0.0, 0.05, 0.1)."
        )
    return arr


def _fold_error(model: Any, X: Any, y: np.ndarray, train: np.ndarray, test: np.ndarray) -> float:
    """Squared error summed over ``test`` of ``model`` fitted on ``train``."""
    fitted = clone(model).fit(_safe_indexing(X, train), y[train])
    residual = fitted.predict(_safe_indexing(X, test)) - y[test]
    return float(np.dot(residual, residual))


class RegressionCleanLearning(RegressorMixin, BaseEstimator):
    """Wrap a regressor: find implausible targets, then fit on the rest.

    ``fit`` (1) gets cross-validated predictions of every target, (2) estimates the noise
    expected at each example: ``uncertainty_model`` is fitted to predict the absolute
    cross-validated residual ``|y - prediction|`` from ``X``, again out of fold (same folds, so
    an example's own residual never shapes its estimate), (3) scores targets with
    :func:`get_label_quality_scores` given that ``uncertainty``, so a residual is judged against
    the noise where the example lies (heteroscedastic noise does not pass for errors), (4)
    chooses how many of the lowest-scored targets to drop:
    for each fraction in ``drop_fractions`` the model is refitted on each fold's training rows
    without the dropped ones and its squared error measured on the fold's held-out rows that no
    fraction drops (one evaluation set for every candidate), the fraction with the least error
    winning (ties: the smaller), and (5) fits ``model`` on the kept rows.

    Parameters
    ----------
    model : regressor, optional
        Any scikit-learn-compatible regressor; ``LinearRegression()`` by default.
    cv : int, default 5
        Folds for cross-validation.
    method : {"outre", "residual"}, default "outre"
        Label quality score.
    k : int, default 30
        Neighbours for ``"outre"``.
    uncertainty_model : regressor, "auto" or None, default "auto"
        Model of ``|residual|`` given ``X``. ``"auto"``: gradient-boosted trees fitted to the
        median (``HistGradientBoostingRegressor(loss="absolute_error")``, 50 trees of 8
        leaves, fixed seed), so corrupted targets, whose residuals are huge, barely move it.
        ``None``: no adjustment (every example gets the same scale).
    drop_fractions : sequence of float, default (0, .01, .02, .05, .1, .15, .2)
        Candidate fractions of examples to drop.
    random_state : int, optional
        Seed of the fold shuffle.
    n_jobs : int, optional
        Parallel fits (joblib) and neighbour-search threads.

    Attributes
    ----------
    model_ : regressor fitted on the kept rows.
    label_issues_ : DataFrame with columns ``is_label_issue``, ``label_quality``,
        ``given_label``, ``predicted_label`` (cross-validated), one row per training example.
    drop_fraction_ : float, the chosen fraction.
    cv_errors_ : dict mapping each candidate fraction to its mean squared error.
    uncertainty_ : ndarray of shape (n,), the out-of-fold estimate of ``|residual|`` (clipped
        at 0), or None without ``uncertainty_model``.

    Examples
    --------
    >>> import numpy as np
    >>> from labelaudit.regression import RegressionCleanLearning
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 2))
    >>> y = X @ [2.0, -1.0] + rng.normal(scale=0.1, size=200)
    >>> y[:5] += 20  # five corrupted targets
    >>> model = RegressionCleanLearning(random_state=0).fit(X, y)
    >>> bool(model.label_issues_["is_label_issue"][:5].all())
    True
    >>> np.round(model.model_.coef_, 1)
    array([ 2., -1.])
    """

    def __init__(
        self,
        model: Any = None,
        *,
        cv: int = 5,
        method: str = "outre",
        k: int = 30,
        uncertainty_model: Any = "auto",
        drop_fractions: Any = DEFAULT_DROP_FRACTIONS,
        random_state: int | None = None,
        n_jobs: int | None = None,
    ) -> None:
        self.model = model
        self.cv = cv
        self.method = method
        self.k = k
        self.uncertainty_model = uncertainty_model
        self.drop_fractions = drop_fractions
        self.random_state = random_state
        self.n_jobs = n_jobs

    def _base_model(self) -> Any:
        return LinearRegression() if self.model is None else self.model

    def _uncertainty(self, X: Any, residual: np.ndarray, folds: list, n_jobs: int | None) -> np.ndarray | None:
        """Out-of-fold prediction of ``|residual|`` from ``X`` (None without a model)."""
        if self.uncertainty_model is None:
            return None
        if isinstance(self.uncertainty_model, str):
            check_choice("uncertainty_model", self.uncertainty_model, ("auto",))
            model = HistGradientBoostingRegressor(
                loss="absolute_error", max_iter=50, max_leaf_nodes=8, early_stopping=False, random_state=0
            )
        else:
            model = clone(self.uncertainty_model)
        estimate = cross_val_predict(model, X, np.abs(residual), cv=folds, n_jobs=n_jobs)
        return np.maximum(estimate, 0.0)

    def find_label_issues(self, X: Any, y: Any, *, save_space: bool = False) -> pd.DataFrame:
        """Find the implausible targets (steps 1 to 4 of the class documentation) without
        fitting the final model.

        Returns the DataFrame of ``label_issues_`` (and, unless ``save_space``, keeps it with
        ``drop_fraction_``, ``cv_errors_`` and ``uncertainty_``).

        Examples
        --------
        >>> import numpy as np
        >>> from labelaudit.regression import RegressionCleanLearning
        >>> rng = np.random.default_rng(0)
        >>> X = rng.normal(size=(60, 2))
        >>> y = X @ [2.0, -1.0] + rng.normal(scale=0.1, size=60)
        >>> y[[3, 10]] += 20
        >>> issues = RegressionCleanLearning(random_state=0).find_label_issues(X, y)
        >>> issues.nsmallest(2, "label_quality").index.tolist(), bool(issues["is_label_issue"][[3, 10]].all())
        ([3, 10], True)
        """
        check_bool("save_space", save_space)
        check_choice("method", self.method, REGRESSION_METHODS)
        check_k(self.k)
        n_jobs = check_n_jobs(self.n_jobs)
        fractions = _check_drop_fractions(self.drop_fractions)
        y = _as_targets("y", y)
        if isinstance(self.cv, bool) or not isinstance(self.cv, (int, np.integer)) or not 2 <= self.cv <= len(y):
            raise ValueError(f"cv={self.cv!r} is not valid; use a number of folds from 2 to len(y) = {len(y)}.")
        model = self._base_model()
        folds = list(KFold(self.cv, shuffle=True, random_state=self.random_state).split(np.zeros(len(y))))
        predictions = cross_val_predict(clone(model), X, y, cv=folds, n_jobs=n_jobs)
        uncertainty = self._uncertainty(X, y - predictions, folds, n_jobs)
        scores = get_label_quality_scores(
            y, predictions, method=self.method, k=self.k, uncertainty=uncertainty, n_jobs=n_jobs
        )
        order = rank_rows(np.arange(len(y)), scores)
        counts = np.floor(fractions * len(y) + 0.5).astype(np.int64)
        evaluated = np.ones(len(y), dtype=bool)
        evaluated[order[: counts.max()]] = False
        jobs = []
        for count in counts:
            keep = np.ones(len(y), dtype=bool)
            keep[order[:count]] = False
            jobs += [(model, X, y, train[keep[train]], test[evaluated[test]]) for train, test in folds]
        errors = Parallel(n_jobs=n_jobs)(delayed(_fold_error)(*job) for job in jobs)
        mse = np.asarray(errors).reshape(len(counts), len(folds)).sum(axis=1) / max(evaluated.sum(), 1)
        best = int(np.argmin(mse))  # first minimum: the smallest fraction on a tie
        issue = np.zeros(len(y), dtype=bool)
        issue[order[: counts[best]]] = True
        logger.info("dropping %d of %d targets (fraction %.3g)", counts[best], len(y), fractions[best])
        issues = pd.DataFrame(
            {"is_label_issue": issue, "label_quality": scores, "given_label": y, "predicted_label": predictions},
            columns=ISSUE_COLUMNS,
        )
        if not save_space:
            self.cv_errors_ = dict(zip(fractions.tolist(), mse.tolist()))
            self.drop_fraction_ = float(fractions[best])
            self.uncertainty_ = uncertainty
            self.label_issues_ = issues
        return issues

    def fit(
        self, X: Any, y: Any, *, label_issues: Any = None, sample_weight: Any = None
    ) -> RegressionCleanLearning:
        """Find label issues (or take them), and fit ``model`` on the rest.

        Parameters
        ----------
        X, y
            Features and numeric targets.
        label_issues : DataFrame with ``is_label_issue`` or boolean mask of shape (n,), optional
            Issues already found (e.g. by :meth:`find_label_issues`); skips the search.
        sample_weight : array-like of shape (n,), optional
            Weights of the final fit (the search does not use them).
        """
        targets = _as_targets("y", y)
        n = len(targets)
        weights = None
        if sample_weight is not None:
            weights = np.asarray(sample_weight, dtype=np.float64)
            if weights.shape != (n,) or not np.isfinite(weights).all() or (weights < 0).any():
                raise ValueError(
                    f"sample_weight must be {n} finite non-negative weights, one per example; "
                    f"found shape {weights.shape}."
                )
        if label_issues is None:
            self.find_label_issues(X, targets)
        else:
            mask = label_issues["is_label_issue"] if isinstance(label_issues, pd.DataFrame) else label_issues
            mask = np.asarray(mask)
            if mask.dtype != bool or mask.shape != (n,):
                raise ValueError(
                    f"label_issues must be a boolean mask of shape ({n},) or a DataFrame with an "
                    f"'is_label_issue' column; found dtype {mask.dtype} and shape {mask.shape}."
                )
            self.label_issues_ = (
                label_issues.reset_index(drop=True) if isinstance(label_issues, pd.DataFrame)
                else pd.DataFrame({"is_label_issue": mask, "label_quality": np.nan, "given_label": targets,
                                   "predicted_label": np.nan}, columns=ISSUE_COLUMNS)
            )
        keep = np.flatnonzero(~self.label_issues_["is_label_issue"].to_numpy(dtype=bool))
        fit_params = {} if weights is None else {"sample_weight": weights[keep]}
        self.model_ = clone(self._base_model())
        self.model_.fit(_safe_indexing(X, keep), targets[keep], **fit_params)
        return self

    def get_label_issues(self) -> pd.DataFrame | None:
        """``label_issues_``, or None (with a warning) before :meth:`fit` or
        :meth:`find_label_issues`."""
        if not hasattr(self, "label_issues_"):
            warnings.warn("no label issues yet: call fit or find_label_issues first.", UserWarning, stacklevel=2)
            return None
        return self.label_issues_

    def save_space(self) -> RegressionCleanLearning:
        """Drop the per-example results (``label_issues_``, ``uncertainty_``), keeping what
        ``predict`` needs."""
        for name in ("label_issues_", "uncertainty_"):
            self.__dict__.pop(name, None)
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Predictions of the model fitted on the kept rows."""
        check_is_fitted(self, "model_")
        return self.model_.predict(X)
