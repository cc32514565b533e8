"""Consensus labels and quality scores when several annotators label each example.

Inputs
------
``labels_multiannotator`` is either a wide table, ``(n, M)`` (a DataFrame whose columns are the
annotators, or a 2-D array), with NaN or None where an annotator did not label an example; or a
long DataFrame with the columns ``example`` (row number ``0..n-1``), ``annotator`` and ``label``,
one row per annotation. Labels are class indices ``0..K-1``: ``K`` is the number of columns of
``pred_probs``, or without it the largest label plus one, when every class ``0..K-1`` (at least
two) has an annotation. ``pred_probs`` (optional) is one model's out-of-sample ``(n, K)``
probabilities or a list of them (an ensemble).

Consensus methods
-----------------
Each method gives every example a posterior over classes; the consensus label is its most
probable class and the ``consensus_quality_score`` the posterior's
:func:`labelaudit.get_label_quality_scores` score of that label (``quality_method="crowdlab"``,
the score method set by ``label_quality_score_kwargs``), or with ``quality_method="agreement"``
the share of its annotators who chose it.

* ``"majority_vote"`` (or ``"majority"``): the most common label of the example's annotators;
  a tie between classes goes to the one the model (the ensemble mean) finds most probable, then
  to the lowest class
  index. Without ``pred_probs`` the posterior is the share of annotators choosing each class;
  with it, the ``"best_quality"`` posterior (so scores use the model).
* ``"best_quality"`` (CROWDLAB, Goh, Tkachenko and Mueller 2022): a weighted ensemble of the
  model(s) and the annotators. Starting from the majority consensus, on examples with at least
  two annotations, annotator ``j``'s agreement ``a_j`` is the mean share of the *other*
  annotators of an example who chose the same label (an annotator with no such example gets
  the mean over all annotations); the model's accuracy is measured against
  the majority consensus; both are compared with a baseline that always answers the most common
  consensus class (error ``e_B``). Weights are ``w_j = 1 - (1 - a_j) / e_B`` per annotator and
  ``w_m = (1 - e_m / e_B) * sqrt(mean annotations per example) / (number of models)`` per
  model (an ensemble weighs like one model), ``1 - e / e_B`` floored at ``0.001``. Let ``P``
  be the share of annotations on examples with at least two that equal the majority
  consensus. The paper's likelihood of an annotation of class ``l`` (``P`` for ``l``,
  ``(1 - P) / (K - 1)`` for each other class) is ``kappa * onehot(l) + (1 - kappa) / K`` with
  ``kappa = (K P - 1) / (K - 1)``, the chance-corrected agreement (floored at ``0.001``).
  Its uniform part adds the same mass to every class of an example, so it never changes the
  consensus; it only pulls scores towards ``1/K``, the more the more annotations an example
  has, which made well-annotated examples look less certain. Here an annotation contributes
  its informative part only: a vote for ``l`` of weight ``kappa * w_j``. The posterior is the
  weighted mean of the models' probabilities and these votes. Consensus labels are those of
  the paper's posterior; scores rank errors better (in ``benchmarks/bench_labels.py``, AUROC
  +0.010 and AUPRC +0.008 at 100k examples, mean of 5 seeds; ``notes/issue8-bench.md``).
  Without ``pred_probs`` only the annotators are weighed.
* ``"dawid_skene"``: the Dawid-Skene model (one confusion matrix per annotator and a class
  prior) fitted by expectation-maximisation, started from the majority shares; it uses the
  annotations only.

Per annotator: ``agreement_with_consensus`` is the share of their labels equal to the
consensus; ``annotator_quality`` is ``g * agreement_with_consensus + (1 - g) * mean quality``
of their labels under the posterior, where ``g = 1 - 1 / (mean annotations per example)``
(agreement means little when examples have one annotation each); ``worst_class`` is the
consensus class on which their labels' mean quality is lowest (ties: lowest class index).

All computations are deterministic: ties in ``argmax`` go to the lowest class index, sorting
is stable, and rows keep the input order.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from labelaudit._kernels import SCORE_METHODS, map_blocks, read_block, score_block
from labelaudit._validate import (
    as_pred_probs,
    check_bool,
    check_choice,
    check_no_gaps,
    check_probability_block,
    check_two_classes,
)

logger = logging.getLogger(__name__)

CONSENSUS_METHODS = ("best_quality", "majority_vote", "majority", "dawid_skene")
QUALITY_METHODS = ("crowdlab", "agreement")
LONG_COLUMNS = ("example", "annotator", "label")
LABEL_QUALITY_COLUMNS = [
    "consensus_label",
    "consensus_quality_score",
    "annotator_agreement",
    "num_annotations",
]
ANNOTATOR_COLUMNS = [
    "annotator",
    "annotator_quality",
    "agreement_with_consensus",
    "worst_class",
    "num_examples_labeled",
]
MIN_WEIGHT = 1e-3
_DS_PSEUDO_COUNT = 0.01


@dataclass(frozen=True)
class _Annotations:
    """Annotations as parallel arrays, sorted by (example, annotator)."""

    example: np.ndarray
    annotator: np.ndarray
    label: np.ndarray
    annotator_names: list[Any]
    num_examples: int
    num_classes: int

    def votes(self, weights: np.ndarray | None = None) -> np.ndarray:
        """``(n, K)`` number (or weight, per annotator) of annotations of each class."""
        flat = self.example * self.num_classes + self.label
        w = None if weights is None else weights[self.annotator]
        size = self.num_examples * self.num_classes
        return np.bincount(flat, weights=w, minlength=size).reshape(self.num_examples, -1)


def _parse(
    labels_multiannotator: Any, num_examples: int | None, num_classes: int | None
) -> _Annotations:
    table = labels_multiannotator
    if isinstance(table, pd.DataFrame) and set(LONG_COLUMNS) <= set(table.columns):
        example = _integers("labels_multiannotator['example']", table["example"].to_numpy())
        codes, names = pd.factorize(table["annotator"], sort=False)
        annotator, label_values, names = (
            codes.astype(np.int64),
            table["label"].to_numpy(),
            list(names),
        )
        if (codes < 0).any():
            raise ValueError(
                "labels_multiannotator['annotator'] has missing values; name every annotator."
            )
        if num_examples is None:
            num_examples = int(example.max()) + 1 if len(example) else 0
        if len(example) and (example.min() < 0 or example.max() >= num_examples):
            raise ValueError(
                f"labels_multiannotator['example'] must be row numbers 0..{num_examples - 1} (the "
                f"rows of pred_probs); found values from {example.min()} to {example.max()}."
            )
    else:
        wide = _wide(table)
        if num_examples is not None and wide.shape[0] != num_examples:
            raise ValueError(
                f"labels_multiannotator has {wide.shape[0]} rows but pred_probs has "
                f"{num_examples}; "
                "they must describe the same examples in the same order."
            )
        num_examples = wide.shape[0]
        names = (
            list(table.columns) if isinstance(table, pd.DataFrame) else list(range(wide.shape[1]))
        )
        example, annotator = np.nonzero(~np.isnan(wide))
        label_values = wide[example, annotator]
    label = _integers("labels in labels_multiannotator", label_values)
    if num_examples == 0 or len(label) == 0:
        raise ValueError("labels_multiannotator holds no annotations; pass at least one label.")
    inferred = num_classes is None  # then the labels alone give the classes: 0..max
    if inferred:
        num_classes = int(label.max()) + 1
    if label.min() < 0 or label.max() >= num_classes:
        raise ValueError(
            f"labels in labels_multiannotator must be class indices 0..{num_classes - 1}"
            f"{'' if inferred else ' (one per pred_probs column)'}; found values from "
            f"{label.min()} to {label.max()}. Map class names to column indices first."
        )
    order = np.lexsort((annotator, example))
    example, annotator, label = example[order].astype(np.int64), annotator[order], label[order]
    pair = example * len(names) + annotator
    if (np.diff(pair) == 0).any():
        i = int(np.flatnonzero(np.diff(pair) == 0)[0])
        raise ValueError(
            f"labels_multiannotator labels example {example[i]} twice by annotator "
            f"{names[annotator[i]]!r}; keep one label per (example, annotator)."
        )
    missing = np.setdiff1d(np.arange(num_examples), example)
    if len(missing):
        raise ValueError(
            f"example {missing[0]} of labels_multiannotator has no annotation; every example needs "
            "at least one (score unlabelled examples with get_active_learning_scores)."
        )
    unused = np.setdiff1d(np.arange(len(names)), annotator)
    if len(unused):
        raise ValueError(
            f"annotator {names[unused[0]]!r} in labels_multiannotator labelled no example; drop "
            "that column."
        )
    if inferred:
        name, fix = (
            "labels in labels_multiannotator",
            "pass pred_probs, whose columns give the classes",
        )
        counts = np.bincount(label, minlength=num_classes)
        check_no_gaps(name, counts, f"{fix}, or number the classes 0..K-1")
        check_two_classes(counts, np.arange(num_classes), name=name, fix=fix)
    return _Annotations(example, annotator, label, names, num_examples, num_classes)


def _wide(table: Any) -> np.ndarray:
    frame = table if isinstance(table, pd.DataFrame) else None
    if frame is None:
        arr = np.asarray(table, dtype=object) if not isinstance(table, np.ndarray) else table
        if arr.ndim != 2:
            raise ValueError(
                "labels_multiannotator must be an n x M table (rows = examples, columns = "
                f"annotators) or a long DataFrame with columns {list(LONG_COLUMNS)}; found shape "
                f"{arr.shape}. For one label per example use labelaudit.find_label_issues."
            )
        frame = pd.DataFrame(arr)
    try:
        return frame.to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError):
        raise TypeError(
            "labels_multiannotator must hold class indices 0..K-1, with NaN or None where an "
            "annotator gave no label; found non-numeric values. Map class names to indices first."
        ) from None


def _integers(name: str, values: np.ndarray) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be integers; found non-numeric values.") from None
    if np.isnan(arr).any() or not np.array_equal(arr, np.round(arr)):
        raise ValueError(f"{name} must be integers; found missing or fractional values.")
    return arr.astype(np.int64)


def _models(pred_probs: Any, num_examples: int | None) -> list[Any]:
    """``pred_probs`` as a list of validated ``(n, K)`` arrays (one per model)."""
    if pred_probs is None:
        return []
    many = isinstance(pred_probs, (list, tuple))
    models = [as_pred_probs(p) for p in (pred_probs if many else [pred_probs])]
    if not models:
        raise ValueError("pred_probs is an empty list; pass one (n, K) array per model, or None.")
    shape = models[0].shape
    for m, p in enumerate(models):
        if p.shape != shape:
            raise ValueError(
                f"pred_probs[{m}] has shape {p.shape} but pred_probs[0] has {shape}; every model "
                "must score the same examples and classes."
            )
        for _ in map_blocks(
            lambda a, b, p=p: check_probability_block(read_block(p, a, b), a), shape, None
        ):
            pass
    if num_examples is not None and shape[0] != num_examples:
        raise ValueError(
            f"pred_probs has {shape[0]} rows but labels_multiannotator has {num_examples} "
            "examples; they must describe the same examples in the same order."
        )
    return [np.asarray(p, dtype=np.float64) for p in models]


def _majority(ann: _Annotations, models: list[np.ndarray]) -> np.ndarray:
    votes = ann.votes()
    tied = votes == votes.max(axis=1, keepdims=True)
    if not models:
        return tied.argmax(axis=1)
    mean_probs = sum(models) / len(models)
    return np.where(tied, mean_probs, -np.inf).argmax(axis=1)


def _baseline_error(consensus: np.ndarray, num_classes: int) -> float:
    share = np.bincount(consensus, minlength=num_classes) / len(consensus)
    return 1.0 - float(share.max())


def _relative_weight(error: np.ndarray | float, baseline: float) -> np.ndarray:
    if baseline <= 0.0:
        return np.ones_like(np.asarray(error, dtype=np.float64))
    return np.maximum(1.0 - np.asarray(error, dtype=np.float64) / baseline, MIN_WEIGHT)


@dataclass(frozen=True)
class _Weights:
    """CROWDLAB weights: of each annotator's votes (``kappa * w_j``) and of each model."""

    annotator: np.ndarray
    model: np.ndarray


