"""labelaudit's own rule and score, ``"auto"``: the model's belief corrected by the estimated noise.

Confident learning estimates how labels were corrupted, the noise transition ``T[i, j] =
P(given i | true j)`` (the calibrated confident joint, one pseudo-count ``1/K`` per cell so no
transition is impossible, each column normalised). Whether that estimate should change the
model's verdict on a row depends on what the model learned:

* a model that resisted the noise predicts the *true* class; the given label is then a noisy
  observation of it, and Bayes' rule gives the posterior ``p[j] * T[y, j]`` (normalised);
* a model that absorbed the noise predicts the *given* label; correcting it again would count
  the noise twice, and ``p`` itself is the verdict.

The data say which: the given labels are modelled as the mixture ``(1 - w) p[y] + w (p @ T[y])``
of the two explanations and ``w`` in ``[0, 1]`` is its maximum likelihood, on a grid of 101
values, over the out-of-sample ``pred_probs`` (the log likelihood is concave in ``w``). The
verdict is the tempered posterior ``p[j] * T[y, j] ** w``: with ``w = 0`` it is ``p`` itself
(the rule is ``"predicted_neq_given"``, the score ``"normalized_margin"``), with ``w = 1`` the
full Bayes posterior.

* rule ``"auto"``: flag the rows whose most probable class under the posterior is not the given
  label (an exact tie keeps the label);
* score ``"auto"``: the normalized margin of the posterior, ``(q[y] - max_{j != y} q[j] + 1) / 2``.

Two passes over ``pred_probs`` follow pass 2 (the likelihood of ``w``, then the verdicts), block
by block, on every engine that reads rows (arrays, memory maps, dask arrays; not batches fed to
:class:`labelaudit.LabelIssueFinder`); only the K x K transition is held. The answer does not depend on ``n_jobs``; the
likelihood is summed block by block, so another block size could move ``w`` only where two
grid values tie to the last bits.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from labelaudit._cells import calibrate
from labelaudit._kernels import TOLERANCE
from labelaudit._passes import Passes, open_passes

WEIGHT_GRID = np.linspace(0.0, 1.0, 101)
_TINY = 1e-300  # floor of a likelihood, so log never sees 0


def noise_transition(passes: Passes) -> np.ndarray:
    """``T[i, j] = P(given i | true j)`` from the calibrated confident joint (see the module).

    >>> from labelaudit._passes import open_passes
    >>> passes = open_passes([0, 0, 1, 1], np.array([[.9, .1], [.2, .8], [.3, .7], [.1, .9]]))
    >>> noise_transition(passes).round(3).tolist()
    [[0.75, 0.375], [0.25, 0.625]]
    """
    k = passes.num_classes
    counts = calibrate(passes.counts.joint, passes.class_counts).dense().astype(np.float64)
    counts += 1.0 / k
    return counts / counts.sum(axis=0, keepdims=True)


class _LikelihoodPass:
    """Sums, over the rows, the log likelihood of every weight of :data:`WEIGHT_GRID`."""

    def __init__(self, transition: np.ndarray) -> None:
        self.transition = transition
        self.total = np.zeros(len(WEIGHT_GRID))

    def block(self, start: int, labels: np.ndarray, values: np.ndarray) -> np.ndarray:
        p = values.astype(np.float64)
        direct = p[np.arange(len(labels)), labels]
        through_noise = np.einsum("ij,ij->i", p, self.transition[labels])
        change = through_noise - direct
        return np.array(
            [np.log(np.maximum(direct + w * change, _TINY)).sum() for w in WEIGHT_GRID]
        )

    def add(self, part: np.ndarray) -> None:
        self.total += part


@dataclass(frozen=True)
class NoiseCorrection:
    """The estimated noise transition and how much of it the model did not absorb.

    Attributes
    ----------
    transition : ndarray of shape (K, K)
        ``P(given i | true j)``.
    weight : float
        The maximum-likelihood ``w`` in ``[0, 1]`` (see the module documentation).

    Examples
    --------
    >>> from labelaudit._passes import open_passes
    >>> passes = open_passes([0, 0, 1, 1], np.array([[.9, .1], [.2, .8], [.3, .7], [.1, .9]]))
    >>> NoiseCorrection.of(passes).weight
    0.31
    """

    transition: np.ndarray
    weight: float

    @cached_property
    def tempered(self) -> np.ndarray:
        """``transition ** weight``."""
        return self.transition**self.weight

    @classmethod
    def of(cls, passes: Passes) -> NoiseCorrection:
        """Estimated from the passes (pass 2, then one pass for the likelihood of ``w``), once
        per ``passes``."""
        if "noise_correction" not in passes.derived:
            transition = noise_transition(passes)
            task = _LikelihoodPass(transition)
            passes.run(task)
            passes.derived["noise_correction"] = cls(transition, float(WEIGHT_GRID[int(np.argmax(task.total))]))
        return passes.derived["noise_correction"]

    def verdicts(self, labels: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior of the given label and largest posterior of another class, per row."""
        rows = np.arange(len(labels))
        posterior = self.tempered[labels]
        posterior *= values
        posterior /= posterior.sum(axis=1, keepdims=True)
        given = posterior[rows, labels].copy()
        posterior[rows, labels] = -np.inf
        return given, posterior.max(axis=1)

    def margins(self, labels: np.ndarray, values: np.ndarray) -> np.ndarray:
        """The score: the normalized margin of the posterior, per row."""
        given, other = self.verdicts(labels, values)
        return (given - other + 1.0) / 2.0

    def suggestions(self, labels: np.ndarray, values: np.ndarray) -> np.ndarray:
        """The most probable class under the posterior, per row (ties: the lower class)."""
        posterior = self.tempered[labels]
        posterior *= values
        return posterior.argmax(axis=1)

    def flags(self, labels: np.ndarray, values: np.ndarray) -> np.ndarray:
        """The rule: margin below one half and the given label not a top prediction of the
        model itself (up to ``TOLERANCE``), per row."""
        own = values[np.arange(len(labels)), labels]
        return (self.margins(labels, values) < 0.5) & (own < values.max(axis=1) - TOLERANCE)


