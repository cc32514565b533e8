"""Synthetic data with every kind of issue planted at known rows (tests, benchmarks, demos).

:func:`make_planted` draws ``n`` rows in Gaussian class blobs (the last class rare) and plants:
far-away points, copies with small noise (half of them with a flipped label), blank rows (all
features missing), a block of consecutive rows sorted along a line, a cluster of its own whose
labels were shuffled, and ordinary label errors. ``pred_probs`` come from a simulated model that
knows the true classes.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

import numpy as np


@dataclass
class Planted:
    """A planted dataset and the rows of each planted issue (sorted row numbers)."""

    features: np.ndarray
    labels: np.ndarray
    true_labels: np.ndarray
    pred_probs: np.ndarray
    outliers: np.ndarray
    duplicates: np.ndarray  # originals and their copies
    conflicting_copies: np.ndarray  # copies whose label was flipped, and their originals
    blank: np.ndarray
    block: np.ndarray
    shuffled_cluster: np.ndarray
    rare: np.ndarray
    flipped: np.ndarray  # ordinary label errors inside the class blobs

    @property
    def planted(self) -> np.ndarray:
        """Mask of every row with a planted issue (the rest are clean)."""
        mask = np.zeros(len(self.labels), dtype=bool)
        for rows in (
            self.outliers,
            self.duplicates,
            self.blank,
            self.block,
            self.shuffled_cluster,
            self.rare,
            self.flipped,
        ):
            mask[rows] = True
        return mask


def make_planted(
    n: int = 3000, d: int = 8, k: int = 5, *, seed: int = 0, dtype: type = np.float64
) -> Planted:
    """``n`` rows, ``d`` features, ``k`` classes, with issues planted in fixed shares of ``n``.

    Shares: outliers n/150, copied pairs n/100, blank rows n/150, sorted block n/20, shuffled
    cluster n/30, rare class n/200, label errors 3 %.

    Examples
    --------
    >>> from labelaudit.audit.synthetic import make_planted
    >>> p = make_planted(600, 4, 3)
    >>> p.features.shape, len(p.outliers), len(p.block), int(p.planted.sum())
    ((600, 4), 4, 30, 91)
    """
    rng = np.random.default_rng(seed)
    scale = np.sqrt(d / 8)
    counts = {
        "outliers": n // 150,
        "pairs": n // 100,
        "blank": n // 150,
        "block": n // 20,
        "cluster": n // 30,
        "rare": max(n // 200, 2),
        "flipped": int(0.03 * n),
    }
    centers = rng.normal(0, 1, (k + 1, d))
    centers *= (
        12 * scale / np.linalg.norm(centers, axis=1, keepdims=True)
    )  # the extra centre hosts the cluster
    true = rng.choice(k - 1, size=n)
    start = n // 3
    block = np.arange(start, start + counts["block"])
    others = rng.permutation(np.setdiff1d(np.arange(n), block))
    taken = np.cumsum(
        [
            0,
            counts["rare"],
            counts["outliers"],
            counts["pairs"],
            counts["pairs"],
            counts["blank"],
            counts["cluster"],
            counts["flipped"],
        ]
    )
    rare, outliers, originals, copies, blank, cluster, flipped = (
        np.sort(others[a:b]) for a, b in pairwise(taken)
    )
    true[rare] = k - 1
    features = centers[true] + rng.normal(0, 1, (n, d))
    far = rng.normal(0, 1, (len(outliers), d))
    features[outliers] = far * (40 * scale / np.linalg.norm(far, axis=1, keepdims=True))
    features[copies] = features[originals] + rng.normal(0, 0.003, (len(copies), d))
    true[copies] = true[originals]
    features[cluster] = centers[k] + rng.normal(0, 1, (len(cluster), d))
    true[cluster] = 0
    direction = rng.normal(0, 1, d)
    direction /= np.linalg.norm(direction)
    t = np.sort(rng.uniform(-6, 6, len(block))) * scale
    features[block] = centers[0] + t[:, None] * direction + rng.normal(0, 0.08, (len(block), d))
    true[block] = 0

    labels = true.copy()
    labels[flipped] = (true[flipped] + rng.integers(1, k - 1, size=len(flipped))) % (k - 1)
    half = len(copies) // 2
    labels[copies[:half]] = (true[copies[:half]] + 1) % (k - 1)
    labels[cluster] = rng.choice(k - 1, size=len(cluster))
    logits = 3.5 * np.eye(k)[true] + rng.normal(0, 1, (n, k))
    pred_probs = np.exp(logits)
    pred_probs /= pred_probs.sum(axis=1, keepdims=True)
    features[blank] = np.nan
    return Planted(
        features=features.astype(dtype),
        labels=labels,
        true_labels=true,
        pred_probs=pred_probs.astype(dtype),
        outliers=outliers,
        duplicates=np.sort(np.concatenate([originals, copies])),
        conflicting_copies=np.sort(np.concatenate([copies[:half], originals[:half]])),
        blank=blank,
        block=block,
        shuffled_cluster=cluster,
        rare=rare,
        flipped=flipped,
    )


def recall_and_false_rate(
    flagged: np.ndarray, planted: np.ndarray, clean: np.ndarray
) -> tuple[float, float]:
    """Share of the ``planted`` rows flagged, and share of the ``clean`` rows (a mask) flagged.

    >>> recall_and_false_rate(np.array([True, False, True, False]), np.array([0, 1]), np.array([False, False, True, True]))
    (0.5, 0.5)
    """
    return float(flagged[planted].mean()), float(flagged[clean].mean())