def _crowdlab_weights(ann: _Annotations, models: list[np.ndarray]) -> _Weights:
    num_annotators = len(ann.annotator_names)
    votes = ann.votes()
    per_example = votes.sum(axis=1)
    majority = _majority(ann, models)
    shared = per_example[ann.example] >= 2
    if shared.any():
        others = (votes[ann.example, ann.label] - 1) / np.maximum(per_example[ann.example] - 1, 1)
        agree_sum = np.bincount(
            ann.annotator[shared], weights=others[shared], minlength=num_annotators
        )
        agree_num = np.bincount(ann.annotator[shared], minlength=num_annotators)
        pooled = float((ann.label == majority[ann.example])[shared].mean())
        agreement = np.where(
            agree_num > 0, agree_sum / np.maximum(agree_num, 1), others[shared].mean()
        )
        reference = per_example >= 2
    else:
        pooled, agreement = 1.0, np.ones(num_annotators)
        reference = np.ones(ann.num_examples, dtype=bool)
    baseline = _baseline_error(majority[reference], ann.num_classes)
    scale = math.sqrt(float(per_example.mean())) / max(len(models), 1)
    model_weight = np.array(
        [
            float(
                _relative_weight(
                    float((p[reference].argmax(axis=1) != majority[reference]).mean()), baseline
                )
            )
            * scale
            for p in models
        ]
    )
    kappa = max((ann.num_classes * pooled - 1.0) / (ann.num_classes - 1), MIN_WEIGHT)
    logger.debug(
        "CROWDLAB model weights %s (baseline error %.4g, kappa %.4g)", model_weight, baseline, kappa
    )
    return _Weights(
        annotator=kappa * _relative_weight(1.0 - agreement, baseline), model=model_weight
    )


