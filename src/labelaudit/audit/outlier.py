"""The ``outlier`` check and :class:`OutOfDistribution`: examples unlike the rest.

From features (or a neighbour graph) an example's strangeness is the log of its mean distance
to its ``k`` nearest neighbours; from ``pred_probs`` alone it is the normalised entropy
(``method="entropy"``) or one minus the largest probability (``"least_confidence"``), after
per-class threshold adjustment (each class's mean self-confidence is subtracted from its column,
the largest added back and rows renormalised, so classes the model is always unsure about do
not look strange). A strangeness ``v`` becomes a robust z-score ``z = (v - median) / spread``
(spread: 1.4826 times the median absolute deviation, or the interquartile range / 1.349 when
larger) of a reference set, and the score is ``2 ** (-max(z, 0) / threshold)``: 1 for
typical examples, 0.5 exactly at the flagging threshold, towards 0 far beyond it. An example is
an outlier when ``z > threshold``. ``pred_probs`` are read block by block in their own dtype,
every value checked on the way, and never copied whole.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator

from labelaudit._passes import open_passes as Passes
from labelaudit._validate import (
    as_pred_probs,
    check_choice,
    check_k,
    check_threshold,
)
from labelaudit.audit._base import Check, CheckResult, register_check
from labelaudit.audit._inputs import AuditInputs, as_features
from labelaudit.audit._rows import RowFunction, row_pass
from labelaudit.rank import adjustment_thresholds

logger = logging.getLogger(__name__)

OOD_METHODS = ("entropy", "least_confidence")
OOD_PARAMS = ("knn", "t", "confident_thresholds")  # the reference's params beyond the keywords


def robust_center_spread(values: np.ndarray) -> tuple[float, float]:
    """Median and a robust spread of the finite ``values`` (never 0).

    >>> robust_center_spread(np.array([1.0, 2.0, 3.0, 4.0, 100.0]))
    (3.0, 1.4826)
    """
    v = values[np.isfinite(values)]
    center = float(np.median(v))
    mad = 1.4826 * float(np.median(np.abs(v - center)))
    q1, q3 = np.percentile(v, [25, 75])
    spread = max(mad, float(q3 - q1) / 1.349)
    return center, spread if spread > 0 else max(float(np.std(v)), 1e-12)


def check_confident_thresholds(value: Any, num_classes: int) -> np.ndarray:
    """``params["confident_thresholds"]``: one mean self-confidence in [0, 1] per class.

    >>> check_confident_thresholds([0.5, 0.75], 2)
    array([0.5 , 0.75])
    """
    arr = np.asarray(value, dtype=np.float64) if np.size(value) else np.empty(0)
    if arr.shape != (num_classes,) or not ((arr >= 0) & (arr <= 1)).all():
        raise ValueError(
            f"params['confident_thresholds'] must be {num_classes} numbers in [0, 1], one per "
            f"pred_probs column (each class's mean self-confidence); found {arr.tolist()!r}."
        )
    return arr


def strangeness_scores(
    values: np.ndarray, center: float, spread: float, threshold: float
) -> np.ndarray:
    """Scores in [0, 1] from strangeness (see the module documentation); NaN stays NaN."""
    z = (values - center) / spread
    return np.exp2(-np.maximum(z, 0.0) / threshold)


def distance_strangeness(distances: np.ndarray) -> np.ndarray:
    """Log mean distance to the neighbours, one value per row of ``distances``."""
    return np.log(np.maximum(distances.mean(axis=1), np.finfo(np.float64).tiny))


def block_strangeness(block: np.ndarray, thresholds: np.ndarray | None, method: str) -> np.ndarray:
    """Normalised entropy or least confidence of (threshold-adjusted) rows of one block.

    The block keeps its dtype; the arithmetic is float64, one block at a time.
    """
    p = block.astype(np.float64)
    if thresholds is not None:
        p -= thresholds
        p += thresholds.max()
        np.maximum(p, 0.0, out=p)
        p /= p.sum(axis=1, keepdims=True)
    if method == "least_confidence":
        return 1.0 - p.max(axis=1)
    logs = np.log(p, out=np.zeros_like(p), where=p > 0)
    logs *= p
    return -logs.sum(axis=1) / np.log(p.shape[1])


def strangeness(thresholds: np.ndarray | None, method: str) -> dict[str, RowFunction]:
    """The strangeness of each row of ``pred_probs`` (see :mod:`labelaudit.audit._rows`)."""
    adjusted = "adjusted" if thresholds is not None else "raw"
    return {
        f"strangeness {method} {adjusted}": lambda block, rows: block_strangeness(
            block, thresholds, method
        )
    }


def probability_strangeness(
    pred_probs: Any,
    thresholds: np.ndarray | None,
    method: str,
    *,
    n_jobs: int | None = None,
    validate: bool = True,
) -> np.ndarray:
    """:func:`block_strangeness` of every row, block by block; checks every value when ``validate``.

    >>> probability_strangeness(np.array([[0.5, 0.5], [0.75, 0.25]]), None, "least_confidence")
    array([0.5 , 0.25])
    """
    (values,) = row_pass(
        pred_probs, strangeness(thresholds, method), n_jobs=n_jobs, validate=validate
    ).values()
    return values


class OutOfDistribution(BaseEstimator):
    """Score how unlike a reference (training) set new examples are.

    Fit on features (distance to the ``k`` nearest training examples) or on ``pred_probs`` with
    ``labels`` (entropy or least confidence after per-class threshold adjustment), then score
    other data. Scores are in [0, 1], lower = more out of distribution; ``predict`` flags the
    examples beyond ``threshold`` (see :mod:`labelaudit.audit.outlier` for the formula). A
    scikit-learn estimator: ``get_params``, ``set_params`` and ``clone`` work as usual.

    Parameters
    ----------
    params : dict, optional
        The reference's way to pass settings: any of the keywords below, and

        * ``"knn"``: a fitted scikit-learn ``NearestNeighbors`` (or anything with its
          ``kneighbors`` API) whose training data is the reference set; ``fit`` then needs no
          features, and ``score`` works without ``fit``. ``k`` defaults to its ``n_neighbors``.
        * ``"t"`` (default 1): sharpness of the scores, ``2 ** (-t * max(z, 0) / threshold)``
          for a robust z-score ``z``; larger ``t`` pushes scores towards 0 without changing their
          order or what ``predict`` flags.
        * ``"confident_thresholds"``: the per-class thresholds for adjusting ``pred_probs``
          (shape (K,)); ``fit`` then needs no ``labels``.

        A setting may be given in ``params`` or as a keyword, not both.
    k : int, default 10
        Neighbours used for feature-based scores.
    threshold : float, default 4.0
        Robust standard deviations above the reference median at which an example is flagged.
    method : {"entropy", "least_confidence"}, default "entropy"
        Strangeness measure for ``pred_probs``.
    adjust_pred_probs : bool, default True
        Subtract per-class thresholds (needs ``labels`` in ``fit``).
    metric : str, default "euclidean"
        Any metric scikit-learn's ``NearestNeighbors`` accepts.
    n_jobs : int, optional
        Parallel jobs of the neighbour search.

    Attributes
    ----------
    scores_ : ndarray
        Scores of the fit examples themselves (each without itself as a neighbour).
    center_, spread_ : float
        Median and robust spread of the reference strangeness.
    thresholds_ : ndarray or None
        Per-class thresholds used to adjust ``pred_probs``.

    Examples
    --------
    >>> import numpy as np
    >>> from labelaudit import OutOfDistribution
    >>> rng = np.random.default_rng(0)
    >>> ood = OutOfDistribution(k=5).fit(features=rng.normal(size=(200, 3)))
    >>> new = np.array([[0.0, 0.0, 0.0], [9.0, 9.0, 9.0]])
    >>> ood.predict(features=new)
    array([False,  True])
    >>> ood.score(features=new).round(2)
    array([1.  , 0.13])

    The reference's ``params``, with a neighbour search fitted elsewhere:

    >>> from sklearn.base import clone
    >>> from sklearn.neighbors import NearestNeighbors
    >>> knn = NearestNeighbors(n_neighbors=5).fit(rng.normal(size=(200, 3)))
    >>> sharp = OutOfDistribution(params={"knn": knn, "t": 2})
    >>> sharp.score(features=new).round(3)
    array([1.   , 0.042])
    >>> clone(sharp).get_params()["params"]["t"]
    2
    """

    def __init__(
        self,
        params: dict[str, Any] | None = None,
        *,
        k: int = 10,
        threshold: float = 4.0,
        method: str = "entropy",
        adjust_pred_probs: bool = True,
        metric: str = "euclidean",
        n_jobs: int | None = None,
    ) -> None:
        self.params = params
        self.k = k
        self.threshold = threshold
        self.method = method
        self.adjust_pred_probs = adjust_pred_probs
        self.metric = metric
        self.n_jobs = n_jobs

    def _settings(self) -> dict[str, Any]:
        """The keywords overridden by ``params``, checked, with ``knn``, ``t`` and
        ``confident_thresholds``."""
        keywords = self.get_params(deep=False)
        params = keywords.pop("params")
        params = {} if params is None else params
        if not isinstance(params, Mapping):
            raise TypeError(f"params must be a dict of settings; found {type(params).__name__}.")
        valid = (*keywords, *OOD_PARAMS)
        unknown = sorted(map(str, set(params) - set(valid)))
        if unknown:
            raise ValueError(
                f"params has the unknown key(s) {unknown}; valid keys: {', '.join(valid)}."
            )
        defaults = type(self)().get_params(deep=False)
        twice = sorted(key for key in params if key in keywords and keywords[key] != defaults[key])
        if twice:
            raise ValueError(
                f"{', '.join(twice)} given both in params and as a keyword; pass each setting once."
            )
        settings = {**keywords, "knn": None, "t": 1, "confident_thresholds": None, **params}
        knn = settings["knn"]
        if knn is not None:
            if not hasattr(knn, "kneighbors") or not hasattr(knn, "n_samples_fit_"):
                raise ValueError(
                    "params['knn'] must be a fitted NearestNeighbors (with kneighbors and "
                    f"n_samples_fit_); found {type(knn).__name__}. Call its fit(features) first."
                )
            if "k" not in params and self.k == defaults["k"]:
                settings["k"] = knn.n_neighbors
        settings["k"] = check_k(settings["k"])
        settings["threshold"] = check_threshold(settings["threshold"])
        t = settings["t"]
        if isinstance(t, bool) or not isinstance(t, (int, float, np.number)) or not t > 0:
            raise ValueError(f"params['t']={t!r} is not valid; use a positive number such as 1.")
        check_choice("method", settings["method"], OOD_METHODS)
        return settings

    def fit(
        self, *, features: Any = None, pred_probs: Any = None, labels: Any = None
    ) -> OutOfDistribution:
        """Learn the reference distribution from ``features`` or from ``pred_probs`` (+ ``labels``).

        With ``params["knn"]`` the reference set is the knn's training data and ``features``
        may be omitted.
        """
        settings = self._settings()
        k, knn = settings["k"], settings["knn"]
        sources = (features is not None) + (pred_probs is not None)
        if sources > 1 or (sources == 0 and knn is None):
            raise ValueError("fit needs exactly one of features= or pred_probs=.")
        self.thresholds_ = None
        if features is not None or knn is not None:
            reference = self._fit_features(features, settings)
        else:
            probs = as_pred_probs(pred_probs)
            given = settings["confident_thresholds"]
            if given is not None:
                self.thresholds_ = check_confident_thresholds(given, probs.shape[1])
            elif settings["adjust_pred_probs"]:
                if labels is None:
                    raise ValueError(
                        "adjust_pred_probs=True needs labels= in fit (or set "
                        "adjust_pred_probs=False, or give params['confident_thresholds'])."
                    )
                self.thresholds_ = adjustment_thresholds(
                    Passes(labels, probs, n_jobs=settings["n_jobs"])
                )
            if not settings["adjust_pred_probs"]:
                self.thresholds_ = None
            self.search_ = None
            reference = probability_strangeness(
                probs, self.thresholds_, settings["method"], n_jobs=settings["n_jobs"],
                validate=self.thresholds_ is None or given is not None,
            )
        self.k_, self.threshold_, self.t_ = k, settings["threshold"], float(settings["t"])
        self.method_ = settings["method"]
        self.center_, self.spread_ = robust_center_spread(reference)
        self.scores_ = self._scores(reference)
        return self

    def _fit_features(self, features: Any, settings: dict[str, Any]) -> np.ndarray:
        """Strangeness of the reference rows; sets ``search_``."""
        from sklearn.neighbors import NearestNeighbors

        k, knn = settings["k"], settings["knn"]
        if knn is not None:
            if knn.n_samples_fit_ <= k:
                raise ValueError(
                    f"params['knn'] was fitted on {knn.n_samples_fit_} rows; it needs more than "
                    f"k={k}."
                )
            if features is not None and len(features) != knn.n_samples_fit_:
                raise ValueError(
                    f"features has {len(features)} rows but params['knn'] was fitted on "
                    f"{knn.n_samples_fit_}; fit(features=...) with a knn takes its training data."
                )
            self.search_ = knn
            distances, _ = knn.kneighbors(n_neighbors=k)
            return distance_strangeness(distances)
        arr, _ = as_features(features, len(features), None)
        complete = ~np.isnan(arr).any(axis=1)
        if complete.sum() <= k:
            raise ValueError(
                f"features has {int(complete.sum())} complete rows; fit needs more than k={k}."
            )
        if not complete.all():
            logger.warning(
                "OutOfDistribution.fit left out %d rows with missing features",
                int((~complete).sum()),
            )
        self.search_ = NearestNeighbors(
            n_neighbors=k, metric=settings["metric"], n_jobs=settings["n_jobs"]
        ).fit(arr[complete])
        distances, _ = self.search_.kneighbors()
        reference = np.full(len(arr), np.nan)
        reference[complete] = distance_strangeness(distances)
        return reference

    def _scores(self, values: np.ndarray) -> np.ndarray:
        return strangeness_scores(values, self.center_, self.spread_, self.threshold_ / self.t_)

    def fit_score(
        self, *, features: Any = None, pred_probs: Any = None, labels: Any = None
    ) -> np.ndarray:
        """:meth:`fit`, then the scores of the fit examples (``scores_``)."""
        return self.fit(features=features, pred_probs=pred_probs, labels=labels).scores_

    def score(self, *, features: Any = None, pred_probs: Any = None) -> np.ndarray:
        """Scores of new examples in [0, 1] (NaN for rows with missing features)."""
        if not hasattr(self, "center_"):
            if self._settings()["knn"] is None:
                raise ValueError("this OutOfDistribution is not fitted yet; call fit(...) first.")
            self.fit()
        if self.search_ is not None:
            if features is None or pred_probs is not None:
                raise ValueError(
                    "this OutOfDistribution was fitted on features; score it with features=."
                )
            n_fit_features = self.search_.n_features_in_
            arr, _ = as_features(features, len(features), None)
            if arr.shape[1] != n_fit_features:
                raise ValueError(f"features has {arr.shape[1]} columns; fit saw {n_fit_features}.")
            complete = ~np.isnan(arr).any(axis=1)
            values = np.full(len(arr), np.nan)
            if complete.any():
                distances, _ = self.search_.kneighbors(arr[complete], n_neighbors=self.k_)
                values[complete] = distance_strangeness(distances)
        else:
            if pred_probs is None or features is not None:
                raise ValueError(
                    "this OutOfDistribution was fitted on pred_probs; score it with pred_probs=."
                )
            values = probability_strangeness(
                as_pred_probs(pred_probs), self.thresholds_, self.method_, n_jobs=self.n_jobs
            )
        return self._scores(values)

    def predict(self, *, features: Any = None, pred_probs: Any = None) -> np.ndarray:
        """``True`` for examples beyond the threshold (score below ``2 ** -t``, 0.5 by default)."""
        scores = self.score(features=features, pred_probs=pred_probs)  # may fit from a knn
        return scores < np.exp2(-self.t_)


@register_check
class OutlierCheck(Check):
    """Examples far from their neighbours (or, without features, with strange ``pred_probs``).

    Parameters: ``threshold`` (robust standard deviations, default 4), ``method`` and
    ``adjust_pred_probs`` for the ``pred_probs`` route. Extra column: ``outlier_strangeness``.
    """

    name = "outlier"
    needs = (("neighbors", "pred_probs"),)
    params: ClassVar[dict[str, Any]] = {
        "threshold": 4.0,
        "method": "entropy",
        "adjust_pred_probs": True,
    }

    def reads(
        self, inputs: AuditInputs, *, threshold: float, method: str, adjust_pred_probs: bool
    ) -> dict[str, RowFunction]:
        if "neighbors" in inputs.available():
            return {}
        check_choice("method", method, OOD_METHODS)
        adjust = adjust_pred_probs and inputs.labels is not None
        return strangeness(adjustment_thresholds(inputs.passes) if adjust else None, method)

    def run(
        self, inputs: AuditInputs, *, threshold: float, method: str, adjust_pred_probs: bool
    ) -> CheckResult:
        threshold = check_threshold(threshold)
        check_choice("method", method, OOD_METHODS)
        n = inputs.num_examples
        values = np.full(n, np.nan)
        notes: list[str] = []
        if "neighbors" in inputs.available():
            graph = inputs.graph
            values[graph.rows] = distance_strangeness(graph.distances)
            source = "neighbors"
            notes = graph.notes()
        else:
            read = self.reads(
                inputs, threshold=threshold, method=method, adjust_pred_probs=adjust_pred_probs
            )
            (values,) = inputs.row_values(read).values()
            source = f"pred_probs ({method})"
        center, spread = robust_center_spread(values)
        score = strangeness_scores(values, center, spread, threshold)
        return CheckResult(
            is_issue=np.nan_to_num(score, nan=1.0) < 0.5,
            score=score,
            columns={"outlier_strangeness": values},
            info={"source": source, "center": center, "spread": spread, "threshold": threshold},
            notes=notes,
        )
