"""The ``label`` check: examples whose given label is probably wrong.

With ``pred_probs`` it is confident learning as in :func:`labelaudit.find_label_issues` and
:func:`labelaudit.get_label_quality_scores`. Without them it builds out-of-sample probabilities
from the neighbour graph: each example's probabilities are the label shares of its ``k``
neighbours (itself excluded), with one pseudo-count spread evenly over the classes, and then
applies the same confident learning. Rows without neighbours are left out, and so is every row
when the labels of the rows it covers hold a single class (a note says so).

With both (``neighbor_evidence``, see :class:`LabelCheck`) the neighbours' probabilities are a
second member next to ``pred_probs``, weighted as an ensemble is
(:func:`labelaudit._ensemble.likelihood_weights`: the mixture weights that best explain the
given labels), and confident learning runs on the mixture. Both members are out-of-sample (a
row's own label is never among its neighbours'); neither is copied: the mixture and the
neighbours' probabilities are computed block by block as the passes read them.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar

import numpy as np

from labelaudit._ensemble import WeightedProbs, likelihood_weights
from labelaudit._kernels import SCORE_METHODS
from labelaudit._passes import Passes, open_passes
from labelaudit._validate import check_choice, check_two_classes
from labelaudit.audit._base import Check, CheckResult, register_check
from labelaudit.audit._inputs import AuditInputs
from labelaudit.audit._knn import KnnGraph
from labelaudit.audit._rows import (
    RowFunction,
    label_score_name,
    label_scores,
    predicted_labels,
    row_pass,
)
from labelaudit.auto import NoiseCorrection
from labelaudit.filter import RULES, FlagPlan, check_filter_options

logger = logging.getLogger(__name__)



def knn_pred_probs(graph: KnnGraph, codes: np.ndarray, num_classes: int) -> np.ndarray:
    """Out-of-sample probabilities of the covered rows from their neighbours' labels.

    Row ``i`` of the result belongs to ``graph.rows[i]``: ``(counts + 1/K) / (k + 1)``.

    Examples
    --------
    >>> import numpy as np
    >>> from labelaudit.audit._knn import build_knn_graph
    >>> g = build_knn_graph(np.array([[0.0], [0.1], [0.2], [5.0]]), 2)
    >>> knn_pred_probs(g, np.array([0, 0, 1, 1]), 2).round(2)
    array([[0.5 , 0.5 ],
           [0.5 , 0.5 ],
           [0.83, 0.17],
           [0.5 , 0.5 ]])
    """
    counts = np.zeros((len(graph.rows), num_classes))
    np.add.at(
        counts, (np.repeat(np.arange(len(graph.rows)), graph.k), codes[graph.indices].ravel()), 1.0
    )
    return (counts + 1.0 / num_classes) / (graph.k + 1.0)


def _neighbor_counts(graph: KnnGraph, positions: np.ndarray, codes: np.ndarray, num_classes: int) -> np.ndarray:
    """Neighbour label counts, shape ``(len(positions), K)``, of the graph rows ``positions``."""
    neighbors = codes[graph.indices[positions]]
    cells = (np.arange(len(positions))[:, None] * num_classes + neighbors).ravel()
    return np.bincount(cells, minlength=len(positions) * num_classes).reshape(-1, num_classes)


class NeighborProbs:
    """:func:`knn_pred_probs` of every row, computed for the rows that are read.

    Rows without neighbours read ``fallback`` (the model's ``pred_probs``) instead. Has
    ``shape``, ``dtype``, ``ndim`` and row slicing, like :class:`labelaudit._ensemble.WeightedProbs`.

    >>> from labelaudit.audit._knn import build_knn_graph
    >>> g = build_knn_graph(np.array([[0.0], [0.1], [0.2], [5.0]]), 2)
    >>> NeighborProbs(g, np.array([0, 0, 1, 1]), np.full((4, 2), .5))[2:3].round(2)
    array([[0.83, 0.17]])
    """

    ndim = 2
    dtype = np.dtype(np.float64)

    def __init__(self, graph: KnnGraph, codes: np.ndarray, fallback: Any) -> None:
        self.graph = graph
        self.codes = codes
        self.fallback = fallback
        self.shape = (graph.num_examples, int(fallback.shape[1]))
        self.position: np.ndarray | None = None  # graph row of each row (-1: none)
        if len(graph.rows) < graph.num_examples:
            self.position = np.full(graph.num_examples, -1, dtype=np.int64)
            self.position[graph.rows] = np.arange(len(graph.rows))

    def __getitem__(self, key: Any) -> np.ndarray:
        n, num_classes = self.shape
        rows = np.arange(*key.indices(n)) if isinstance(key, slice) else np.asarray(key).reshape(-1)
        positions = rows if self.position is None else self.position[rows]
        covered = positions >= 0
        out = np.empty((len(rows), num_classes))
        counts = _neighbor_counts(self.graph, positions[covered], self.codes, num_classes)
        out[covered] = (counts + 1.0 / num_classes) / (self.graph.k + 1.0)
        if not covered.all():
            out[~covered] = np.asarray(self.fallback[key], dtype=np.float64).reshape(-1, num_classes)[~covered]
        return out if np.ndim(key) or isinstance(key, slice) else out[0]


def neighbor_self_confidence(graph: KnnGraph, codes: np.ndarray, num_classes: int) -> np.ndarray:
    """``knn_pred_probs[i, codes[i]]`` of the covered rows, without the ``n x K`` probabilities."""
    agree = (codes[graph.indices] == codes[graph.rows][:, None]).sum(axis=1)
    return (agree + 1.0 / num_classes) / (graph.k + 1.0)


def _log_likelihood(self_confidence: np.ndarray, weights: np.ndarray) -> float:
    return float(np.log(np.maximum(self_confidence @ weights, 1e-300)).sum())


def neighbor_weights(model: np.ndarray, neighbors: np.ndarray, prior: np.ndarray) -> np.ndarray:
    """Weights ``[model, neighbours]`` from each row's probability of its given label under each.

    The class shares (``prior``) join the mixture fit, so the neighbours are weighted for what
    they know beyond them (any smoothing of an over-confident model explains labels better), and
    the neighbours get weight 0 unless they raise the log likelihood by more than the Bayesian
    information criterion's price of one more weight, ``log(n) / 2``.

    >>> model = np.array([.9, .8, .9, .2, .9, .8])
    >>> neighbors = np.array([.9, .9, .8, .9, .9, .9])  # they explain row 3, which the model does not
    >>> neighbor_weights(model, neighbors, np.full(6, .5)).round(3).tolist()
    [0.0, 1.0]
    >>> neighbor_weights(model, np.full(6, .5), np.full(6, .5)).tolist()  # no better than the shares
    [1.0, 0.0]
    """
    with_neighbors = np.stack([model, neighbors, prior], axis=1)
    without = with_neighbors[:, [0, 2]]
    full, reduced = likelihood_weights(with_neighbors), likelihood_weights(without)
    gain = _log_likelihood(with_neighbors, full) - _log_likelihood(without, reduced)
    if gain <= 0.5 * np.log(len(model)) or full[:2].sum() <= 0:
        return np.array([1.0, 0.0])
    return full[:2] / full[:2].sum()


def with_neighbor_evidence(inputs: AuditInputs) -> tuple[WeightedProbs, np.ndarray, list[str]]:
    """The model's ``pred_probs`` and the neighbours' as one (see the module documentation):
    the mixture, its weights ``[model, neighbours]`` and the notes."""
    graph = inputs.graph
    codes, k = inputs.labels.codes, inputs.labels.num_classes
    model = np.asarray(inputs.passes.stats.self_confidence, dtype=np.float64)
    neighbors = model.copy()  # rows without neighbours: the model's
    neighbors[graph.rows] = neighbor_self_confidence(graph, codes, k)
    weights = neighbor_weights(model, neighbors, (inputs.passes.class_counts / len(codes))[codes])
    logger.info("label: weights of the model and of the neighbours %s", np.round(weights, 4).tolist())
    notes = graph.notes(
        f"probabilities: the model's and those from the labels of each example's {graph.k} "
        f"nearest neighbours, weighted {weights[0]:.3f} and {weights[1]:.3f} (the mixture that "
        "best explains the given labels)."
    )
    return WeightedProbs([inputs.pred_probs, NeighborProbs(graph, codes, inputs.pred_probs)], weights), weights, notes


def label_issue_mask(passes: Passes, filter_by: str, frac_noise: float) -> np.ndarray:
    """The mask of :func:`labelaudit.find_label_issues` over already opened ``passes`` (which
    keep what every rule needs: self-confidence and the row sample); other options the defaults."""
    plan = FlagPlan(passes, filter_by, frac_noise=frac_noise)
    return np.asarray(RULES[filter_by].select(passes, plan).mask_in(passes))


def _check_options(filter_by: str, frac_noise: Any, method: str, neighbor_evidence: Any) -> float:
    """``frac_noise``, after checking the options as the core functions do."""
    check_choice("method", method, SCORE_METHODS)
    if not (neighbor_evidence is True or neighbor_evidence is False or neighbor_evidence == "auto"):
        raise ValueError(f"neighbor_evidence must be 'auto', True or False; got {neighbor_evidence!r}.")
    return check_filter_options(filter_by, frac_noise, 1, None, None, None, None)[0]


def _combines(inputs: AuditInputs, neighbor_evidence: Any) -> bool:
    """Whether the check weighs the neighbours' labels next to ``pred_probs``."""
    if inputs.pred_probs is None or neighbor_evidence is False:
        return False
    has_neighbors = "neighbors" in inputs.available()
    if neighbor_evidence is True and not has_neighbors:
        raise ValueError(
            "neighbor_evidence=True needs features or knn_graph besides pred_probs; pass one or "
            "use neighbor_evidence='auto'."
        )
    return has_neighbors


def _suggested(
    passes: Passes, codes: np.ndarray, pred_probs: Any, flagged: np.ndarray, predicted: np.ndarray
) -> np.ndarray:
    """``predicted`` with the flagged rows' classes under the posterior of ``"auto"``; only those
    rows are read again, in blocks of about a million values."""
    correction = NoiseCorrection.of(passes)
    out = predicted.copy()
    wanted = np.flatnonzero(flagged)
    step = max(1, (1 << 20) // max(passes.num_classes, 1))
    for start in range(0, len(wanted), step):
        part = wanted[start : start + step]
        out[part] = correction.suggestions(codes[part], np.asarray(pred_probs[part]))
    return out


def _row_functions(codes: np.ndarray, method: str) -> dict[str, RowFunction]:
    """What the label check reads per row: the predicted label and its score."""
    return {**predicted_labels(), **label_scores(codes, method)}


@register_check
class LabelCheck(Check):
    """Probably mislabelled examples (confident learning).

    Parameters (through ``issue_types={"label": {...}}``): ``filter_by`` and ``frac_noise`` as
    in :func:`labelaudit.find_label_issues`, ``method`` as in
    :func:`labelaudit.get_label_quality_scores`. Extra columns: ``given_label`` and
    ``predicted_label`` (the most probable class, under the noise-corrected posterior for the
    rows ``filter_by="auto"`` flags; the given label for rows left out).

    ``neighbor_evidence`` (``"auto"``, True or False; default False): with ``pred_probs`` and
    the neighbour graph (``features`` or ``knn_graph``) both given, whether the neighbours' label
    shares join the model's ``pred_probs`` as a second ensemble member, weighted by the
    likelihood of the given labels (:func:`neighbor_weights`; weight 0 unless they explain the
    labels better than the class shares do, by the BIC's margin). ``"auto"`` combines whenever
    both are given, True requires both, False uses ``pred_probs`` alone. ``info["weights"]``
    holds ``{"pred_probs": w, "neighbors": 1 - w}``. Measured by ``benchmarks/bench_neighbors.py``
    (60 noisy cases from scikit-learn's datasets): F1 0.726 -> 0.788 and AUROC 0.915 -> 0.940 on
    the mean with the raw features, no change at all with random features. Off by default: a
    combined mixture is read by passes of its own (about 10 reads of ``pred_probs`` instead of
    the audit's 4), which the shared passes do not fold in yet.
    """

    name = "label"
    needs = (("labels",), ("pred_probs", "neighbors"))
    params: ClassVar[dict[str, Any]] = {
        "filter_by": "auto",
        "frac_noise": 1.0,
        "method": "self_confidence",
        "neighbor_evidence": False,
    }

    def reads(
        self,
        inputs: AuditInputs,
        *,
        filter_by: str,
        frac_noise: float,
        method: str,
        neighbor_evidence: Any,
    ) -> dict[str, RowFunction]:
        _check_options(filter_by, frac_noise, method, neighbor_evidence)
        if inputs.pred_probs is None or _combines(inputs, neighbor_evidence):
            return {}
        return _row_functions(inputs.labels.codes, method)

    def run(
        self,
        inputs: AuditInputs,
        *,
        filter_by: str,
        frac_noise: float,
        method: str,
        neighbor_evidence: Any,
    ) -> CheckResult:
        frac_noise = _check_options(filter_by, frac_noise, method, neighbor_evidence)
        labels = inputs.labels
        n, k = inputs.num_examples, labels.num_classes
        notes: list[str] = []
        info: dict[str, Any] = {}
        combined = _combines(inputs, neighbor_evidence)
        if combined:  # neighbours weighted 0: the model alone, on the audit's shared passes
            mixture, weights, notes = with_neighbor_evidence(inputs)
            info["weights"] = {"pred_probs": float(weights[0]), "neighbors": float(weights[1])}
            combined = bool(weights[1] > 0)
        if combined:
            rows = np.arange(n)
            pred_probs = mixture
            source = "pred_probs+neighbors"
        elif inputs.pred_probs is not None:
            rows = np.arange(n)
            pred_probs = inputs.pred_probs
            source = "pred_probs"
        else:
            graph = inputs.graph
            rows = graph.rows
            pred_probs = knn_pred_probs(graph, labels.codes, k)
            source = "neighbors"
            notes = graph.notes(
                f"probabilities from the labels of each example's {graph.k} nearest neighbours."
            )
        codes = labels.codes[rows]
        is_issue = np.zeros(n, dtype=bool)
        score = np.full(n, np.nan)
        predicted = np.full(n, -1, dtype=np.int64)
        try:
            check_two_classes(np.bincount(codes, minlength=k), labels.classes)
        except ValueError as err:  # nothing to tell the labels from: every row is left out
            notes = [*notes, f"every row left out: {err}"]
            rows = rows[:0]
        if len(rows):
            functions = _row_functions(codes, method)
            if inputs.pred_probs is not None and not combined:  # the audit's passes and values
                passes, values = inputs.passes, inputs.row_values(functions)
            else:
                passes = open_passes(
                    codes, pred_probs, n_jobs=inputs.n_jobs, **RULES[filter_by].pass_options
                )
                values = row_pass(pred_probs, functions, n_jobs=inputs.n_jobs, validate=False)
            is_issue[rows] = label_issue_mask(passes, filter_by, frac_noise)
            score[rows] = values[label_score_name(method)]
            predicted[rows] = values["predicted_label"]
            if filter_by == "auto":  # the posterior that flagged the rows suggests their labels
                predicted[rows] = _suggested(passes, codes, pred_probs, is_issue[rows], predicted[rows])
        classes = labels.classes
        given_names = classes[labels.codes]
        predicted_names = np.where(predicted >= 0, classes[np.maximum(predicted, 0)], given_names)
        return CheckResult(
            is_issue=is_issue,
            score=score,
            columns={"given_label": given_names, "predicted_label": predicted_names},
            info={"source": source, "num_classes": int(k), **info},
            notes=notes,
        )