def _crowdlab_posterior(
    ann: _Annotations, models: list[np.ndarray], weights: _Weights
) -> np.ndarray:
    numerator = ann.votes(weights.annotator)
    denominator = numerator.sum(axis=1)
    for w, p in zip(weights.model, models):
        numerator += w * p
        denominator += w
    return numerator / denominator[:, None]


def _dawid_skene_posterior(ann: _Annotations, max_iter: int, tol: float) -> np.ndarray:
    n, k, m = ann.num_examples, ann.num_classes, len(ann.annotator_names)
    votes = ann.votes()
    posterior = votes / votes.sum(axis=1, keepdims=True)
    cell = ann.annotator * k + ann.label
    previous = -np.inf
    for iteration in range(max_iter):
        prior = posterior.mean(axis=0)
        confusion = np.empty((m, k, k))  # confusion[j, true, given]
        for true in range(k):
            confusion[:, true, :] = np.bincount(
                cell, weights=posterior[ann.example, true], minlength=m * k
            ).reshape(m, k)
        confusion += _DS_PSEUDO_COUNT
        confusion /= confusion.sum(axis=2, keepdims=True)
        log_post = np.tile(np.log(np.maximum(prior, 1e-300)), (n, 1))
        log_conf = np.log(confusion)
        for true in range(k):
            log_post[:, true] += np.bincount(
                ann.example, weights=log_conf[ann.annotator, true, ann.label], minlength=n
            )
        top = log_post.max(axis=1, keepdims=True)
        posterior = np.exp(log_post - top)
        norm = posterior.sum(axis=1, keepdims=True)
        posterior /= norm
        log_likelihood = float((np.log(norm[:, 0]) + top[:, 0]).sum())
        if log_likelihood - previous < tol * abs(log_likelihood):
            logger.debug("Dawid-Skene converged after %d iterations", iteration + 1)
            break
        previous = log_likelihood
    return posterior


