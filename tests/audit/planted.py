"""Synthetic data with every kind of issue planted at known rows (for the audit tests)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Planted:
    features: np.ndarray
    labels: np.ndarray
    true_labels: np.ndarray
    pred_probs: np.ndarray
    outliers: np.ndarray
    duplicates: np.ndarray  # originals and their copies
    conflicting_copies: np.ndarray  # copies whose label was flipped (and their originals)
    blank: np.ndarray
    block: np.ndarray  # consecutive rows in sorted order along a line
    shuffled_cluster: np.ndarray
    rare: np.ndarray
    flipped: np.ndarray  # ordinary label errors inside the class blobs

    @property
    def planted(self) -> np.ndarray:
        rows = [self.outliers, self.duplicates, self.blank, self.block, self.shuffled_cluster, self.rare, self.flipped]
        mask = np.zeros(len(self.labels), dtype=bool)
        for r in rows:
            mask[r] = True
        return mask


def make_planted(n: int = 3000, d: int = 8, k: int = 5, seed: int = 0) -> Planted:
    """``n`` rows in ``k`` Gaussian class blobs (the last class rare) plus planted issues."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(0, 1, (k + 1, d))
    centers *= 12 / np.linalg.norm(centers, axis=1, keepdims=True)  # the extra centre hosts the shuffled cluster
    true = rng.choice(k - 1, size=n)
    rare = rng.choice(n, size=15, replace=False)
    true[rare] = k - 1
    features = centers[true] + rng.normal(0, 1, (n, d))
    free = np.setdiff1d(np.arange(n), rare)
    free = rng.permutation(free)
    outliers, free = free[:20], free[20:]
    features[outliers] = rng.normal(0, 1, (20, d))
    features[outliers] *= 40 / np.linalg.norm(features[outliers], axis=1, keepdims=True)
    originals, copies, free = free[:30], free[30:60], free[60:]
    features[copies] = features[originals] + rng.normal(0, 0.003, (30, d))
    true[copies] = true[originals]
    blank, free = free[:20], free[20:]
    cluster, free = free[:100], free[100:]
    features[cluster] = centers[k] + rng.normal(0, 1, (100, d))
    true[cluster] = 0
    flipped, free = free[:90], free[90:]
    # a block of 150 consecutive rows, sorted along a line through class 0's blob
    start = n // 3
    block = np.arange(start, start + 150)
    block_set = set(block.tolist())
    taken = np.concatenate([outliers, originals, copies, blank, cluster, flipped, rare])
    if block_set.intersection(taken.tolist()):  # move planted rows out of the block
        inside = np.array(sorted(block_set.intersection(taken.tolist())))
        replacement = np.array([r for r in free if r not in block_set][: len(inside)])
        for a, b in zip(inside, replacement):
            features[[a, b]] = features[[b, a]]
            true[[a, b]] = true[[b, a]]
            for arr in (outliers, originals, copies, blank, cluster, flipped, rare):
                arr[arr == a] = b
    direction = rng.normal(0, 1, d)
    direction /= np.linalg.norm(direction)
    t = np.sort(rng.uniform(-6, 6, 150))
    features[block] = centers[0] + t[:, None] * direction + rng.normal(0, 0.08, (150, d))
    true[block] = 0

    labels = true.copy()
    labels[flipped] = (true[flipped] + rng.integers(1, k - 1, size=90)) % (k - 1)
    conflicting = copies[:15]
    labels[conflicting] = (true[conflicting] + 1) % (k - 1)
    labels[cluster] = rng.choice(k - 1, size=100)
    logits = 3.5 * np.eye(k)[true] + rng.normal(0, 1, (n, k))
    pred_probs = np.exp(logits)
    pred_probs /= pred_probs.sum(axis=1, keepdims=True)
    features[blank] = np.nan
    return Planted(
        features=features,
        labels=labels,
        true_labels=true,
        pred_probs=pred_probs,
        outliers=np.sort(outliers),
        duplicates=np.sort(np.concatenate([originals, copies])),
        conflicting_copies=np.sort(np.concatenate([conflicting, originals[:15]])),
        blank=np.sort(blank),
        block=block,
        shuffled_cluster=np.sort(cluster),
        rare=np.sort(rare),
        flipped=np.sort(flipped),
    )


def recall_and_false_rate(flagged: np.ndarray, planted: np.ndarray, clean: np.ndarray) -> tuple[float, float]:
    """Share of ``planted`` rows flagged, and share of ``clean`` (mask) rows flagged."""
    return float(flagged[planted].mean()), float(flagged[clean].mean())