def auto_scores(passes: Passes) -> Any:
    """Score ``"auto"`` of every row (float64; lazy over dask), lower = more likely mislabelled.

    >>> from labelaudit._passes import open_passes
    >>> passes = open_passes([0, 0, 1, 1], np.array([[.9, .1], [.2, .8], [.3, .7], [.1, .9]]))
    >>> auto_scores(passes).round(3).tolist()
    [0.918, 0.237, 0.756, 0.923]
    """
    return passes.per_row(NoiseCorrection.of(passes).margins, np.float64)


def auto_flags(passes: Passes) -> Any:
    """Rule ``"auto"``: the mask of the rows whose posterior margin is below one half, leaving
    out those whose given label is a top prediction of the model, as every rule does (on the ten
    lded cases no such row had a margin below one half). Lazy over dask.

    >>> from labelaudit._passes import open_passes
    >>> passes = open_passes([0, 0, 1, 1], np.array([[.9, .1], [.2, .8], [.3, .7], [.1, .9]]))
    >>> auto_flags(passes)
    array([False,  True, False, False])
    """
    return passes.per_row(NoiseCorrection.of(passes).flags, bool)


def suggested_labels(labels: Any, pred_probs: Any, *, classes: Any = None, n_jobs: int | None = None) -> Any:
    """The class each example most probably belongs to under the posterior of ``"auto"``: the
    label to suggest when relabelling what ``filter_by="auto"`` flags (int64 class indices; lazy
    over dask). On the ten lded cases it is the true class of a correctly flagged row as often as
    the model's most probable class or more often (CIFAR-10 with synthetic noise: 0.976-0.994 vs
    0.943-0.990); where the model absorbed the noise (weight 0) the two are the same.

    >>> suggested_labels([0, 0, 1, 1], np.array([[.9, .1], [.2, .8], [.3, .7], [.1, .9]])).tolist()
    [0, 1, 1, 1]
    """
    passes = open_passes(labels, pred_probs, classes=classes, n_jobs=n_jobs)
    return passes.per_row(NoiseCorrection.of(passes).suggestions, np.int64)