def _posterior(
    ann: _Annotations, models: list[np.ndarray], method: str, max_iter: int, tol: float
) -> np.ndarray:
    if method == "best_quality":
        return _crowdlab_posterior(ann, models, _crowdlab_weights(ann, models))
    if method == "dawid_skene":
        return _dawid_skene_posterior(ann, max_iter, tol)
    if models:  # majority consensus, scored by the model and annotators together
        return _crowdlab_posterior(ann, models, _crowdlab_weights(ann, models))
    votes = ann.votes()
    return votes / votes.sum(axis=1, keepdims=True)


def _consensus(
    ann: _Annotations, models: list[np.ndarray], method: str, posterior: np.ndarray
) -> np.ndarray:
    return _majority(ann, models) if method == "majority_vote" else posterior.argmax(axis=1)


def _scores(posterior: np.ndarray, rows: np.ndarray, labels: np.ndarray, method: str) -> np.ndarray:
    """Core label quality scores of ``labels`` for ``posterior[rows]``, block by block."""
    out = np.empty(len(rows))

    def work(start: int, stop: int) -> None:
        out[start:stop] = score_block(posterior[rows[start:stop]], labels[start:stop], method, None)

    for _ in map_blocks(work, (len(rows), posterior.shape[1]), None):
        pass
    return out


def _annotation_quality(
    ann: _Annotations, consensus: np.ndarray, posterior: np.ndarray, quality: tuple[str, str]
) -> np.ndarray:
    """The quality of every annotation: its core score under the posterior (``"crowdlab"``) or
    the share of the example's annotations with the same label (``"agreement"``)."""
    quality_method, score_method = quality
    if quality_method == "agreement":
        votes = ann.votes()
        return votes[ann.example, ann.label] / votes.sum(axis=1)[ann.example]
    return _scores(posterior, ann.example, ann.label, score_method)


def _annotator_stats(
    ann: _Annotations, consensus: np.ndarray, quality: np.ndarray, agreement_only: bool
) -> pd.DataFrame:
    m, k = len(ann.annotator_names), ann.num_classes
    agrees = (ann.label == consensus[ann.example]).astype(np.float64)
    labelled = np.bincount(ann.annotator, minlength=m)
    mean_quality = np.bincount(ann.annotator, weights=quality, minlength=m) / labelled
    agreement = np.bincount(ann.annotator, weights=agrees, minlength=m) / labelled
    g = 1.0 if agreement_only else 1.0 - ann.num_examples / len(ann.label)
    cell = ann.annotator * k + consensus[ann.example]
    per_class_num = np.bincount(cell, minlength=m * k).reshape(m, k)
    per_class_quality = np.bincount(cell, weights=quality, minlength=m * k).reshape(m, k)
    per_class = np.where(
        per_class_num > 0, per_class_quality / np.maximum(per_class_num, 1), np.inf
    )
    table = pd.DataFrame(
        {
            "annotator": ann.annotator_names,
            "annotator_quality": g * agreement + (1.0 - g) * mean_quality,
            "agreement_with_consensus": agreement,
            "worst_class": per_class.argmin(axis=1),
            "num_examples_labeled": labelled.astype(np.int64),
        },
        columns=ANNOTATOR_COLUMNS,
    )
    return table.sort_values("annotator_quality", kind="stable").reset_index(drop=True)


