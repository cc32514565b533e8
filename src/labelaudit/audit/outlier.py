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
from typing import Any, ClassVar

import numpy as np

from labelaudit._passes import open_passes as Passes
from labelaudit._validate import as_pred_probs, check_choice, check_k, check_threshold
from labelaudit.audit._base import Check, CheckResult, register_check
from labelaudit.audit._inputs import AuditInputs, as_features
from labelaudit.audit._rows import RowFunction, row_pass
from labelaudit.rank import adjustment_thresholds

logger = logging.getLogger(__name__)

OOD_METHODS = ("entropy", "least_confidence")


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


class OutOfDistribution:
    """Score how unlike a reference (training) set new examples are.

    Fit on features (distance to the ``k`` nearest training examples) or on ``pred_probs`` with
    ``labels`` (entropy or least confidence after per-class threshold adjustment), then score
    other data. Scores are in [0, 1], lower = more out of distribution; ``predict`` flags scores
    below 0.5 (see :mod:`labelaudit.audit.outlier` for the formula).

    Parameters
    ----------
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
    """

    def __init__(
        self,
        *,
        k: int = 10,
        threshold: float = 4.0,
        method: str = "entropy",
        adjust_pred_probs: bool = True,
        metric: str = "euclidean",
        n_jobs: int | None = None,
    ) -> None:
        self.k = k
        self.threshold = threshold
        self.method = method
        self.adjust_pred_probs = adjust_pred_probs
        self.metric = metric
        self.n_jobs = n_jobs

    def __repr__(self) -> str:
        return (
            f"OutOfDistribution(k={self.k}, threshold={self.threshold}, method={self.method!r}, "
            f"adjust_pred_probs={self.adjust_pred_probs}, metric={self.metric!r})"
        )

    def fit(
        self, *, features: Any = None, pred_probs: Any = None, labels: Any = None
    ) -> OutOfDistribution:
        """Learn the reference distribution from ``features`` or from ``pred_probs`` (+ ``labels``)."""
        from sklearn.neighbors import NearestNeighbors

        k = check_k(self.k)
        threshold = check_threshold(self.threshold)
        check_choice("method", self.method, OOD_METHODS)
        if (features is None) == (pred_probs is None):
            raise ValueError("fit needs exactly one of features= or pred_probs=.")
        self.thresholds_ = None
        if features is not None:
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
                n_neighbors=k, metric=self.metric, n_jobs=self.n_jobs
            ).fit(arr[complete])
            distances, _ = self.search_.kneighbors()
            reference = np.full(len(arr), np.nan)
            reference[complete] = distance_strangeness(distances)
        else:
            probs = as_pred_probs(pred_probs)
            if self.adjust_pred_probs:
                if labels is None:
                    raise ValueError(
                        "adjust_pred_probs=True needs labels= in fit (or set adjust_pred_probs=False)."
                    )
                self.thresholds_ = adjustment_thresholds(Passes(labels, probs, n_jobs=self.n_jobs))
            self.search_ = None
            reference = probability_strangeness(
                probs, self.thresholds_, self.method, n_jobs=self.n_jobs,
                validate=self.thresholds_ is None,  # else pass 1 of the thresholds checked them
            )
        self.center_, self.spread_ = robust_center_spread(reference)
        self.scores_ = strangeness_scores(reference, self.center_, self.spread_, threshold)
        return self

    def score(self, *, features: Any = None, pred_probs: Any = None) -> np.ndarray:
        """Scores of new examples in [0, 1] (NaN for rows with missing features)."""
        if not hasattr(self, "center_"):
            raise ValueError("this OutOfDistribution is not fitted yet; call fit(...) first.")
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
                distances, _ = self.search_.kneighbors(arr[complete])
                values[complete] = distance_strangeness(distances)
        else:
            if pred_probs is None or features is not None:
                raise ValueError(
                    "this OutOfDistribution was fitted on pred_probs; score it with pred_probs=."
                )
            values = probability_strangeness(
                as_pred_probs(pred_probs), self.thresholds_, self.method, n_jobs=self.n_jobs
            )
        return strangeness_scores(values, self.center_, self.spread_, float(self.threshold))

    def predict(self, *, features: Any = None, pred_probs: Any = None) -> np.ndarray:
        """``True`` for examples beyond the threshold (score below 0.5)."""
        return self.score(features=features, pred_probs=pred_probs) < 0.5


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