def _detailed_quality(ann: _Annotations, quality: np.ndarray) -> pd.DataFrame:
    """``(n, M)`` quality of each annotator's label of each example, NaN where none."""
    detailed = np.full((ann.num_examples, len(ann.annotator_names)), np.nan)
    detailed[ann.example, ann.annotator] = quality
    return pd.DataFrame(
        detailed, columns=[f"quality_annotator_{name}" for name in ann.annotator_names]
    )


def _check_quality(quality_method: Any, label_quality_score_kwargs: Any) -> tuple[str, str]:
    """``(quality_method, core score method)`` checked."""
    check_choice("quality_method", quality_method, QUALITY_METHODS)
    kwargs = {} if label_quality_score_kwargs is None else label_quality_score_kwargs
    if not isinstance(kwargs, dict) or set(kwargs) - {"method"}:
        raise ValueError(
            f"label_quality_score_kwargs={label_quality_score_kwargs!r} is not valid; the only key "
            "it accepts is 'method', e.g. {'method': 'normalized_margin'}."
        )
    return quality_method, check_choice(
        "label_quality_score_kwargs['method']",
        kwargs.get("method", "self_confidence"),
        SCORE_METHODS,
    )


def _consensus_methods(consensus_method: Any) -> list[str]:
    """One consensus method or a non-empty list of them, checked; "majority" is "majority_vote"."""
    methods = [consensus_method] if isinstance(consensus_method, str) else consensus_method
    if not isinstance(methods, (list, tuple)) or not methods:
        raise ValueError(
            f"consensus_method={consensus_method!r} is not valid; pass one of "
            f"{list(CONSENSUS_METHODS)} or a non-empty list of them."
        )
    checked = [check_choice("consensus_method", m, CONSENSUS_METHODS) for m in methods]
    return ["majority_vote" if m == "majority" else m for m in checked]


def _check_max_iter(max_iter: Any) -> int:
    if isinstance(max_iter, bool) or not isinstance(max_iter, (int, np.integer)) or max_iter < 1:
        raise ValueError(f"max_iter={max_iter!r} is not valid; use a positive integer.")
    return int(max_iter)


def get_label_quality_multiannotator(
    labels_multiannotator: Any,
    pred_probs: Any = None,
    *,
    consensus_method: str | list[str] = "best_quality",
    quality_method: str = "crowdlab",
    return_detailed_quality: bool = True,
    return_annotator_stats: bool = True,
    return_weights: bool = False,
    verbose: bool = True,
    label_quality_score_kwargs: dict[str, Any] | None = None,
    max_iter: int = 100,
    tol: float = 1e-7,
) -> dict[str, Any]:
    """A consensus label and quality score per example, and a quality score per annotator.

    Parameters
    ----------
    labels_multiannotator : DataFrame or array-like
        Wide ``(n, M)`` table (NaN/None = not labelled) or long DataFrame with columns
        ``example``, ``annotator``, ``label`` (see the module documentation). Every example
        needs at least one annotation.
    pred_probs : array-like of shape (n, K), or list of them, optional
        Out-of-sample probabilities of one model or of an ensemble.
    consensus_method : {"best_quality", "majority_vote", "dawid_skene"} or list of them
        How annotations (and the model) are combined; see the module documentation
        (``"majority"`` is ``"majority_vote"``). With a list, the first gives the main
        columns and each other method adds ``consensus_label_<method>``,
        ``consensus_quality_score_<method>`` and ``annotator_agreement_<method>``.
    quality_method : {"crowdlab", "agreement"}, default "crowdlab"
        ``"crowdlab"``: the core score (``label_quality_score_kwargs``) of a label under the
        posterior. ``"agreement"``: the share of the example's annotators who gave that label;
        then ``annotator_quality`` is ``agreement_with_consensus``.
    return_detailed_quality : bool, default True
        Add ``"detailed_label_quality"``: an ``(n, M)`` DataFrame, column
        ``quality_annotator_<annotator>``, the quality of each annotator's label (NaN where
        they gave none).
    return_annotator_stats : bool, default True
        Add ``"annotator_stats"`` (see Returns).
    return_weights : bool, default False
        Add ``"annotator_weight"`` (the weight ``kappa * w_j`` of each annotator's vote, in
        input order) and ``"model_weight"`` (``w_m``: a float for one model, an array for an
        ensemble): the CROWDLAB weights of the posterior, which ``"dawid_skene"`` and
        ``"majority_vote"`` without ``pred_probs`` do not use.
    verbose : bool, default True
        Log the weights (``logging``, level INFO, logger ``labelaudit.multiannotator``).
    label_quality_score_kwargs : dict, optional
        ``{"method": "self_confidence" | "normalized_margin" | "confidence_weighted_entropy"}``,
        the core score of ``"crowdlab"`` (default ``"self_confidence"``).
    max_iter, tol : int, float
        Expectation-maximisation limits for ``"dawid_skene"``: stop after ``max_iter``
        iterations or when the log-likelihood improves by less than ``tol`` (relative).

    Returns
    -------
    dict
        ``"label_quality"``: DataFrame, one row per example in input order, columns
        ``consensus_label``, ``consensus_quality_score`` (lower = consensus more likely wrong),
        ``annotator_agreement`` (share of the example's annotations equal to the consensus)
        and ``num_annotations``. ``"annotator_stats"``: DataFrame, one row per annotator,
        lowest ``annotator_quality`` first (ties in input order), columns ``annotator``,
        ``annotator_quality``, ``agreement_with_consensus``, ``worst_class``,
        ``num_examples_labeled``. Then the optional entries above.

    Examples
    --------
    >>> import numpy as np
    >>> from labelaudit.multiannotator import get_label_quality_multiannotator
    >>> labels = np.array([[0, 0, np.nan], [1, 1, 0], [1, np.nan, 1], [0, 1, 1]])
    >>> result = get_label_quality_multiannotator(labels, consensus_method="majority_vote")
    >>> result["label_quality"][["consensus_label", "consensus_quality_score", "num_annotations"]]
       consensus_label  consensus_quality_score  num_annotations
    0                0                 1.000000                2
    1                1                 0.666667                3
    2                1                 1.000000                2
    3                1                 0.666667                3
    >>> result["annotator_stats"]["annotator"].tolist()  # worst first
    [2, 0, 1]
    >>> result["detailed_label_quality"].iloc[1].round(3).tolist()
    [0.667, 0.667, 0.333]
    """
    methods = _consensus_methods(consensus_method)
    quality = _check_quality(quality_method, label_quality_score_kwargs)
    flags = {
        name: check_bool(name, value)
        for name, value in (
            ("return_detailed_quality", return_detailed_quality),
            ("return_annotator_stats", return_annotator_stats),
            ("return_weights", return_weights),
            ("verbose", verbose),
        )
    }
    max_iter = _check_max_iter(max_iter)
    models = _models(pred_probs, None)
    if flags["return_weights"] and (
        methods[0] == "dawid_skene" or not models and methods[0] != "best_quality"
    ):
        raise ValueError(
            f"return_weights=True needs the CROWDLAB posterior; consensus_method={methods[0]!r}"
            f"{'' if models else ' without pred_probs'} does not weigh annotators. Use "
            "consensus_method='best_quality' or drop return_weights."
        )
    shape = models[0].shape if models else (None, None)
    ann = _parse(labels_multiannotator, *shape)
    votes = ann.votes()
    num_annotations = votes.sum(axis=1)
    rows = np.arange(ann.num_examples)
    columns: dict[str, Any] = {}
    first: tuple[np.ndarray, np.ndarray] | None = None
    for method in methods:
        posterior = _posterior(ann, models, method, max_iter, float(tol))
        consensus = _consensus(ann, models, method, posterior)
        agreement = votes[rows, consensus] / num_annotations
        score = (
            agreement
            if quality[0] == "agreement"
            else _scores(posterior, rows, consensus, quality[1])
        )
        suffix = "" if first is None else f"_{method}"
        columns.update(
            {
                f"consensus_label{suffix}": consensus,
                f"consensus_quality_score{suffix}": score,
                f"annotator_agreement{suffix}": agreement,
            }
        )
        if first is None:
            columns["num_annotations"] = num_annotations.astype(np.int64)
            first = (consensus, posterior)
    consensus, posterior = first
    result: dict[str, Any] = {"label_quality": pd.DataFrame(columns)}
    annotation_quality = _annotation_quality(ann, consensus, posterior, quality)
    if flags["return_detailed_quality"]:
        result["detailed_label_quality"] = _detailed_quality(ann, annotation_quality)
    if flags["return_annotator_stats"]:
        result["annotator_stats"] = _annotator_stats(
            ann, consensus, annotation_quality, quality[0] == "agreement"
        )
    if flags["return_weights"] or flags["verbose"]:
        weights = _crowdlab_weights(ann, models)
        if flags["verbose"]:
            logger.info(
                "annotator vote weights %s, model weights %s", weights.annotator, weights.model
            )
        if flags["return_weights"]:
            many = isinstance(pred_probs, (list, tuple))
            result["annotator_weight"] = weights.annotator
            result["model_weight"] = weights.model if many else float(weights.model[0])
    return result


def _ensemble(name: str, pred_probs: Any) -> list[Any]:
    """An ensemble's probabilities as a list: a ``(P, n, K)`` array or a list of ``(n, K)``."""
    if isinstance(pred_probs, (list, tuple)):
        return list(pred_probs)
    arr = np.asarray(pred_probs)
    if arr.ndim != 3:
        raise ValueError(
            f"{name} must be one (n, K) array per model: a (P, n, K) array or a list; found "
            f"shape {arr.shape}. For one model use the function without _ensemble."
        )
    return list(arr)


def get_label_quality_multiannotator_ensemble(
    labels_multiannotator: Any,
    pred_probs: Any,
    *,
    return_detailed_quality: bool = True,
    return_annotator_stats: bool = True,
    return_weights: bool = False,
    verbose: bool = True,
    label_quality_score_kwargs: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """:func:`get_label_quality_multiannotator` with ``"best_quality"`` and an ensemble of models.

    ``pred_probs`` is a ``(P, n, K)`` array or a list of ``P`` arrays ``(n, K)``; each model
    gets its own CROWDLAB weight (``model_weight`` is an array).

    Examples
    --------
    >>> import numpy as np
    >>> from labelaudit.multiannotator import get_label_quality_multiannotator_ensemble
    >>> labels = np.array([[0, 0], [1, 1], [1, 0]])
    >>> probs = np.array([[[.9, .1], [.2, .8], [.3, .7]], [[.8, .2], [.1, .9], [.6, .4]]])
    >>> result = get_label_quality_multiannotator_ensemble(
    ...     labels, probs, return_weights=True, verbose=False)
    >>> result["label_quality"]["consensus_label"].tolist(), result["model_weight"].shape
    ([0, 1, 1], (2,))
    """
    return get_label_quality_multiannotator(
        labels_multiannotator,
        _ensemble("pred_probs", pred_probs),
        consensus_method="best_quality",
        return_detailed_quality=return_detailed_quality,
        return_annotator_stats=return_annotator_stats,
        return_weights=return_weights,
        verbose=verbose,
        label_quality_score_kwargs=label_quality_score_kwargs,
    )


def get_majority_vote_label(
    labels_multiannotator: Any, pred_probs: Any = None, verbose: bool = True
) -> np.ndarray:
    """The most common label of each example's annotators.

    A tie between classes goes to the one ``pred_probs`` (the ensemble mean, when a list)
    finds most probable, then to the lowest class index.

    Parameters
    ----------
    labels_multiannotator, pred_probs
        As in :func:`get_label_quality_multiannotator`.
    verbose : bool, default True
        Log how many ties were broken (``logging``, level INFO).

    Returns
    -------
    ndarray of shape (n,), int64

    Examples
    --------
    >>> import numpy as np
    >>> from labelaudit.multiannotator import get_majority_vote_label
    >>> labels = np.array([[0, 1], [1, 1], [2, np.nan]])
    >>> get_majority_vote_label(labels, verbose=False)
    array([0, 1, 2])
    >>> probs = np.array([[.2, .7, .1], [.2, .7, .1], [.1, .1, .8]])
    >>> get_majority_vote_label(labels, probs, verbose=False)
    array([1, 1, 2])
    """
    verbose = check_bool("verbose", verbose)
    models = _models(pred_probs, None)
    ann = _parse(labels_multiannotator, *(models[0].shape if models else (None, None)))
    if verbose:
        votes = ann.votes()
        ties = int(((votes == votes.max(axis=1, keepdims=True)).sum(axis=1) > 1).sum())
        logger.info("%d of %d examples have tied majority votes", ties, ann.num_examples)
    return _majority(ann, models).astype(np.int64)


def convert_long_to_wide_dataset(labels_multiannotator_long: pd.DataFrame) -> pd.DataFrame:
    """A long table of annotations as a wide one: a row per example, a column per annotator.

    ``labels_multiannotator_long`` has one row per annotation and the columns ``task`` (the
    reference's name; ``example`` is accepted too), ``annotator`` and ``label``. Rows of the
    result are the tasks in sorted order, columns the annotators in order of first appearance;
    NaN where an annotator did not label a task.

    Examples
    --------
    >>> import pandas as pd
    >>> from labelaudit.multiannotator import convert_long_to_wide_dataset
    >>> long = pd.DataFrame({"task": [0, 0, 1, 2], "annotator": ["a", "b", "a", "b"],
    ...                      "label": [0, 1, 1, 0]})
    >>> convert_long_to_wide_dataset(long)
         a    b
    0  0.0  1.0
    1  1.0  NaN
    2  NaN  0.0
    """
    table = labels_multiannotator_long
    if not isinstance(table, pd.DataFrame):
        raise TypeError(
            "labels_multiannotator_long must be a DataFrame with columns 'task', 'annotator' and "
            f"'label'; found {type(table).__name__}."
        )
    task = "task" if "task" in table.columns else "example"
    missing = [c for c in (task, "annotator", "label") if c not in table.columns]
    if missing:
        raise ValueError(
            f"labels_multiannotator_long has no column {missing[0]!r}; it needs 'task' (or "
            f"'example'), 'annotator' and 'label'. Found columns {list(table.columns)}."
        )
    if table.duplicated([task, "annotator"]).any():
        row = table[table.duplicated([task, "annotator"])].iloc[0]
        raise ValueError(
            f"labels_multiannotator_long labels {task} {row[task]} twice by annotator "
            f"{row['annotator']!r}; keep one label per ({task}, annotator)."
        )
    annotators = pd.unique(table["annotator"])
    wide = table.pivot(index=task, columns="annotator", values="label").astype(np.float64)
    return wide.reindex(columns=annotators).rename_axis(index=None, columns=None)


def get_active_learning_scores(
    labels_multiannotator: Any = None,
    pred_probs: Any = None,
    pred_probs_unlabeled: Any = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Which examples to send for one more annotation: lowest score first.

    Labelled examples score the CROWDLAB posterior probability of their consensus label (the
    ``consensus_quality_score`` of ``consensus_method="best_quality"``). An unlabelled example
    scores as if it had one annotation of unknown class (a vote of ``1/K`` for each) from an
    annotator of average vote weight ``w_A`` (the mean ``kappa * w_j``):
    ``(sum_m w_m p_m[y] + w_A / K) / (sum_m w_m + w_A)`` with ``y`` the most probable class of the
    weighted models; without labelled data every model weighs the same and ``w_A = 0``.

    Parameters
    ----------
    labels_multiannotator : DataFrame or array-like, optional
        Annotations of the labelled examples (as in :func:`get_label_quality_multiannotator`).
    pred_probs : array-like of shape (n, K), or list of them, optional
        Model probabilities for the labelled examples (needed with ``pred_probs_unlabeled``
        when ``labels_multiannotator`` is given, to weigh the models).
    pred_probs_unlabeled : array-like of shape (u, K), or list of them, optional
        Model probabilities for unlabelled examples (same number of models).

    Returns
    -------
    (scores_labeled, scores_unlabeled)
        Arrays of shape (n,) and (u,); an empty array for the part not given.

    Examples
    --------
    >>> import numpy as np
    >>> from labelaudit.multiannotator import get_active_learning_scores
    >>> unlabeled_probs = np.array([[.9, .1], [.5, .5]])
    >>> labeled, unlabeled = get_active_learning_scores(pred_probs_unlabeled=unlabeled_probs)
    >>> labeled, unlabeled
    (array([], dtype=float64), array([0.9, 0.5]))
    """
    if labels_multiannotator is None and pred_probs_unlabeled is None:
        raise ValueError("pass labels_multiannotator, pred_probs_unlabeled, or both; got neither.")
    models = _models(pred_probs, None)
    unlabeled = _models(pred_probs_unlabeled, None)
    nothing = np.empty(0)
    if labels_multiannotator is None:
        if models:
            raise ValueError(
                "pred_probs describes labelled examples; pass labels_multiannotator with it."
            )
        mean = sum(unlabeled) / len(unlabeled)
        return nothing, mean.max(axis=1)
    if unlabeled and len(unlabeled) != len(models):
        raise ValueError(
            f"pred_probs_unlabeled has {len(unlabeled)} model(s) but pred_probs has {len(models)}; "
            "pass the same models for labelled and unlabelled examples."
        )
    if unlabeled and unlabeled[0].shape[1] != models[0].shape[1]:
        raise ValueError(
            "pred_probs_unlabeled and pred_probs must have the same number of columns (classes)."
        )
    shape = models[0].shape if models else (None, None)
    ann = _parse(labels_multiannotator, *shape)
    weights = _crowdlab_weights(ann, models)
    posterior = _crowdlab_posterior(ann, models, weights)
    consensus = posterior.argmax(axis=1)
    labeled = _scores(posterior, np.arange(ann.num_examples), consensus, "self_confidence")
    if not unlabeled:
        return labeled, nothing
    average_annotator = float(weights.annotator.mean())
    top = sum(w * p for w, p in zip(weights.model, unlabeled)).max(axis=1)
    scores = (top + average_annotator / ann.num_classes) / (weights.model.sum() + average_annotator)
    return labeled, scores


def get_active_learning_scores_ensemble(
    labels_multiannotator: Any = None,
    pred_probs: Any = None,
    pred_probs_unlabeled: Any = None,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`get_active_learning_scores` for an ensemble: ``(P, n, K)`` and ``(P, u, K)`` arrays
    (or lists of ``P`` arrays), each model weighed on its own.

    Examples
    --------
    >>> import numpy as np
    >>> from labelaudit.multiannotator import get_active_learning_scores_ensemble
    >>> unlabeled = np.array([[[.9, .1], [.5, .5]], [[.7, .3], [.5, .5]]])
    >>> get_active_learning_scores_ensemble(pred_probs_unlabeled=unlabeled)[1]
    array([0.8, 0.5])
    """
    return get_active_learning_scores(
        labels_multiannotator,
        None if pred_probs is None else _ensemble("pred_probs", pred_probs),
        None
        if pred_probs_unlabeled is None
        else _ensemble("pred_probs_unlabeled", pred_probs_unlabeled),
    )
